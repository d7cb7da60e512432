// What every command gets before it runs: the loaded config, the clock, a reporter,
// the lock; and what it leaves after: one history line, then pending alerts delivered.
import type { HactlEvent } from './alerts/events.js';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Config } from './config/types.js';
import { Reporter } from './output.js';
import { acquireLock, type Lock } from './state/lock.js';
import { writeJson } from './state/files.js';
import { appendHistory } from './state/history.js';
import type { ClusterState } from './core/model.js';
import { systemClock, type Clock } from './adapters/clock.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
  dryRun?: boolean;
  auto?: boolean;
}

export interface RunContext {
  config: Config;
  out: Reporter;
  opts: GlobalOptions;
  /** The one clock (HACTL_NOW is read there). */
  clock: Clock;
  now: () => Date;
  alerts: import('./adapters/telegram.js').Alerts;
  /**
   * Aborted when this run may no longer act (with coordination.etcd: the lead was lost mid-run).
   * Runners look at it before each effect (src/failover/run.ts); absent: nothing can stop the run.
   */
  signal?: AbortSignal;
  /** With coordination.etcd: whether this run leads (only a leader grants serving permits); unset: one witness. */
  leading?: boolean;
  /**
   * With coordination.etcd, for the leader: records a grant in etcd BEFORE it is sent (false: the
   * lead is lost or etcd did not take it, so the grant must not be sent). src/coordination/index.ts.
   */
  share?: (role: import('./config/types.js').Role, g: import('./fencing/rule.js').Grant) => Promise<boolean>;
  /** With coordination.etcd, for failover/failback: an earlier leader's unfinished move (issue 21 item 10). */
  resume?: import('./coordination/plan.js').Intent;
  /** With coordination.etcd: records the step about to run in the intent (false: do not run it). */
  intentStep?: (s: import('./failover/run.js').StepMark) => Promise<boolean>;
}

export interface RunRecord {
  exitCode: number;
  summary: string;
  data?: Record<string, unknown>;
}

