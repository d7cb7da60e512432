// hactl check: probe both hosts, confirm a failure once, record what was seen.
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { checkPair } from '../failover/index.js';

export default async function check(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions & { watch?: boolean };
  // --watch: probe again every interval inside the cron window (src/commands/watch.ts).
  if (opts.watch) return (await import('./watch.js')).watchPair(opts);
  const o = opts as { interval?: string; window?: string };
  if (o.interval !== undefined || o.window !== undefined)
    throw new UsageError('--interval and --window go with --watch');
  return runCommand('check', opts, 'cluster', checkPair);
}
