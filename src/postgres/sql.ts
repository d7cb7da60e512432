// Every SQL text hactl sends to PostgreSQL, built here from configured names.
// Pure: no I/O. Each configured name (database objects, columns, publication,
// subscription, slot) is quoted as an identifier by qi, each value as a literal
// by ql, so neither can inject SQL. Scripts start with standard_conforming_strings
// on, so a backslash inside a literal is just a backslash.
import type { PostgresConfig, PostgresTable } from '../config/types.js';

/** An identifier: double quotes, doubled inside. */
export const qi = (name: string): string => `"${name.replace(/"/g, '""')}"`;
/** A literal: single quotes, doubled inside (standard_conforming_strings is set on). */
export const ql = (value: string): string => `'${value.replace(/'/g, "''")}'`;
/** schema.table, both quoted. */
export const qt = (t: PostgresTable): string => `${qi(t.schema)}.${qi(t.name)}`;
/** How a table is named in reports: schema omitted when public. */
export const tableLabel = (t: PostgresTable): string => (t.schema === 'public' ? t.name : `${t.schema}.${t.name}`);

const PRELUDE = 'SET standard_conforming_strings = on;\nSET client_min_messages = warning;\n';

/** A row's key as text: the JSON array of its key columns (same text on both sides). */
const keyExpr = (t: PostgresTable, alias: string): string =>
  `jsonb_build_array(${t.key.map((k) => `${alias}.${qi(k)}`).join(', ')})::text`;

/**
 * The subscription on the standby, one JSON line:
 * {exists, enabled, slot, pid} (pid null: no apply worker runs).
 */
export function subscriptionSql(c: PostgresConfig): string {
  return `${PRELUDE}SELECT json_build_object('exists', count(s.oid) > 0, 'enabled', bool_or(s.subenabled),
  'slot', max(s.subslotname::text), 'pid', max(st.pid))
FROM pg_subscription s LEFT JOIN pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
WHERE s.subname = ${ql(c.subscription)}
  AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database());\n`;
}

/** The slot on the primary, one JSON line: {exists, active, lag} (lag in bytes behind the WAL). */
export function slotSql(slot: string): string {
  return `${PRELUDE}SELECT json_build_object('exists', count(*) > 0, 'active', bool_or(active),
  'lag', max(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn))::bigint)
FROM pg_replication_slots WHERE slot_name = ${ql(slot)};\n`;
}

/**
 * One line per table, in config order: a JSON array of [key, md5 of the row's
 * content]. Read in one REPEATABLE READ snapshot so the tables agree.
 */
export function rowDigestsSql(c: PostgresConfig): string {
  const one = (t: PostgresTable) =>
    `SELECT coalesce(jsonb_agg(jsonb_build_array(k, h) ORDER BY k), '[]'::jsonb)::text FROM ` +
    `(SELECT ${keyExpr(t, 'r')} AS k, md5(to_jsonb(r)::text) AS h FROM ${qt(t)} r) x;`;
  return `${PRELUDE}BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n${c.tables.map(one).join('\n')}\nCOMMIT;\n`;
}

/** One line per table: a JSON array of the rows (to_jsonb) whose keys are listed. */
export function fetchRowsSql(c: PostgresConfig, keys: string[][]): string {
  const one = (t: PostgresTable, i: number) =>
    `SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY ${keyExpr(t, 'r')}), '[]'::jsonb)::text FROM ${qt(t)} r ` +
    `WHERE ${keyExpr(t, 'r')} IN (SELECT jsonb_array_elements_text(${ql(JSON.stringify(keys[i] ?? []))}::jsonb));`;
  return `${PRELUDE}BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n${c.tables.map(one).join('\n')}\nCOMMIT;\n`;
}

/**
 * Inserts rows (JSON arrays from fetchRowsSql, one per table) in ONE transaction;
 * a row whose key already exists is left alone. One line per table: rows inserted.
 * Tables go in config order, so parents come before children.
 */
export function insertRowsSql(c: PostgresConfig, rows: string[]): string {
  const one = (t: PostgresTable, i: number) => {
    const same = t.key.map((k) => `t.${qi(k)} = r.${qi(k)}`).join(' AND ');
    return (
      `WITH ins AS (INSERT INTO ${qt(t)} OVERRIDING SYSTEM VALUE SELECT r.* FROM ` +
      `jsonb_populate_recordset(NULL::${qt(t)}, ${ql(rows[i] ?? '[]')}::jsonb) r ` +
      `WHERE NOT EXISTS (SELECT 1 FROM ${qt(t)} t WHERE ${same}) RETURNING 1) SELECT count(*) FROM ins;`
    );
  };
  return `${PRELUDE}BEGIN;\n${c.tables.map(one).join('\n')}\nCOMMIT;\n`;
}

/**
 * Moves every sequence behind a column of the tables (serial, identity) past the
 * largest value in that column, never backwards: logical replication does not
 * carry sequences, so a side about to take writes would otherwise hand out keys
 * the other side already used. psql's \\gexec runs the statements the catalog
 * query builds (names in them quoted by format's %I/%L and regclass).
 */
export function syncSequencesSql(c: PostgresConfig): string {
  const one = (t: PostgresTable) =>
    `SELECT format('SELECT setval(%L, greatest((SELECT max(%I) FROM %s), ` +
    `(SELECT last_value FROM %s), 1))', s.seq, a.attname, a.attrelid::regclass, s.seq::regclass)\n` +
    `FROM pg_attribute a, LATERAL (SELECT pg_get_serial_sequence(a.attrelid::regclass::text, a.attname) AS seq) s\n` +
    `WHERE a.attrelid = ${ql(qt(t))}::regclass AND a.attnum > 0 AND NOT a.attisdropped AND s.seq IS NOT NULL\n\\gexec`;
  return `${PRELUDE}\\o /dev/null\n${c.tables.map(one).join('\n')}\n`;
}

export function setSubscriptionSql(c: PostgresConfig, enabled: boolean): string {
  return `${PRELUDE}ALTER SUBSCRIPTION ${qi(c.subscription)} ${enabled ? 'ENABLE' : 'DISABLE'};\n`;
}

/**
 * On the primary: moves the slot (it must be inactive: run/ waits for that) to
 * the present WAL position, so the changes hactl itself reconciled are not
 * sent again. One line: the slot's new position.
 */
export function advanceSlotSql(slot: string): string {
  const to = 'GREATEST(pg_current_wal_lsn(), confirmed_flush_lsn)';
  return `${PRELUDE}SELECT (pg_replication_slot_advance(${ql(slot)}, ${to})).end_lsn::text
FROM pg_replication_slots WHERE slot_name = ${ql(slot)};\n`;
}
