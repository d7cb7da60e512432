// The one incident lifecycle, pure: (ledger, event, now, policy) -> (ledger, events to send).
// Every event hactl raises passes here, in the outbox's section (state/outbox.ts), and the
// ledger is kept in outbox.json only: one engine, one file.
// - An incident is keyed by what is wrong and where (events.ts KEYS). Its first event goes
//   out at once. While it is open, an event of a kind already said (the same cause, for the
//   memory and backup problems) is held, unless it is worse, or a reminder is due
//   (`repeatEvery` apart, at most `maxRepeats`). A different kind (a failover after an
//   escalation), a worse severity, a failed action and an escalation are never held.
// - It resolves when its condition no longer holds, whoever made it so: one "resolved"
//   carrying how long it lasted, after `resolveAfter` quiet seconds. A resolve with nothing
//   open is not said, except an action's (a failback is news whatever was open).
// - A notice (no key) is said once; the same words again within `repeatEvery` are held.
// No I/O, no clock: `now` is given.
import { RANK, duration, type EventKind, type HactlEvent, type Severity } from './events.js';

export { duration };

/** Notices remembered (for their repeatEvery window), at most: a burst of distinct ones must not grow the state. */
export const MAX_NOTICES = 50;

export interface AlertPolicy {
  repeatEvery: number; // seconds
  maxRepeats: number;
  resolveAfter: number; // seconds; 0: the end is said at once
}

export interface LedgerEntry {
  openedAt: string;
  lastSentAt: string;
  /** Events sent: the first, changes, escalations and repeats. */
  sent: number;
  repeats: number;
  /** Events held back (not sent) while it lasted. */
  held: number;
  worst: Severity;
  /** The kinds said in this incident (with their cause, for the memory and backup problems). */
  said: string[];
  /** The latest opening event, repeated by a reminder. */
  last: HactlEvent;
  /** Its end was signalled at `since`; said once it stayed quiet for resolveAfter. */
  resolving?: { since: string; event: HactlEvent };
  notice?: true;
}
export type Ledger = Record<string, LedgerEntry>;

export type Verdict = 'opened' | 'changed' | 'escalated' | 'repeated' | 'held' | 'resolving' | 'resolved' | 'dropped';

export interface LifecycleStep {
  ledger: Ledger;
  send: HactlEvent[];
  verdict: Verdict;
}

/** Actions: said even when no incident of theirs is open (a failback is news whatever was open). */
export const ACTIONS: ReadonlySet<EventKind> = new Set<EventKind>([
  'failover-done',
  'failover-by-hand',
  'failover-failed',
  'failback-done',
  'failback-failed',
  'return-done',
  'return-failed',
  'restart-done',
  'restart-failed',
  'fence-failed',
  'escalation',
]);
/**
 * Never held, not even behind themselves: a failed action, an escalation, a return from a failed
 * standby (the retry budget bounds them, not reminders). A flapping primary's second failover in one
 * incident is held (said once), as the same kind already said; so is a restart's, done or failed (no
 * budget bounds a restart: the cooldown spaces them, the incident's reminders say they go on).
 */
export const NEVER_HELD: ReadonlySet<EventKind> = new Set<EventKind>([
  'failover-failed',
  'failback-failed',
  'return-failed',
  'fence-failed',
  'escalation',
  'return-done',
]);
/** Problems whose folds raise them once per cause: a different cause is news inside the incident. */
const BY_CAUSE: ReadonlySet<EventKind> = new Set<EventKind>(['memory-problem', 'backup-problem']);

const secs = (from: string, now: Date) => (now.getTime() - new Date(from).getTime()) / 1000;
const without = (l: Ledger, key: string): Ledger => {
  const rest = { ...l };
  delete rest[key];
  return rest;
};

/** What an event says, its numbers aside ("only 12 MB free" and "only 9 MB free" are one cause). */
const said = (e: HactlEvent): string =>
  BY_CAUSE.has(e.kind) ? `${e.kind}:${e.message.replace(/\d+(\.\d+)?/g, '#')}` : e.kind;

/** FNV-1a, hex: a short stable key for a notice's words. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

const mark = (e: HactlEvent, key: string, phase: string, extra: HactlEvent['facts'] = {}): HactlEvent => ({
  ...e,
  facts: { ...e.facts, incident: key, step: phase, ...extra },
});

/** A reminder of what the incident is: its latest opening event, said again. */
function reminder(key: string, e: LedgerEntry, now: Date, max: number): HactlEvent {
  const lasted = Math.round(secs(e.openedAt, now));
  const message = `still open after ${duration(lasted)} (reminder ${e.repeats}/${max}): ${e.last.message}`;
  return mark({ ...e.last, message, at: now.toISOString() }, key, 'repeat', {
    repeat: e.repeats,
    lastedSeconds: lasted,
  });
}

/** The end: the resolving event, with how long the incident lasted and what was held back. */
function ended(key: string, e: LedgerEntry, end: HactlEvent, now: Date): HactlEvent {
  const lasted = Math.round(secs(e.openedAt, now));
  return mark({ ...end, phase: 'resolve' }, key, 'resolved', { lastedSeconds: lasted, held: e.held });
}

