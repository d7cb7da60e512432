// The PostgreSQL domain's entry points for the commands: each opens its own
// SSH sessions, observes, plans, runs and folds, and returns one line.
// - checkReplication: check's verdict on replication (one confirming look);
// - postgresStep: failover's pause, failback's sync-back and resume;
// - previewSyncBack: what failback --dry-run shows (rows per table), no effects.
import type { Config, Role } from '../config/types.js';
import { sleep, systemClock, type Clock } from '../adapters/clock.js';
import { closePgSessions, observeReplication, observeRows, openPgSessions } from './observe.js';
import {
  describeSyncPlan,
  planSyncBack,
  replicationVerdict,
  unlistedLine,
  unlistedTables,
  type Verdict,
} from './plan.js';
import { pauseReplication, runSyncBack, syncBack } from './run.js';
import { foldSyncBack, type TableRecord } from './fold.js';
import { dropBase, readBase, writeConflicts } from './base.js';
import { SshSession } from '../adapters/ssh.js';

const answered = (status: string) => status === 'healthy' || status === 'gateway-down';

export type PgAction = 'pause' | 'sync-back' | 'resume';
export interface PgStepResult {
  ok: boolean;
  detail: string;
  tables?: TableRecord[];
}

/** `hosts`: check's own observations; a host that did not answer SSH there is not dialled again. */
export async function checkReplication(
  config: Config,
  serving: Role,
  hosts?: Record<Role, { status: string }>,
): Promise<Verdict | null> {
  if (!config.postgres) return null;
  const roles = (['primary', 'standby'] as const).filter((r) => !hosts || answered(hosts[r].status));
  const look = async () => {
    const s = await openPgSessions(config, roles);
    try {
      return replicationVerdict(config, serving, await observeReplication(config, s));
    } finally {
      await closePgSessions(s);
    }
  };
  const first = await look();
  if (!first.retry) return first;
  // An apply worker restarts within seconds of an error or of being enabled: look once more.
  await sleep(config.thresholds.retryDelay * 1000);
  return look();
}

export async function postgresStep(
  config: Config,
  action: PgAction,
  clock: Clock = systemClock(),
): Promise<PgStepResult> {
  if (!config.postgres) return { ok: true, detail: `postgres ${action}: not configured, skipped` };
  const s = await openPgSessions(config, action === 'pause' ? ['standby'] : ['primary', 'standby']);
  try {
    if (action === 'pause') {
      // Never fails the failover (the bot needs an answer); a part that failed is a WARNING, and
      // check reports an enabled subscription as critical on every run until it is disabled.
      if (!(s.standby instanceof SshSession)) {
        dropBase(config);
        return {
          ok: true,
          detail: `WARNING: postgres: could not pause replication on the standby: ${s.standby.message}`,
        };
      }
      const r = await pauseReplication(config, s);
      return { ok: true, detail: r.ok ? `postgres: ${r.line}` : `WARNING: postgres: pause incomplete: ${r.line}` };
    }
    if (action === 'sync-back') {
      // The bulk copy, while the standby still serves: compared inside the standby's database
      // (run.ts syncBack), so the witness holds no per-row data.
      const { plan, outcome } = await syncBack(config, s, 'copy', clock);
      const file = outcome.error ? undefined : writeConflicts(config, plan);
      const f = foldSyncBack(plan, outcome, file);
      return { ok: f.ok, detail: f.line, tables: f.tables };
    }
    // The resume runs while the bot is down and has both directions to compare: both sides'
    // digests are read in parallel, once, and compared here (docs/postgres.md, downtime).
    const plan = planSyncBack(config, await observeRows(config, s), 'resume', readBase(config));
    const file = writeConflicts(config, plan);
    const f = foldSyncBack(plan, await runSyncBack(config, s, plan, clock), file);
    return { ok: f.ok, detail: f.line, tables: f.tables };
  } catch (e) {
    return { ok: false, detail: `postgres ${action} not done: ${(e as Error).message}` };
  } finally {
    await closePgSessions(s);
  }
}

/** failback --dry-run: the rows each table would move, read from both sides. */
export async function previewSyncBack(config: Config): Promise<string[]> {
  if (!config.postgres) return [];
  const s = await openPgSessions(config);
  try {
    const plan = planSyncBack(config, await observeRows(config, s), 'resume', readBase(config));
    return describeSyncPlan(plan).map((l) => `postgres ${l}`);
  } catch (e) {
    return [`postgres: cannot compare rows: ${(e as Error).message}`];
  } finally {
    await closePgSessions(s);
  }
}

/** doctor's PostgreSQL results: every replicated table is one hactl can sync back. */
export async function doctorPostgres(
  config: Config,
): Promise<
  Array<{ level: 'pass' | 'warn' | 'fail'; host: string | null; check: string; message: string; fix?: string }>
> {
  if (!config.postgres) return [];
  const s = await openPgSessions(config);
  try {
    const obs = await observeReplication(config, s);
    const unlisted = unlistedTables(config, obs);
    if (unlisted.length)
      return [
        {
          level: 'warn',
          host: null,
          check: 'postgres-tables',
          message: unlistedLine(config, unlisted),
          fix: `add to postgres.tables: ${unlisted.map((t) => `{name: ${t}, key: [...]}`).join(', ')}`,
        },
      ];
    const seenBy = [obs.primary.ok && 'primary', obs.standby.ok && 'standby'].filter(Boolean).join(' and ');
    if (!seenBy)
      return [{ level: 'warn', host: null, check: 'postgres-tables', message: 'postgres: neither database answered' }];
    return [
      {
        level: 'pass',
        host: null,
        check: 'postgres-tables',
        message: `postgres: every replicated table is in postgres.tables (read on the ${seenBy})`,
      },
    ];
  } finally {
    await closePgSessions(s);
  }
}
