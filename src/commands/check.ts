// hactl check: probe both hosts, confirm a failure once, record what was seen.
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../context.js';
import { checkPair } from '../failover/index.js';

export default function check(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  return runCommand('check', opts, 'cluster', checkPair);
}
