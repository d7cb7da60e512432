// Carrying out PostgreSQL plans through psql on the hosts.
// - pauseReplication (failover): the standby's subscription is disabled, so the
//   returning primary cannot apply its changes over the standby's writes.
// - syncBack (failback): rows compared inside the source's database move in one
//   transaction per target side; resumeAfterSync then, in 'resume' mode with
//   nothing in conflict, moves the slot past what was reconciled and enables the
//   subscription again (docs/postgres.md says why).
import type { Config, Role } from '../config/types.js';
import { sleep, type Clock } from '../adapters/clock.js';
import { Psql } from './psql.js';
import { sessionOf, type PgSessions } from './observe.js';
import type { SyncPlan, TablePlan } from './plan.js';
import type { SlotSeen, SubscriptionSeen, SyncOutcome } from './model.js';
import {
  advanceSlotSql,
  disableSubscriptionSql,
  setSubscriptionSql,
  slotSql,
  subscriptionSql,
  syncSequencesSql,
  tableLabel,
} from './sql.js';
import { syncSourceSql } from './sync-sql.js';
import { TargetAnswer } from './answer.js';
import { prepareShare } from '../adapters/ssh-master.js';
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

/**
 * Failback's sync-back with the comparison inside the database (sql.ts
 * syncSourceSql), from the standby (the source) to the primary (the target),
 * in one pass: two OpenSSH clients, one per side, joined by an OS pipe. The
 * standby's psql first asks the primary for its columns and row digests,
 * which come back through this process (streamed with backpressure, never
 * held) into the standby's input with the base file; the standby classes its
 * rows there and prints the primary's script with the selected rows, straight
 * into the primary's psql. In 'resume' mode the same pass also brings back,
 * through a third client on the standby, what only the primary has or changed
 * (sql.ts backSql): each side's rows are digested once. Each client shares
 * its host's OpenSSH master (ssh-master.ts): a master the memory sync left
 * open costs no handshake. The witness holds no per-row data: only counts and
 * the capped conflict keys come back. Returns the plan as counted, and what
 * was done. Never throws.
 */
export async function syncBack(
  config: Config,
  mode: SyncPlan['mode'],
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
    const hostOf = (r: Role) => config.hosts[config.pair[r]]!;
    const [primary, standby] = await Promise.all(
      (['primary', 'standby'] as const).map(async (r) => ({
        host: hostOf(r),
        share: await prepareShare(config.stateDir, hostOf(r)).catch(() => undefined),
      })),
    );
    const back = mode === 'resume';
    const target = new Psql(primary!, c, 'copying rows from the standby');
    const source = new Psql(standby!, c, 'comparing rows and reading those to copy to the primary');
    // Keys the standby's sequences handed out will exist on the primary too: its sequences move
    // on inside the same script, before its COMMIT (setval is never undone; it only moves forward).
    const sql = syncSourceSql(c, MAX_CONFLICT_LINES, syncSequencesSql(c, 0, false), back);
    const answer = new TargetAnswer(c.tables.length, back);
    const base = (): StreamFeed => {
      const stream = createReadStream(basePath(config));
      return { stream, done: finished(stream) };
    };
    const got = await target.pipeFrom(
      source,
      [
        sql.head,
        () => ({ stream: answer.digests, done: answer.ended }),
        sql.middle,
        ...(existsSync(basePath(config)) ? [base] : []),
        async () => sql.tail(await answer.columns),
      ],
      connect,
      answer,
      back ? new Psql(standby!, c, 'copying rows from the primary') : undefined,
    );
    const each = (to: Role, lines: string[]) => {
      for (const line of lines) {
        const [kind, i, ...rest] = line.split('\t');
        const t = tables[Number(i)];
        if (!t) continue;
        const n = rest.map(Number);
        if (kind === 'p') {
          t.count!.toPrimary = n[0]! + n[1]!;
          t.count!.conflicts = n[2]!;
          t.same = n[3]!;
        } else if (kind === 'q') t.count!.toStandby = n[0]!;
        else if (kind === 'n') out.inserted[to][Number(i)] = n[0]!;
        else if (kind === 'c') t.conflicts.push(rest.join('\t'));
      }
    };
    each('primary', got.target);
    each('standby', got.relay);
  } catch (e) {
    out.error = (e as Error).message;
  }
  const sum = (k: 'toPrimary' | 'toStandby' | 'conflicts') => tables.reduce((a, t) => a + t.count![k], 0);
  Object.assign(plan, { toPrimary: sum('toPrimary'), toStandby: sum('toStandby'), conflicts: sum('conflicts') });
  return { plan, outcome: out };
}

/**
 * After a 'resume' sync-back that failed nowhere and found no conflict:
 * replication resumes (resumeReplication), through the ssh2 sessions. Never throws.
 */
export async function resumeAfterSync(
  config: Config,
  sessions: PgSessions,
  clock: Clock,
  { plan, outcome }: { plan: SyncPlan; outcome: SyncOutcome },
): Promise<SyncOutcome> {
  if (outcome.error || plan.mode !== 'resume' || plan.conflicts !== 0) return outcome;
  try {
    const moved = [...outcome.inserted.primary, ...outcome.inserted.standby].some((n) => n > 0);
    return { ...outcome, resumedAt: await resumeReplication(config, sessions, clock, moved) };
  } catch (e) {
    return { ...outcome, error: (e as Error).message };
  }
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
