// The failover decisions, pure: (config, state, observations, now) -> a plan of
// named steps, each with its reason and what its failure leads to. No I/O, no
// clock, no adapter: tested as tables in test/unit/decide.test.ts, described in
// words in docs/decisions.md.
import type { Config, Role } from '../config/types.js';
import { EXIT } from '../errors.js';
import type { ClusterState, Decision, HostStatus, Observation, Plan, Requester, Step } from '../core/model.js';
import { isConfigProblem, isReachable, label, other } from '../core/model.js';
import { escalationText } from '../alerts/messages.js';

/**
 * Whether a first failed probe is retried before it is believed. Health and
 * configuration problems are believed at once; so is an idle side's gateway being
 * down (that is how an idle standby looks).
 */
export function shouldRetry(role: Role, serving: Role, first: Observation): boolean {
  if (first.status === 'healthy' || isConfigProblem(first.status)) return false;
  return !(role !== serving && first.status === 'gateway-down');
}

/** What the confirming retry makes of two probes. */
export function confirmObservation(first: Observation, second: Observation): Observation {
  if (second.status === 'healthy') {
    return { ...second, transient: true, detail: `${second.detail} (first probe: ${first.status}: ${first.detail})` };
  }
  return { ...second, confirmed: true };
}

const age = (now: Date, iso: string | null): number =>
  iso ? (now.getTime() - new Date(iso).getTime()) / 1000 : Infinity;

const methodsOf = (config: Config, role: Role): string[] =>
  config.hosts[config.pair[role]]!.gateway.start.map((m) => m.name);

/** The steps that move the gateway from one side to the other. */
function moveSteps(
  config: Config,
  from: Role,
  to: Role,
  kind: 'failover' | 'failback',
  cause: string,
  lastChance: boolean,
): Plan {
  const t = config.thresholds;
  const steps: Step[] = [];
  const L = (r: Role) => label(config, r);
  if (kind === 'failback') {
    steps.push({
      op: 'sync-back',
      from,
      to,
      unreachable: 'fail',
      onFail: 'abort',
      reason: `what ${L(from)} wrote while serving goes back first; a failure leaves it serving`,
    });
    steps.push({
      op: 'stop',
      role: from,
      unreachable: 'fail',
      wedged: 'fail',
      onFail: 'abort',
      reason: `one poller per bot token: ${L(from)} stops before ${L(to)} starts`,
    });
  } else {
    if (lastChance) {
      steps.push({
        op: 'sync-last-chance',
        from,
        to,
        onFail: 'continue',
        reason: `${L(from)}'s host answers, only its gateway is down: copy its memory once more`,
      });
    }
    steps.push({
      op: 'fence',
      role: from,
      unreachable: 'stopped',
      wedged: 'pass',
      onFail: 'abort',
      reason: `${cause}: stop ${L(from)}'s gateway if the host answers (a dead host serves nothing)`,
    });
  }
  const onStartFail = kind === 'failback' ? 'rollback' : 'abort';
  steps.push({ op: 'settle', seconds: t.settle, onFail: 'abort', reason: 'Telegram allows one poller per bot token' });
  steps.push({
    op: 'start',
    role: to,
    methods: methodsOf(config, to),
    missed: 'next',
    onFail: onStartFail,
    reason: `the first start method that reports started and ready within ${t.verifyDeadline} s wins`,
  });
  steps.push({
    op: 'verify',
    role: to,
    onFail: onStartFail,
    reason: 'an independent health probe right before recording',
  });
  steps.push({ op: 'record', serving: to, onFail: 'abort', reason: `${L(to)} serves from now on` });
  const rollback: Step[] =
    kind === 'failback'
      ? [
          {
            op: 'start',
            role: from,
            methods: methodsOf(config, from),
            missed: 'next',
            onFail: 'abort',
            reason: `${L(to)} did not come up: ${L(from)} serves again so the bot keeps an answer`,
          },
        ]
      : [];
  return { kind, reason: cause, steps, rollback };
}

function fenceIdle(config: Config, idle: Role): Decision {
  const reason = `${label(config, idle)} runs a gateway while ${other(idle)} serves: stopping it`;
  const why = `${reason} (one poller per bot token)`;
  const steps: Step[] = [
    { op: 'fence', role: idle, unreachable: 'stopped', wedged: 'fail', onFail: 'abort', reason: 'second gateway' },
  ];
  return { act: true, plan: { kind: 'fence-idle', reason: why, steps, rollback: [] } };
}

const wait = (reason: string, exitCode: number = EXIT.OK): Decision => ({ act: false, exitCode, reason });

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

