// The PostgreSQL memory store end to end: two real PostgreSQL clusters (Debian's
// binaries, initdb into temporary directories, loopback ports, wal_level=logical)
// with the seed's logical replication (publication on the primary, subscription
// on the standby), reached through psql on the lab's sshd hosts. Run twice: with
// native psql, and with psql behind a `docker exec -i` stand-in (the seed's standby).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab } from '../lab/lab.ts';
import { havePostgres, installFakeDocker, PgCluster, psqlArgv, setupReplication, until } from '../lab/postgres.ts';
import { loadConfig } from '../../dist/config/load.js';
import { postgresStep } from '../../dist/postgres/steps.js';

const ODD = 'odd"name; DROP TABLE memory_items; --';
const ODDQ = '"odd""name; DROP TABLE memory_items; --"';
const SCHEMA = `
CREATE TABLE memory_items (id text PRIMARY KEY, body text NOT NULL,
  created timestamptz NOT NULL DEFAULT now(), embedding float8[]);
CREATE TABLE memory_categories (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE category_items (item_id text REFERENCES memory_items(id),
  category_id uuid REFERENCES memory_categories(id),
  PRIMARY KEY (item_id, category_id));
CREATE TABLE resources (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, url text, meta jsonb);
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
CREATE TABLE ${ODDQ} (k int PRIMARY KEY, v text);`;
const TABLES = [
  { name: 'memory_items', key: ['id'] },
  { name: 'memory_categories', key: ['id'] },
  { name: 'category_items', key: ['item_id', 'category_id'] },
  { name: 'resources', key: ['id'] },
  { name: 'alembic_version', key: ['version_num'] },
  { name: ODD, key: ['k'] },
];
const QUALIFIED = ['memory_items', 'memory_categories', 'category_items', 'resources', 'alembic_version', ODDQ];
const CAT = '6f1c2a9e-0000-4000-8000-000000000001';

let lab: Lab;
const P = () => lab.host('primary');
before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});

