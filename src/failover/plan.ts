// The failover decisions, pure: (config, state, observations, now) -> a plan of
// named steps, each with its reason and what its failure leads to. No I/O, no
// clock, no adapter: tested as tables in test/unit/decide.test.ts, described in
// words in docs/decisions.md.
import type { Config, Role } from '../config/types.js';
import { EXIT } from '../errors.js';
import type { Attempts, ClusterState, Decision, Observation, Requester, Step } from '../core/model.js';
import { adoptPlan, failbackPlan, failoverPlan, restartPlan, returnPlan } from './moves.js';
import { awaitingConfirmation, isConfigProblem, isReachable, label, other } from '../core/model.js';
import { escalationText } from '../alerts/messages.js';
import { pauseVerdict, type PauseRecord } from '../operator/pause.js';
import { grantFrom, permitWait as permitEnd, startAllowed, type Stamp } from '../fencing/rule.js';

const age = (now: Date, iso: string | null): number =>
  iso ? (now.getTime() - new Date(iso).getTime()) / 1000 : Infinity;

function fenceIdle(config: Config, idle: Role, req: Requester): Decision {
  const reason = `${label(config, idle)} runs a gateway while ${other(idle)} serves: stopping it`;
  const steps: Step[] = [
    { op: 'fence', role: idle, unreachable: 'stopped', onFail: 'abort', reason: 'second gateway' },
  ];
  return {
    act: true,
    plan: {
      kind: 'fence-idle',
      reason: `${reason} (one poller per bot token)`,
      steps,
      rollback: [],
      cause: 'healthy',
      by: req,
    },
  };
}

const wait = (reason: string, exitCode: number = EXIT.OK): Decision => ({ act: false, exitCode, reason });

/**
 * An operator's pause (hactl pause) holds every automatic action; by hand still acts. Exit 1:
 * protection is off for a while, which a monitor of the exit codes should see.
 */
function pausedAuto(pause: PauseRecord | undefined, now: Date): Decision | undefined {
  const v = pauseVerdict(pause, now);
  return v.paused ? wait(v.line, EXIT.WARNING) : undefined;
}

/**
 * A rebuilt state (state.json was corrupt) holds every automatic action until a check made
 * after the rebuild confirmed what the serving side does. Exit 1: protection is reduced.
 */
function rebuiltHold(state: ClusterState): Decision | undefined {
  if (!awaitingConfirmation(state)) return undefined;
  return wait(
    `state rebuilt at ${state.rebuiltAt} (the corrupt file was set aside as ${state.rebuiltFrom}): ` +
      'no automatic action until hactl check confirms which side serves',
    EXIT.WARNING,
  );
}

/** The state is fresh enough to act on, or the reason it is not. */
function staleness(config: Config, state: ClusterState, now: Date, hint: string): Decision | undefined {
  const check = state.lastCheck;
  if (!check) return wait(`no check recorded yet${hint}`);
  const a = age(now, check.at);
  const max = config.thresholds.stateMaxAge;
  if (a <= max) return undefined;
  const more = hint ? '; is hactl check running?' : '';
  return wait(`last check is ${Math.round(a)} s old (max ${max} s): not acting on stale state${more}`, EXIT.UNKNOWN);
}

/** Escalated, at the attempt cap, or in cooldown: the decision that holds back; else undefined. */
function retryBudget(
  config: Config,
  a: Attempts | undefined,
  now: Date,
  what: 'failover' | 'failback',
): Decision | undefined {
  const t = config.thresholds;
  if (!a) return undefined;
  if (a.escalatedAt) {
    return wait(
      `gave up after ${a.attempts} failed attempts (escalated ${a.escalatedAt}): a human must act; ` +
        `run hactl ${what} by hand to try again`,
      EXIT.CRITICAL,
    );
  }
  if (a.attempts >= t.maxAttempts) {
    const reason = `${a.attempts} ${what} attempts failed (max ${t.maxAttempts}): escalating instead of retrying`;
    return {
      act: false,
      exitCode: EXIT.CRITICAL,
      reason,
      escalate: { what, alert: escalationText(config, what, a.attempts) },
    };
  }
  const since = age(now, a.lastAttemptAt);
  // An attempt "in the future" by this clock: it stepped back past the attempt, whose age is unknown. The
  // cooldown spares the hosts a storm of retries; it never decides safety (the permits do): over. Waited
  // out, a step back of 12 minutes held every failover for 12 minutes (test/unit/fencing-liveness).
  if (since >= t.cooldown || since < 0) return undefined;
  const budget = `cooldown ${t.cooldown} s, attempt ${a.attempts}/${t.maxAttempts}`;
  return wait(`cooldown: last attempt ${Math.round(since)} s ago (${budget})`);
}

