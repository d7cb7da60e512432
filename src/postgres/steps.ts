// The PostgreSQL domain's entry points for the commands: each opens its own
// SSH sessions, observes, plans, runs and folds, and returns one line.
// - checkReplication: check's verdict on replication (one confirming look);
// - postgresStep: failover's pause, failback's sync-back and resume;
// - previewSyncBack: what failback --dry-run shows (rows per table), no effects.
import type { Config, Role } from '../config/types.js';
import { sleep, systemClock, type Clock } from '../adapters/clock.js';
import { closePgSessions, observeReplication, observeRows, openPgSessions, type PgSessions } from './observe.js';
import {
  describeSyncPlan,
  planSyncBack,
  replicationVerdict,
  unlistedLine,
  unlistedTables,
  type Verdict,
} from './plan.js';
import { pauseReplication, resumeAfterSync, syncBack } from './run.js';
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
  if (action === 'sync-back') {
    // The bulk copy, while the standby still serves: compared inside the standby's database
    // through two OpenSSH clients (run.ts syncBack); no ssh2 session is needed.
    try {
      const r = await syncBack(config, 'copy');
      const file = r.outcome.error ? undefined : writeConflicts(config, r.plan);
      const f = foldSyncBack(r.plan, r.outcome, file);
      return { ok: f.ok, detail: f.line, tables: f.tables };
    } catch (e) {
      return { ok: false, detail: `postgres ${action} not done: ${(e as Error).message}` };
    }
  }
  // The resume's ssh2 sessions (replication's hand-over) open while its rows are compared.
  const opening = openPgSessions(config, action === 'pause' ? ['standby'] : ['primary', 'standby']);
  let s: PgSessions | undefined;
  try {
    if (action === 'pause') {
      s = await opening;
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
    // The resume runs while the bot is down: both directions compared inside the databases at
    // once (run.ts syncBack), so the witness holds no per-row data here either.
    const synced = await syncBack(config, 'resume');
    s = await opening;
    const file = synced.outcome.error ? undefined : writeConflicts(config, synced.plan);
    const f = foldSyncBack(synced.plan, await resumeAfterSync(config, s, clock, synced), file);
    return { ok: f.ok, detail: f.line, tables: f.tables };
  } catch (e) {
    return { ok: false, detail: `postgres ${action} not done: ${(e as Error).message}` };
  } finally {
    await closePgSessions(s ?? (await opening));
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
