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

/**
 * Every session starts here. Besides quoting, it pins what changes a value's text:
 * the time zone (a timestamptz prints in the session's zone, which defaults to the
 * server's: two clusters in different zones would print the same instant
 * differently), date, interval and float styles, bytea output and the client
 * encoding. Digests and copies are over this one canonical text on both sides.
 */
export const PRELUDE =
  'SET standard_conforming_strings = on;\nSET client_min_messages = warning;\n' +
  "SET TimeZone = 'UTC';\nSET DateStyle = 'ISO, YMD';\nSET IntervalStyle = 'postgres';\n" +
  "SET extra_float_digits = 1;\nSET bytea_output = 'hex';\nSET client_encoding = 'UTF8';\n";

/** A row's key as text: the JSON array of its key columns (same text on both sides). */
export const keyExpr = (t: PostgresTable, alias: string): string =>
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

/**
 * The tables replication carries, one JSON line: [[schema, name], ...]. On the
 * primary, what the publication publishes; on the standby, what the
 * subscription subscribes to (its copy of the list, readable while the
 * primary is down).
 */
export function publishedSql(c: PostgresConfig, side: 'primary' | 'standby'): string {
  if (side === 'primary')
    return `${PRELUDE}SELECT coalesce(json_agg(json_build_array(schemaname, tablename) ORDER BY 1, 2), '[]')
FROM pg_publication_tables WHERE pubname = ${ql(c.publication)};\n`;
  return `${PRELUDE}SELECT coalesce(json_agg(json_build_array(n.nspname, k.relname) ORDER BY 1, 2), '[]')
FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid JOIN pg_class k ON k.oid = r.srrelid
JOIN pg_namespace n ON n.oid = k.relnamespace
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
 * One line per row, as COPY text: table index (config order), md5 of the row's
 * canonical text, key; every table read in one REPEATABLE READ snapshot so the
 * tables agree. The row's text is its record output under PRELUDE's pinned
 * settings (UTC, ISO dates, shortest exact floats, hex bytea): the same row
 * gives the same digest on two servers whatever their time zone or locale. One
 * line per row lets the reader stream it (a base snapshot goes to a file as it
 * comes, a comparison never holds the whole output).
 */
export function rowDigestsSql(c: PostgresConfig): string {
  const one = (t: PostgresTable, i: number) =>
    `COPY (SELECT ${i}, md5(r::text), ${keyExpr(t, 'r')} FROM ${qt(t)} r) TO STDOUT;`;
  return `${PRELUDE}BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n${c.tables.map(one).join('\n')}\nCOMMIT;\n`;
}

/** The columns hactl copies in a table: all but GENERATED ones (PostgreSQL computes those itself). */
export interface Columns {
  /** Column names, in table order. */
  copy: string[];
  /** Copied columns that are GENERATED ALWAYS AS IDENTITY (an UPDATE may not set them). */
  always: string[];
}

/** One JSON line per table, config order: {"copy": [...], "always": [...]} from the catalog. */
export function columnsSql(c: PostgresConfig): string {
  const one = (t: PostgresTable) =>
    `SELECT json_build_object(
  'copy', coalesce(json_agg(attname ORDER BY attnum) FILTER (WHERE attgenerated = ''), '[]'),
  'always', coalesce(json_agg(attname ORDER BY attnum) FILTER (WHERE attgenerated = '' AND attidentity = 'a'), '[]'))
FROM pg_attribute WHERE attrelid = ${ql(qt(t))}::regclass AND attnum > 0 AND NOT attisdropped;`;
  return `${PRELUDE}${c.tables.map(one).join('\n')}\n`;
}

/**
 * Moves every sequence behind a column of the tables (serial, identity) past the
 * largest value in that column, never backwards: logical replication does not
 * carry sequences, so a side about to take writes would otherwise hand out keys
 * the other side already used. psql's \\gexec runs the statements the catalog
 * query builds (names in them quoted by format's %I/%L and regclass).
 */
export function syncSequencesSql(c: PostgresConfig, gap = 0, prelude = true): string {
  const one = (t: PostgresTable) =>
    `SELECT format('SELECT setval(%L, greatest((SELECT max(%I) FROM %s), ` +
    `(SELECT last_value FROM %s), 1) + ${Math.max(0, Math.floor(gap))})', ` +
    's.seq, a.attname, a.attrelid::regclass, s.seq::regclass)\n' +
    `FROM pg_attribute a, LATERAL (SELECT pg_get_serial_sequence(a.attrelid::regclass::text, a.attname) AS seq) s\n` +
    `WHERE a.attrelid = ${ql(qt(t))}::regclass AND a.attnum > 0 AND NOT a.attisdropped AND s.seq IS NOT NULL\n\\gexec`;
  return `${prelude ? PRELUDE : ''}${lockTimeout(c)}\\o /dev/null\n${c.tables.map(one).join('\n')}\n\\o\n`;
}

/** A lock wait ends with an error before the step's deadline, instead of queueing behind a long transaction. */
const lockTimeout = (c: PostgresConfig): string =>
  `SET lock_timeout = ${Math.max(100, Math.floor(c.pauseTimeout * 1000 * 0.8))};\n`;

export function disableSubscriptionSql(c: PostgresConfig): string {
  return `${PRELUDE}${lockTimeout(c)}ALTER SUBSCRIPTION ${qi(c.subscription)} DISABLE;\n`;
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