// --- partitions (issue 16, docs/partitions.md) ---
/** The witness cannot reach the serving host, but the idle host sees its gateway serving: a cut, not a death. */
function secondView(config: Config, serving: Role, s: Observation): Decision | undefined {
  if (isReachable(s.status) || !s.seenBy?.serving) return undefined;
  return wait(
    `the witness cannot reach ${label(config, serving)} (${s.status}), but the ${label(config, s.seenBy.role)} ` +
      `sees its gateway serving (${s.seenBy.detail}): not failing over`,
    EXIT.WARNING,
  );
}

/**
 * With guards (config.guard), the other side starts only when fencing confirmed the serving side
 * stopped (the fence step does, over SSH, when the host answers) or when the latest permit granted
 * to it expired by this witness's monotonic clock (its guard fenced before that end)
 * (src/fencing/rule.ts startAllowed). A grant this witness cannot date was dated at first sight
 * (dateGrants, before this decision): the full wait, never none.
 */
function permitWait(
  config: Config,
  state: ClusterState,
  serving: Role,
  s: Observation,
  here: Stamp | undefined,
): Decision | undefined {
  if (!config.guard || isReachable(s.status)) return undefined;
  const S = label(config, serving);
  if (!here) return wait(`${S} unreachable: this witness cannot date its permit (no monotonic stamp): waiting`);
  const g = state.permits?.[serving];
  const v = startAllowed(g, here, false);
  if (v.ok) return undefined;
  // The serving side is confirmed unreachable and its permit can be dated: act now, and let the
  // run sleep out the rest of the permit (src/failover/permits.ts unconfirmed: it waits, then asks
  // the rule again), so that the standby starts as the permit ends, not at the first probe after.
  if (g && grantFrom(g, here) !== null && v.left <= permitEnd(g.lease)) return undefined;
  return wait(`${S} unreachable: waiting for its serving permit to run out and its guard to fence it: ${v.why}`);
}
// --- end partitions ---

/**
 * failover: by hand, move to the standby now. With --auto, act on fresh confirmed state only,
 * outside cooldown and under max attempts: move away from a serving side that is down
 * (primary -> standby, or back from a dead standby to the primary), or fence a second gateway.
 */
