// The decision core: (config, state, observations, now) -> new state / plan.
// Pure functions, no I/O: tested case by case in test/unit/decide.test.ts.
import type { Config, Role } from '../config/types.js';
import { EXIT } from '../errors.js';
import { describePgStep } from '../postgres/plan.js';
import { isConfigProblem, isReachable, label, other, type ClusterState, type Decision, type Level, type Observations, type Step } from './model.js';

const names = (c: Config) => ({ primary: c.pair.primary, standby: c.pair.standby });

/** Nothing serves and the idle side cannot take over either: the seeds' "both down". */
export function bothDown(serving: Role, obs: Observations): boolean {
  const s = obs[serving].status;
  const i = obs[other(serving)].status;
  return s !== 'healthy' && !isConfigProblem(s) && !isReachable(i);
}

/** Whether a failed first probe should be retried before it is believed. */
export function needsRetry(status: string): boolean {
  return status !== 'healthy' && !isConfigProblem(status as never);
}

export interface Assessment {
  level: Level;
  exitCode: number;
  line: string;
}

/** The check's verdict: what serves, what is ready, and the exit code. */
export function assess(config: Config, serving: Role, obs: Observations): Assessment {
  const idle = other(serving);
  const s = obs[serving];
  const i = obs[idle];
  const L = (r: Role) => label(config, r);
  const desc = (r: Role) => `${L(r)} ${obs[r].status}${obs[r].transient ? ' (transient, recovered on retry)' : ''}`;
  const tail = `[${desc('primary')}; ${desc('standby')}]`;
  if (isConfigProblem(s.status) && i.status !== 'healthy') {
    return { level: 'unknown', exitCode: EXIT.UNKNOWN, line: `UNKNOWN: cannot tell whether ${L(serving)} serves (configuration problem: ${s.detail}) ${tail}` };
  }
  if (s.status === 'healthy') {
    if (i.status === 'healthy') return { level: 'degraded', exitCode: EXIT.WARNING, line: `DEGRADED: two gateways running (${L(idle)} should be idle; Telegram allows one poller) ${tail}` };
    if (serving === 'standby') return { level: 'degraded', exitCode: EXIT.WARNING, line: `DEGRADED: serving from the standby (${L('standby')} serving, ${L('primary')} ${i.status}) ${tail}` };
    if (i.status === 'gateway-down') return { level: 'ok', exitCode: EXIT.OK, line: `OK: ${L(serving)} serving, ${L(idle)} ready ${tail}` };

    return { level: 'degraded', exitCode: EXIT.WARNING, line: `DEGRADED: ${label(config, 'standby')} not ready (${i.status}: ${i.detail}) ${tail}` };
  }
  if (i.status === 'healthy') {
    return { level: 'degraded', exitCode: EXIT.WARNING, line: `DEGRADED: ${L(serving)} ${s.status} but ${L(idle)} serves ${tail}` };
  }
  return { level: 'critical', exitCode: EXIT.CRITICAL, line: `CRITICAL: nothing serving ${tail}` };
}

/** Folds one check's observations into the state. */
export function applyCheck(config: Config, state: ClusterState, obs: Observations, now: Date): { state: ClusterState; assessment: Assessment; alert?: string } {
  const streaks = { ...state.streaks };
  for (const r of ['primary', 'standby'] as const) {
    const st = obs[r].status;
    const prev = streaks[r];
    if (isConfigProblem(st)) streaks[r] = { failures: 0, healthy: 0, reachable: 0 };
    else
      streaks[r] = {
        failures: st === 'healthy' ? 0 : obs[r].confirmed ? prev.failures + 1 : prev.failures,
        healthy: st === 'healthy' ? prev.healthy + 1 : 0,
        reachable: isReachable(st) ? prev.reachable + 1 : 0,
      };
  }
  const assessment = assess(config, state.serving, obs);
  const failover = { ...state.failover };
  // The serving side is healthy again: the retry budget starts afresh.
  if (obs[state.serving].status === 'healthy') Object.assign(failover, { attempts: 0, escalatedAt: null });
  let alert: string | undefined;
  const p = config.alerts.prefix;
  // The check alerts only when no failover can help (both down) and when that ends;
  // a failover or failback sends its own alerts.
  const wasBothDown = !!state.lastCheck && bothDown(state.serving, state.lastCheck.hosts);
  const isBothDown = bothDown(state.serving, obs);
  if (isBothDown && !wasBothDown) alert = `${p} 🔴 CRITICAL: ${config.pair.primary} and ${config.pair.standby} both down — nothing serves the bot (${config.pair.primary}: ${obs.primary.status}: ${obs.primary.detail}; ${config.pair.standby}: ${obs.standby.status}: ${obs.standby.detail})`;
  else if (wasBothDown && !isBothDown) alert = `${p} ✅ no longer both down: ${assessment.line}`;
  return { state: { ...state, streaks, failover, level: assessment.level, lastCheck: { at: now.toISOString(), hosts: obs } }, assessment, alert };
}

