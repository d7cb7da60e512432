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

export interface CopyTable {
  table: PostgresTable;
  /** Its position in config order (names the temporary table). */
  index: number;
  cols: Columns;
  /** Keys (keyExpr text) of the rows to send that the target does not hold: COPY straight into the table. */
  keys: string[];
  /** Keys of rows the target holds in an older version: through a temporary table, then UPDATE. */
  updates: string[];
}

/**
 * What the target psql reads for one table, around the rows: a temporary table
 * shaped like the copied columns, COPY into it from psql's own input (the rows
 * follow, ended by a line \.), then one statement that updates the rows whose
 * key exists and inserts the others, printing how many rows it wrote.
 */
function targetBefore(t: CopyTable): string {
  const tmp = qi(`hactl_in_${t.index}`);
  const cols = t.cols.copy.map(qi).join(', ');
  return (
    `CREATE TEMP TABLE ${tmp} ON COMMIT DROP AS SELECT ${cols} FROM ${qt(t.table)} WITH NO DATA;\n` +
    `COPY ${tmp} (${cols}) FROM STDIN;`
  );
}
function targetAfter(t: CopyTable, out = (n: string) => n): string {
  const tmp = qi(`hactl_in_${t.index}`);
  const cols = t.cols.copy.map(qi).join(', ');
  const same = (a: string) => t.table.key.map((k) => `${a}.${qi(k)} = r.${qi(k)}`).join(' AND ');
  const settable = t.cols.copy.filter((x) => !t.table.key.includes(x) && !t.cols.always.includes(x));
  const up = settable.length
    ? `UPDATE ${qt(t.table)} x SET ${settable.map((x) => `${qi(x)} = r.${qi(x)}`).join(', ')} FROM ${tmp} r ` +
      `WHERE ${same('x')} RETURNING 1`
    : 'SELECT 1 WHERE false';
  return (
    `WITH up AS (${up}), ins AS (INSERT INTO ${qt(t.table)} (${cols}) OVERRIDING SYSTEM VALUE ` +
    `SELECT ${t.cols.copy.map((x) => `r.${qi(x)}`).join(', ')} FROM ${tmp} r ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${qt(t.table)} x WHERE ${same('x')}) RETURNING 1) ` +
    `SELECT ${out('(SELECT count(*) FROM up) + (SELECT count(*) FROM ins)')};`
  );
}

/**
 * On the source, in one REPEATABLE READ snapshot, the target's whole script is
 * printed: its prelude and BEGIN; for each table the target's statements
 * (printed as values), `COPY (rows with the listed keys) TO STDOUT` in text
 * format, the end-of-data line; and last, COMMIT. The output goes to the target
 * psql as is, so row bytes go from one host's COPY to the other's without being
 * decoded or held anywhere, and the COMMIT arrives only when every COPY
 * succeeded (ON_ERROR_STOP). Text format escapes backslash, newline and tab
 * inside values, so no row can print the line \. that ends the data (binary
 * format cannot be ended inside a psql script).
 */