export function decideFailover(
  config: Config,
  state: ClusterState,
  req: Requester,
  now: Date,
  pause?: PauseRecord,
  here?: Stamp,
): Decision {
  if (!req.auto) {
    if (state.serving === 'standby')
      return wait(`already serving from the ${label(config, 'standby')} (since ${state.servingSince})`);
    return { act: true, plan: failoverPlan(config, state, req, 'by hand', `failover by hand (${req.who})`) };
  }
  const paused = pausedAuto(pause, now) ?? rebuiltHold(state);
  if (paused) return paused;
  const stale = staleness(config, state, now, ': run hactl check first');
  if (stale || !state.lastCheck) return stale!;
  const serving = state.serving;
  const idle = other(serving);
  const s = state.lastCheck.hosts[serving];
  const i = state.lastCheck.hosts[idle];
  const S = label(config, serving);
  const I = label(config, idle);
  if (s.status === 'healthy') {
    if (i.status === 'healthy') return fenceIdle(config, idle, req);
    return wait(
      serving === 'primary'
        ? `${S} healthy: nothing to do`
        : `serving from the ${S}; failback decides when to hand back`,
    );
  }
  if (isConfigProblem(s.status)) {
    return wait(
      `${S} is ${s.status}: a configuration problem is never a reason to fail over (${s.detail})`,
      EXIT.UNKNOWN,
    );
  }
  const failures = state.streaks[serving].failures;
  const need = config.thresholds.failuresBeforeFailover;
  if (!s.confirmed || failures < need)
    return wait(`${S} ${s.status}, not confirmed yet (${failures}/${need} confirmed checks)`);
  if (isConfigProblem(i.status)) {
    return wait(`${I} is ${i.status}: hactl can neither judge nor start it (${i.detail})`, EXIT.UNKNOWN);
  }
  if (!isReachable(i.status) && s.status === 'gateway-down' && config.guard) {
    // Only the gateway is down where it serves, and nothing could start elsewhere: start it again there,
    // once the idle side's permit is over (acted on at once when the run can sleep out the rest). Only
    // with a guard: without permits nothing says the side that does not answer is not serving (an
    // unfinished move's launch there, cut from this witness), and a restart would make two pollers.
    const idleWait = permitWait(config, state, idle, i, here);
    if (idleWait) return idleWait;
    const budget = retryBudget(config, state.failover, now, 'failover');
    if (budget) return budget;
    const why = `for ${failures} confirmed check(s) while ${I} is ${i.status}: starting it again`;
    return { act: true, plan: restartPlan(config, serving, req, s, why) };
  }
  if (!isReachable(i.status)) {
    return wait(
      `${idle} ${config.pair[idle]} is ${i.status} too: not failing over (nothing could start there; ` +
        'if both look down, the witness itself may be cut off)',
      EXIT.CRITICAL,
    );
  }
  // The idle side serves already. Under a live permit, which the last check extended there (an earlier move
  // this witness has no record of: observe.ts Prober.permit), adopting it starts nothing and waits on no
  // permit (moves.ts adoptPlan). Without one (a gateway started by hand), the serving side may still serve
  // under its own: the adoption waits for it, as a failover would.
  const adopt = i.status === 'healthy';
  const holds = adopt && !!i.permit && !i.permit.error;
  const partition = secondView(config, serving, s) ?? (holds ? undefined : permitWait(config, state, serving, s, here));
  if (partition) return partition;
  const budget = retryBudget(config, state.failover, now, 'failover');
  if (budget) return budget;
  if (adopt) return { act: true, plan: adoptPlan(config, serving, req, s, holds) };
  if (serving === 'standby') return { act: true, plan: returnPlan(config, state, req, s) };
  return {
    act: true,
    plan: failoverPlan(
      config,
      state,
      req,
      s.status,
      `${S} ${s.status} for ${failures} confirmed check(s): ${s.detail}`,
    ),
  };
}

/**
 * failback: by hand, act now; with --auto, only under the auto policy once the primary has
 * been back long enough, outside cooldown and under max attempts (its own budget).
 */
export function decideFailback(
  config: Config,
  state: ClusterState,
  req: Requester,
  now: Date,
  pause?: PauseRecord,
): Decision {
  const t = config.thresholds;
  const P = label(config, 'primary');
  const rebuilt = req.auto ? rebuiltHold(state) : undefined;
  if (rebuilt) return rebuilt;
  if (state.serving === 'primary') {
    // Words only: "already serves" when the last check saw its gateway healthy; otherwise nothing serves.
    const o = state.lastCheck?.hosts.primary;
    const seen = !o || o.status === 'healthy';
    return wait(
      seen
        ? `${P} already serves`
        : `${P} is recorded as serving but its gateway was ${o.status} at the last check (${o.detail}): ` +
            'failback moves service from the standby, and it does not serve; see hactl check and hactl failover',
    );
  }
  if (!req.auto) return { act: true, plan: failbackPlan(config, req, `failback by hand (${req.who})`) };
  const paused = pausedAuto(pause, now);
  if (paused) return paused;
  if (config.failback.policy === 'manual')
    return wait('failback policy is manual: run hactl failback by hand when ready');
  const stale = staleness(config, state, now, '');
  if (stale) return stale;
  const back = state.streaks.primary.reachable;
  if (back < t.successesBeforeFailback)
    return wait(`${P} reachable, gateway idle, for ${back}/${t.successesBeforeFailback} checks (ready to take back)`);
  // Back for a duration, not only a count: checks run by hand seconds apart must not hurry it.
  const since = state.streaks.primary.reachableSince;
  const forS = since ? age(now, since) : 0;
  if (forS < t.healthyFor) {
    const from = since ? ` (since ${since})` : '';
    return wait(
      `${P} reachable, gateway idle, for ${Math.floor(forS)} s of ${t.healthyFor} s (thresholds.healthyFor)${from}`,
    );
  }
  return (
    retryBudget(config, state.failback, now, 'failback') ?? {
      act: true,
      plan: failbackPlan(config, req, `${P} reachable, gateway idle, for ${back} checks over ${Math.round(forS)} s`),
    }
  );
}
