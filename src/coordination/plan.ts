// What coordination means for each command, and what a run does with the election's answer.
// Pure: no I/O. Tested as tables (test/unit/coordination.test.ts).
import { parseDuration } from '../config/durations.js';

/** The records every witness must agree on: role and streaks, attempts and cooldown, pause, last syncs. */
export const SHARED_RECORDS = ['state.json', 'pause.json', 'memory.json', 'backup.json'] as const;

/**
 * - act: changes the pair or the shared records; only the leader runs it.
 * - observe: check; runs everywhere (recorded locally), the leader's result is shared.
 * - write: pause and resume; an operator's word is taken on any witness, even while a leader
 *   acts (as the local lock never held them back): its record alone is compared-and-swapped.
 * - local: touches nothing shared (validate, restore, cron, init, listings).
 */
export type Kind = 'act' | 'observe' | 'write' | 'local';

const ACTING = new Set(['failover', 'failback', 'sync-memory', 'backup-tier']);

export function kindOf(command: string, lockName: string | null): Kind {
  if (command === 'check') return 'observe';
  if (command === 'pause' || command === 'resume') return 'write';
  // backup-tier --list takes no lock and writes nothing.
  return ACTING.has(command) && lockName !== null ? 'act' : 'local';
}

/** Whether a run of this kind campaigns for the lead first. */
export const campaigns = (kind: Kind): boolean => kind === 'act' || kind === 'observe';

export type Verdict =
  | { run: 'skip' }
  | { run: 'body'; push: 'no' | 'as-leader' | 'record-only'; muteAlerts: boolean }
  | { run: 'not-leader'; summary: string };

/**
 * After the campaign: whether the body runs, whether its records are shared, whether it alerts.
 * The lead is held only while a run works, so "another witness leads" is the pair-wide form of
 * "another run holds the lock": the same answer, exit 75, and the next cron tick tries again.
 */
export function decideRun(kind: Kind, command: string, leader: boolean, holder: string): Verdict {
  if (kind === 'local') return { run: 'skip' };
  if (kind === 'write') return { run: 'body', push: 'record-only', muteAlerts: false };
  if (leader) return { run: 'body', push: 'as-leader', muteAlerts: false };
  if (kind === 'observe') return { run: 'body', push: 'no', muteAlerts: true };
  return { run: 'not-leader', summary: `${command}: nothing done: witness ${holder} leads (it acts)` };
}

export interface Change {
  name: string;
  text: string;
  rev: string;
}

/** The records whose file differs from what was pulled (a file that vanished is not shared: kept). */
export function changedRecords(
  pulled: ReadonlyMap<string, { text: string | null; rev: string }>,
  now: ReadonlyMap<string, string | null>,
): Change[] {
  const out: Change[] = [];
  for (const [name, text] of now) {
    const before = pulled.get(name);
    if (text === null || !before || before.text === text) continue;
    out.push({ name, text, rev: before.rev });
  }
  return out;
}

const LIMITS = { leaseTTL: 300, timeout: 60 } as const;

/**
 * The section's two durations in seconds (a bare number is seconds), or the problems. They are
 * read here rather than by the loader so the optional section stays out of the annotated example.
 * etcd grants leases in whole seconds, at least 1.
 */
export function etcdTimes(cfg: {
  leaseTTL: number | string;
  timeout: number | string;
}): { ttl: number; timeoutMs: number } | { problems: string[] } {
  const problems: string[] = [];
  const sec = (key: keyof typeof LIMITS): number => {
    const v = cfg[key];
    const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
    if (ms === undefined || !(ms > 0) || ms > LIMITS[key] * 1000)
      problems.push(
        `/coordination/etcd/${key} is ${JSON.stringify(v)}: a duration above 0 and at most ${LIMITS[key]}s`,
      );
    return (ms ?? 0) / 1000;
  };
  const ttl = Math.max(1, Math.ceil(sec('leaseTTL')));
  const timeoutMs = Math.round(sec('timeout') * 1000);
  return problems.length ? { problems } : { ttl, timeoutMs };
}

/**
 * How long the leader's lease surely lives on the server, on this witness's monotonic clock
 * (src/coordination/etcd.ts watchdog). Each renewal sends one keepalive to every member at once
 * (etcd.ts renew), so one member that drops packets, or has no quorum, costs nothing: the first
 * answer renews. It renews the lease as of when etcd got the request, which is after we sent it:
 * counting its TTL from the send time is never late. The TTL is the reply's own (what etcd says is
 * left), never the configured one; a reply of 0 (the lease is gone) extends nothing.
 */
