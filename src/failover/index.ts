// The failover domain, end to end, for the commands: observe -> plan -> run ->
// fold -> record. check observes and folds; failover and failback read the
// recorded observations, plan, run and fold. State and history are written here
// (through context.ts); alerts go out last.
import type { RunContext, RunRecord } from '../context.js';
import { loadState, saveState } from '../context.js';
import { EXIT } from '../errors.js';
import type { ClusterState, PgAction, Requester } from '../core/model.js';
import { learnedConfig, observePair, type PermitDuty } from './observe.js';
import { hostname } from 'node:os';
import { mayGrant, nextToken, recorded, startAllowed } from '../fencing/rule.js';
import { other } from '../core/model.js';
import { machineStamp } from '../guard/local.js';
import { decideFailback, decideFailover } from './plan.js';
import { describeStep } from './describe.js';
import { Runner, type StepMark } from './run.js';
import { resumeSteps, startingOn } from '../coordination/plan.js';
import { journal, withJournal, type RunFencing } from './permits.js';
import { foldCheck, foldHold, foldMove } from './fold.js';
import { foldWitnessView } from '../guard/witness.js';
import { checkGatewayConfig } from '../adapters/gateway.js';
import type { Config, Role } from '../config/types.js';
import type { HactlEvent } from '../alerts/events.js';
import { telegramText } from '../alerts/render.js';

/** The first thing a run has to say, as Telegram shows it (for --json); null when it only saw conditions end. */
const said = (config: Config, events: HactlEvent[]): string | null => {
  const e = events.find((x) => x.phase !== 'resolve' || x.kind !== 'resolved');
  return e ? telegramText(e, config.alerts.prefix) : null;
};

/** Refuses, before anything runs, gateway settings that cannot reach a shell safely (exit 78). */
function checkGateways(config: Config): void {
  for (const name of [config.pair.primary, config.pair.standby]) checkGatewayConfig(name, config.hosts[name]!.gateway);
}

/** The launch's token (the intent's) and, when later, the one on record: its renewal by the keep (observe.ts). */
const keepTokens = (launch: number | undefined, latest: number | undefined): number[] =>
  launch === undefined ? [] : latest !== undefined && latest > launch ? [launch, latest] : [launch];

/** The permits this check grants and revokes: only with a guard section, and only as the authority. */
function permitDuty(ctx: RunContext, state: ClusterState): PermitDuty | undefined {
  const { config } = ctx;
  const g = config.guard;
  if (!g || ctx.opts.dryRun || !mayGrant(ctx.leading)) return undefined;
  const here = machineStamp();
  const grants = withJournal(config, state.permits, here, g.lease);
  const idle = other(state.serving);
  const idleOver = startAllowed(recorded(grants[idle]), here, false).ok;
  return {
    serving: state.serving,
    token: nextToken(grants),
    lease: g.lease,
    by: hostname(),
    here: machineStamp,
    idleOver,
    journal: (role, grant) => journal(config, role, grant),
    share: ctx.share && ((role, grant) => ctx.share!(role, grant)),
    // An earlier leader's unfinished move that got to starting the idle side (issue 21 item 10).
    keepIdle: startingOn(ctx.resume) === idle,
    keepTokens: keepTokens(startingOn(ctx.resume) === idle ? ctx.resume?.token : undefined, grants[idle]?.token),
  };
}

/**
 * The permits as this witness can date them (src/fencing/rule.ts decidingGrants): a grant it cannot
 * date counts from its first sight, which is saved so that the wait goes on from there.
 */
function datedState(config: Config, state: ClusterState): ClusterState {
  if (!config.guard) return state;
  const here = machineStamp();
  const grants = withJournal(config, state.permits, here, config.guard.lease);
  const same = JSON.stringify(grants) === JSON.stringify(state.permits ?? {});
  return same ? state : { ...state, permits: grants };
}

/** Sends the alerts of a run; returns the delivery problems (an alert waits in the outbox then). */
async function deliver(ctx: RunContext, events: HactlEvent[]): Promise<string | null> {
  const errors = (await ctx.alerts.send(events)).errors;
  const note = errors.length ? errors.join('; ') : null;
  if (note) ctx.out.error(`hactl: warning: ${note}`);
  return note;
}

