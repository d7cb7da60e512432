// The SQL of failback's sync-back (run.ts syncBack), built here from configured
// names. Pure: no I/O. Names are quoted by sql.ts qi/qt, values by ql. The
// source's psql prints the target's script (and, on the way back, the target
// prints one for a psql on the source's host), so some text here is quoted
// once or twice: each level through ql, never by hand.
import type { PostgresConfig, PostgresTable } from '../config/types.js';
import { columnsSql, keyExpr, PRELUDE, qi, ql, qt, rowDigestsSql, type Columns } from './sql.js';

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
 * What the target runs first in a sync-back, echoed to it by the source (its
 * answer goes back to the witness): its columns (columnsSql, one JSON line per
 * table), its row digests (rowDigestsSql), then a line `\.`, which no digest
 * line can be. One connection to the target serves the comparison and the copy.
 */
export function targetAskSql(c: PostgresConfig): string {
  return `${columnsSql(c)}${rowDigestsSql(c)}SELECT ${ql('\\.')};\n`;
}

/**
 * The comparison done inside the source's database (failback's sync-back), in
 * three parts around two streams that go into the source psql's input:
 * `head` (it first echoes targetAskSql to the target), the target's digest
 * lines (its answer, as the target prints them), `middle`, the base's lines
 * (the fence's snapshot, same format), and `tail(columns)`, built once the
 * target's columns are known. Both streams land in temporary tables; in one
 * REPEATABLE READ snapshot the source's rows whose key the target holds are
 * classed against them, by key and digest: equal: left; the target still
 * holds the base version: updated; the source still holds it (changed on the
 * target only): left for the other direction; otherwise (changed on both
 * sides, or no base to tell): a conflict, never overwritten. Only those rows
 * are digested (the classing pass computes every row's key, nothing more);
 * every other row is new to the target and streams into it in the pass that
 * reads it, with no list of them built first. The
 * source prints the target's whole script, as copyOutSql does, with the rows
 * the classes select; the target prints, per table,
 * `p\ti\tinserts\tupdates\tconflicts\tequal` and `n\ti\trows written`, and
 * `c\ti\tkey` for the first `cap` conflicting keys; `last` (SQL, psql
 * meta-commands allowed) runs on the target last, before COMMIT. The witness
 * holds no row, digest or key beyond those capped conflict keys.
 */
