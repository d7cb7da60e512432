// One lifecycle for every alert, pure: (ledger, signal or tick, now, policy) ->
// (ledger, messages to send). An incident's first message goes out at once;
// while it lasts, further signals are held unless a repeat is due (`repeatEvery`
// apart, at most `maxRepeats`) or the severity got worse; its end is said once,
// after `resolveAfter` seconds without a new signal, so a flapping host yields
// one incident, not one per flap. A notice (an event with no end: a pause, a
// state file set aside) is sent once; the same words again within `repeatEvery`
// are held. An update (a fence while a failover incident is open) joins an open
// incident, or is a notice when none is open. No I/O, no clock: `now` is given.
import type { AlertEvent, ContextValue, Severity } from './webhook.js';
import { duration } from './incident.js';
import { shortHash } from './classify.js';

/** Notices remembered (for their repeatEvery window), at most: a burst of distinct ones must not grow the state. */
export const MAX_NOTICES = 50;

export interface AlertPolicy {
  repeatEvery: number; // seconds
  maxRepeats: number;
  resolveAfter: number; // seconds; 0: the end is said at once
}

export type Phase = 'open' | 'update' | 'resolve' | 'notice';

/** What one alert text means: classify.ts reads it from the words of messages.ts. */
export interface Signal {
  key: string;
  phase: Phase;
  severity: Severity;
  event: AlertEvent;
  /** The words after the prefix and emoji (the seed's `message`). */
  message: string;
  /** The whole text as Telegram shows it. */
  text: string;
  /** Never held: a failed action or an escalation (bounded by the retry budget, not by reminders). */
  force?: true;
  /**
   * A different cause (its words, numbers aside) is sent even inside the open incident: the memory
   * sync's and a backup tier's folds raise a problem once per cause, so these are already bounded.
   */
  news?: true;
}

export interface LedgerEntry {
  openedAt: string;
  lastSentAt: string;
  /** Messages sent: the first, escalations and repeats. */
  sent: number;
  repeats: number;
  /** Signals held back (not sent) while it lasted. */
  held: number;
  worst: Severity;
  /** The latest words, repeated by a reminder. */
  last: Pick<Signal, 'text' | 'message' | 'severity' | 'event'>;
  /** The end was signalled at `since`; said once it stayed quiet for resolveAfter. */
  resolving?: { since: string; text: string; message: string };
  notice?: true;
}
export type Ledger = Record<string, LedgerEntry>;

export interface Outgoing {
  text: string;
  message: string;
  severity: Severity;
  event: AlertEvent;
  context: Record<string, ContextValue>;
}

export interface LifecycleStep {
  ledger: Ledger;
  send: Outgoing[];
  /** What happened to the signal, for tests and the run's output. */
  verdict: 'sent' | 'repeated' | 'escalated' | 'changed' | 'held' | 'resolving' | 'resolved';
}

export const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const secs = (from: string, now: Date) => (now.getTime() - new Date(from).getTime()) / 1000;
const without = (l: Ledger, key: string): Ledger => {
  const rest = { ...l };
  delete rest[key];
  return rest;
};

function out(
  s: Pick<Signal, 'text' | 'message' | 'severity' | 'event'>,
  key: string,
  phase: string,
  extra: Record<string, ContextValue> = {},
): Outgoing {
  return {
    text: s.text,
    message: s.message,
    severity: s.severity,
    event: s.event,
    context: { incident: key, phase, ...extra },
  };
}

/** A reminder: "[p] 🔁 still open after 2.0 h (reminder 1/3): <last words>". */
export function reminderText(e: LedgerEntry, now: Date, n: number, max: number): string {
  const lead = e.last.text.slice(0, e.last.text.length - e.last.message.length).trimEnd();
  const prefix = lead.replace(/\s*\S+$/u, ''); // drop the emoji, keep the operator's prefix
  const when = `still open after ${duration(secs(e.openedAt, now))} (reminder ${n}/${max})`;
  return `${prefix ? `${prefix} ` : ''}🔁 ${when}: ${e.last.message}`;
}

/** The end, with what was held back while it lasted (only when something was). */
function resolvedOut(key: string, e: LedgerEntry, text: string, message: string, now: Date): Outgoing {
  const lasted = duration(secs(e.openedAt, now));
  const note = e.held ? ` (incident lasted ${lasted}; ${e.held} alert(s) held back while it lasted)` : '';
  const s = { text: text + note, message: message + note, severity: 'low' as const, event: 'resolved' as const };
  return out(s, key, 'resolved', { lastedSeconds: Math.round(secs(e.openedAt, now)), held: e.held });
}

/** What a problem is, its numbers aside ("only 12 MB free" and "only 9 MB free" are one cause). */
const cause = (message: string): string => message.replace(/\d+(\.\d+)?/g, '#');

