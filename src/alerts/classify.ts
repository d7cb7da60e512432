// What an alert text means, pure: its incident, its phase, its severity and its
// event, read from the words messages.ts and protection.ts write. Every text
// hactl queues passes here, so one lifecycle (lifecycle.ts) governs them all
// without the callers changing what they pass (a string). The table is matched
// right after the emoji that follows the operator's prefix (anchored), so words
// from a host's error inside a message can never change its meaning.
// A text no rule knows is a notice; its severity follows its emoji.
import type { AlertEvent, Severity } from './webhook.js';
import type { Phase, Signal } from './lifecycle.js';

/** The emoji hactl starts its words with, longest first (⚠️ is two code points). */
export const LEAD_EMOJI = ['⚠️', '🔴', '✅', '🆘', 'ℹ️', '⏸️', '▶️', '🔁'];

interface Rule {
  emoji: string;
  re: RegExp;
  /** The incident; `$1` is replaced by the first group (a backup tier's name). */
  key: string;
  phase: Phase;
  severity: Severity;
  event: AlertEvent;
  force?: true;
  /** A different cause inside the open incident is news (its fold alerts once per cause). */
  news?: true;
}

/** The bot's service (failover, fence, failback) is one incident; both-down and the config are their own. */
const RULES: Rule[] = [
  { emoji: '🆘', re: /^ESCALATION: \d+ (failover|failback) attempts /, key: 'service', phase: 'open', ...crit() },
  { emoji: '🔴', re: /^TWO GATEWAYS: /, key: 'service', phase: 'open', ...crit() },
  {
    emoji: '🔴',
    re: /^(FAILOVER FAILED|FAILBACK FAILED|RETURN TO \S+ FAILED) /,
    key: 'service',
    phase: 'open',
    ...crit(),
  },
  { emoji: '🔴', re: /^CRITICAL(, still, for [^:]+)?: .* both down /, key: 'both-down', phase: 'open', ...both() },
  { emoji: '✅', re: /^no longer both down: /, key: 'both-down', phase: 'resolve', ...back('resolved') },
  { emoji: '⚠️', re: /^\S+ OFFLINE \(/, key: 'service', phase: 'open', severity: 'high', event: 'failover' },
  { emoji: '⚠️', re: /^failover by hand: /, key: 'service', phase: 'open', severity: 'high', event: 'failover' },
  { emoji: '⚠️', re: /^\S+ [A-Z-]+ while serving — back to /, key: 'service', phase: 'open', ...high(), force: true },
  // A second gateway stopped (a notice: said each time, the same words not twice within repeatEvery),
  // and a return to the primary: actions that change who polls, never held.
  { emoji: '⚠️', re: /^.+? runs a gateway while \S+ serves: stopping it /, key: '', phase: 'notice', ...med() },
  { emoji: '✅', re: /^\S+ ONLINE — /, key: 'service', phase: 'resolve', ...back('failback') },
  { emoji: '🔴', re: /^(still, for [^:]+: )?config .+ stopped loading: /, key: 'config', phase: 'open', ...cfg() },
  { emoji: '✅', re: /^config .+ loads again /, key: 'config', phase: 'resolve', ...back('resolved') },
  { emoji: '⚠️', re: /^.+ was corrupt \(/, key: '', phase: 'notice', severity: 'high', event: 'problem' },
  // The memory sync and each backup tier: a problem is alerted once by their folds, its end once.
  { emoji: '⚠️', re: /^memory (sync|\S+ failed)\b/, key: 'memory', phase: 'open', ...med(), news: true },
  { emoji: '✅', re: /^memory sync OK again: /, key: 'memory', phase: 'resolve', ...back('resolved') },
  { emoji: 'ℹ️', re: /^memory sync OK again: /, key: 'memory', phase: 'resolve', ...back('resolved') },
  { emoji: '⚠️', re: /^backup tier ([^\s:]+)/, key: 'backup:$1', phase: 'open', ...med(), news: true },
  { emoji: '✅', re: /^backup tier (\S+) OK again: /, key: 'backup:$1', phase: 'resolve', ...back('resolved') },
];
/** A failed action or an escalation: never held (the retry budget bounds them; lost protection is never silent). */
function crit() {
  return { severity: 'critical' as const, event: 'failed' as const, force: true as const };
}
function both() {
  return { severity: 'critical' as const, event: 'both-down' as const };
}
function high() {
  return { severity: 'high' as const, event: 'failover' as const };
}
function med() {
  return { severity: 'medium' as const, event: 'problem' as const };
}
function cfg() {
  return { severity: 'critical' as const, event: 'problem' as const };
}
function back(event: AlertEvent) {
  return { severity: 'low' as const, event };
}

/** A notice's severity and event by its emoji. */
const BY_EMOJI: Record<string, { severity: Severity; event: AlertEvent }> = {
  '🔴': { severity: 'critical', event: 'failed' },
  '🆘': { severity: 'critical', event: 'failed' },
  '⚠️': { severity: 'medium', event: 'problem' },
  '✅': { severity: 'low', event: 'resolved' },
  ℹ️: { severity: 'low', event: 'info' },
  '⏸️': { severity: 'low', event: 'info' },
  '▶️': { severity: 'low', event: 'info' },
  '🔁': { severity: 'medium', event: 'problem' },
};

/** FNV-1a, hex: a short stable key for a notice's words (no node:crypto in a pure file). */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Splits "[p] ⚠️ words" into the emoji and the words; no emoji: the whole text is the words. */
export function splitLead(text: string): { emoji?: string; message: string } {
  let best: { at: number; emoji: string } | undefined;
  for (const e of LEAD_EMOJI) {
    const at = text.indexOf(`${e} `);
    if (at >= 0 && (!best || at < best.at)) best = { at, emoji: e };
  }
  if (!best) return { message: text };
  return { emoji: best.emoji, message: text.slice(best.at + best.emoji.length + 1) };
}

export function classify(text: string): Signal {
  const { emoji, message } = splitLead(text);
  const rule = RULES.find((r) => r.emoji === emoji && r.re.test(message));
  if (rule && rule.phase !== 'notice') {
    const { phase, severity, event, force, news } = rule;
    const key = rule.key.replace('$1', rule.re.exec(message)?.[1] ?? '');
    return { key, phase, severity, event, message, text, ...(force ? { force } : {}), ...(news ? { news } : {}) };
  }
  const sev = rule ?? (emoji ? BY_EMOJI[emoji]! : { severity: 'medium' as const, event: 'problem' as const });
  return { key: `notice:${shortHash(text)}`, phase: 'notice', severity: sev.severity, event: sev.event, message, text };
}
