// hactl failover [--auto] [--dry-run] [--yes]: fence the primary, start the standby, verify, alert.
// By hand it asks first (src/commands/by-hand.ts).
import type { Command } from 'commander';
import { moveByHand } from './by-hand.js';

export default function failover(_p: Command, cmd: Command): Promise<number> {
  return moveByHand('failover', cmd);
}
