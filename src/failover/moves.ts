// The step lists of each move, pure: which steps a failover, a return from a dead
// standby, a failback and an adoption run, in which order, with what reason and
// what a failure of each leads to. plan.ts decides which move (if any) to make.
import type { Config, Role } from '../config/types.js';
import type { ClusterState, Observation, PgAction, Plan, Requester, Step } from '../core/model.js';
import { isReachable, label, other } from '../core/model.js';

const methodsOf = (config: Config, role: Role): string[] =>
  config.hosts[config.pair[role]]!.gateway.start.map((m) => m.name);

/** Start `role`'s gateway and verify it; `onFail` for both. */
function bringUp(config: Config, role: Role, onFail: Step['onFail'], why: string): Step[] {
  const t = config.thresholds;
  return [
    {
      op: 'start',
      role,
      methods: methodsOf(config, role),
      missed: 'stop-then-next',
      onFail,
      reason:
        `${why}; the first method that reports started and ready within ${t.verifyDeadline} s wins, ` +
        'one that misses it is stopped before the next',
    },
    { op: 'verify', role, onFail, reason: 'an independent health probe right before recording' },
  ];
}

const PG_REASON: Record<PgAction, string> = {
  pause: "the standby's database takes writes: the returning primary must not overwrite them",
  'sync-back': 'rows only the standby has go back to the primary while the standby still serves',
  resume: 'the standby no longer writes: replication runs primary -> standby again',
};

/** A PostgreSQL step when the config has a postgres section (docs/postgres.md), else none. */
const pg = (config: Config, action: PgAction | undefined, onFail: Step['onFail']): Step[] =>
  config.postgres && action ? [{ op: 'postgres', action, onFail, reason: PG_REASON[action] }] : [];

/**
 * The move from `from` to `to`: memory (it never touches a gateway), preflight, stop, settle,
 * start, verify, record. The preflight comes right before the serving side is stopped.
 * PostgreSQL copies back before the stop and pauses or resumes replication right after it.
 */
function move(
  config: Config,
  from: Role,
  to: Role,
  o: {
    memory?: Step;
    stopOp: 'fence' | 'stop';
    onStartFail: Step['onFail'];
    pgBefore?: PgAction;
    pgAfterStop?: { action: PgAction; onFail: Step['onFail'] };
  },
): Step[] {
  const L = (r: Role) => label(config, r);
  const steps: Step[] = o.memory ? [o.memory] : [];
  steps.push(...pg(config, o.pgBefore, 'abort'));
  steps.push({
    op: 'preflight',
    role: to,
    onFail: 'abort',
    reason: `${L(to)} must be able to start before ${L(from)}'s gateway is touched`,
  });
  steps.push({
    op: o.stopOp,
    role: from,
    unreachable: 'stopped',
    onFail: 'abort',
    reason: `one poller per bot token: ${L(from)}'s gateway stops and is verified gone (a dead host serves nothing)`,
  });
  steps.push(...pg(config, o.pgAfterStop?.action, o.pgAfterStop?.onFail ?? 'abort'));
  steps.push({
    op: 'settle',
    seconds: config.thresholds.settle,
    role: from,
    onFail: 'abort',
    reason: `Telegram allows one poller per bot token: until ${L(from)}'s gateway is seen gone and its port free`,
  });
  steps.push(...bringUp(config, to, o.onStartFail, `${L(to)} takes over`));
  steps.push({ op: 'record', serving: to, onFail: 'abort', reason: `${L(to)} serves from now on` });
  return steps;
}

const lastChance = (config: Config): Step => ({
  op: 'sync-last-chance',
  from: 'primary',
  to: 'standby',
  onFail: 'continue',
  reason: `${label(config, 'primary')}'s host answers, only its gateway is down: copy its memory once more`,
});

const syncBack = (config: Config, onFail: Step['onFail']): Step => ({
  op: 'sync-back',
  from: 'standby',
  to: 'primary',
  onFail,
  unreachable: 'continue',
  reason: `what ${label(config, 'standby')} wrote while serving goes back to ${label(config, 'primary')}`,
});

export function failoverPlan(
  config: Config,
  state: ClusterState,
  req: Requester,
  cause: Plan['cause'],
  reason: string,
): Plan {
  const memory = state.lastCheck?.hosts.primary.status === 'gateway-down' ? lastChance(config) : undefined;
  // By hand the primary was serving: if nothing verifies after the fence, it must serve again.
  const steps = move(config, 'primary', 'standby', {
    memory,
    stopOp: 'fence',
    onStartFail: req.auto ? 'abort' : 'rollback',
    // A failed pause never blocks the failover (the bot needs an answer); check then says critical.
    pgAfterStop: { action: 'pause', onFail: 'continue' },
  });
  const rollback = req.auto
    ? []
    : bringUp(config, 'primary', 'abort', `${label(config, 'standby')} did not come up: the primary serves again`);
  return { kind: 'failover', reason, steps, rollback, cause, by: req };
}