/** One signal. */
export function decideSignal(ledger: Ledger, sig: Signal, now: Date, policy: AlertPolicy): LifecycleStep {
  const at = now.toISOString();
  const e = ledger[sig.key];
  const last = { text: sig.text, message: sig.message, severity: sig.severity, event: sig.event };
  const fresh = (notice?: true): LedgerEntry => ({
    openedAt: at,
    lastSentAt: at,
    sent: 1,
    repeats: 0,
    held: 0,
    worst: sig.severity,
    last,
    ...(notice ? { notice } : {}),
  });
  if (sig.phase === 'notice' || ((sig.phase === 'update' || sig.phase === 'resolve') && (!e || e.notice))) {
    // An event with no incident to belong to: once; the same words again within repeatEvery are held.
    const k = sig.phase === 'notice' ? sig.key : `notice:${shortHash(sig.text)}`;
    const n = ledger[k];
    if (n && secs(n.lastSentAt, now) < policy.repeatEvery) {
      return { ledger: { ...ledger, [k]: { ...n, held: n.held + 1 } }, send: [], verdict: 'held' };
    }
    return { ledger: { ...ledger, [k]: fresh(true) }, send: [out(sig, k, 'notice')], verdict: 'sent' };
  }
  if (sig.phase === 'resolve') {
    const open = e!;
    if (policy.resolveAfter <= 0) {
      return {
        ledger: without(ledger, sig.key),
        send: [resolvedOut(sig.key, open, sig.text, sig.message, now)],
        verdict: 'resolved',
      };
    }
    const resolving = { since: open.resolving?.since ?? at, text: sig.text, message: sig.message };
    return { ledger: { ...ledger, [sig.key]: { ...open, resolving } }, send: [], verdict: 'resolving' };
  }
  // open or update
  if (!e || e.notice) {
    if (sig.phase === 'update') throw new Error('unreachable: an update with no incident is a notice');
    return { ledger: { ...ledger, [sig.key]: fresh() }, send: [out(sig, sig.key, 'opened')], verdict: 'sent' };
  }
  // A reminder repeats what the incident is (its latest opening words), not a passing update.
  const cont: LedgerEntry = { ...e, last: sig.phase === 'open' ? last : e.last, resolving: undefined };
  delete cont.resolving;
  if (RANK[sig.severity] > RANK[e.worst] || sig.force) {
    // Worse news is never held back, nor a failed action.
    const worst = RANK[sig.severity] > RANK[e.worst] ? sig.severity : e.worst;
    const next = { ...cont, worst, lastSentAt: at, sent: e.sent + 1 };
    return { ledger: { ...ledger, [sig.key]: next }, send: [out(sig, sig.key, 'escalated')], verdict: 'escalated' };
  }
  if (sig.news && sig.phase === 'open' && cause(sig.message) !== cause(e.last.message)) {
    const next = { ...cont, lastSentAt: at, sent: e.sent + 1 };
    return { ledger: { ...ledger, [sig.key]: next }, send: [out(sig, sig.key, 'changed')], verdict: 'changed' };
  }
  if (secs(e.lastSentAt, now) >= policy.repeatEvery && e.repeats < policy.maxRepeats) {
    const next = { ...cont, lastSentAt: at, sent: e.sent + 1, repeats: e.repeats + 1 };
    const text = reminderText(next, now, next.repeats, policy.maxRepeats);
    const sent = out({ ...sig, text }, sig.key, 'repeat', { repeat: next.repeats });
    return { ledger: { ...ledger, [sig.key]: next }, send: [sent], verdict: 'repeated' };
  }
  return { ledger: { ...ledger, [sig.key]: { ...cont, held: e.held + 1 } }, send: [], verdict: 'held' };
}

/** Time passing (every run): reminders that are due, ends that stayed quiet long enough, old notices forgotten. */
export function tick(ledger: Ledger, now: Date, policy: AlertPolicy): { ledger: Ledger; send: Outgoing[] } {
  let next = ledger;
  const send: Outgoing[] = [];
  for (const [key, e] of Object.entries(ledger)) {
    if (e.notice) {
      if (secs(e.lastSentAt, now) >= policy.repeatEvery) next = without(next, key);
    } else if (e.resolving) {
      if (secs(e.resolving.since, now) >= policy.resolveAfter) {
        next = without(next, key);
        send.push(resolvedOut(key, e, e.resolving.text, e.resolving.message, now));
      }
    } else if (secs(e.lastSentAt, now) >= policy.repeatEvery && e.repeats < policy.maxRepeats) {
      const upd = { ...e, lastSentAt: now.toISOString(), sent: e.sent + 1, repeats: e.repeats + 1 };
      next = { ...next, [key]: upd };
      const text = reminderText(upd, now, upd.repeats, policy.maxRepeats);
      send.push(out({ ...e.last, text }, key, 'repeat', { repeat: upd.repeats }));
    }
  }
  const notices = Object.entries(next).filter(([, e]) => e.notice);
  if (notices.length > MAX_NOTICES) {
    notices.sort(([, a], [, b]) => a.lastSentAt.localeCompare(b.lastSentAt));
    for (const [key] of notices.slice(0, notices.length - MAX_NOTICES)) next = without(next, key);
  }
  return { ledger: next, send };
}