/** One event. */
export function decide(ledger: Ledger, ev: HactlEvent, now: Date, policy: AlertPolicy): LifecycleStep {
  const at = now.toISOString();
  const fresh = (notice?: true): LedgerEntry => ({
    openedAt: at,
    lastSentAt: at,
    sent: 1,
    repeats: 0,
    held: 0,
    worst: ev.severity,
    said: [said(ev)],
    last: ev,
    ...(notice ? { notice } : {}),
  });
  const key = ev.key;
  const open = key !== undefined ? ledger[key] : undefined;
  if (ev.phase === 'notice' || key === undefined || (ev.phase === 'resolve' && !open && ACTIONS.has(ev.kind))) {
    const k = `notice:${ev.kind}:${shortHash(ev.message)}`;
    const n = ledger[k];
    if (n && secs(n.lastSentAt, now) < policy.repeatEvery && !ACTIONS.has(ev.kind)) {
      return { ledger: { ...ledger, [k]: { ...n, held: n.held + 1 } }, send: [], verdict: 'held' };
    }
    return { ledger: { ...ledger, [k]: fresh(true) }, send: [mark(ev, k, 'notice')], verdict: 'opened' };
  }
  if (ev.phase === 'resolve') {
    if (!open || open.notice) return { ledger, send: [], verdict: 'dropped' };
    if (policy.resolveAfter <= 0) {
      return { ledger: without(ledger, key), send: [ended(key, open, ev, now)], verdict: 'resolved' };
    }
    // An action's end (ONLINE) is what gets said, not a later check's plain "serves again".
    const keep = open.resolving && ACTIONS.has(open.resolving.event.kind) && !ACTIONS.has(ev.kind);
    const resolving = { since: open.resolving?.since ?? at, event: keep ? open.resolving!.event : ev };
    return { ledger: { ...ledger, [key]: { ...open, resolving } }, send: [], verdict: 'resolving' };
  }
  if (!open || open.notice) {
    return { ledger: { ...ledger, [key]: fresh() }, send: [mark(ev, key, 'opened')], verdict: 'opened' };
  }
  const cont: LedgerEntry = { ...open, last: ev };
  delete cont.resolving;
  const worse = RANK[ev.severity] > RANK[open.worst];
  const news = NEVER_HELD.has(ev.kind) || !open.said.includes(said(ev));
  if (worse || news) {
    const next: LedgerEntry = {
      ...cont,
      worst: worse ? ev.severity : open.worst,
      lastSentAt: at,
      sent: open.sent + 1,
      said: [...new Set([...open.said, said(ev)])],
    };
    const verdict = worse ? 'escalated' : 'changed';
    return { ledger: { ...ledger, [key]: next }, send: [mark(ev, key, verdict)], verdict };
  }
  if (secs(open.lastSentAt, now) >= policy.repeatEvery && open.repeats < policy.maxRepeats) {
    const next = { ...cont, lastSentAt: at, sent: open.sent + 1, repeats: open.repeats + 1 };
    return {
      ledger: { ...ledger, [key]: next },
      send: [reminder(key, next, now, policy.maxRepeats)],
      verdict: 'repeated',
    };
  }
  return { ledger: { ...ledger, [key]: { ...cont, held: open.held + 1 } }, send: [], verdict: 'held' };
}

/** Time passing (every run): reminders that are due, ends that stayed quiet long enough, old notices forgotten. */
export function tick(ledger: Ledger, now: Date, policy: AlertPolicy): { ledger: Ledger; send: HactlEvent[] } {
  let next = ledger;
  const send: HactlEvent[] = [];
  for (const [key, e] of Object.entries(ledger)) {
    if (e.notice) {
      if (secs(e.lastSentAt, now) >= policy.repeatEvery) next = without(next, key);
    } else if (e.resolving) {
      if (secs(e.resolving.since, now) >= policy.resolveAfter) {
        next = without(next, key);
        send.push(ended(key, e, e.resolving.event, now));
      }
    } else if (secs(e.lastSentAt, now) >= policy.repeatEvery && e.repeats < policy.maxRepeats) {
      const upd = { ...e, lastSentAt: now.toISOString(), sent: e.sent + 1, repeats: e.repeats + 1 };
      next = { ...next, [key]: upd };
      send.push(reminder(key, upd, now, policy.maxRepeats));
    }
  }
  const notices = Object.entries(next).filter(([, e]) => e.notice);
  if (notices.length > MAX_NOTICES) {
    notices.sort(([, a], [, b]) => a.lastSentAt.localeCompare(b.lastSentAt));
    for (const [key] of notices.slice(0, notices.length - MAX_NOTICES)) next = without(next, key);
  }
  return { ledger: next, send };
}

/** Whether an incident is open (an end not yet said counts as open). */
export const isOpen = (ledger: Ledger | undefined, key: string): boolean => !!ledger?.[key] && !ledger[key]!.notice;