/**
 * The serving standby is down and the primary answers: back to the primary (a down host serves nothing).
 * No PostgreSQL steps: the standby's rows cannot be read; check reports the paused replication as
 * critical until a person copies them back (docs/postgres.md).
 */
export function returnPlan(config: Config, state: ClusterState, req: Requester, s: Observation): Plan {
  const reachable = isReachable(s.status);
  const steps = move(config, 'standby', 'primary', {
    memory: reachable ? syncBack(config, 'continue') : undefined,
    stopOp: 'fence',
    onStartFail: 'abort',
  });
  const memoryLoss = reachable
    ? undefined
    : `memory the standby wrote since ${state.servingSince} could not be synced back (its host is ${s.status})`;
  const reason = `${label(config, 'standby')} ${s.status} while serving: ${s.detail}`;
  return { kind: 'return', reason, steps, rollback: [], cause: s.status, by: req, memoryLoss };
}

export function failbackPlan(config: Config, req: Requester, reason: string): Plan {
  const steps = move(config, 'standby', 'primary', {
    memory: syncBack(config, 'abort'),
    stopOp: 'stop',
    onStartFail: 'rollback',
    pgBefore: 'sync-back',
    pgAfterStop: { action: 'resume', onFail: 'rollback' },
  });
  const rollback = bringUp(
    config,
    'standby',
    'abort',
    `${label(config, 'primary')} did not come up: the standby serves again`,
  );
  return { kind: 'failback', reason, steps, rollback, cause: 'by hand', by: req };
}

/**
 * The idle side serves already while the serving side is down: stop the serving side, record the other.
 * When the idle side holds a live permit (`holds`: the last check extended it), nothing starts and nothing
 * waits on the serving side's permit: a host that does not answer is left to its guard (it fences as its
 * permit ends, which no check renews once the other side is recorded). Waiting it out held the record, and
 * with it every renewal of the side that does serve, until that side's own guard stopped it (a sole witness
 * that lost its state.json just after a failover: fencing-liveness.test). Without one, the serving side
 * counts as stopped once its permit is over, as in a failover.
 */
export function adoptPlan(config: Config, serving: Role, req: Requester, s: Observation, holds = false): Plan {
  const idle = other(serving);
  const steps: Step[] = [
    {
      op: 'fence',
      role: serving,
      unreachable: holds ? 'left' : 'stopped',
      onFail: 'abort',
      reason: `${label(config, serving)} ${s.status}`,
    },
    { op: 'verify', role: idle, onFail: 'abort', reason: `${label(config, idle)} already serves` },
    { op: 'record', serving: idle, onFail: 'abort', reason: `${label(config, idle)} serves from now on` },
  ];
  const reason = `${label(config, serving)} ${s.status} while ${label(config, idle)} already serves: ${s.detail}`;
  return { kind: serving === 'primary' ? 'failover' : 'return', reason, steps, rollback: [], cause: s.status, by: req };
}

/**
 * The serving side's host answers but its gateway does not, and the other host is down too: nothing could
 * take over, so the serving side's gateway starts again where it is (its guard may have fenced it while the
 * witness was away, or it died). Stopped and seen gone first (a gateway that hangs may still poll), then
 * started under a new permit, which the start grants only once the other side's is over.
 */
export function restartPlan(config: Config, serving: Role, req: Requester, s: Observation, why: string): Plan {
  const S = label(config, serving);
  const I = label(config, other(serving));
  const steps: Step[] = [
    { op: 'preflight', role: serving, onFail: 'abort', reason: `${S} must be able to start before it is touched` },
    {
      op: 'fence',
      role: other(serving),
      unreachable: 'stopped',
      onFail: 'abort',
      reason: `${I} does not answer: it counts as stopped once its serving permit is over (slept out here)`,
    },
    {
      op: 'fence',
      role: serving,
      unreachable: 'stopped',
      onFail: 'abort',
      reason: `one poller per bot token: whatever is left of ${S}'s gateway stops and is seen gone`,
    },
    {
      op: 'settle',
      seconds: config.thresholds.settle,
      role: serving,
      onFail: 'abort',
      reason: `Telegram allows one poller per bot token: until ${S}'s old gateway is seen gone and its port free`,
    },
    ...bringUp(config, serving, 'abort', `${S} serves again`),
    { op: 'record', serving, onFail: 'abort', reason: `${S} serves from now on` },
  ];
  return { kind: 'restart', reason: `${S} ${s.status} ${why}`, steps, rollback: [], cause: s.status, by: req };
}