function age(now: Date, iso: string | null): number {
  return iso ? (now.getTime() - new Date(iso).getTime()) / 1000 : Infinity;
}

function moveSteps(config: Config, from: Role, to: Role, kind: 'failover' | 'failback', fenceWhy: string, lastChance: boolean): Step[] {
  const t = config.thresholds;
  const steps: Step[] = [];
  if (kind === 'failback') steps.push({ op: 'sync-back', from, to });
  if (kind === 'failback' && config.postgres) steps.push({ op: 'postgres', action: 'sync-back' });
  if (kind === 'failover' && lastChance) steps.push({ op: 'sync-last-chance', from, to });
  steps.push(kind === 'failover' ? { op: 'fence', role: from, why: fenceWhy } : { op: 'stop', role: from });
  if (config.postgres) steps.push({ op: 'postgres', action: kind === 'failover' ? 'pause' : 'resume' });
  steps.push({ op: 'settle', seconds: t.settle });
  steps.push({ op: 'start', role: to, methods: config.hosts[config.pair[to]]!.gateway.start.map((m) => m.name) });
  steps.push({ op: 'verify', role: to, deadline: t.verifyDeadline });
  steps.push({ op: 'record', serving: to });
  return steps;
}

export interface FailoverInput {
  auto: boolean;
  now: Date;
}

/** failover: by hand, act now; with --auto, only on fresh confirmed state, outside cooldown, under max attempts. */
export function decideFailover(config: Config, state: ClusterState, { auto, now }: FailoverInput): Decision {
  const t = config.thresholds;
  const n = names(config);
  const check = state.lastCheck;
  const lastChance = !!check && check.hosts.primary.status === 'gateway-down';
  if (!auto) {
    if (state.serving === 'standby') return { act: false, exitCode: EXIT.OK, reason: `already serving from the ${label(config, 'standby')} (since ${state.servingSince})` };
    return { act: true, kind: 'failover', reason: 'by hand', steps: moveSteps(config, 'primary', 'standby', 'failover', 'failover by hand', lastChance) };
  }
  if (!check) return { act: false, exitCode: EXIT.OK, reason: 'no check recorded yet: run hactl check first' };
  const a = age(now, check.at);
  if (a > t.stateMaxAge) return { act: false, exitCode: EXIT.UNKNOWN, reason: `last check is ${Math.round(a)} s old (max ${t.stateMaxAge} s): not acting on stale state; is hactl check running?` };
  const serving = state.serving;
  const idle = other(serving);
  const s = check.hosts[serving];
  const i = check.hosts[idle];
  if (serving === 'standby') {
    if (s.status === 'healthy' && i.status === 'healthy') return fenceIdle(config, idle);
    return { act: false, exitCode: EXIT.OK, reason: `serving from the ${label(config, 'standby')}; failback decides when to hand back` };
  }
  if (isConfigProblem(s.status)) return { act: false, exitCode: EXIT.UNKNOWN, reason: `${label(config, 'primary')} is ${s.status}: a configuration problem is never a reason to fail over (${s.detail})` };
  if (s.status === 'healthy') {
    if (i.status === 'healthy') return fenceIdle(config, idle);
    return { act: false, exitCode: EXIT.OK, reason: `${label(config, 'primary')} healthy: nothing to do` };
  }
  if (!s.confirmed || state.streaks.primary.failures < t.failuresBeforeFailover) {
    return { act: false, exitCode: EXIT.OK, reason: `${label(config, 'primary')} ${s.status}, not confirmed yet (${state.streaks.primary.failures}/${t.failuresBeforeFailover} confirmed checks)` };
  }
  if (!isReachable(i.status)) {
    return { act: false, exitCode: EXIT.CRITICAL, reason: `standby ${config.pair.standby} is ${i.status} too: not failing over (nothing could start there; if both look down, the witness itself may be cut off)` };
  }
  if (state.failover.escalatedAt) return { act: false, exitCode: EXIT.CRITICAL, reason: `gave up after ${state.failover.attempts} failed attempts (escalated ${state.failover.escalatedAt}): a human must act; run hactl failover by hand to try again` };
  if (state.failover.attempts >= t.maxAttempts) {
    return {
      act: false,
      exitCode: EXIT.CRITICAL,
      escalate: true,
      reason: `${state.failover.attempts} failover attempts failed (max ${t.maxAttempts}): escalating instead of retrying`,
      alert: `${config.alerts.prefix} 🆘 ESCALATION: ${state.failover.attempts} failover attempts to ${n.standby} failed; hactl stops retrying. A human is needed (then: hactl failover).`,
    };
  }
  const since = age(now, state.failover.lastAttemptAt);
  if (since < t.cooldown) return { act: false, exitCode: EXIT.OK, reason: `cooldown: last attempt ${Math.round(since)} s ago (cooldown ${t.cooldown} s, attempt ${state.failover.attempts}/${t.maxAttempts})` };
  return { act: true, kind: 'failover', reason: `${label(config, 'primary')} ${s.status} for ${state.streaks.primary.failures} confirmed check(s): ${s.detail}`, steps: moveSteps(config, 'primary', 'standby', 'failover', s.status, lastChance) };
}

