// Folding what happened into the state, pure: (state, observations or plan and
// outcomes, now) -> new state, the verdict, the alerts to send. No I/O, no clock.
import type { Config, Role } from '../config/types.js';
import { EXIT } from '../errors.js';
import type { Attempts, ClusterState, Decision, Level, Observations, Plan, RunResult } from '../core/model.js';
import { awaitingConfirmation, inferServing, isConfigProblem, isReachable, label, other } from '../core/model.js';
import { KEYS, resolveEvent, type HactlEvent } from '../alerts/events.js';
import {
  bothDownEvent,
  bothDownResolved,
  escalationEvent,
  hostAccessBack,
  hostAccessEvent,
  moveEvent,
  serviceBack,
  standbyBack,
  standbyLostEvent,
} from '../alerts/messages.js';

export interface Assessment {
  level: Level;
  exitCode: number;
  line: string;
}

/** Nothing serves and the idle side cannot take over either: the seeds' "both down". */
export function bothDown(serving: Role, obs: Observations): boolean {
  const s = obs[serving].status;
  const i = obs[other(serving)].status;
  return s !== 'healthy' && !isConfigProblem(s) && !isReachable(i);
}

/** The check's verdict: what serves, what is ready, and the exit code. */
export function assess(config: Config, serving: Role, obs: Observations): Assessment {
  const idle = other(serving);
  const s = obs[serving];
  const i = obs[idle];
  const L = (r: Role) => label(config, r);
  const desc = (r: Role) => `${L(r)} ${obs[r].status}${obs[r].transient ? ' (transient, recovered on retry)' : ''}`;
  const tail = `[${desc('primary')}; ${desc('standby')}]`;
  const v = (level: Level, exitCode: number, line: string): Assessment => ({
    level,
    exitCode,
    line: `${line} ${tail}`,
  });
  if (isConfigProblem(s.status) && i.status !== 'healthy') {
    return v(
      'unknown',
      EXIT.UNKNOWN,
      `UNKNOWN: cannot tell whether ${L(serving)} serves (configuration problem: ${s.detail})`,
    );
  }
  // A host we cannot log in to cannot be judged: unknown, whatever the other side does.
  if (isConfigProblem(i.status)) {
    const other = s.status === 'healthy' ? `${L(serving)} serving` : 'nothing serving';
    return v(
      'unknown',
      EXIT.UNKNOWN,
      `UNKNOWN: cannot judge ${L(idle)} (configuration problem: ${i.detail}); ${other}`,
    );
  }
  if (s.status === 'healthy') {
    if (i.status === 'healthy') {
      return v(
        'degraded',
        EXIT.WARNING,
        `DEGRADED: two gateways running (${L(idle)} should be idle; Telegram allows one poller)`,
      );
    }
    if (serving === 'standby') {
      return v(
        'degraded',
        EXIT.WARNING,
        `DEGRADED: serving from the standby (${L('standby')} serving, ${L('primary')} ${i.status})`,
      );
    }
    if (i.status === 'gateway-down') return v('ok', EXIT.OK, `OK: ${L(serving)} serving, ${L(idle)} ready`);
    return v('degraded', EXIT.WARNING, `DEGRADED: ${L('standby')} not ready (${i.status}: ${i.detail})`);
  }
  if (i.status === 'healthy')
    return v('degraded', EXIT.WARNING, `DEGRADED: ${L(serving)} ${s.status} but ${L(idle)} serves`);
  return v('critical', EXIT.CRITICAL, 'CRITICAL: nothing serving');
}

/** Checks in a row the idle host may be unable to take over before protection counts as lost. */
export const STANDBY_LOST_CHECKS = 3;

export interface CheckFold {
  state: ClusterState;
  assessment: Assessment;
  /** What this check saw, as events: conditions that hold (open) and that no longer hold (resolve). */
  alerts: HactlEvent[];
}

/**
 * The check's events: every condition it can judge, said each time (the lifecycle opens an
 * incident once and says its end once, whether or not hactl acted).
 */
