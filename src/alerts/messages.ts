// The words of every failover alert, pure. Each says what happened and, for an
// action, who asked for it.
import type { Config } from '../config/types.js';
import type { Observations, Plan, RunResult } from '../core/model.js';

const prefix = (c: Config) => c.alerts.prefix;

export function escalationText(c: Config, what: 'failover' | 'failback', attempts: number): string {
  const target = what === 'failover' ? c.pair.standby : c.pair.primary;
  return (
    `${prefix(c)} 🆘 ESCALATION: ${attempts} ${what} attempts to ${target} failed; hactl stops retrying. ` +
    `A human is needed (then: hactl ${what}).`
  );
}

export function bothDownText(c: Config, obs: Observations): string {
  const { primary, standby } = c.pair;
  return (
    `${prefix(c)} 🔴 CRITICAL: ${primary} and ${standby} both down — nothing serves the bot ` +
    `(${primary}: ${obs.primary.status}: ${obs.primary.detail}; ` +
    `${standby}: ${obs.standby.status}: ${obs.standby.detail})`
  );
}

export function bothDownResolvedText(c: Config, line: string): string {
  return `${prefix(c)} ✅ no longer both down: ${line}`;
}

/** The alert after a plan ran. */
export function moveText(c: Config, plan: Plan, res: RunResult, rolledBack?: string): string {
  const { primary, standby } = c.pair;
  if (plan.kind === 'fence-idle') return `${prefix(c)} ⚠️ ${plan.reason}`;
  if (plan.kind === 'failover') {
    if (res.ok) return `${prefix(c)} ⚠️ ${primary} OFFLINE (${plan.cause ?? 'by hand'}) — ${standby} takes over`;
    return (
      `${prefix(c)} 🔴 FAILOVER FAILED — ${standby} could not start: ${res.failed?.detail ?? 'unknown'}` +
      (rolledBack ? ` — ${rolledBack}` : '')
    );
  }
  if (res.ok) return `${prefix(c)} ✅ ${primary} ONLINE — memory synced, ${standby} stopped`;
  return (
    `${prefix(c)} 🔴 FAILBACK FAILED at ${res.failed?.op} — ${res.failed?.detail ?? 'unknown'}` +
    (rolledBack ? ` — ${rolledBack}` : '')
  );
}
