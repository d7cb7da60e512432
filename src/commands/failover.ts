// hactl failover [--auto] [--dry-run]: fence the primary, start the standby, verify, alert.
import type { Command } from 'commander';
import { decideFailover } from '../core/decide.js';
import { move } from './move.js';

export default function failover(_p: Command, cmd: Command): Promise<number> {
  return move(
    {
      name: 'failover',
      decide: decideFailover,
      success: (c, s) => {
        const status = s.lastCheck?.hosts.primary.status ?? 'by hand';
        return `${c.alerts.prefix} ⚠️ ${c.pair.primary} OFFLINE (${status}) — ${c.pair.standby} takes over`;
      },
      failure: (c, res) => `${c.alerts.prefix} 🔴 FAILOVER FAILED — ${c.pair.standby} could not start: ${res.failedStep?.detail ?? 'unknown'}`,
    },
    cmd,
  );
}
