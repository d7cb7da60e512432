// The PostgreSQL sync-back under what issue 23 found (two real clusters, the
// lab's sshd hosts): multi-byte text at every byte offset of 64 KiB rows,
// byte-equal after the copy (md5 of COPY output on both sides); the two servers
// in different time zones; a published table missing from the config and a
// GENERATED column; a pause step whose subscription lock outlasts its deadline
// followed by identity inserts on the standby; rows changed only on the standby
// copied back, and a row changed on both sides still a conflict.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab.ts';
import { havePostgres, PgCluster, psqlArgv, setupReplication, until } from '../lab/postgres.ts';

const SCHEMA = `
CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL,
  search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED);
CREATE TABLE extra (id int PRIMARY KEY, v text);`;
const TABLES = [
  { name: 'notes', key: ['id'] },
  { name: 'items', key: ['id'] },
];
const EMOJI = '\u{1F600}'; // 4 bytes in UTF-8, a surrogate pair in UTF-16
/** A 64 KiB row for each byte offset 0..3 of its emoji, then one mixing 1-, 2-, 3- and 4-byte characters. */
const BIG = [...[0, 1, 2, 3].map((o) => 'x'.repeat(o) + EMOJI.repeat(16_384 - 1)), ('aé€' + EMOJI).repeat(6_554)];

let lab: Lab;
let pp: PgCluster;
let ps: PgCluster;
let holder: ChildProcess | undefined;