/** Load config, take the lock (unless dry-run), run, append history. `out`: check --watch's own reporter. */
export async function runCommand(
  command: string,
  opts: GlobalOptions,
  lockName: string | null,
  body: (ctx: RunContext) => Promise<RunRecord>,
  clock: Clock = systemClock(),
  out: Reporter = new Reporter(opts),
  ahead?: (config: Config) => Promise<void>,
): Promise<number> {
  const t0 = clock.ms();
  const at = clock.now().toISOString();
  const config = await loadGuarded(opts, clock);
  // Work that starts before the lock (read-only on the hosts) and goes on beside it: sync-memory's scan.
  await ahead?.(config);
  const { Alerts } = await import('./adapters/telegram.js');
  // Knows whether the run sent anything (a send delivers everything pending too).
  class RunAlerts extends Alerts {
    used = false;
    override send(events: HactlEvent | HactlEvent[]) {
      this.used = true;
      return super.send(events);
    }
  }
  const alerts = new RunAlerts(config, !!opts.dryRun, clock, `hactl ${command} on ${hostname()}`);
  // A token source that cannot work is said on every run, not discovered in the
  // middle of the night when the first alert is due. It does not stop the run:
  // an alerting mistake must never block a failover. Alerts wait in the outbox.
  let tokenProblem: string | undefined;
  if (config.alerts.telegram) {
    const { resolveToken } = await import('./adapters/telegram.js');
    const { problem } = resolveToken(config);
    if (problem) {
      tokenProblem = `${config.file}: alerts.telegram: ${problem}; alerts wait in the outbox until it is fixed`;
      out.error(`hactl: warning: ${tokenProblem}`);
    }
  }
  if (config.alerts.webhooks?.length) {
    const { webhookProblems } = await import('./adapters/alerts.js');
    for (const w of webhookProblems(config))
      out.error(`hactl: warning: ${config.file}: ${w}; alerts wait in the outbox until it is fixed`);
  }
  // One history line per run, whether it ended with a record or with an error.
  const history = async (exitCode: number, rest: Record<string, unknown>) => {
    const ms = Math.round(clock.ms() - t0);
    const line = { at, command, auto: !!opts.auto, witness: hostname(), pid: process.pid, exitCode, ms };
    const h = config.history;
    const rotate = h && {
      maxBytes: h.maxSizeMB * 1048576,
      maxAgeSeconds: h.maxAgeDays * 86400,
      keep: h.keep,
      pair: config.pair,
    };
    await appendHistory(join(config.stateDir, 'history.jsonl'), { ...line, ...rest }, rotate);
  };
  let lock: Lock | undefined;
  let exitCode: number | undefined;
  // Several witnesses (coordination.etcd): only the leader acts (src/coordination/); null otherwise.
  const coord =
    config.coordination?.etcd && !opts.dryRun
      ? (await import('./coordination/index.js')).coordinated(config, command, lockName, out)
      : null;
  try {
    if (lockName && !opts.dryRun)
      lock = acquireLock(config.stateDir, lockName, `hactl ${command}`, config.thresholds.lockLease);
  } catch (e) {
    // A run turned away by the lock (75) is a run too: its line says who held it.
    const err = e as { exitCode?: number; message?: string };
    try {
      if (typeof err.exitCode === 'number') await history(err.exitCode, { error: err.message });
    } catch {
      /* the state directory itself may be the problem */
    }
    throw e;
  }
  try {
    const ctx = { config, out, opts, clock, now: () => clock.now(), alerts };
    const rec = coord ? await coord.run(ctx, body) : await body(ctx);
    exitCode = rec.exitCode;
    const data = { ...rec.data, ...(tokenProblem ? { tokenProblem } : {}) };
    out.summary(rec.summary, { command, exitCode: rec.exitCode, summary: rec.summary, dryRun: !!opts.dryRun, ...data });
    if (!opts.dryRun) {
      await history(rec.exitCode, { summary: rec.summary, ...data });
      await writeMetricsOf(config, clock, out);
    }
    return rec.exitCode;
  } catch (e) {
    const err = e as { exitCode?: number; message?: string };
    exitCode = err.exitCode;
    if (!opts.dryRun && typeof err.exitCode === 'number') {
      try {
        await history(err.exitCode, { error: err.message });
      } catch {
        /* the state directory itself may be the problem */
      }
    }
    throw e;
  } finally {
    // Act first, then deliver: alerts kept from earlier runs go out after the command did its
    // job, so an alert channel's deadline never delays an action.
    if (!opts.dryRun && !alerts.used) {
      const r = await alerts.flush().catch(() => ({ sent: 0 }));
      if (r.sent) out.progress(`delivered ${r.sent} alert(s) kept from an earlier run`);
    }
    lock?.release();
    await coord?.close(); // resign: the lead is free for the next run of any witness
    // The operator's dead-man monitor hears from a good run only, after everything else.
    if (!opts.dryRun && config.alerts.deadman) {
      const { pingAfterRun } = await import('./adapters/deadman.js');
      const w = await pingAfterRun(config.alerts.deadman, command, exitCode);
      if (w) out.error(`hactl: warning: ${w}`);
    }
  }
}

/** The Prometheus textfile (metrics.textfile), after each run that changed something; never fails the run. */
async function writeMetricsOf(config: Config, clock: Clock, out: Reporter): Promise<void> {
  if (!config.metrics.textfile) return;
  const { writeMetrics } = await import('./operator/metrics-file.js');
  const r = await writeMetrics(config, clock.now());
  if (r.problem) out.error(`hactl: warning: ${r.problem}`);
}

/**
 * Loads the config. A config that stops loading after it once loaded is alerted through the
 * last good one's channel (src/config/last-good.ts), then the run exits 78 as before.
 */
async function loadGuarded(opts: GlobalOptions, clock: Clock): Promise<Config> {
  const { loadConfig } = await import('./config/load.js');
  const guard = () => import('./config/last-good.js');
  let config: Config;
  try {
    config = await loadConfig(opts.config);
  } catch (e) {
    if (!opts.dryRun && (e as { exitCode?: number }).exitCode === 78)
      await (await guard()).configFailed(opts.config, e as Error, clock.now());
    throw e;
  }
  if (!opts.dryRun) {
    try {
      await (await guard()).configLoaded(config, clock.now());
    } catch (e) {
      new Reporter(opts).error(`hactl: warning: cannot keep a copy of the config: ${(e as Error).message}`);
    }
  }
  return config;
}

export const statePath = (config: Config) => join(config.stateDir, 'state.json');

/** state.json; a corrupt one is set aside, alerted once and rebuilt (src/state/recover.ts). */
export async function loadState(config: Config, now: Date, dryRun = false): Promise<ClusterState> {
  const { loadOrRebuildState } = await import('./state/recover.js');
  return loadOrRebuildState(config, now, dryRun);
}

export function saveState(config: Config, state: ClusterState): void {
  writeJson(statePath(config), state);
}
