// Types shared by the decision core and the commands. No I/O here.
import type { Config, Role } from '../config/types.js';

export type HostStatus =
  'healthy' | 'gateway-down' | 'unreachable' | 'ssh-timeout' | 'auth-failure' | 'hostkey-failure';
export type Level = 'ok' | 'degraded' | 'critical' | 'unknown';

export interface Observation {
  status: HostStatus;
  detail: string;
  confirmed: boolean; // a failure seen twice, retryDelay apart (always true for healthy / config problems)
  transient?: boolean; // failed once, fine on the retry
  ms?: number;
  /** The other host's view of this one's gateway across the LAN (asked when the witness cannot reach it). */
  seenBy?: SecondView;
  /** When the witness renewed this host's guard lease during the check (its clock; guard configured). */
  leaseRenewedAt?: string;
  /** The serving permit this check granted (or tried to) on this host (src/fencing/rule.ts). */
  permit?: { token: number; lease: number; by: string; at: number; error?: string };
  /** This check revoked this (idle) host's permit. */
  permitRevoked?: boolean;
}

/** What the idle host saw when it probed the serving host's gateway across the LAN. */
export interface SecondView {
  role: Role;
  serving: boolean;
  detail: string;
}
export type Observations = Record<Role, Observation>;

export interface Streak {
  failures: number; // consecutive confirmed checks with the gateway not serving (config problems excluded)
  healthy: number; // consecutive checks with the gateway healthy
  reachable: number; // consecutive checks with the host answering SSH (gateway up or cleanly down)
  /** The first check of the current reachable run (absent in state files older than it). */
  reachableSince?: string | null;
  /** Consecutive checks the host did not answer as ready (absent in older state files: 0). */
  unready?: number;
}

export interface ClusterState {
  version: 1;
  serving: Role;
  servingSince: string;
  lastCheck: { at: string; hosts: Observations } | null;
  streaks: Record<Role, Streak>;
  failover: Attempts;
  level: Level;
  /** Failback's own retry budget (the same rules as failover's). */
  failback?: Attempts;
  /** Open incidents of the check (src/alerts/incident.ts), keyed. */
  incidents?: Record<string, Incident>;
  extra?: Record<string, unknown>;
  /**
   * Set when state.json was corrupt and this state was rebuilt (src/state/recover.ts): nothing
   * automatic acts until a check made after it confirmed what the serving side does.
   */
  rebuiltAt?: string;
  /** Where the corrupt file was set aside. */
  rebuiltFrom?: string;
  /** The last successful guard lease renewal on each host, by the witness's clock (src/guard). */
  lease?: Partial<Record<Role, string>>;
  /** The authority's latest serving-permit grant to each host, by its monotonic clock (src/fencing/rule.ts). */
  permits?: import('../fencing/rule.js').Grants;
}

export interface Attempts {
  attempts: number;
  lastAttemptAt: string | null;
  escalatedAt: string | null;
  lastResult: string | null;
}

export interface Incident {
  openedAt: string;
  lastSentAt: string;
  sent: number; // alerts sent for it: the opening one and its repeats
}

export function initialState(now: Date): ClusterState {
  const zero = { failures: 0, healthy: 0, reachable: 0 };
  return {
    version: 1,
    serving: 'primary',
    servingSince: now.toISOString(),
    lastCheck: null,
    streaks: { primary: { ...zero }, standby: { ...zero } },
    failover: { attempts: 0, lastAttemptAt: null, escalatedAt: null, lastResult: null },
    level: 'ok',
  };
}

/** A conservative state after a corrupt state.json: nothing known, nothing to act on until a check. */
export function rebuiltState(now: Date, from: string): ClusterState {
  return { ...initialState(now), rebuiltAt: now.toISOString(), rebuiltFrom: from };
}

/**
 * The state was rebuilt and no check since has confirmed what the serving side does: the
 * serving side is a guess until then, and nothing automatic may act on a guess.
 */
export function awaitingConfirmation(state: ClusterState): boolean {
  if (!state.rebuiltAt) return false;
  const c = state.lastCheck;
  // Only a check from before the mark (markUnfinished keeps it) is compared by time: the first check that
  // confirms the serving side after a rebuild removes the mark (foldCheck), whatever the clocks say.
  return !c || c.at < state.rebuiltAt || !c.hosts[state.serving].confirmed;
}

/**
 * Which side serves, read from one check (after a rebuild, when the record is lost): the side
 * whose gateway answers; the primary when both or neither do (its home, and the side a
 * failover would start from).
 */