describe('postgres sync-back', { skip: !havePostgres() && 'PostgreSQL is not installed' }, () => {
  before(async () => {
    lab = await Lab.start();
    // The primary in UTC, the standby in Berlin: the same instant prints differently on each.
    [pp, ps] = await Promise.all([
      PgCluster.create('primary', { timezone: "'UTC'" }),
      PgCluster.create('standby', { timezone: "'Europe/Berlin'" }),
    ]);
    setupReplication(pp, ps, SCHEMA);
    writeConfig(TABLES);
  });
  after(async () => {
    holder?.kill('SIGKILL');
    pp?.destroy();
    ps?.destroy();
    await lab?.stop();
  });

  const writeConfig = (tables: object[], extra: object = {}) =>
    lab.writeConfig({
      postgres: {
        hosts: { primary: { psql: psqlArgv(pp) }, standby: { psql: psqlArgv(ps) } },
        tables,
        timeout: 20,
        pauseTimeout: 3,
        ...extra,
      },
      memory: { enabled: false },
    });
  const json = async (args: string[]) => {
    const r = await lab.hactl([...args, '--json']);
    let j: any;
    try {
      j = JSON.parse(r.stdout);
    } catch {
      throw new Error(`hactl ${args.join(' ')}: exit ${r.code}, no JSON: ${r.stdout}${r.stderr}`);
    }
    return { code: r.code, j, raw: `${j.summary}\n${r.stderr}` };
  };
  const same = (t: string) => pp.copyMd5(t, 'id') === ps.copyMd5(t, 'id');

  test('check refuses a published table the config does not list (exit 1, the table named)', async () => {
    await lab.host('primary').startGateway();
    pp.sql(`INSERT INTO notes (id, body) VALUES (1, 'first'), (2, 'second'), (3, 'third');
      INSERT INTO items (body) VALUES ('alpha'), ('beta');
      INSERT INTO extra VALUES (1, 'unlisted')`);
    await until(() => same('notes') && same('items') && same('extra'), 'the first rows on the standby');
    const { code, j, raw } = await json(['check']);
    assert.equal(code, 1, raw);
    assert.equal(j.postgres.level, 'warning', j.postgres.line);
    assert.match(j.postgres.line, /extra/);
    const d = await lab.hactl(['doctor']);
    assert.equal(d.code, 1, d.stdout + d.stderr);
    assert.match(d.stdout + d.stderr, /extra/);
    // Listed, it is synced like the others: check is ok again.
    writeConfig([...TABLES, { name: 'extra', key: ['id'] }]);
    const c = await json(['check']);
    assert.equal(c.code, 0, c.raw);
  });

  test('primary in UTC, standby in Berlin: a failover and failback see 0 conflicts', async () => {
    await lab.host('primary').kill();
    pp.stopSync('fast');
    const f = await json(['failover', '--yes']);
    assert.equal(f.code, 0, f.raw);
    pp.start();
    await lab.host('primary').startSshd();
    const b = await json(['failback', '--yes']);
    assert.equal(b.code, 0, b.raw);
    assert.doesNotMatch(b.raw, /CONFLICT/);
    // Nothing differs once both sides print the same instant the same way: no row moves either way.
    const moved = b.j.steps
      .filter((x: any) => x.op === 'postgres')
      .flatMap((x: any) => x.tables.map((t: any) => t.toPrimary + t.toStandby));
    assert.deepEqual(moved, [0, 0, 0, 0, 0, 0], b.raw);
    await until(() => ps.sql(`SELECT count(*) FROM pg_stat_subscription WHERE pid IS NOT NULL`) !== '0', 'streaming');
  });

  test('the pause misses its deadline (a lock on the subscription): identity inserts on the standby work', async () => {
    // A transaction on the standby holds the subscription's lock past postgres.pauseTimeout.
    holder = spawn('psql', ['-X', '-q', '-h', '127.0.0.1', '-p', String(ps.port), '-U', 'postgres', '-d', 'memu'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    holder.stdin!.write(`BEGIN; ALTER SUBSCRIPTION memu_sub SET (synchronous_commit = 'off');\n`);
    await until(
      () =>
        ps.sql(
          `SELECT count(*) FROM pg_locks WHERE locktype = 'object' AND granted AND mode = 'AccessExclusiveLock'`,
        ) !== '0',
      'the lock holder',
    );
    await lab.host('primary').kill();
    pp.stopSync('fast');
    const f = await json(['failover', '--yes']);
    assert.equal(f.code, 0, f.raw);
    assert.match(f.j.steps.find((s: any) => s.op === 'postgres').detail, /WARNING: postgres: pause incomplete/);
    // Straight away, the standby takes identity inserts: its sequence moved past the primary's keys.
    ps.sql(`INSERT INTO items (body) VALUES ('standby one'), ('standby two')`);
    holder.stdin!.end('ROLLBACK;\n');
    await new Promise((r) => holder!.once('exit', r));
    holder = undefined;
    // The subscription is still enabled: check says so, and the person disables it as told.
    const c = await json(['check']);
    assert.equal(c.j.postgres.level, 'critical', c.j.postgres.line);
    ps.sql(`ALTER SUBSCRIPTION memu_sub DISABLE`);
  });

  test('standby writes 64 KiB rows of multi-byte text, edits a row, and one row changes on both sides', async () => {
    const values = BIG.map((b, i) => `(${100 + i}, '${b}')`).join(', ');
    ps.sql(`INSERT INTO notes (id, body) VALUES ${values};
      UPDATE notes SET body = 'edited on the standby' WHERE id = 1;
      UPDATE notes SET body = 'standby version' WHERE id = 2;
      UPDATE items SET body = 'gamma' WHERE body = 'alpha'`);
    pp.start();
    await lab.host('primary').startSshd();
    // A row only the primary has (written before it went down, never replicated) goes to the standby on resume.
    pp.sql(
      `UPDATE notes SET body = 'primary version' WHERE id = 2; UPDATE notes SET body = 'primary only' WHERE id = 3;
      INSERT INTO notes (id, body) VALUES (4, 'new on the primary ${'😀'.repeat(3000)}')`,
    );
    const b = await json(['failback', '--yes']);
    assert.equal(b.code, 2, b.raw);
    assert.match(b.j.summary, /notes: .*1 CONFLICT\(S\) by key \[2\]/);
    assert.equal(lab.state().serving, 'standby');
    const file = join(lab.dir, 'state', 'postgres-conflicts.txt');
    assert.ok(existsSync(file), 'conflicts file');
    assert.deepEqual(readFileSync(file, 'utf8').trim().split('\n'), ['notes\t[2]']);
    assert.equal(pp.sql(`SELECT body FROM notes WHERE id = 2`), 'primary version');
    assert.equal(ps.sql(`SELECT body FROM notes WHERE id = 2`), 'standby version');
  });

  test('resolved, failback copies every byte back, the standby-only edit included', async () => {
    ps.sql(`UPDATE notes SET body = 'primary version' WHERE id = 2`);
    const b = await json(['failback', '--yes']);
    assert.equal(b.code, 0, b.raw);
    assert.equal(pp.sql(`SELECT body FROM notes WHERE id = 1`), 'edited on the standby');
    assert.equal(ps.sql(`SELECT body FROM notes WHERE id = 3`), 'primary only');
    assert.equal(
      ps.sql(`SELECT md5(body) FROM notes WHERE id = 4`),
      pp.sql(`SELECT md5(body) FROM notes WHERE id = 4`),
    );
    assert.equal(pp.sql(`SELECT count(*) FROM notes WHERE body LIKE '%\uFFFD%'`), '0', 'no U+FFFD');
    for (const t of ['notes', 'items', 'extra']) assert.ok(same(t), `${t}: byte-equal COPY on both sides`);
    assert.equal(pp.sql(`SELECT count(*) FROM items WHERE search @@ 'gamma'::tsquery`), '1', 'generated column');
    assert.ok(!existsSync(join(lab.dir, 'state', 'postgres-conflicts.txt')), 'no conflict left');
    pp.sql(`INSERT INTO items (body) VALUES ('primary after failback')`);
    await until(() => same('items'), 'the new row replicated');
  });

  test('the standby dies while serving; after the return, failback --from-dead-standby copies its rows', async () => {
    await lab.host('primary').kill();
    pp.stopSync('fast');
    const f = await json(['failover', '--yes']);
    assert.equal(f.code, 0, f.raw);
    const values = Array.from({ length: 50 }, (_, i) => `(${1000 + i}, 'dead standby ${i} ${EMOJI}')`).join(', ');
    ps.sql(`INSERT INTO notes (id, body) VALUES ${values};
      INSERT INTO items (body) SELECT 'dead standby item ' || g FROM generate_series(1, 50) g;
      UPDATE notes SET body = 'edited while the standby served' WHERE id = 1`);
    // The standby's host dies (its database keeps its rows); the primary comes back and serves.
    await lab.host('standby').kill();
    pp.start();
    await lab.host('primary').startSshd();
    // Cron's way: checks confirm the serving standby down, failover --auto returns to the primary (bounded).
    let r: any;
    for (let i = 0; i < 5 && lab.state().serving !== 'primary'; i++) {
      await lab.hactl(['check']);
      r = await json(['failover', '--auto']);
    }
    assert.equal(lab.state().serving, 'primary', r?.raw);
    assert.equal(pp.sql(`SELECT count(*) FROM notes WHERE id >= 1000`), '0', 'the return could not copy them');
    // The standby answers again: check is critical (paused replication), the documented way back copies every row.
    await lab.host('standby').startSshd();
    const c = await json(['check']);
    assert.equal(c.j.postgres.level, 'critical', c.j.postgres.line);
    const dry = await json(['failback', '--from-dead-standby', '--dry-run']);
    assert.equal(dry.code, 0, dry.raw);
    assert.equal(pp.sql(`SELECT count(*) FROM notes WHERE id >= 1000`), '0', 'the dry run changed nothing');
    const back = await json(['failback', '--from-dead-standby', '--yes']);
    assert.equal(back.code, 0, back.raw);
    assert.equal(pp.sql(`SELECT count(*) FROM notes WHERE id >= 1000`), '50', '0 rows lost');
    assert.equal(pp.sql(`SELECT count(*) FROM items WHERE body LIKE 'dead standby item %'`), '50');
    assert.equal(pp.sql(`SELECT body FROM notes WHERE id = 1`), 'edited while the standby served');
    for (const t of ['notes', 'items', 'extra']) assert.ok(same(t), `${t}: byte-equal`);
    const ok = await json(['check']);
    assert.equal(ok.j.postgres.level, 'ok', ok.j.postgres.line);
  });
});
