// check --watch, decided purely: when the next probe starts, whether what a probe recorded
// is handed over to failover --auto, and what the whole watch adds up to (one line, one exit
// code). No I/O, no clock: the times come in as monotonic milliseconds.
import type { Config } from '../config/types.js';
import { EXIT } from '../errors.js';
import type { ClusterState, Requester } from '../core/model.js';
import type { PauseRecord } from '../operator/pause.js';
import { decideFailover } from './plan.js';
import { dateGrants, type Stamp } from '../fencing/rule.js';

export interface WatchWindow {
  /** Between the starts of two probes. */
  intervalMs: number;
  /** After the watch's start, a probe may still begin until this much time has passed. */
  windowMs: number;
}

/**
 * When the next probe starts (monotonic ms), or null when the window is over. A probe that
 * overran its interval (a retry, a failover) is followed at once, never by a burst to catch up.
 */
export function nextProbeAt(w: WatchWindow, startMs: number, lastStartMs: number, nowMs: number): number | null {
  const next = Math.max(lastStartMs + w.intervalMs, nowMs);
  return next - startMs <= w.windowMs ? next : null;
}

/**
 * Whether a probe's recorded state goes to failover --auto now: when failover --auto would act
 * on it (or escalate). That run decides again under the lock, from the state it reads then.
 */
export function handOver(
  config: Config,
  state: ClusterState,
  req: Requester,
  now: Date,
  pause: PauseRecord | undefined,
  here?: Stamp,
): { go: boolean; reason: string } {
  const g =
    config.guard && here ? dateGrants(state.permits, [state.serving], config.guard.lease, here).grants : undefined;
  const d = decideFailover(config, g ? { ...state, permits: g } : state, req, now, pause, here);
  if (d.act) return { go: true, reason: d.plan.reason };
  return { go: !!d.escalate, reason: d.reason };
}

export interface ProbeRecord {
  /** Milliseconds after the watch started. */
  atMs: number;
  exitCode: number;
  summary: string;
  /** Turned away by the lock (another run held it): no observation. */
  busy?: boolean;
  /** The failover --auto run this probe handed over to. */
  handover?: { exitCode: number; summary: string };
}

const secs = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** The watch's one line and exit code: the last probe's verdict, made critical by a failed action. */
export function foldWatch(probes: ProbeRecord[], elapsedMs: number): { exitCode: number; summary: string } {
  const done = probes.filter((p) => !p.busy);
  const busy = probes.length - done.length;
  const head =
    `check --watch: ${probes.length} probe(s) in ${secs(elapsedMs)}` +
    (busy ? ` (${busy} turned away: another run held the lock)` : '');
  const last = done.at(-1);
  if (!last) return { exitCode: EXIT.LOCKED, summary: `${head}; nothing observed` };
  const acts = probes.filter((p) => p.handover).map((p) => p.handover!);
  const failed = acts.some((a) => a.exitCode === EXIT.CRITICAL);
  const acted = acts.length ? `; ${acts.map((a) => a.summary).join('; ')}` : '';
  return {
    exitCode: failed ? EXIT.CRITICAL : last.exitCode,
    summary: `${head}${acted}; last ${last.summary}`,
  };
}
