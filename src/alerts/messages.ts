// The events of the failover domain, pure: what happened, how bad, where, who
// asked. Their words carry no emoji and no prefix: a channel's renderer adds them
// (render.ts).
import type { Config, Role } from '../config/types.js';
import type { Observation, Observations, Plan, RunResult } from '../core/model.js';
import { KEYS, event, resolveEvent, type HactlEvent } from './events.js';
import { cut } from './render.js';

const prefix = (c: Config) => c.alerts.prefix;

/** The plan's reason when it escalates (failover/plan.ts); the alert is escalationEvent. */
export function escalationText(c: Config, what: 'failover' | 'failback', attempts: number): string {
  const target = what === 'failover' ? c.pair.standby : c.pair.primary;
  return (
    `${prefix(c)} ESCALATION: ${attempts} ${what} attempts to ${target} failed; hactl stops retrying. ` +
    `A human is needed (then: hactl ${what}).`
  );
}

export function escalationEvent(c: Config, what: 'failover' | 'failback', attempts: number, at: Date): HactlEvent {
  const target = what === 'failover' ? c.pair.standby : c.pair.primary;
  return event(
    'escalation',
    'critical',
    'open',
    `ESCALATION: ${attempts} ${what} attempts to ${target} failed; hactl stops retrying. ` +
      `A human is needed (then: hactl ${what}).`,
    at,
    { key: KEYS.service, hosts: [c.pair.primary, c.pair.standby], facts: { what, attempts, target } },
  );
}

const hostFacts = (c: Config, obs: Observations) => ({
  [`${c.pair.primary}`]: cut(`${obs.primary.status}: ${obs.primary.detail}`, 500),
  [`${c.pair.standby}`]: cut(`${obs.standby.status}: ${obs.standby.detail}`, 500),
});

export function bothDownEvent(c: Config, obs: Observations, at: Date): HactlEvent {
  const { primary, standby } = c.pair;
  // Neither host answered SSH: from here a dead pair and a witness cut off from both look the same.
  const seen = obs.primary.status === 'gateway-down' || obs.standby.status === 'gateway-down';
  const what = seen
    ? 'nothing serves the bot'
    : 'or cut off from this witness — no gateway can be seen, none was started or stopped';
  return event(
    'both-down',
    'critical',
    'open',
    `CRITICAL: ${primary} and ${standby} both down ${what} ` +
      `(${primary}: ${obs.primary.status}: ${obs.primary.detail}; ` +
      `${standby}: ${obs.standby.status}: ${obs.standby.detail})`,
    at,
    { key: KEYS.bothDown, hosts: [primary, standby], facts: hostFacts(c, obs) },
  );
}

export function bothDownResolved(c: Config, line: string, at: Date): HactlEvent {
  return resolveEvent(KEYS.bothDown, `no longer both down: ${line}`, at, [c.pair.primary, c.pair.standby]);
}

/** The idle host cannot take over (N checks in a row): failover protection is gone. */
export function standbyLostEvent(c: Config, idle: Role, o: Observation, checks: number, at: Date): HactlEvent {
  const host = c.pair[idle];
  return event(
    'standby-lost',
    'high',
    'open',
    `PROTECTION LOST: ${host} (the ${idle}, idle) is not ready to take over for ${checks} checks ` +
      `(${o.status}: ${o.detail}); if the serving side fails now, nothing can fail over`,
    at,
    { key: KEYS.standbyLost(host), hosts: [host], facts: { role: idle, status: o.status, checks } },
  );
}

export function standbyBack(c: Config, idle: Role, at: Date): HactlEvent {
  const host = c.pair[idle];
  return resolveEvent(KEYS.standbyLost(host), `${host} is ready to take over again: protection restored`, at, [host]);
}

