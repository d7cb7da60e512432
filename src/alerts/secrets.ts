// An event's values with every registered secret replaced, before anything renders or stores it.
// Redaction must come first: a renderer cuts long text (a cut inside a secret would leave its
// first part) and escapes Slack's control characters (a secret with & < > would no longer match),
// and the outbox keeps events from host stderr. The kind, key, hosts and time are hactl's own words.
import { redact } from '../output.js';
import type { ContextValue, HactlEvent } from './events.js';

export function redactEvent(e: HactlEvent): HactlEvent {
  const facts: Record<string, ContextValue> = {};
  for (const [k, v] of Object.entries(e.facts)) facts[k] = typeof v === 'string' ? redact(v) : v;
  return {
    ...e,
    message: redact(e.message),
    facts,
    ...(e.list ? { list: e.list.map(redact) } : {}),
    ...(e.by !== undefined ? { by: redact(e.by) } : {}),
    ...(e.source !== undefined ? { source: redact(e.source) } : {}),
  };
}