export function copyOutSql(tables: CopyTable[]): string {
  const rows = (t: CopyTable, keys: string[]) =>
    `COPY (SELECT ${t.cols.copy.map((x) => `r.${qi(x)}`).join(', ')} FROM ${qt(t.table)} r ` +
    `WHERE ${keyExpr(t.table, 'r')} IN ` +
    `(SELECT jsonb_array_elements_text(${ql(JSON.stringify(keys))}::jsonb))) TO STDOUT;\n` +
    `SELECT ${ql('\\.')};\n`;
  const cols = (t: CopyTable) => t.cols.copy.map(qi).join(', ');
  const one = (t: CopyTable) => {
    // New rows: COPY into the table itself (a key that appeared there since the plan fails the
    // transaction, and a rerun compares again). psql's ROW_COUNT counts them.
    const ins = t.keys.length
      ? `SELECT ${ql(`COPY ${qt(t.table)} (${cols(t)}) FROM STDIN;`)};\n${rows(t, t.keys)}` +
        `SELECT ${ql('\\set hactl_n :ROW_COUNT')};\n`
      : `SELECT ${ql('\\set hactl_n 0')};\n`;
    const up = t.updates.length
      ? `SELECT ${ql(targetBefore(t))};\n${rows(t, t.updates)}SELECT ${ql(targetAfter(t, (n) => `:hactl_n + ${n}`))};`
      : `SELECT ${ql('SELECT :hactl_n;')};`;
    return ins + up;
  };
  return (
    `${PRELUDE}BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT ${ql(`${PRELUDE}BEGIN;`)};\n` +
    `${tables.map(one).join('\n')}\nSELECT 'COMMIT;';\nCOMMIT;\n`
  );
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

/**
 * The comparison done inside the source's database (failback's sync-back), in
 * three parts around two streams that go into the source psql's input:
 * `head`, the target's digest lines (rowDigestsSql, as the target prints
 * them), `middle`, the base's lines (the fence's snapshot, same format),
 * `tail`. Both streams land in temporary tables; in one REPEATABLE READ
 * snapshot every source row is then classed against them, by key and digest:
 * missing on the target: inserted; equal: left; the target still holds the
 * base version: updated; the source still holds it (changed on the target
 * only): left for the other direction; otherwise (changed on both sides, or no
 * base to tell): a conflict, never overwritten. The source prints the target's
 * whole script, as copyOutSql does, with the rows the classes select; the
 * target prints, per table, `p\ti\tinserts\tupdates\tconflicts\tequal` and
 * `n\ti\trows written`, and `c\ti\tkey` for the first `cap` conflicting keys;
 * `last` (SQL, psql meta-commands allowed) runs on the target last, before COMMIT.
 * The witness holds no row, digest or key beyond those capped conflict keys.
 */
export function syncSourceSql(
  c: PostgresConfig,
  cols: Columns[],
  cap: number,
  last = '',
): { head: string; middle: string; tail: string } {
  const digestTable = (n: string) => `CREATE TEMP TABLE ${n} (i int, h text, k text);\n`;
  const head =
    `${PRELUDE}${digestTable('hactl_t')}${digestTable('hactl_b')}` +
    'CREATE TEMP TABLE hactl_m (i int, k text, c "char", tid tid);\nCOPY hactl_t FROM STDIN;\n';
  const middle = '\\.\nCOPY hactl_b FROM STDIN;\n';
  // A row's digest is computed only when the target holds its key (a new row needs none), and
  // once (OFFSET 0 keeps the subquery whole); its ctid lets the COPY fetch it without a second scan.
  const classify = (t: PostgresTable, i: number) =>
    `INSERT INTO hactl_m SELECT ${i}, x.k, CASE WHEN x.th IS NULL THEN 'i' WHEN x.th = x.h THEN '=' ` +
    `WHEN x.th = x.bh THEN 'u' WHEN x.h = x.bh THEN '-' ELSE 'c' END, x.tid\n` +
    `FROM (SELECT s.tid, s.k, t.h AS th, b.h AS bh, CASE WHEN t.h IS NOT NULL THEN md5(s.r::text) END AS h\n` +
    `FROM (SELECT r.ctid AS tid, ${keyExpr(t, 'r')} AS k, r FROM ${qt(t)} r) s\n` +
    `LEFT JOIN hactl_t t ON t.i = ${i} AND t.k = s.k LEFT JOIN hactl_b b ON b.i = ${i} AND b.k = s.k OFFSET 0) x;`;
  const echo = (expr: string) => `format('SELECT %L;', ${expr})`;
  const has = (i: number, cls: string) => `EXISTS (SELECT 1 FROM hactl_m WHERE i = ${i} AND c = '${cls}')`;
  const one = (t: PostgresTable, i: number) => {
    const ct: CopyTable = { table: t, index: i, cols: cols[i]!, keys: [], updates: [] };
    const list = ct.cols.copy.map(qi).join(', ');
    const rows = (cls: string) =>
      `COPY (SELECT ${ct.cols.copy.map((x) => `r.${qi(x)}`).join(', ')} FROM ${qt(t)} r ` +
      `WHERE r.ctid = ANY (ARRAY(SELECT tid FROM hactl_m WHERE i = ${i} AND c = '${cls}'))) TO STDOUT;\n`;
    const counted = `SELECT ${echo(
      `concat_ws(E'\\t', 'p', ${i}, count(*) FILTER (WHERE c = 'i'), count(*) FILTER (WHERE c = 'u'), ` +
        `count(*) FILTER (WHERE c = 'c'), count(*) FILTER (WHERE c = '='))`,
    )} FROM hactl_m WHERE i = ${i};\n`;
    const written = (plus: string) => `'n' || E'\\t' || ${i} || E'\\t' || (${plus})`;
    const after = targetAfter(ct, (n) => written(`:hactl_n + ${n}`));
    return (
      counted +
      `SELECT ${ql(`COPY ${qt(t)} (${list}) FROM STDIN;`)};\n${rows('i')}SELECT ${ql('\\.')};\n` +
      `SELECT ${ql('\\set hactl_n :ROW_COUNT')};\n` +
      `SELECT ${ql(targetBefore(ct))} WHERE ${has(i, 'u')};\n${rows('u')}SELECT ${ql('\\.')} WHERE ${has(i, 'u')};\n` +
      `SELECT CASE WHEN ${has(i, 'u')} THEN ${ql(after)} ELSE ${ql(`SELECT ${written(':hactl_n')};`)} END;`
    );
  };
  const conflicts =
    `SELECT ${echo(`concat_ws(E'\\t', 'c', i, k)`)} FROM ` +
    `(SELECT i, k FROM hactl_m WHERE c = 'c' ORDER BY i, k LIMIT ${Math.max(0, Math.floor(cap))}) x;\n`;
  const tail =
    '\\.\nANALYZE hactl_t;\nANALYZE hactl_b;\nBEGIN ISOLATION LEVEL REPEATABLE READ;\n' +
    `${c.tables.map(classify).join('\n')}\n` +
    `SELECT ${ql(`${PRELUDE}BEGIN;`)};\n${c.tables.map(one).join('\n')}\n${conflicts}` +
    `${last ? `SELECT ${ql(last)};\n` : ''}SELECT 'COMMIT;';\nCOMMIT;\n`;
  return { head, middle, tail };
}