/** hactl check: observe both hosts, fold into the state, alert on both-down. */
export async function checkPair(ctx: RunContext): Promise<RunRecord> {
  const { config, out, clock } = ctx;
  checkGateways(config);
  const state = await loadState(config, clock.now(), !!ctx.opts.dryRun);
  out.progress(`probing ${config.pair.primary} and ${config.pair.standby}`);
  const health = new (await import('../health/observe.js')).HealthReader(config); // issue 13: heartbeat, resources
  const obs = await observePair(
    config,
    state.serving,
    clock,
    (m) => out.progress(m),
    health.read,
    permitDuty(ctx, state),
  );
  for (const r of ['primary', 'standby'] as const) {
    out.detail(`  ${r.padEnd(8)} ${config.pair[r].padEnd(12)} ${obs[r].status.padEnd(15)} ${obs[r].detail}`);
  }
  const checked = foldCheck(config, state, obs, clock.now());
  // Partitions (#16): lease renewals, and the witness cut off from a host its peer sees serving.
  const viewed = foldWitnessView(config, checked.state, obs, checked.assessment, clock.now());
  const { assessment } = viewed;
  const next = datedState(config, viewed.state);
  const alerts = [...checked.alerts, ...viewed.alerts];
  saveState(config, next);
  const alertError = await deliver(ctx, alerts);
  // Memory sync and backups: a last good run that is too old is a warning.
  const { memoryWarning } = await import('../memory/check.js');
  const { backupWarnings } = await import('../backup/record.js');
  const now = clock.now();
  const warns = [await memoryWarning(config, now), ...(await backupWarnings(config, now))].filter(
    (w): w is string => !!w,
  );
  const memWarn = warns.length ? warns.join('; ') : null;
  if (memWarn) out.detail(`  warning  ${memWarn}`);
  // PostgreSQL replication (when configured): its level joins the exit code; unknown (3) stays unknown.
  const pg = config.postgres
    ? await (await import('../postgres/steps.js')).checkReplication(config, next.serving, obs)
    : null;
  if (pg) out.detail(`  ${pg.line}`);
  // Heartbeats and resources (issue 13): warnings, a stale heartbeat critical; never a failover reason.
  const hr = health.report();
  hr.findings.forEach((f) => out.detail(`  ${f.level.padEnd(8)} ${f.message}`));
  const code = memWarn && assessment.exitCode === 0 ? 1 : assessment.exitCode;
  return {
    exitCode: code === EXIT.UNKNOWN ? code : Math.max(code, pg?.exitCode ?? 0, hr.exitCode),
    summary: [
      `check: ${assessment.line}`,
      memWarn && `WARNING: ${memWarn}`,
      pg && pg.level !== 'ok' && pg.line,
      hr.line,
    ]
      .filter(Boolean)
      .join('; '),
    data: {
      health: { level: hr.level, findings: hr.findings },
      postgres: pg,
      memoryWarning: memWarn,
      level: assessment.level,
      serving: next.serving,
      hosts: obs,
      streaks: next.streaks,
      alert: said(config, alerts),
      alertError,
    },
  };
}

