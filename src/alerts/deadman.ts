// Whether a run pings the operator's dead-man monitor, pure. The monitor's job
// is to say "hactl stopped running" (cron gone, witness down, config broken), so
// it hears only from runs that did their job:
//   0 ok, and 1 (a warning: hactl ran and judged a degraded cluster) unless
//   onWarning is false; never 2 (critical or the action failed), 3 (a host it
//   cannot judge), 64/66 (usage), 75 (another run holds the lock: this one did
//   nothing), 78 (configuration error), nor a run that ended without a code.
// Only the configured commands ping: by default `check`, which cron runs every
// minute; another command's good run must not hide a check that stopped working.
import type { DeadmanConfig } from '../config/types.js';

export function shouldPing(
  d: Pick<DeadmanConfig, 'onWarning' | 'commands'>,
  command: string,
  exitCode: number | undefined,
): boolean {
  if (!(d.commands ?? ['check']).includes(command)) return false;
  return exitCode === 0 || (exitCode === 1 && d.onWarning !== false);
}