/** hactl cannot log in to a host (authentication or host key): it cannot judge it, nor fail over to it. */
export function hostAccessEvent(c: Config, role: Role, o: Observation, at: Date): HactlEvent {
  const host = c.pair[role];
  const what = o.status === 'hostkey-failure' ? 'its host key does not match' : 'authentication fails';
  return event(
    'host-access',
    'critical',
    'open',
    `CANNOT JUDGE ${host} (the ${role}): ${what} (${o.detail}); hactl can neither check it nor fail over ` +
      'to or from it until this is fixed',
    at,
    { key: KEYS.hostAccess(host), hosts: [host], facts: { role, status: o.status } },
  );
}

export function hostAccessBack(c: Config, role: Role, at: Date): HactlEvent {
  const host = c.pair[role];
  return resolveEvent(KEYS.hostAccess(host), `hactl can log in to ${host} again`, at, [host]);
}

/** The serving side serves again, on the primary: the service incident (whatever hactl did) is over. */
export function serviceBack(c: Config, line: string, at: Date): HactlEvent {
  return resolveEvent(KEYS.service, `${c.pair.primary} serves again: ${line}`, at, [c.pair.primary]);
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

/** The event after a plan ran: what happened, who asked, what was rolled back, what memory was lost. */
export function moveEvent(
  c: Config,
  plan: Plan,
  res: RunResult,
  rolledBack: string | null,
  memory: string | undefined,
  at: Date,
): HactlEvent {
  const { primary, standby } = c.pair;
  const tail = `${rolledBack ? ` — ${rolledBack}` : ''}${memory ? ` — WARNING: ${memory}` : ''}`;
  const more = {
    key: KEYS.service,
    hosts: [primary, standby],
    by: askedBy(plan),
    facts: {
      plan: plan.kind,
      ok: res.ok,
      ...(res.failed ? { failedAt: res.failed.op } : {}),
      ...(rolledBack ? { rolledBack } : {}),
    },
  };
  const ev = (kind: HactlEvent['kind'], severity: HactlEvent['severity'], phase: HactlEvent['phase'], m: string) =>
    event(kind, severity, phase, m + tail, at, more);
  if (plan.kind === 'fence-idle') {
    return res.ok
      ? event('fence-done', 'medium', 'notice', plan.reason, at, { ...more, key: undefined })
      : event(
          'fence-failed',
          'critical',
          'open',
          `TWO GATEWAYS: ${plan.reason} FAILED ${failure(plan, res)}${tail}`,
          at,
          {
            ...more,
            key: KEYS.twoGateways,
          },
        );
  }
  if (plan.kind === 'failover') {
    if (!res.ok)
      return ev(
        'failover-failed',
        'critical',
        'open',
        `FAILOVER FAILED — ${standby} did not take over, ${failure(plan, res)}`,
      );
    if (!plan.by.auto)
      return ev('failover-by-hand', 'high', 'open', `failover by hand: ${primary} stopped, ${standby} takes over`);
    return ev('failover-done', 'high', 'open', `${primary} OFFLINE (${plan.cause}) — ${standby} takes over`);
  }
  if (plan.kind === 'return') {
    if (!res.ok)
      return ev(
        'return-failed',
        'critical',
        'open',
        `RETURN TO ${primary} FAILED — ${standby} is ${plan.cause}, ${failure(plan, res)}`,
      );
    return ev(
      'return-done',
      'high',
      'open',
      `${standby} ${plan.cause.toUpperCase()} while serving — back to ${primary}`,
    );
  }
  if (plan.kind === 'restart') {
    const where = plan.steps.find((x) => x.op === 'record');
    const host = where?.op === 'record' ? c.pair[where.serving] : primary;
    if (!res.ok) return ev('restart-failed', 'critical', 'open', `RESTART OF ${host} FAILED — ${failure(plan, res)}`);
    return ev(
      'restart-done',
      'high',
      'open',
      `${host} ${plan.cause.toUpperCase()} with no host to take over — restarted`,
    );
  }
  if (res.ok)
    return ev(
      'failback-done',
      'low',
      'resolve',
      `${primary} ONLINE — ${memory ? '' : 'memory synced, '}${standby} stopped`,
    );
  return ev('failback-failed', 'critical', 'open', `FAILBACK FAILED — ${failure(plan, res)}`);
}
