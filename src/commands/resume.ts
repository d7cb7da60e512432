// hactl resume: end a pause now. Recorded in the history and alerted.
import { event } from '../alerts/events.js';
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../context.js';
import { systemClock } from '../adapters/clock.js';
import { EXIT } from '../errors.js';
import { pauseVerdict, planResume } from '../operator/pause.js';
import { whoAmI } from './pause.js';

export default async function resume(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  const clock = systemClock();
  return runCommand('resume', opts, null, async ({ config, out, alerts }) => {
    const { readPause, writePause } = await import('../operator/pause-file.js');
    const now = clock.now();
    const prev = await readPause(config);
    const next = planResume(prev, now, whoAmI());
    if (!next)
      return {
        exitCode: EXIT.OK,
        summary: `resume: nothing to do, ${pauseVerdict(prev, now).line}`,
        data: { paused: false, changed: false },
      };
    writePause(config, next);
    const sent = await alerts.send(
      event(
        'resumed',
        'low',
        'notice',
        `automatic failover and failback resumed (paused since ${next.since} by ${next.by})`,
        now,
        {
          by: `by hand: ${next.resumedBy}`,
        },
      ),
    );
    for (const e of sent.errors) out.error(`hactl: warning: ${e}`);
    return {
      exitCode: EXIT.OK,
      summary: `resume: automatic actions are back on (the pause by ${next.by} ended early)`,
      data: { paused: false, changed: true },
    };
  });
}