export function inferServing(obs: Observations): Role {
  return obs.standby.status === 'healthy' && obs.primary.status !== 'healthy' ? 'standby' : 'primary';
}

export const other = (r: Role): Role => (r === 'primary' ? 'standby' : 'primary');

/** "primary" when the host is called so, else "primary pc-a". */
export const label = (c: Config, r: Role): string => (c.pair[r] === r ? r : `${r} ${c.pair[r]}`);

export function isConfigProblem(s: HostStatus): boolean {
  return s === 'auth-failure' || s === 'hostkey-failure';
}
export function isReachable(s: HostStatus): boolean {
  return s === 'healthy' || s === 'gateway-down';
}

/** What a failing step leads to: stop the plan, carry on, or stop and run the plan's rollback. */
export type OnFail = 'abort' | 'continue' | 'rollback';

/**
 * A step of a plan, with the reason it is there and what its failure leads to.
 * The plan says everything; src/failover/run.ts carries it out without choosing.
 * - preflight: the host answers and can start a gateway (checked without starting one).
 * - sync-back: `unreachable: 'continue'` goes on when the source host does not answer
 *   (what it wrote is then alerted as not synced back).
 * - fence/stop: stop the gateway's process whatever its HTTP answer, then verify it is
 *   gone; `unreachable: 'stopped'` counts a host that does not answer as stopped (under guards, once
 *   its serving permit is over, slept out); `unreachable: 'left'` leaves such a host to its guard at
 *   once: for a run that starts nothing (an adoption), after which no check renews its permit.
 * - start: `methods` are tried in order, the first that reports started and ready wins;
 *   `missed: 'stop-then-next'` stops a method that started but missed the deadline, and
 *   verifies it is gone, before the next one.
 */
/** The PostgreSQL memory store's steps (src/postgres): pause at failover, copy back and resume at failback. */
export type PgAction = 'pause' | 'sync-back' | 'resume';

export type Step = { reason: string; onFail: OnFail } & (
  | { op: 'preflight'; role: Role }
  | { op: 'sync-last-chance'; from: Role; to: Role }
  | { op: 'sync-back'; from: Role; to: Role; unreachable: 'continue' | 'fail' }
  | { op: 'fence' | 'stop'; role: Role; unreachable: 'stopped' | 'left' | 'fail' }
  | { op: 'settle'; seconds: number; role?: Role } // role: the side just stopped, watched until gone
  | { op: 'start'; role: Role; methods: string[]; missed: 'stop-then-next' }
  | { op: 'verify'; role: Role }
  | { op: 'record'; serving: Role }
  | { op: 'postgres'; action: PgAction }
);
export type StepOp = Step['op'];

export type MoveKind = 'failover' | 'failback' | 'fence-idle' | 'return' | 'restart';

/** Who asked for a run: cron with --auto, or a person by hand (user@host). */
export interface Requester {
  auto: boolean;
  who: string;
}

export interface Plan {
  kind: MoveKind;
  reason: string;
  steps: Step[];
  /** Run after a step whose onFail is 'rollback' failed. */
  rollback: Step[];
  /** The status that made this plan (for the alert). */
  cause: HostStatus | 'by hand';
  /** Who asked. */
  by: Requester;
  /** Known before running: memory that cannot be synced back (its host does not answer). */
  memoryLoss?: string;
}

export type Decision =
  | { act: false; exitCode: number; reason: string; escalate?: { alert: string; what: 'failover' | 'failback' } }
  | { act: true; plan: Plan };

/** What one step did: the run's only output, folded by src/failover/fold.ts. */
export interface Outcome {
  op: StepOp;
  role?: Role;
  ok: boolean;
  detail: string;
  ms: number;
  waitMs?: number; // part of ms spent in configured waits
  unreachable?: boolean; // the host did not answer
  methods?: MethodRun[]; // start methods tried, in order
  tables?: unknown[]; // postgres steps: rows moved per table (recorded in history)
}

export interface MethodRun {
  name: string;
  ok: boolean;
  ms: number; // the method's own command on the host (not the wait for ready)
  absent?: boolean; // not run: its program or its `requires` test is missing on the host
}

export interface RunResult {
  ok: boolean;
  outcomes: Outcome[];
  failed?: Outcome;
  /** Outcomes of the rollback, when one ran. */
  rollback?: Outcome[];
  gapMs?: number; // from the old gateway stopped (or fence) to the new one ready
}