function checkEvents(
  config: Config,
  serving: Role,
  obs: Observations,
  streaks: ClusterState['streaks'],
  assessment: Assessment,
  now: Date,
): HactlEvent[] {
  const events: HactlEvent[] = [];
  const idle = other(serving);
  const both = bothDown(serving, obs);
  events.push(both ? bothDownEvent(config, obs, now) : bothDownResolved(config, assessment.line, now));
  // The primary serves: whatever opened the service incident (a failover, its failure, an
  // escalation), it is over, even if it came back by itself.
  if (serving === 'primary' && obs.primary.status === 'healthy') events.push(serviceBack(config, assessment.line, now));
  if (obs[idle].status !== 'healthy')
    events.push(resolveEvent(KEYS.twoGateways, `one gateway again: ${assessment.line}`, now));
  for (const r of ['primary', 'standby'] as const) {
    events.push(
      isConfigProblem(obs[r].status) ? hostAccessEvent(config, r, obs[r], now) : hostAccessBack(config, r, now),
    );
  }
  // Protection: the idle host must be able to take over. Both down is its own incident.
  const unready = streaks[idle].unready ?? 0;
  if (!both && !isConfigProblem(obs[idle].status)) {
    if (unready >= STANDBY_LOST_CHECKS) events.push(standbyLostEvent(config, idle, obs[idle], unready, now));
    else if (isReachable(obs[idle].status)) events.push(standbyBack(config, idle, now));
  }
  events.push(standbyBack(config, serving, now)); // roles swapped: the serving host is nobody's standby
  return events;
}

/** Folds one check's observations into the state. */
export function foldCheck(config: Config, prior: ClusterState, obs: Observations, now: Date): CheckFold {
  // After a rebuild the serving side is unknown: read it from what answers, never guessed.
  const state = awaitingConfirmation(prior) ? { ...prior, serving: inferServing(obs) } : prior;
  const streaks = { ...state.streaks };
  for (const r of ['primary', 'standby'] as const) {
    const st = obs[r].status;
    const prev = streaks[r];
    if (isConfigProblem(st)) streaks[r] = { failures: 0, healthy: 0, reachable: 0, reachableSince: null, unready: 0 };
    else {
      const reachable = isReachable(st) ? prev.reachable + 1 : 0;
      streaks[r] = {
        failures: st === 'healthy' ? 0 : obs[r].confirmed ? prev.failures + 1 : prev.failures,
        healthy: st === 'healthy' ? prev.healthy + 1 : 0,
        reachable,
        // The first check of the run (failback waits thresholds.healthyFor from it); a state from
        // before this field starts its count now, never earlier.
        reachableSince: reachable ? (reachable > 1 && prev.reachableSince) || now.toISOString() : null,
        unready: reachable ? 0 : (prev.unready ?? 0) + 1,
      };
    }
  }
  const assessment = assess(config, state.serving, obs);
  const failover = { ...state.failover };
  // The serving side is healthy again: the retry budget starts afresh.
  if (obs[state.serving].status === 'healthy') Object.assign(failover, { attempts: 0, escalatedAt: null });
  const alerts = checkEvents(config, state.serving, obs, streaks, assessment, now);
  const next: ClusterState = {
    ...state,
    streaks,
    failover,
    level: assessment.level,
    lastCheck: { at: now.toISOString(), hosts: obs },
  };
  delete next.incidents; // kept by hactl before one lifecycle: the outbox's ledger holds them now
  // A rebuild this check confirms (its serving side read, confirmed) is over: the mark goes, so that no
  // later comparison of times (a witness clock stepped back dated every check before it) holds automatic
  // actions, and status stops warning about a rebuild long past. No new field: older hactl read this state.
  if (next.rebuiltAt && obs[next.serving].confirmed) {
    delete next.rebuiltAt;
    delete next.rebuiltFrom;
  }
  return { state: next, assessment, alerts };
}

/** A decision not to act: only an escalation changes the state (once) and alerts. */
export function foldHold(
  config: Config,
  state: ClusterState,
  d: Extract<Decision, { act: false }>,
  now: Date,
): { state: ClusterState; alerts: HactlEvent[] } {
  if (!d.escalate) return { state, alerts: [] };
  const key = d.escalate.what === 'failover' ? 'failover' : 'failback';
  const prev = budgetOf(state, key);
  const alert = escalationEvent(config, d.escalate.what, prev.attempts, now);
  return { state: { ...state, [key]: { ...prev, escalatedAt: now.toISOString() } }, alerts: [alert] };
}

const NO_ATTEMPTS: Attempts = { attempts: 0, lastAttemptAt: null, escalatedAt: null, lastResult: null };
const budgetOf = (state: ClusterState, key: 'failover' | 'failback'): Attempts => state[key] ?? NO_ATTEMPTS;

export interface MoveFold {
  state: ClusterState;
  exitCode: number;
  summary: string;
  alerts: HactlEvent[];
  rolledBack: string | null;
}

