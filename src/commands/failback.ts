// hactl failback [--auto] [--dry-run]: sync back, stop the standby, start the primary, verify, alert.
import type { Command } from 'commander';
import { decideFailback } from '../core/decide.js';
import { move } from './move.js';

export default function failback(_p: Command, cmd: Command): Promise<number> {
  return move(
    {
      name: 'failback',
      decide: decideFailback,
      success: (c) => `${c.alerts.prefix} ✅ ${c.pair.primary} ONLINE — memory synced, ${c.pair.standby} stopped`,
      failure: (c, res) => `${c.alerts.prefix} 🔴 FAILBACK FAILED at ${res.failedStep?.op} — ${res.failedStep?.detail ?? 'unknown'}`,
      // The primary did not come up: put the standby back so the bot keeps an answer.
      rollback: async (ex) => {
        const r = await ex.startGateway('standby').catch((e: Error) => ({ ok: false, detail: e.message }));
        return r.ok ? `standby restarted, still serving (${r.detail})` : `standby could NOT be restarted either: ${r.detail}`;
      },
    },
    cmd,
  );
}