function scenario(name: string, viaDocker: boolean): void {
  describe(
    `postgres (${name})`,
    { skip: !havePostgres() && 'PostgreSQL is not installed (apt-get install postgresql)' },
    () => {
      let pp: PgCluster;
      let ps: PgCluster;
      let config: any;
      const equalRows = () => QUALIFIED.every((t) => JSON.stringify(pp.rows(t)) === JSON.stringify(ps.rows(t)));

      before(async () => {
        await lab.reset();
        [pp, ps] = await Promise.all([PgCluster.create('primary'), PgCluster.create('standby')]);
        setupReplication(pp, ps, SCHEMA);
        const hosts: Record<string, { psql: string[] }> = {};
        for (const [h, c] of [
          ['primary', pp],
          ['standby', ps],
        ] as const) {
          if (viaDocker) {
            installFakeDocker(join(lab.host(h).home, 'bin'), `memu-postgres-${h}`, c);
            hosts[h] = { psql: ['docker', 'exec', '-i', `memu-postgres-${h}`, 'psql', '-U', 'postgres'] };
          } else hosts[h] = { psql: psqlArgv(c) };
        }
        config = await loadConfig(
          lab.writeConfig({ postgres: { hosts, tables: TABLES, timeout: 20 }, memory: { enabled: false } }),
        );
      });
      after(() => {
        pp?.destroy();
        ps?.destroy();
      });

      const subEnabled = () => ps.sql(`SELECT subenabled FROM pg_subscription WHERE subname = 'memu_sub'`);
      const json = async (args: string[]) => {
        const r = await lab.hactl([...args, '--json']);
        const j = JSON.parse(r.stdout);
        return { code: r.code, j, raw: `${j.summary}\n${r.stderr}` };
      };
      const pgStep = (j: any, action: string) =>
        j.steps.find((s: any) => s.op === 'postgres' && s.detail.includes(action));

      test('rows replicate and hactl check reports replication ok', async () => {
        await P().startGateway();
        pp.sql(`INSERT INTO memory_items (id, body, embedding)
          VALUES ('m1', 'likes coffee', '{0.1,0.25}'), ('m2', 'it''s "quoted" \\ text', NULL);
        INSERT INTO memory_categories VALUES ('${CAT}', 'food');
        INSERT INTO category_items VALUES ('m1', '${CAT}');
        INSERT INTO resources (url, meta) VALUES ('https://example.org', '{"a": [1, 2]}');
        INSERT INTO alembic_version VALUES ('abc123');
        INSERT INTO ${ODDQ} VALUES (1, 'one');`);
        await until(equalRows, 'the first rows on the standby');
        const { code, j, raw } = await json(['check']);
        assert.equal(code, 0, raw);
        assert.equal(j.postgres.level, 'ok', j.postgres.line);
        assert.match(j.postgres.line, /replication ok/);
      });

      test('the primary stops; failover pauses the subscription; the standby takes writes', async () => {
        await P().kill();
        // A clean stop: a crash would make its sequences jump ahead by 32 and hide a sequence bug.
        pp.stopSync('fast');
        const { code, j, raw } = await json(['failover', '--yes']);
        assert.equal(code, 0, raw);
        assert.match(pgStep(j, 'subscription').detail, /subscription memu_sub disabled/);
        assert.equal(subEnabled(), 'f');
        const c = await json(['check']);
        assert.equal(c.j.serving, 'standby');
        assert.equal(c.j.postgres.level, 'ok', 'paused is what a failed-over pair looks like: ' + c.j.postgres.line);
        // s2 is larger than one shell argument may be: psql gets it through a temporary file.
        ps.sql(`INSERT INTO memory_items (id, body)
          VALUES ('s1', 'written on the standby'), ('s2', '${'x'.repeat(120_000)}');
        INSERT INTO category_items VALUES ('s1', '${CAT}');
        INSERT INTO resources (url) VALUES ('standby-only');
        INSERT INTO ${ODDQ} VALUES (2, 'two');`);
      });

      test('the primary returns; failback --dry-run lists the rows per table and changes nothing', async () => {
        pp.start();
        await P().startSshd();
        const before = pp.rows('memory_items');
        const { code, j, raw } = await json(['failback', '--dry-run']);
        assert.equal(code, 0, raw);
        assert.deepEqual(
          j.postgres.map((l: string) => l.replace(/ \(\d+ equal\)/, '')),
          [
            'postgres memory_items: 2 row(s) standby -> primary, 0 primary -> standby',
            'postgres memory_categories: 0 row(s) standby -> primary, 0 primary -> standby',
            'postgres category_items: 1 row(s) standby -> primary, 0 primary -> standby',
            'postgres resources: 1 row(s) standby -> primary, 0 primary -> standby',
            'postgres alembic_version: 0 row(s) standby -> primary, 0 primary -> standby',
            `postgres ${ODD}: 1 row(s) standby -> primary, 0 primary -> standby`,
          ],
        );
        assert.deepEqual(pp.rows('memory_items'), before, 'the dry run changed nothing');
      });

      test('failback copies exactly the new rows, records them, and replication runs again', async () => {
        const before = pp.rows('memory_items');
        const { code, j, raw } = await json(['failback', '--yes']);
        assert.equal(code, 0, raw);
        const copy = pgStep(j, 'sync-back');
        assert.deepEqual(
          copy.tables.map((t: any) => t.toPrimary),
          [2, 0, 1, 1, 0, 1],
          copy.detail,
        );
        assert.match(pgStep(j, 'resume').detail, /replication resumed/);
        const fresh = (c: PgCluster) => c.rows('memory_items').filter((l) => !before.includes(l));
        assert.equal(fresh(pp).length, 2);
        assert.deepEqual(fresh(pp), fresh(ps), "exactly the standby's new rows, by content");
        assert.ok(equalRows(), 'both sides hold the same rows, compared by content');
        const hist = lab
          .history()
          .filter((h) => h.command === 'failback')
          .at(-1);
        assert.deepEqual(
          pgStep(hist, 'sync-back').tables.map((t: any) => t.toPrimary),
          [2, 0, 1, 1, 0, 1],
          'in history',
        );
        assert.equal(pp.sql(`SELECT count(*) FROM pg_tables WHERE tablename = 'memory_items'`), '1', 'no injection');
        // Replication runs again, primary -> standby, with no duplicate-key error from the copy.
        // Identity keys: the primary's sequence moved past the standby's rows, so this insert works
        // (and keeps working past postgres.sequenceGap inserts: the sequence is at the largest key).
        assert.equal(
          pp.sql(
            `SELECT pg_sequence_last_value(pg_get_serial_sequence('resources', 'id')::regclass) >= max(id) ` +
              'FROM resources',
          ),
          't',
          "the primary's sequence moved past the copied identity keys",
        );
        pp.sql(`INSERT INTO memory_items (id, body) VALUES ('p3', 'after failback');
          INSERT INTO resources (url) VALUES ('primary, after failback');`);
        await until(() => ps.sql(`SELECT count(*) FROM memory_items WHERE id = 'p3'`) === '1', 'a new row replicated');
        const c = await json(['check']);
        assert.equal(c.code, 0, c.raw);
        assert.equal(c.j.postgres.level, 'ok', c.j.postgres.line);
      });

      test('a rerun of the sync-back and resume moves nothing', async () => {
        for (const a of ['sync-back', 'resume'] as const) {
          const r = await postgresStep(config, a);
          assert.equal(r.ok, true, r.detail);
          assert.deepEqual(
            r.tables.map((t: any) => t.toPrimary + t.toStandby),
            [0, 0, 0, 0, 0, 0],
            r.detail,
          );
        }
        assert.equal(subEnabled(), 't');
        await until(equalRows, 'equal rows after the rerun');
      });

      test('a row changed on both sides is a conflict: failback stops, neither side is overwritten', async () => {
        const f = await json(['failover', '--yes']);
        assert.equal(f.code, 0, f.raw);
        ps.sql(`UPDATE memory_items SET body = 'standby version' WHERE id = 'm1'`);
        pp.sql(`UPDATE memory_items SET body = 'primary version' WHERE id = 'm1';
           INSERT INTO alembic_version VALUES ('def456');`);
        ps.sql(`INSERT INTO ${ODDQ} VALUES (3, 'three')`);
        const { code, j, raw } = await json(['failback', '--yes']);
        assert.equal(code, 2, raw);
        assert.match(j.summary, /FAILED at postgres: .*memory_items: .*1 CONFLICT\(S\) by key \["m1"\]/);
        assert.equal(lab.state().serving, 'standby', 'the standby keeps serving');
        assert.equal(pp.sql(`SELECT body FROM memory_items WHERE id = 'm1'`), 'primary version');
        assert.equal(ps.sql(`SELECT body FROM memory_items WHERE id = 'm1'`), 'standby version');
        assert.equal(pp.sql(`SELECT v FROM ${ODDQ} WHERE k = 3`), 'three', 'rows not in conflict are still copied');
        assert.equal(subEnabled(), 'f', 'replication stays paused');
      });

      test('resolved, failback finishes; then a disabled subscription makes check critical', async () => {
        ps.sql(`UPDATE memory_items SET body = 'primary version' WHERE id = 'm1'`);
        const b = await json(['failback', '--yes']);
        assert.equal(b.code, 0, b.raw);
        assert.equal(ps.sql(`SELECT count(*) FROM alembic_version WHERE version_num = 'def456'`), '1');
        await until(equalRows, 'equal rows after the conflict was resolved');
        ps.sql('ALTER SUBSCRIPTION memu_sub DISABLE');
        const r = await lab.hactl(['check']);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stdout, /^check: OK: .*; postgres: replication broken: subscription memu_sub is disabled/);
      });
    },
  );
}

scenario('native psql', false);
scenario('psql through a docker exec template', true);