/** Which attempt budget a plan spends: failback has its own, the rest share failover's. */
const budgetKey = (plan: Plan): 'failover' | 'failback' => (plan.kind === 'failback' ? 'failback' : 'failover');

/** Folds a plan's outcomes into the state: the new serving side, or one more failed attempt. */
export function foldMove(
  config: Config,
  state: ClusterState,
  plan: Plan,
  res: RunResult,
  startedAt: Date,
  now: Date,
): MoveFold {
  const name = plan.kind === 'failback' ? 'failback' : 'failover';
  const recorded = res.outcomes.some((o) => o.op === 'record' && o.ok);
  const target = plan.steps.find((s) => s.op === 'record');
  const key = budgetKey(plan);
  let next = state;
  // A restart (the same side serves again) spends no attempt and resets no budget: only its time counts,
  // for the cooldown. Failed restarts while the other host is down must not escalate the failover that
  // host's return will need; and a gateway that verifies and then dies again is restarted once per
  // cooldown, said once per incident (src/alerts/incident.ts), not reset into a budget that never ends.
  const restart = plan.kind === 'restart';
  if (restart) {
    const lastResult = (res.ok ? 'restart ok' : `restart failed: ${res.failed?.detail ?? ''}`).slice(0, 500);
    next = {
      ...state,
      failover: { ...budgetOf(state, 'failover'), lastAttemptAt: startedAt.toISOString(), lastResult },
    };
  } else if (recorded && target?.op === 'record') {
    const zero = { failures: 0, healthy: 0, reachable: 0 };
    const fresh: Attempts = {
      attempts: 0,
      lastAttemptAt: startedAt.toISOString(),
      escalatedAt: null,
      lastResult: `${plan.kind} ok`,
    };
    next = {
      ...state,
      serving: target.serving,
      servingSince: now.toISOString(),
      streaks: { primary: { ...zero }, standby: { ...zero } },
      failover: key === 'failover' ? fresh : { ...NO_ATTEMPTS },
      failback: key === 'failback' ? fresh : { ...NO_ATTEMPTS },
    };
  }
  const rolledBack = rollbackLine(config, plan, res);
  const memory = memoryNote(plan, res);
  const text = moveEvent(config, plan, res, rolledBack, memory, now);
  if (res.ok) {
    const waitMs = res.outcomes.reduce((a, s) => a + (s.waitMs ?? 0), 0);
    const totalMs = res.outcomes.reduce((a, s) => a + s.ms, 0);
    const started = res.outcomes.find((s) => s.op === 'start')?.detail ?? plan.reason;
    const took = `${(totalMs / 1000).toFixed(1)} s (${(waitMs / 1000).toFixed(1)} s of it configured waits)`;
    const tail = memory ? `; WARNING: ${memory}` : '';
    return {
      state: next,
      exitCode: EXIT.OK,
      summary: `${name}: ${plan.kind} done in ${took}: ${started}${tail}`,
      alerts: [text],
      rolledBack,
    };
  }
  if (plan.kind !== 'fence-idle' && !restart) {
    const prev = budgetOf(next, key);
    const lastResult = `failed: ${res.failed?.detail ?? ''}`.slice(0, 500);
    next = {
      ...next,
      [key]: { ...prev, attempts: prev.attempts + 1, lastAttemptAt: startedAt.toISOString(), lastResult },
    };
  }
  const summary = `${name}: FAILED at ${res.failed?.op}: ${res.failed?.detail}${rolledBack ? `; ${rolledBack}` : ''}`;
  return { state: next, exitCode: EXIT.CRITICAL, summary, alerts: [text], rolledBack };
}

/** Memory that did not make it back: known from the plan, or a sync-back that failed and was passed. */
function memoryNote(plan: Plan, res: RunResult): string | undefined {
  if (plan.memoryLoss) return plan.memoryLoss;
  const back = res.outcomes.find((o) => o.op === 'sync-back' && !o.ok);
  if (back && res.outcomes.at(-1) !== back) return `memory the standby wrote could not be synced back (${back.detail})`;
  return undefined;
}

/** What the rollback achieved, in words; null when none ran. */
function rollbackLine(config: Config, plan: Plan, res: RunResult): string | null {
  if (!res.rollback?.length) return null;
  const role = plan.rollback.find((s) => s.op === 'start')?.role ?? 'standby';
  const who = label(config, role);
  const failed = res.rollback.find((o) => !o.ok);
  if (!failed) return `${who} restarted, serving again (${res.rollback[0]!.detail})`;
  return `${who} could NOT be restarted either: ${failed.detail}; NOTHING SERVES`;
}