function fenceIdle(config: Config, idle: Role): Decision {
  return {
    act: true,
    kind: 'fence-idle',
    reason: `${label(config, idle)} runs a gateway while ${other(idle)} serves: stopping it (one poller per bot token)`,
    steps: [{ op: 'fence', role: idle, why: 'second gateway' }],
  };
}

/** failback: by hand, act now; with --auto, only under the auto policy once the primary has been back long enough. */
export function decideFailback(config: Config, state: ClusterState, { auto, now }: FailoverInput): Decision {
  const t = config.thresholds;
  if (state.serving === 'primary') return { act: false, exitCode: EXIT.OK, reason: `${label(config, 'primary')} already serves` };
  const steps = moveSteps(config, 'standby', 'primary', 'failback', '', false);
  if (!auto) return { act: true, kind: 'failback', reason: 'by hand', steps };
  if (config.failback.policy === 'manual') return { act: false, exitCode: EXIT.OK, reason: `failback policy is manual: run hactl failback by hand when ready` };
  const check = state.lastCheck;
  if (!check) return { act: false, exitCode: EXIT.OK, reason: 'no check recorded yet' };
  const a = age(now, check.at);
  if (a > t.stateMaxAge) return { act: false, exitCode: EXIT.UNKNOWN, reason: `last check is ${Math.round(a)} s old (max ${t.stateMaxAge} s): not acting on stale state` };
  const back = state.streaks.primary.reachable;
  if (back < t.successesBeforeFailback) return { act: false, exitCode: EXIT.OK, reason: `${label(config, 'primary')} back for ${back}/${t.successesBeforeFailback} checks` };
  return { act: true, kind: 'failback', reason: `${label(config, 'primary')} back for ${back} checks`, steps };
}

/** The line a --dry-run prints for each step. */
export function describeStep(config: Config, s: Step): string {
  const h = (r: Role) => label(config, r);
  switch (s.op) {
    case 'fence': return `fence ${h(s.role)}: stop its gateway if the host answers (${s.why})`;
    case 'sync-last-chance': return `last-chance memory sync ${h(s.from)} -> ${h(s.to)} (the host answers, only its gateway is down)`;
    case 'sync-back': return `sync back memory the standby wrote: ${h(s.from)} -> ${h(s.to)} (--update; conflicts kept)`;
    case 'stop': return `stop the gateway on ${h(s.role)} and wait until it no longer answers`;
    case 'settle': return `wait ${s.seconds} s (Telegram allows one poller per bot token)`;
    case 'start': return `start the gateway on ${h(s.role)}: try ${s.methods.join(', then ')}; a method counts once it reports started and ready (within ${config.thresholds.verifyDeadline} s)`;
    case 'verify': return `verify ${h(s.role)} passes the health probe`;
    case 'record': return `record ${h(s.serving)} as serving`;
    case 'alert': return `alert: ${s.text}`;
    case 'postgres': return describePgStep(s.action);
  }
}
