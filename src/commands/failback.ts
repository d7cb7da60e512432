// hactl failback [--auto] [--dry-run]: sync back, stop the standby, start the primary, verify, alert.
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../context.js';
import { movePair } from '../failover/index.js';
import { requester } from '../failover/requester.js';

export default function failback(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  return runCommand('failback', opts, 'cluster', (ctx) => movePair(ctx, 'failback', requester(opts)));
}
