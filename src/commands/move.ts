// failover and failback share one shape: decide, print the plan (--dry-run),
// carry it out, record, alert. What differs is the decision and the messages.
import type { Command } from 'commander';
import { runCommand, loadState, saveState, type GlobalOptions, type RunContext, type RunRecord } from '../context.js';
import { describeStep } from '../core/decide.js';
import type { ClusterState, Decision } from '../core/model.js';
import type { Config, Role } from '../config/types.js';
import { EXIT } from '../errors.js';
import { Executor, type ExecResult } from './execute.js';

export interface MoveSpec {
  name: 'failover' | 'failback';
  decide: (config: Config, state: ClusterState, input: { auto: boolean; now: Date }) => Decision;
  success: (config: Config, state: ClusterState, decision: Decision) => string;
  failure: (config: Config, res: ExecResult) => string;
  /** Undo after a failure (failback puts the standby back). */
  rollback?: (ex: Executor, ctx: RunContext) => Promise<string>;
}

export async function move(spec: MoveSpec, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  return runCommand(spec.name, opts, 'cluster', async (ctx) => {
    const { config, out, now, alerts } = ctx;
    let state = await loadState(config, now());
    const decision = spec.decide(config, state, { auto: !!opts.auto, now: now() });
    if (!decision.act) {
      if (decision.escalate && !opts.dryRun) {
        state = { ...state, failover: { ...state.failover, escalatedAt: now().toISOString() } };
        saveState(config, state);
        if (decision.alert) await alerts.send(decision.alert);
      }
      return { exitCode: decision.exitCode, summary: `${spec.name}: nothing done: ${decision.reason}`, data: { acted: false, reason: decision.reason } };
    }
    const plan = decision.steps.map((s) => describeStep(config, s));
    if (opts.dryRun) {
      out.detail(`${spec.name} plan (${decision.reason}):`);
      plan.forEach((l, i) => out.detail(`  ${i + 1}. ${l}`));
      const postgres = decision.kind === 'failback' ? await (await import('../postgres/steps.js')).previewSyncBack(config) : [];
      postgres.forEach((l) => out.detail(`     ${l}`));
      return { exitCode: EXIT.OK, summary: `${spec.name} --dry-run: would ${decision.kind} (${decision.reason}); ${plan.length} steps`, data: { acted: false, plan, kind: decision.kind, postgres } };
    }
    out.progress(`${decision.kind}: ${decision.reason}`);
    const ex = new Executor(config, out);
    const startedAt = now().toISOString();
    let res: ExecResult;
    let rolledBack: string | undefined;
    try {
      res = await ex.run(decision.steps, (serving: Role) => {
        state = { ...state, serving, servingSince: now().toISOString(), streaks: { primary: { failures: 0, healthy: 0, reachable: 0 }, standby: { failures: 0, healthy: 0, reachable: 0 } }, failover: { attempts: 0, lastAttemptAt: startedAt, escalatedAt: null, lastResult: `${decision.kind} ok` } };
        saveState(config, state);
      });
      if (!res.ok && spec.rollback) rolledBack = await spec.rollback(ex, ctx);
    } finally {
      await ex.close();
    }
    const waitMs = res.steps.reduce((a, s) => a + (s.waitMs ?? 0), 0);
    const totalMs = res.steps.reduce((a, s) => a + s.ms, 0);
    const timing = { totalMs, waitMs, ownMs: totalMs - waitMs, gapMs: res.gapMs ?? null };
    const data = { acted: true, kind: decision.kind, ok: res.ok, reason: decision.reason, steps: res.steps, timing, rolledBack: rolledBack ?? null };
    let rec: RunRecord;
    if (res.ok) {
      const text = decision.kind === 'fence-idle' ? `${config.alerts.prefix} ⚠️ ${decision.reason}` : spec.success(config, state, decision);
      const a = await alerts.send(text);
      rec = { exitCode: EXIT.OK, summary: `${spec.name}: ${decision.kind} done in ${(totalMs / 1000).toFixed(1)} s (${(waitMs / 1000).toFixed(1)} s of it configured waits): ${res.steps.find((s) => s.op === 'start')?.detail ?? decision.reason}`, data: { ...data, alert: text, alertError: a.errors[0] ?? null } };
    } else {
      if (decision.kind === 'failover') {
        state = { ...state, failover: { ...state.failover, attempts: state.failover.attempts + 1, lastAttemptAt: startedAt, lastResult: `failed: ${res.failedStep?.detail ?? ''}`.slice(0, 500) } };
        saveState(config, state);
      }
      const text = spec.failure(config, res) + (rolledBack ? ` — ${rolledBack}` : '');
      const a = await alerts.send(text);
      rec = { exitCode: EXIT.CRITICAL, summary: `${spec.name}: FAILED at ${res.failedStep?.op}: ${res.failedStep?.detail}${rolledBack ? `; ${rolledBack}` : ''}`, data: { ...data, alert: text, alertError: a.errors[0] ?? null, attempts: state.failover.attempts } };
    }
    if (rec.data?.alertError) out.error(`hactl: warning: ${String(rec.data.alertError)}`);
    return rec;
  });
}
