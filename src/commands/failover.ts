// hactl failover [--auto] [--dry-run]: fence the primary, start the standby, verify, alert.
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../context.js';
import { movePair } from '../failover/index.js';
import { requester } from '../failover/requester.js';

export default function failover(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  return runCommand('failover', opts, 'cluster', (ctx) => movePair(ctx, 'failover', requester(opts)));
}
