// hactl failback [--auto] [--dry-run] [--yes]: sync back, stop the standby, start the primary, verify, alert.
// By hand it asks first (src/commands/by-hand.ts).
import type { Command } from 'commander';
import { moveByHand } from './by-hand.js';
import { runCommand, type GlobalOptions } from '../context.js';

export default async function failback(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions & { fromDeadStandby?: boolean };
  if (opts.fromDeadStandby) {
    // PostgreSQL rows of a standby that died while serving (docs/postgres.md): src/postgres/recover.ts.
    const { fromDeadStandby } = await import('../postgres/recover.js');
    return runCommand('failback', opts, 'cluster', fromDeadStandby);
  }
  return moveByHand('failback', cmd);
}
