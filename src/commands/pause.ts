// hactl pause [--for 2h] [--reason TEXT]: automatic failover and failback are
// skipped until the pause ends (on its own, or with hactl resume). Recorded in
// the history and alerted: losing protection is never silent. No lock: an
// operator must be able to pause while a long run holds the cluster lock.
import { event } from '../alerts/events.js';
import type { Command } from 'commander';
import { hostname, userInfo } from 'node:os';
import { runCommand, type GlobalOptions } from '../context.js';
import { systemClock } from '../adapters/clock.js';
import { EXIT, UsageError } from '../errors.js';
import { parseForOption, planPause, pauseVerdict, humanDuration } from '../operator/pause.js';

interface PauseOptions extends GlobalOptions {
  for?: string;
  reason?: string;
}

/** Who: the person behind sudo when there is one. */
export const whoAmI = (): string => `${process.env.SUDO_USER || userInfo().username}@${hostname()}`;

export default async function pause(_p: Command, cmd: Command): Promise<number> {
  const o = cmd.opts() as PauseOptions;
  const opts = cmd.optsWithGlobals() as PauseOptions;
  let seconds: number | undefined;
  if (o.for !== undefined) {
    const d = parseForOption(o.for);
    if (typeof d !== 'number') throw new UsageError(`pause --for: ${d.error}`);
    seconds = d;
  }
  const clock = systemClock();
  return runCommand('pause', opts, null, async ({ config, out, alerts }) => {
    const { readPause, writePause } = await import('../operator/pause-file.js');
    const now = clock.now();
    const before = pauseVerdict(await readPause(config), now);
    const rec = planPause(now, seconds, o.reason, whoAmI());
    if ('error' in rec) throw new UsageError(`pause: ${rec.error}`);
    writePause(config, rec);
    const len = humanDuration((new Date(rec.until).getTime() - now.getTime()) / 1000);
    const why = rec.reason ? `: ${rec.reason}` : '';
    const text = `automatic failover and failback paused for ${len}${why} (until ${rec.until}; hactl resume ends it)`;
    const sent = await alerts.send(event('paused', 'medium', 'notice', text, now, { by: `by hand: ${rec.by}` }));
    for (const e of sent.errors) out.error(`hactl: warning: ${e}`);
    const summary = `pause: ${pauseVerdict(rec, now).line}${before.paused ? ' (replaces the earlier pause)' : ''}`;
    return {
      exitCode: EXIT.OK,
      summary,
      data: { paused: true, since: rec.since, until: rec.until, reason: rec.reason, by: rec.by },
    };
  });
}