/** failover: by hand, act now; with --auto, only on fresh confirmed state, outside cooldown, under max attempts. */
export function decideFailover(config: Config, state: ClusterState, req: Requester, now: Date): Decision {
  const t = config.thresholds;
  const check = state.lastCheck;
  const lastChance = !!check && check.hosts.primary.status === 'gateway-down';
  if (!req.auto) {
    if (state.serving === 'standby')
      return wait(`already serving from the ${label(config, 'standby')} (since ${state.servingSince})`);
    return {
      act: true,
      plan: {
        ...moveSteps(config, 'primary', 'standby', 'failover', 'failover by hand', lastChance),
        cause: 'by hand',
      },
    };
  }
  const stale = staleness(config, state, now, ': run hactl check first');
  if (stale || !check) return stale!;
  const serving = state.serving;
  const idle = other(serving);
  const s = check.hosts[serving];
  const i = check.hosts[idle];
  if (serving === 'standby') {
    if (s.status === 'healthy' && i.status === 'healthy') return fenceIdle(config, idle);
    return wait(`serving from the ${label(config, 'standby')}; failback decides when to hand back`);
  }
  const P = label(config, 'primary');
  if (isConfigProblem(s.status))
    return wait(
      `${P} is ${s.status}: a configuration problem is never a reason to fail over (${s.detail})`,
      EXIT.UNKNOWN,
    );
  if (s.status === 'healthy')
    return i.status === 'healthy' ? fenceIdle(config, idle) : wait(`${P} healthy: nothing to do`);
  const failures = state.streaks.primary.failures;
  if (!s.confirmed || failures < t.failuresBeforeFailover) {
    return wait(`${P} ${s.status}, not confirmed yet (${failures}/${t.failuresBeforeFailover} confirmed checks)`);
  }
  if (!isReachable(i.status)) {
    return wait(
      `standby ${config.pair.standby} is ${i.status} too: not failing over (nothing could start there; ` +
        'if both look down, the witness itself may be cut off)',
      EXIT.CRITICAL,
    );
  }
  const budget = retryBudget(config, state.failover, now, 'failover');
  if (budget) return budget;
  const plan = moveSteps(
    config,
    'primary',
    'standby',
    'failover',
    `${P} ${s.status} for ${failures} confirmed check(s): ${s.detail}`,
    lastChance,
  );
  return { act: true, plan: { ...plan, cause: s.status as HostStatus } };
}

/** Escalated, at the attempt cap, or in cooldown: the decision that holds back; else undefined. */
function retryBudget(
  config: Config,
  a: ClusterState['failover'],
  now: Date,
  what: 'failover' | 'failback',
): Decision | undefined {
  const t = config.thresholds;
  if (a.escalatedAt) {
    return wait(
      `gave up after ${a.attempts} failed attempts (escalated ${a.escalatedAt}): a human must act; ` +
        `run hactl ${what} by hand to try again`,
      EXIT.CRITICAL,
    );
  }
  if (a.attempts >= t.maxAttempts) {
    return {
      act: false,
      exitCode: EXIT.CRITICAL,
      reason: `${a.attempts} ${what} attempts failed (max ${t.maxAttempts}): escalating instead of retrying`,
      escalate: { what, alert: escalationText(config, what, a.attempts) },
    };
  }
  const since = age(now, a.lastAttemptAt);
  if (since < t.cooldown) {
    const budget = `cooldown ${t.cooldown} s, attempt ${a.attempts}/${t.maxAttempts}`;
    return wait(`cooldown: last attempt ${Math.round(since)} s ago (${budget})`);
  }
  return undefined;
}

/** failback: by hand, act now; with --auto, only under the auto policy once the primary has been back long enough. */
export function decideFailback(config: Config, state: ClusterState, req: Requester, now: Date): Decision {
  const t = config.thresholds;
  const P = label(config, 'primary');
  if (state.serving === 'primary') return wait(`${P} already serves`);
  const plan = moveSteps(config, 'standby', 'primary', 'failback', req.auto ? '' : 'by hand', false);
  if (!req.auto) return { act: true, plan: { ...plan, reason: 'by hand', cause: 'by hand' } };
  if (config.failback.policy === 'manual')
    return wait('failback policy is manual: run hactl failback by hand when ready');
  const stale = staleness(config, state, now, '');
  if (stale) return stale;
  const back = state.streaks.primary.reachable;
  if (back < t.successesBeforeFailback) return wait(`${P} back for ${back}/${t.successesBeforeFailback} checks`);
  return { act: true, plan: { ...plan, reason: `${P} back for ${back} checks` } };
}

/** The line a --dry-run prints for each step. */
export function describeStep(config: Config, s: Step): string {
  const h = (r: Role) => label(config, r);
  const line = ((): string => {
    switch (s.op) {
      case 'preflight':
        return `preflight ${h(s.role)}: the host answers and can start a gateway`;
      case 'fence':
        return `fence ${h(s.role)}: stop its gateway if the host answers`;
      case 'sync-last-chance':
        return `last-chance memory sync ${h(s.from)} -> ${h(s.to)}`;
      case 'sync-back':
        return `sync back memory the standby wrote: ${h(s.from)} -> ${h(s.to)} (--update; conflicts kept)`;
      case 'stop':
        return `stop the gateway on ${h(s.role)} and wait until it no longer answers`;
      case 'settle':
        return `wait ${s.seconds} s`;
      case 'start':
        return `start the gateway on ${h(s.role)}: try ${s.methods.join(', then ')}`;
      case 'verify':
        return `verify ${h(s.role)} passes the health probe`;
      case 'record':
        return `record ${h(s.serving)} as serving`;
    }
  })();
  const fail =
    s.onFail === 'abort'
      ? ''
      : s.onFail === 'rollback'
        ? '; on failure: roll back'
        : '; a failure does not stop the plan';
  return `${line} (${s.reason}${fail})`;
}