export function syncSourceSql(
  c: PostgresConfig,
  cap: number,
  last = '',
  back = false,
): { head: string; middle: string; tail: (cols: Columns[]) => string } {
  const digestTable = (n: string) => `CREATE TEMP TABLE ${n} (i int, h text, k text);\n`;
  // 'resume' (back): every row is compared (both sides hold them all), so the source digests its
  // own rows into hactl_s while the target digests its own, in one snapshot with what follows.
  const own = (t: PostgresTable, i: number) =>
    `INSERT INTO hactl_s SELECT ${i}, md5(r::text), ${keyExpr(t, 'r')}, r.ctid FROM ${qt(t)} r;\n`;
  const ownAll =
    'BEGIN ISOLATION LEVEL REPEATABLE READ;\nCREATE TEMP TABLE hactl_s (i int, h text, k text, tid tid);\n' +
    c.tables.map(own).join('');
  // A work_mem that holds 100k digests keeps the joins' hash tables in memory (the default spills).
  const head =
    `${PRELUDE}SET work_mem = '64MB';\nSELECT ${ql(targetAskSql(c))};\n` +
    `${digestTable('hactl_t')}${digestTable('hactl_b')}` +
    'CREATE TEMP TABLE hactl_m (i int, k text, c "char", tid tid);\n' +
    (back ? ownAll : '') +
    'COPY hactl_t FROM STDIN;\n';
  const middle = '\\.\nCOPY hactl_b FROM STDIN;\n';
  // Only rows the target holds are classed (a hash join on the key's text); each is digested
  // once (OFFSET 0 keeps the subquery whole), and its ctid lets the COPY fetch it without a scan.
  const classify = (t: PostgresTable, i: number) =>
    `INSERT INTO hactl_m SELECT ${i}, x.k, CASE WHEN x.th = x.h THEN '=' ` +
    `WHEN x.th = x.bh THEN 'u' WHEN x.h = x.bh THEN '-' ELSE 'c' END, x.tid\n` +
    `FROM (SELECT r.ctid AS tid, d.k, d.h AS th, b.h AS bh, md5(r::text) AS h\n` +
    `FROM ${qt(t)} r JOIN hactl_t d ON d.i = ${i} AND d.k = ${keyExpr(t, 'r')} ` +
    `LEFT JOIN hactl_b b ON b.i = ${i} AND b.k = d.k OFFSET 0) x;`;
  // Every target row, with its class; 'o': only the target holds it (no ctid here: no source row).
  const classifyAll =
    `INSERT INTO hactl_m SELECT d.i, d.k, CASE WHEN s.k IS NULL THEN 'o' WHEN d.h = s.h THEN '=' ` +
    `WHEN d.h = b.h THEN 'u' WHEN s.h = b.h THEN '-' ELSE 'c' END, s.tid\n` +
    'FROM hactl_t d LEFT JOIN hactl_s s ON s.i = d.i AND s.k = d.k LEFT JOIN hactl_b b ON b.i = d.i AND b.k = d.k;';
  const echo = (expr: string) => `format('SELECT %L;', ${expr})`;
  const has = (i: number, cls: string) => `EXISTS (SELECT 1 FROM hactl_m WHERE i = ${i} AND c = '${cls}')`;
  const one = (cols: Columns[], t: PostgresTable, i: number) => {
    const ct: CopyTable = { table: t, index: i, cols: cols[i]!, keys: [], updates: [] };
    const list = ct.cols.copy.map(qi).join(', ');
    const fields = ct.cols.copy.map((x) => `r.${qi(x)}`).join(', ');
    const rows = (cls: string) =>
      `COPY (SELECT ${fields} FROM ${qt(t)} r ` +
      `WHERE r.ctid = ANY (ARRAY(SELECT tid FROM hactl_m WHERE i = ${i} AND c = '${cls}'))) TO STDOUT;\n`;
    // New rows: the ones not classed (a hash anti-join on the ctid), streamed as the scan reads them.
    const fresh =
      `COPY (SELECT ${fields} FROM ${qt(t)} r ` +
      `WHERE NOT EXISTS (SELECT 1 FROM hactl_m m WHERE m.i = ${i} AND m.tid = r.ctid)) TO STDOUT;\n`;
    // Inserts as the target counted them (COPY's ROW_COUNT); the other classes as counted here.
    const counted = `SELECT format(${ql(`SELECT concat_ws(E'\\t', 'p', ${i}, :hactl_n, %s, %s, %s);`)}, ${[
      'u',
      'c',
      '=',
    ]
      .map((x) => `count(*) FILTER (WHERE c = '${x}')`)
      .join(', ')}) FROM hactl_m WHERE i = ${i};\n`;
    const written = (plus: string) => `'n' || E'\\t' || ${i} || E'\\t' || (${plus})`;
    const after = targetAfter(ct, (n) => written(`:hactl_n + ${n}`));
    return (
      `SELECT ${ql(`COPY ${qt(t)} (${list}) FROM STDIN;`)};\n${fresh}SELECT ${ql('\\.')};\n` +
      `SELECT ${ql('\\set hactl_n :ROW_COUNT')};\n${counted}` +
      `SELECT ${ql(targetBefore(ct))} WHERE ${has(i, 'u')};\n${rows('u')}SELECT ${ql('\\.')} WHERE ${has(i, 'u')};\n` +
      `SELECT CASE WHEN ${has(i, 'u')} THEN ${ql(after)} ELSE ${ql(`SELECT ${written(':hactl_n')};`)} END;`
    );
  };
  const conflicts =
    `SELECT ${echo(`concat_ws(E'\\t', 'c', i, k)`)} FROM ` +
    `(SELECT i, k FROM hactl_m WHERE c = 'c' ORDER BY i, k LIMIT ${Math.max(0, Math.floor(cap))}) x;\n`;
  const tail = (cols: Columns[]) =>
    '\\.\nANALYZE hactl_t;\nANALYZE hactl_b;\n' +
    (back ? `${classifyAll}\n` : `BEGIN ISOLATION LEVEL REPEATABLE READ;\n${c.tables.map(classify).join('\n')}\n`) +
    `SELECT ${ql(`${PRELUDE}BEGIN;`)};\n${c.tables.map((t, i) => one(cols, t, i)).join('\n')}\n${conflicts}` +
    `${last ? `SELECT ${ql(last)};\n` : ''}SELECT 'COMMIT;';\n${back ? backSql(c, cols) : ''}COMMIT;\n`;
  return { head, middle, tail };
}