export interface LeaseLife {
  /** Until when the lease surely lives (ms, monotonic). */
  validUntil: number;
}

export const leaseGranted = (sentAt: number, ttlSeconds: number): LeaseLife => ({
  validUntil: sentAt + ttlSeconds * 1000,
});
export function keepaliveAnswered(l: LeaseLife, sentAt: number, ttlSeconds: number): LeaseLife {
  const until = ttlSeconds > 0 ? sentAt + ttlSeconds * 1000 : l.validUntil;
  return { validUntil: Math.max(l.validUntil, until) };
}

/**
 * The renewal schedule: a round every third of the TTL (the Go client's rule), each try bounded so
 * that at least two more rounds fit before the lease could lapse; a round nobody answered is
 * followed by the next at once.
 */
export function renewalTimes(ttlSeconds: number, timeoutMs: number): { everyMs: number; tryMs: number } {
  const everyMs = (ttlSeconds * 1000) / 3;
  return { everyMs, tryMs: Math.max(200, Math.min(timeoutMs / 3, everyMs / 2)) };
}

/**
 * The intent a failover or failback leader keeps in etcd while it acts (issue 21 item 10): the
 * step it is about to run (written before each step, so every step before it passed) and the
 * token of the permit it granted for its start. A later leader that finds it unfinished reads
 * where it stopped.
 */
export interface Intent {
  command: string;
  witness: string;
  since: string;
  /** The plan's kind (failover, failback, fence-idle, return). */
  kind?: string;
  step?: { i: number; op: string; role?: string };
  token?: number;
  /** A later leader found it unfinished and held (marked the state rebuilt) once: the next one resumes. */
  held?: boolean;
}

export function parseIntent(text: string | null): Intent | null {
  if (text === null) return null;
  try {
    const i = JSON.parse(text) as Intent;
    return i && typeof i === 'object' && typeof i.command === 'string'
      ? i
      : { command: '?', witness: '?', since: text };
  } catch {
    return { command: '?', witness: '?', since: text };
  }
}

/** Whether the earlier leader may have changed a host: it got past its first step (a preflight changes nothing). */
export const changedHosts = (i: Intent): boolean => !i.step || i.step.i > 0 || i.step.op !== 'preflight';

/**
 * Where a new leader's plan takes over an unfinished one of the same kind: the index of the step
 * the earlier leader was at (same op, same side), so that the steps it completed are not run
 * again (its sync, its stop, its launch). 0: from the start (another kind of move, or no step on
 * record). The start that follows still grants this leader's own permit, only once the other
 * side's is over (src/fencing/rule.ts), and never launches over a gateway already there.
 */
export function resumeAt(
  prior: Intent | null,
  plan: { kind: string; steps: ReadonlyArray<Record<string, unknown>> },
): number {
  const s = prior?.step;
  if (!s || prior.kind !== plan.kind) return 0;
  const k = plan.steps.findIndex((x) => x.op === s.op && (s.role === undefined || x.role === s.role));
  return k > 0 ? k : 0;
}

/** The side an unfinished move was starting (its step a start, or past it), else undefined. */
export function startingOn(prior: Intent | null | undefined): string | undefined {
  const s = prior?.step;
  return s && ['start', 'verify', 'record'].includes(s.op) ? s.role : undefined;
}

/** Steps a resumed move runs again before the recorded one: they confirm rather than change (a
 * fence of a side already stopped says so at once, and lets the start skip its permit's wait). */
const REDO = new Set(['preflight', 'fence', 'stop', 'settle']);

/**
 * The plan a new leader runs when it takes over an unfinished move (resumeAt): the confirming steps
 * before the recorded one, then the recorded one on; `index` maps each step to the plan's own.
 */
export function resumeSteps<S extends { op: string }>(
  prior: Intent | null,
  plan: { kind: string; steps: readonly S[] },
): { from: number; steps: S[]; index: number[] } {
  const from = resumeAt(prior, plan as { kind: string; steps: ReadonlyArray<Record<string, unknown>> });
  const index = plan.steps.map((_, i) => i).filter((i) => i >= from || REDO.has(plan.steps[i]!.op));
  return { from, steps: index.map((i) => plan.steps[i]!), index };
}
