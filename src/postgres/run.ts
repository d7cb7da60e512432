// Carrying out PostgreSQL plans through psql on the hosts.
// - pauseReplication (failover): the standby's subscription is disabled, so the
//   returning primary cannot apply its changes over the standby's writes.
// - runSyncBack (failback): rows move in one transaction per target side; then,
//   in 'resume' mode with nothing in conflict, the slot is moved past what was
//   reconciled and the subscription is enabled again (docs/postgres.md says why).
import type { Config } from '../config/types.js';
import { sleep, type Clock } from '../adapters/clock.js';
import { Psql } from './psql.js';
import { sessionOf, type PgSessions } from './observe.js';
import { keysFrom, type SyncPlan, type TablePlan } from './plan.js';
import type { SlotSeen, SubscriptionSeen, SyncOutcome } from './model.js';
import {
  advanceSlotSql,
  columnsSql,
  copyOutSql,
  disableSubscriptionSql,
  setSubscriptionSql,
  slotSql,
  subscriptionSql,
  rowDigestsSql,
  syncSequencesSql,
  syncSourceSql,
  tableLabel,
  type Columns,
  type CopyTable,
} from './sql.js';
import { basePath, dropBase, MAX_CONFLICT_LINES, takeBase } from './base.js';
import { createReadStream, existsSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { StreamFeed } from './psql.js';

const psql = (config: Config, s: PgSessions, role: 'primary' | 'standby', what: string) =>
  new Psql(sessionOf(s, role), config.postgres!, what);

export interface PauseResult {
  /** Every part done. */
  ok: boolean;
  line: string;
}

/**
 * Failover's pause on the standby, in three parts, each under its own deadline
 * (postgres.pauseTimeout, and a lock_timeout inside it) and each tried whatever
 * became of the one before: disable the subscription; move the sequences past
 * the largest known key plus postgres.sequenceGap (so the first insert after
 * the failover cannot collide, even when the subscription could not be
 * disabled); record the base snapshot in the state dir. Never throws: a part
 * that fails is named in the line, and ok is false.
 */
export async function pauseReplication(config: Config, sessions: PgSessions): Promise<PauseResult> {
  const c = config.postgres!;
  const t = c.pauseTimeout;
  const parts: string[] = [];
  const failed: string[] = [];
  dropBase(config);
  const attempt = async (what: string, fn: (p: Psql) => Promise<string>) => {
    try {
      parts.push(await fn(psql(config, sessions, 'standby', what).with(what, t)));
    } catch (e) {
      failed.push(`${what}: ${(e as Error).message}`);
    }
  };
  await attempt('pausing replication', async (p) => {
    const [sub] = await p.json<SubscriptionSeen>(subscriptionSql(c));
    if (!sub!.exists) return `subscription ${c.subscription} does not exist on the standby: nothing to pause`;
    if (!sub!.enabled) return `subscription ${c.subscription} was already disabled`;
    await p.run(disableSubscriptionSql(c));
    const why = "the standby's database takes writes; the primary's changes wait in its slot";
    return `subscription ${c.subscription} disabled: ${why}`;
  });
  await attempt('moving sequences on', async (p) => {
    await p.run(syncSequencesSql(c, c.sequenceGap));
    return `sequences moved ${c.sequenceGap} past the largest key`;
  });
  await attempt('recording the base snapshot', async (p) => `base of ${await takeBase(config, p)} row(s) recorded`);
  const line = [...parts, ...failed.map((f) => `FAILED ${f}`)].join('; ');
  return { ok: failed.length === 0, line };
}

/** Columns per table (config order), read from the side that receives rows. */
async function columnsOf(config: Config, p: Psql): Promise<Columns[]> {
  return p.json<Columns>(columnsSql(config.postgres!), config.postgres!.tables.length);
}

/** Copies the planned rows; in 'resume' mode (no conflicts) then resumes replication. Never throws. */
export async function runSyncBack(
  config: Config,
  sessions: PgSessions,
  plan: SyncPlan,
  clock: Clock,
): Promise<SyncOutcome> {
  const c = config.postgres!;
  const zero = () => c.tables.map(() => 0);
  const out: SyncOutcome = { inserted: { primary: zero(), standby: zero() } };
  try {
    for (const to of ['primary', 'standby'] as const) {
      const keys = keysFrom(plan, to);
      if (!keys.some((k) => k.length)) continue;
      const from = to === 'primary' ? 'standby' : 'primary';
      const target = psql(config, sessions, to, `copying rows from the ${from}`);
      const cols = await columnsOf(config, target);
      const tables: CopyTable[] = c.tables
        .map((table, index) => {
          const changed = new Set(plan.tables[index]?.changed ?? []);
          const all = keys[index]!;
          return {
            table,
            index,
            cols: cols[index]!,
            keys: all.filter((k) => !changed.has(k)),
            updates: all.filter((k) => changed.has(k)),
          };
        })
        .filter((x) => x.keys.length + x.updates.length > 0);
      // Rows stream from the source's COPY TO STDOUT into the target's COPY FROM STDIN, in one transaction.
      const counts = await target.pipeFrom(
        psql(config, sessions, from, `reading rows to copy to the ${to}`),
        copyOutSql(tables),
        config.thresholds.connectTimeout,
      );
      tables.forEach((x, i) => (out.inserted[to][x.index] = Number(counts[i] ?? 0)));
      // Keys the standby's sequences handed out now exist on the primary too.
      if (to === 'primary') await psql(config, sessions, to, 'moving sequences on').run(syncSequencesSql(c));
    }
    if (plan.mode === 'resume' && plan.conflicts === 0) {
      const moved = [...out.inserted.primary, ...out.inserted.standby].some((n) => n > 0);
      out.resumedAt = await resumeReplication(config, sessions, clock, moved);
    }
  } catch (e) {
    out.error = (e as Error).message;
  }
  return out;
}

/**
 * Failback's sync-back with the comparison inside the database (sql.ts
 * syncSourceSql): for each direction (to the primary; in 'resume' mode then
 * to the standby), the target's digests (an OpenSSH psql, streamed through
 * this process with backpressure) and the base file go into temporary tables
 * in the source's psql, which classes its rows there and prints the target's
 * script with the selected rows, straight into the target's psql through an
 * OS pipe. The witness holds no per-row data: only counts and the capped
 * conflict keys come back. Returns the plan as counted, and what was done.
 * Never throws.
 */
export async function syncBack(
  config: Config,
  sessions: PgSessions,
  mode: SyncPlan['mode'],
  clock: Clock,
): Promise<{ plan: SyncPlan; outcome: SyncOutcome }> {
  const c = config.postgres!;
  const zero = () => c.tables.map(() => 0);
  const out: SyncOutcome = { inserted: { primary: zero(), standby: zero() } };
  const tables: TablePlan[] = c.tables.map((t) => ({
    table: tableLabel(t),
    toPrimary: [],
    toStandby: [],
    conflicts: [],
    same: 0,
    count: { toPrimary: 0, toStandby: 0, conflicts: 0 },
  }));
  const plan: SyncPlan = { tables, mode, toPrimary: 0, toStandby: 0, conflicts: 0 };
  const connect = config.thresholds.connectTimeout;
  try {
    for (const to of mode === 'copy' ? (['primary'] as const) : (['primary', 'standby'] as const)) {
      const from = to === 'primary' ? 'standby' : 'primary';
      const target = psql(config, sessions, to, `copying rows from the ${from}`);
      const source = psql(config, sessions, from, `comparing rows and reading those to copy to the ${to}`);
      // Keys the standby's sequences handed out will exist on the primary too: its sequences move
      // on inside the same script, before its COMMIT (setval is never undone; it only moves forward).
      const after = to === 'primary' ? syncSequencesSql(c, 0, false) : '';
      const sql = syncSourceSql(c, await columnsOf(config, target), MAX_CONFLICT_LINES, after);
      const base = (): StreamFeed => {
        const stream = createReadStream(basePath(config));
        return { stream, done: finished(stream) };
      };
      const digests = () =>
        target.with(`reading row digests to compare on the ${from}`).stream(rowDigestsSql(c), connect);
      const lines = await target.pipeFrom(
        source,
        [sql.head, digests, sql.middle, ...(existsSync(basePath(config)) ? [base] : []), sql.tail],
        connect,
      );
      for (const line of lines) {
        const [kind, i, ...rest] = line.split('\t');
        const t = tables[Number(i)];
        if (!t) continue;
        const n = rest.map(Number);
        if (kind === 'p') {
          t.count![to === 'primary' ? 'toPrimary' : 'toStandby'] = n[0]! + n[1]!;
          // The first direction sees every conflict; the second sees the same keys again.
          if (to === 'primary') {
            t.count!.conflicts = n[2]!;
            t.same = n[3]!;
          }
        } else if (kind === 'n') {
          out.inserted[to][Number(i)] = n[0]!;
        } else if (kind === 'c' && to === 'primary') t.conflicts.push(rest.join('\t'));
      }
    }
    const sum = (k: 'toPrimary' | 'toStandby' | 'conflicts') => tables.reduce((a, t) => a + t.count![k], 0);
    Object.assign(plan, { toPrimary: sum('toPrimary'), toStandby: sum('toStandby'), conflicts: sum('conflicts') });
    if (plan.mode === 'resume' && plan.conflicts === 0) {
      const moved = [...out.inserted.primary, ...out.inserted.standby].some((n) => n > 0);
      out.resumedAt = await resumeReplication(config, sessions, clock, moved);
    }
  } catch (e) {
    out.error = (e as Error).message;
  }
  return { plan, outcome: out };
}

/**
 * Both sides now hold the same rows. The slot still holds what the primary wrote
 * while replication was paused, and the copy just made: the standby has all of it
 * already, and applying it again would stop on duplicate keys. So: subscription
 * off (if on), wait for the slot to be let go, move the slot to now, subscription on.
 */
async function resumeReplication(config: Config, sessions: PgSessions, clock: Clock, moved: boolean): Promise<string> {
  const c = config.postgres!;
  const sp = psql(config, sessions, 'standby', 'resuming replication');
  const pp = psql(config, sessions, 'primary', 'moving the replication slot');
  const [sub] = await sp.json<SubscriptionSeen>(subscriptionSql(c));
  if (!sub!.exists)
    throw new Error(`${sp.host}: subscription ${c.subscription} does not exist: create it again (docs/postgres.md)`);
  const slot = sub!.slot ?? c.subscription;
  // Nothing was copied and it streams already (a rerun): leave it alone.
  if (!moved && sub!.enabled && sub!.pid !== null) return 'already streaming, left alone';
  if (sub!.enabled) await sp.run(setSubscriptionSql(c, false));
  const until = clock.ms() + c.timeout * 1000;
  for (;;) {
    const [s] = await pp.json<SlotSeen>(slotSql(slot));
    if (!s!.exists)
      throw new Error(
        `${pp.host}: slot ${slot} does not exist on the primary: create the subscription again (docs/postgres.md)`,
      );
    if (!s!.active) break;
    if (clock.ms() > until)
      throw new Error(`${pp.host}: slot ${slot} is still in use ${c.timeout} s after the subscription was disabled`);
    await sleep(200);
  }
  const [lsn] = await pp.run(advanceSlotSql(slot));
  await sp.run(setSubscriptionSql(c, true));
  // Confirm it streams: the launcher may wait up to wal_retrieve_retry_interval (5 s) to start the worker.
  const by = clock.ms() + Math.min(c.timeout, 30) * 1000;
  for (;;) {
    const [w] = await sp.json<SubscriptionSeen>(subscriptionSql(c));
    const [s] = await pp.json<SlotSeen>(slotSql(slot));
    if (w!.pid !== null && s!.active) return `${lsn ?? '?'}, streaming`;
    if (clock.ms() > by) {
      const slotState = s!.active ? 'active' : 'inactive';
      return `${lsn ?? '?'}; WARNING: not streaming yet (worker ${w!.pid ?? 'not running'}, slot ${slotState})`;
    }
    await sleep(200);
  }
}