/** The line the target prints before the script it relays to the source's host (backSql). */
export const RELAY_MARK = '\\hactl relay';

/**
 * The way back, in the same pass ('resume'): after its COMMIT, the target (the
 * primary) is sent the keys of the rows the source lacks or holds in the base
 * version (class '-', and class 'o': keys only the target holds), prints their count per
 * table (`q\ti\tcount`), the line RELAY_MARK, and then a whole script for a
 * psql on the source's host: BEGIN, per table its rows through a temporary
 * table, updated or inserted, `n\ti\trows written`, and COMMIT. The witness
 * relays that script, streamed, to a psql on the source's host. So each side's
 * rows are digested once for both directions. The target's columns serve both
 * sides (logical replication needs the same columns on both).
 */
function backSql(c: PostgresConfig, cols: Columns[]): string {
  // Printed by the source, run by the target; printed by the target, run on the source's host.
  const toT = (sql: string) => `SELECT ${ql(sql)};\n`;
  const toS = (sql: string) => toT(`SELECT ${ql(sql)};`);
  const when = (i: number) => ` WHERE EXISTS (SELECT 1 FROM hactl_w WHERE i = ${i})`;
  const unless = (i: number) => ` WHERE NOT EXISTS (SELECT 1 FROM hactl_w WHERE i = ${i})`;
  const one = (t: PostgresTable, i: number) => {
    const ct: CopyTable = { table: t, index: i, cols: cols[i]!, keys: [], updates: [] };
    const fields = ct.cols.copy.map((x) => `r.${qi(x)}`).join(', ');
    const written = (n: string) => `'n' || E'\\t' || ${i} || E'\\t' || (${n})`;
    const rows =
      `COPY (SELECT ${fields} FROM ${qt(t)} r JOIN hactl_w w ON w.i = ${i} AND w.k = ${keyExpr(t, 'r')}) ` +
      'TO STDOUT;';
    const part = [
      toS(targetBefore(ct)),
      toT(rows),
      toS('\\.'),
      toS(`SELECT 0 AS hactl_n \\gset\n${targetAfter(ct, (n) => written(`:hactl_n + ${n}`))}`),
    ];
    return (
      part.map((x) => x.replace(/;\n$/, `${when(i)};\n`)).join('') +
      toS(`SELECT ${written('0')};`).replace(/;\n$/, `${unless(i)};\n`)
    );
  };
  const count = (i: number) =>
    `SELECT ${ql(`SELECT concat_ws(E'\\t', 'q', ${i}, `)} || count(*) || ${ql(');')} FROM hactl_w WHERE i = ${i};\n`;
  return (
    'CREATE TEMP TABLE hactl_w (i int, k text);\n' +
    "INSERT INTO hactl_w SELECT i, k FROM hactl_m WHERE c IN ('-', 'o');\n" +
    toT('CREATE TEMP TABLE hactl_w (i int, k text);\nCOPY hactl_w FROM STDIN;') +
    'COPY hactl_w TO STDOUT;\n' +
    toT('\\.') +
    toT('ANALYZE hactl_w;') +
    c.tables.map((_, i) => count(i)).join('') +
    toT(`SELECT ${ql(RELAY_MARK)};`) +
    toS(`${PRELUDE}BEGIN;`) +
    c.tables.map(one).join('') +
    toS('COMMIT;')
  );
}
