// Decisions about the PostgreSQL pair. Pure: no I/O, no adapter, no clock.
// - replicationVerdict: what check says about replication, and its level;
// - planSyncBack: which rows move where on failback, and which conflict.
// Tested as tables in test/unit/postgres-plan.test.ts.
import type { Config, Role } from '../config/types.js';
import type { Digests, ReplicationObservation, RowsObservation } from './model.js';
import { tableLabel } from './sql.js';

export type PgLevel = 'ok' | 'warning' | 'critical';
export interface Verdict {
  level: PgLevel;
  exitCode: 0 | 1 | 2;
  line: string;
  /** Worth one confirming look after the retry delay (a worker may just be starting). */
  retry: boolean;
}

const v = (level: PgLevel, line: string, retry = false): Verdict => ({
  level,
  exitCode: level === 'ok' ? 0 : level === 'warning' ? 1 : 2,
  line,
  retry,
});

/**
 * Tables replication carries that hactl does not know how to sync back (not in
 * postgres.tables, so no key): failback would leave their standby-only rows
 * behind, and the slot move would skip them for good. Labels, sorted.
 */
export function unlistedTables(config: Config, obs: Pick<ReplicationObservation, 'published'>): string[] {
  const known = new Set(config.postgres!.tables.map((t) => JSON.stringify([t.schema, t.name])));
  return (obs.published ?? [])
    .filter((t) => !known.has(JSON.stringify(t)))
    .map(([schema, name]) => tableLabel({ schema, name, key: [] }))
    .sort();
}

/** The line that refuses unlisted tables, naming each. */
export function unlistedLine(config: Config, tables: string[]): string {
  return (
    `postgres: ${tables.length} replicated table(s) not in postgres.tables: ${tables.join(', ')}: ` +
    'hactl cannot sync their rows back after a failover (add each with its key columns, ' +
    `or take it out of publication ${config.postgres!.publication})`
  );
}

/** What check reports about replication, given who serves. */
export function replicationVerdict(config: Config, serving: Role, obs: ReplicationObservation): Verdict {
  const base = replicationHealth(config, serving, obs);
  const unlisted = unlistedTables(config, obs);
  if (!unlisted.length) return base;
  const line = unlistedLine(config, unlisted);
  return base.level === 'ok' ? v('warning', line) : { ...base, line: `${base.line}; ${line}` };
}

function replicationHealth(config: Config, serving: Role, obs: ReplicationObservation): Verdict {
  const c = config.postgres!;
  const sub = `subscription ${c.subscription}`;
  const st = obs.standby;
  const pr = obs.primary;
  if (serving === 'standby') {
    // Failed over: the standby's database takes the writes; the subscription must stay off.
    if (!st.ok)
      return st.reachable
        ? v('critical', `postgres: the serving standby's database does not answer: ${st.error}`)
        : v('warning', `postgres: not checked (standby: ${st.error})`);
    if (st.value.exists && st.value.enabled) {
      return v(
        'critical',
        `postgres: ${sub} is ENABLED while the standby serves: the primary's changes would be applied ` +
          "over the standby's writes (hactl failover disables it)",
      );
    }
    const slot =
      pr.ok && !pr.value.exists
        ? `; WARNING: slot ${obs.slot} is gone on the primary, failback cannot resume replication`
        : '';
    return v(
      slot ? 'warning' : 'ok',
      `postgres: replication paused while the standby serves (failback copies its new rows back and resumes it)${slot}`,
    );
  }
  if (!st.ok)
    return st.reachable
      ? v('critical', `postgres: replication broken: the standby's database does not answer: ${st.error}`)
      : v('warning', `postgres: replication not checked (standby: ${st.error})`);
  if (!st.value.exists) return v('critical', `postgres: replication broken: ${sub} does not exist on the standby`);
  if (!st.value.enabled)
    return v(
      'critical',
      `postgres: replication broken: ${sub} is disabled on the standby ` +
        '(ALTER SUBSCRIPTION ... ENABLE, or hactl failback if it was a failover)',
    );
  // No apply worker: say why when the primary shows it (its database down, or the slot dropped).
  if (st.value.pid === null && !(pr.ok && pr.value.exists))
    return !pr.ok
      ? pr.reachable
        ? v('critical', `postgres: replication broken: the primary's database does not answer: ${pr.error}`)
        : v('warning', `postgres: replication not checked (primary: ${pr.error})`)
      : v(
          'critical',
          `postgres: replication broken: slot ${obs.slot} does not exist on the primary ` +
            '(it was dropped: create the subscription again, docs/postgres.md)',
        );
  if (st.value.pid === null)
    return v(
      'critical',
      `postgres: replication broken: ${sub} is enabled but its apply worker is not running ` +
        "(see the standby's PostgreSQL log)",
      true,
    );
  if (!pr.ok)
    return pr.reachable
      ? v('critical', `postgres: replication broken: the primary's database does not answer: ${pr.error}`)
      : v('warning', `postgres: replication not checked (primary: ${pr.error})`);
  if (!pr.value.exists)
    return v('critical', `postgres: replication broken: slot ${obs.slot} does not exist on the primary`);
  if (!pr.value.active)
    return v(
      'critical',
      `postgres: replication broken: slot ${obs.slot} on the primary is not active (the subscriber is not connected)`,
      true,
    );
  const lag = pr.value.lag ?? 0;
  if (lag > c.lagWarning) return v('warning', `postgres: replication lag ${lag} bytes (over ${c.lagWarning})`);
  return v('ok', `postgres: replication ok (${sub} streaming, lag ${lag} bytes)`);
}

