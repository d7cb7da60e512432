// hactl status: where things stand, from the state files alone (observe -> summarize ->
// render). Takes no lock, writes nothing (not even a history line), sends nothing.
import type { Command } from 'commander';
import type { GlobalOptions } from '../context.js';
import { Reporter } from '../output.js';
import { systemClock } from '../adapters/clock.js';

export default async function status(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  const clock = systemClock();
  const out = new Reporter(opts);
  const { loadConfig } = await import('../config/load.js');
  const config = await loadConfig(opts.config);
  const { observeStatus } = await import('../operator/status-observe.js');
  const { summarize, render } = await import('../operator/status.js');
  const now = clock.now();
  const s = summarize(config, await observeStatus(config, now));
  for (const l of render(s, now).slice(1)) out.detail(l);
  const { exitCode, line, ...data } = s;
  out.summary(`status: ${line}`, { command: 'status', exitCode, summary: `status: ${line}`, ...data });
  return exitCode;
}
