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

export function systemClock(env: NodeJS.ProcessEnv = process.env): Clock {
  const fixed = env.HACTL_NOW;
  if (!fixed) return { now: () => new Date(), ms: () => performance.now() };
  const d = new Date(fixed);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`HACTL_NOW=${fixed} is not a date (ISO 8601, e.g. 2026-11-22T14:00:00Z)`);
  // A fixed start that still moves forward, so durations inside one run stay real.
  const t0 = performance.now();
  return { now: () => new Date(d.getTime() + (performance.now() - t0)), ms: () => performance.now() };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