/** hactl failover / failback: plan from the recorded state, print it (--dry-run) or run it, fold, record, alert. */
export async function movePair(ctx: RunContext, name: 'failover' | 'failback', req: Requester): Promise<RunRecord> {
  const { out, clock, opts } = ctx;
  const config = await learnedConfig(ctx.config, (m) => out.error(m)); // order: learned (learned.ts)
  checkGateways(config);
  const loaded = await loadState(config, clock.now(), !!opts.dryRun);
  let state = datedState(config, loaded);
  if (state !== loaded && !opts.dryRun) saveState(config, state);
  const pause = req.auto ? await (await import('../operator/pause-file.js')).readPause(config) : undefined;
  const here = machineStamp();
  const decision =
    name === 'failover'
      ? decideFailover(config, state, req, clock.now(), pause, here)
      : decideFailback(config, state, req, clock.now(), pause);
  if (!decision.act) {
    if (!opts.dryRun) {
      const held = foldHold(config, state, decision, clock.now());
      if (held.state !== state) saveState(config, held.state);
      await deliver(ctx, held.alerts);
    }
    const summary = `${name}: nothing done: ${decision.reason}`;
    return { exitCode: decision.exitCode, summary, data: { acted: false, reason: decision.reason } };
  }
  // Item 10 of issue 21: an earlier leader's unfinished move of the same kind goes on from its step.
  const resumed = resumeSteps(opts.dryRun ? null : (ctx.resume ?? null), decision.plan);
  const { from, index } = resumed;
  const plan = from ? { ...decision.plan, steps: resumed.steps } : decision.plan;
  const who = ctx.resume?.witness;
  const at = decision.plan.steps[from]?.op;
  if (from) out.progress(`continuing witness ${who}'s unfinished ${plan.kind} at step ${from + 1} (${at})`);
  const lines = plan.steps.map((s) => describeStep(config, s));
  if (opts.dryRun) {
    out.detail(`${name} plan (${plan.reason}):`);
    lines.forEach((l, i) => out.detail(`  ${i + 1}. ${l}`));
    // What the PostgreSQL copy would move, read from both sides (no effects).
    const copies = plan.steps.some((s) => s.op === 'postgres' && s.action === 'sync-back');
    const postgres = copies ? await (await import('../postgres/steps.js')).previewSyncBack(config) : [];
    postgres.forEach((l) => out.detail(`     ${l}`));
    const summary = `${name} --dry-run: would ${plan.kind} (${plan.reason}); ${lines.length} steps`;
    return { exitCode: EXIT.OK, summary, data: { acted: false, plan: lines, kind: plan.kind, postgres } };
  }
  out.progress(`${plan.kind}: ${plan.reason}`);
  const { runMemoryStep } = await import('../memory/steps.js');
  // The memory steps queue their alerts without delivering them (no channel in their copy of
  // the config): they are delivered with this run's own alert, after the action.
  const quiet = { ...config, alerts: { ...config.alerts, telegram: undefined, webhooks: undefined } };
  const postgres = async (action: PgAction) =>
    (await import('../postgres/steps.js')).postgresStep(config, action, clock);
  // Serving permits (src/fencing/rule.ts): only with a guard section; a failover runs as the leader.
  const fencing: RunFencing | undefined = config.guard
    ? { grants: state.permits ?? {}, here: machineStamp, by: hostname(), changes: {}, share: ctx.share }
    : undefined;
  const mark = ctx.intentStep;
  const io = {
    progress: (m: string) => out.progress(m),
    detail: (m: string) => out.detail(m),
    signal: ctx.signal,
    step: mark && ((s: StepMark) => mark({ ...s, i: index[s.i] ?? s.i, kind: plan.kind })),
  };
  const runner = new Runner(config, io, clock, (step) => runMemoryStep(quiet, step, out), postgres, fencing);
  const startedAt = clock.now();
  let res;
  try {
    res = await runner.run(plan);
  } finally {
    await runner.close();
  }
  const fold = foldMove(config, state, plan, res, startedAt, clock.now());
  state = fencing ? { ...fold.state, permits: { ...(fold.state.permits ?? {}), ...fencing.changes } } : fold.state;
  for (const [r, g] of Object.entries(fencing?.changes ?? {})) journal(config, r as Role, g);
  saveState(config, state);
  const alertError = await deliver(ctx, fold.alerts);
  const waitMs = res.outcomes.reduce((a, s) => a + (s.waitMs ?? 0), 0);
  const totalMs = res.outcomes.reduce((a, s) => a + s.ms, 0);
  const timing = { totalMs, waitMs, ownMs: totalMs - waitMs, gapMs: res.gapMs ?? null };
  return {
    exitCode: fold.exitCode,
    summary: fold.summary,
    data: {
      acted: true,
      kind: plan.kind,
      ok: res.ok,
      reason: plan.reason,
      steps: res.outcomes,
      rollback: res.rollback ?? null,
      timing,
      rolledBack: fold.rolledBack,
      alert: said(config, fold.alerts),
      alertError,
      attempts: state.failover.attempts,
    },
  };
}
