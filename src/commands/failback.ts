// hactl failback [--auto] [--dry-run] [--yes]: sync back, stop the standby, start the primary, verify, alert.
// By hand it asks first (src/commands/by-hand.ts).
import type { Command } from 'commander';
import { moveByHand } from './by-hand.js';

export default function failback(_p: Command, cmd: Command): Promise<number> {
  return moveByHand('failback', cmd);
}