export interface TablePlan {
  table: string;
  /** Keys only the standby has: copied to the primary. */
  toPrimary: string[];
  /** Keys only the primary has (changes the standby never got): copied to the standby on resume. */
  toStandby: string[];
  /** Keys on both sides with different content: reported, never overwritten. */
  conflicts: string[];
  /** Of toPrimary and toStandby, the keys the target holds already (an older version): updated, not inserted. */
  changed?: string[];
  same: number;
  /**
   * Counts, when the comparison ran inside the database (run.ts syncBack): the
   * key lists are then empty, or for conflicts the first few (capped).
   */
  count?: { toPrimary: number; toStandby: number; conflicts: number };
}
/** A table's counts, whichever way it was planned. */
export const tally = (t: TablePlan): { toPrimary: number; toStandby: number; conflicts: number } =>
  t.count ?? { toPrimary: t.toPrimary.length, toStandby: t.toStandby.length, conflicts: t.conflicts.length };
export interface SyncPlan {
  tables: TablePlan[];
  toPrimary: number;
  toStandby: number;
  conflicts: number;
  /** 'copy': before the standby stops, to the primary only. 'resume': both ways, then replication resumes. */
  mode: 'copy' | 'resume';
}

/**
 * Compares rows by key and content digest; which rows move where, which conflict.
 * `base`: the standby's rows at the fence (taken when the failover paused
 * replication). With it, a row both sides hold with different content is a
 * conflict only when BOTH changed it since the fence: changed only on the
 * standby, it goes to the primary; changed only on the primary, to the standby
 * (on resume). Without a base (none was taken), every difference is a conflict.
 */
export function planSyncBack(config: Config, rows: RowsObservation, mode: SyncPlan['mode'], base?: Digests): SyncPlan {
  const tables = config.postgres!.tables.map((t, i): TablePlan => {
    const p = rows.primary[i] ?? new Map<string, string>();
    const s = rows.standby[i] ?? new Map<string, string>();
    const b = base?.[i];
    const changed: string[] = [];
    const tp: TablePlan = { table: tableLabel(t), toPrimary: [], toStandby: [], conflicts: [], same: 0, changed };
    for (const [k, h] of s) {
      const ph = p.get(k);
      const bh = b?.get(k);
      if (ph === undefined) tp.toPrimary.push(k);
      else if (ph === h) tp.same++;
      else if (bh !== undefined && ph === bh) {
        tp.toPrimary.push(k);
        changed.push(k);
      } else if (bh !== undefined && h === bh) {
        if (mode === 'resume') {
          tp.toStandby.push(k);
          changed.push(k);
        }
      } else tp.conflicts.push(k);
    }
    if (mode === 'resume') for (const k of p.keys()) if (!s.has(k)) tp.toStandby.push(k);
    return tp;
  });
  const sum = (f: (t: TablePlan) => number) => tables.reduce((a, t) => a + f(t), 0);
  return {
    tables,
    mode,
    toPrimary: sum((t) => t.toPrimary.length),
    toStandby: sum((t) => t.toStandby.length),
    conflicts: sum((t) => t.conflicts.length),
  };
}

/** The line failover/failback --dry-run prints for a postgres step. */
export function describePgStep(action: 'pause' | 'sync-back' | 'resume'): string {
  return {
    pause: 'postgres: disable the subscription on the standby (its database takes writes)',
    'sync-back':
      'postgres: copy rows only the standby has to the primary (one transaction; conflicts stop the failback)',
    resume: 'postgres: copy what is still missing either way, then resume replication primary -> standby',
  }[action];
}

const MAX_KEYS = 5;
const keyList = (keys: string[], n = keys.length) =>
  keys.slice(0, MAX_KEYS).join(', ') + (n > MAX_KEYS ? `, … (${n - MAX_KEYS} more)` : '');

/** One line per table: what moves (the --dry-run view), and the conflicts by key. */
export function describeSyncPlan(plan: SyncPlan): string[] {
  return plan.tables.map((t) => {
    const n = tally(t);
    const parts = [`${n.toPrimary} row(s) standby -> primary`];
    if (plan.mode === 'resume') parts.push(`${n.toStandby} primary -> standby`);
    if (n.conflicts) parts.push(`${n.conflicts} CONFLICT(S) by key ${keyList(t.conflicts, n.conflicts)}`);
    return `${t.table}: ${parts.join(', ')} (${t.same} equal)`;
  });
}

/** Digests as plain data (for tests and records). */
export function digestsOf(tables: Array<Record<string, string>>): Digests {
  return tables.map((t) => new Map(Object.entries(t)));
}
