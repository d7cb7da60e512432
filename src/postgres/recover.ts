// hactl failback --from-dead-standby: the way back for the PostgreSQL rows of a
// standby that died while serving. The pair returned to the primary without
// them (the return plan cannot read a dead host), and check reports the paused
// subscription as critical. Once the standby's host and database answer again
// (its gateway stays stopped), this copies back what only the standby has, and
// what changed only there since the fence (the base recorded by the failover's
// pause), reports rows changed on both sides as conflicts, and resumes
// replication: the same steps and guarantees as failback's resume.
import type { RunContext, RunRecord } from '../context.js';
import { loadState } from '../context.js';
import { EXIT } from '../errors.js';
import { postgresStep, previewSyncBack } from './steps.js';

export async function fromDeadStandby(ctx: RunContext): Promise<RunRecord> {
  const { config, out, clock, opts } = ctx;
  const head = 'failback --from-dead-standby';
  if (!config.postgres)
    return { exitCode: EXIT.USAGE, summary: `${head}: no postgres section in ${config.file}; nothing done` };
  const state = await loadState(config, clock.now(), !!opts.dryRun);
  if (state.serving !== 'primary')
    return {
      exitCode: EXIT.CRITICAL,
      summary: `${head}: the standby serves; run hactl failback (it copies the rows back itself); nothing done`,
    };
  if (opts.dryRun) {
    const lines = await previewSyncBack(config);
    lines.forEach((l) => out.detail(`  ${l}`));
    return {
      exitCode: EXIT.OK,
      summary: `${head} --dry-run: nothing changed`,
      data: { acted: false, postgres: lines },
    };
  }
  out.progress('postgres: copying back the rows the standby wrote, then resuming replication');
  const r = await postgresStep(config, 'resume', clock);
  return {
    exitCode: r.ok ? EXIT.OK : EXIT.CRITICAL,
    summary: `${head}: ${r.detail}`,
    data: { acted: true, steps: [{ op: 'postgres', ok: r.ok, detail: r.detail, tables: r.tables }] },
  };
}
