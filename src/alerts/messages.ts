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
  // Neither host answered SSH: from here a dead pair and a witness cut off from both look the same.
  const seen = obs.primary.status === 'gateway-down' || obs.standby.status === 'gateway-down';
  const what = seen
    ? 'nothing serves the bot'
    : 'or cut off from this witness — no gateway can be seen, none was started or stopped';
  return (
    `${prefix(c)} 🔴 CRITICAL: ${primary} and ${standby} both down ${what} ` +
    `(${primary}: ${obs.primary.status}: ${obs.primary.detail}; ` +
    `${standby}: ${obs.standby.status}: ${obs.standby.detail})`
  );
}

export function bothDownRepeatText(c: Config, obs: Observations, since: string): string {
  return bothDownText(c, obs).replace('CRITICAL: ', `CRITICAL, still, for ${since}: `);
}

export function bothDownResolvedText(c: Config, line: string): string {
  return `${prefix(c)} ✅ no longer both down: ${line}`;
}

/** "automatic: hactl --auto on w1" or "by hand: ann@w1". */
const askedBy = (plan: Plan): string => `${plan.by.auto ? 'automatic' : 'by hand'}: ${plan.by.who}`;

/** What went wrong, in one clause. */
function failure(plan: Plan, res: RunResult): string {
  const f = res.failed;
  if (!f) return 'unknown';
  if (f.op === 'preflight') return `${f.role} failed its preflight, no gateway was touched: ${f.detail}`;
  return `at ${f.op}: ${f.detail}`;
}

/** The alert after a plan ran: what happened, who asked, what was rolled back, what memory was lost. */
export function moveText(c: Config, plan: Plan, res: RunResult, rolledBack: string | null, memory?: string): string {
  const { primary, standby } = c.pair;
  const p = prefix(c);
  const tail = `${rolledBack ? ` — ${rolledBack}` : ''}${memory ? ` — WARNING: ${memory}` : ''} (${askedBy(plan)})`;
  if (plan.kind === 'fence-idle') {
    return res.ok
      ? `${p} ⚠️ ${plan.reason} (${askedBy(plan)})`
      : `${p} 🔴 TWO GATEWAYS: ${plan.reason} FAILED ${failure(plan, res)}${tail}`;
  }
  if (plan.kind === 'failover') {
    if (!res.ok) return `${p} 🔴 FAILOVER FAILED — ${standby} did not take over, ${failure(plan, res)}${tail}`;
    if (!plan.by.auto) return `${p} ⚠️ failover by hand: ${primary} stopped, ${standby} takes over${tail}`;
    return `${p} ⚠️ ${primary} OFFLINE (${plan.cause}) — ${standby} takes over${tail}`;
  }
  if (plan.kind === 'return') {
    if (!res.ok)
      return `${p} 🔴 RETURN TO ${primary} FAILED — ${standby} is ${plan.cause}, ${failure(plan, res)}${tail}`;
    return `${p} ⚠️ ${standby} ${plan.cause.toUpperCase()} while serving — back to ${primary}${tail}`;
  }
  if (res.ok) return `${p} ✅ ${primary} ONLINE — ${memory ? '' : 'memory synced, '}${standby} stopped${tail}`;
  return `${p} 🔴 FAILBACK FAILED — ${failure(plan, res)}${tail}`;
}
