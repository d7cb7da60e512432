// The one clock. Everything in hactl that needs "now" gets it from a Clock
// passed in; the pure core takes the time as an argument. HACTL_NOW (an ISO
// time, for tests and for replaying a schedule) is read here and nowhere else.
import { UsageError } from '../errors.js';

export interface Clock {
  /** Wall-clock time (HACTL_NOW when set). */
  now(): Date;
  /** Monotonic milliseconds, for durations and deadlines (never HACTL_NOW). */
  ms(): number;
}

/**
 * Monotonic milliseconds (an arbitrary origin: for durations and deadlines only). process.hrtime, not
 * performance.now(): the global `performance` loads node's perf_hooks (nine modules) on first use, in
 * every run that takes a lock (issue 25).
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export function systemClock(env: NodeJS.ProcessEnv = process.env): Clock {
  const fixed = env.HACTL_NOW;
  if (!fixed) return { now: () => new Date(), ms: () => monotonicMs() };
  const d = new Date(fixed);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`HACTL_NOW=${fixed} is not a date (ISO 8601, e.g. 2026-11-22T14:00:00Z)`);
  // A fixed start that still moves forward, so durations inside one run stay real.
  const t0 = monotonicMs();
  return { now: () => new Date(d.getTime() + (monotonicMs() - t0)), ms: () => monotonicMs() };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
