// One run of a tier folded into its record, pure: the new record and the alert
// to send, if any. A problem is alerted once, and its end once; the same
// problem with other numbers (free MB, snapshot times, ages) is not a new one.
import type { Outcome, TierRecord } from './types.js';
import { KEYS, event, resolveEvent, type HactlEvent } from '../alerts/events.js';

/** Two problem texts that differ only in their numbers are the same problem. */
export function sameProblem(a?: string | null, b?: string | null): boolean {
  return !!a && !!b && a.replace(/\d+/g, '#') === b.replace(/\d+/g, '#');
}

/** The problem a run leaves standing: a failure or refusal, or its warnings; null when all is well. */
export function problemOf(o: Outcome): string | null {
  if (o.result === 'failed' || o.result === 'refused') return o.alert ?? o.line;
  return o.warnings?.length ? o.warnings.join('; ') : null;
}

export interface FoldInput {
  tier: string;
  /** The alerts' prefix from the config. */
  prefix: string;
  /** When the run started (its snapshot's time): lastRunAt, and lastOkAt when it was good. */
  now: Date;
  ms: number;
}

export function foldTier(
  prev: TierRecord | undefined,
  o: Outcome,
  at: FoldInput,
): { record: TierRecord; alert: HactlEvent | null } {
  const good = o.result === 'ok' || o.result === 'warning';
  const problem = problemOf(o);
  let alert: HactlEvent | null = null;
  const key = KEYS.backup(at.tier);
  if (problem && !sameProblem(problem, prev?.problem)) {
    const message = good ? `backup tier ${at.tier}: ${problem}` : problem;
    alert = event('backup-problem', 'medium', 'open', message, at.now, {
      key,
      facts: { tier: at.tier, result: o.result },
    });
  } else if (!problem && prev?.problem) {
    alert = resolveEvent(key, `backup tier ${at.tier} OK again: ${o.line}`, at.now);
  }
  const now = at.now.toISOString();
  const record: TierRecord = {
    lastRunAt: now,
    lastOkAt: good ? now : (prev?.lastOkAt ?? null),
    lastResult: o.result,
    detail: o.line.slice(0, 500),
    snapshot: o.snapshot ?? prev?.snapshot ?? null,
    ...(o.files !== undefined ? { files: o.files, bytes: o.bytes ?? 0, sent: o.sent ?? 0 } : {}),
    ms: at.ms,
    runs: (prev?.runs ?? 0) + (good ? 1 : 0),
    problem,
  };
  return { record, alert };
}
