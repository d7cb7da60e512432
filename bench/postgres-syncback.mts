/* eslint-disable max-len -- generated step script and Markdown rows */
// Issue 23 item 8: PostgreSQL sync-back of 100k changed rows (~49 MB) against a
// raw `psql \copy` over two ssh pipes doing the same copy, side by side,
// alternating, on the lab's real sshd and two real PostgreSQL clusters.
//   node --import tsx bench/postgres-syncback.mts [runs]      (bash scripts/bench postgres-syncback)
// 1. raw: ssh standby 'psql -c "\copy (new rows) to stdout"' | ssh primary 'psql -c "\copy t from stdin"'
//    into a scratch database on the primary (same table);
// 2. hactl: failback's sync-back step alone (postgres/run.ts syncBack, in a child process: its peak
//    RSS is the witness's): the primary's digests and the fence's base go into the standby's psql,
//    which compares there and streams the selected rows to the primary; then the rows are
//    deleted from the primary again for the next run;
// 3. once: a whole `hactl failback --yes`, its steps' times (the downtime breakdown in docs/postgres.md).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, ROOT, TOKEN } from '../test/lab/lab.ts';
import { PgCluster, psqlArgv, setupReplication } from '../test/lab/postgres.ts';
import { sshArgv } from '../src/adapters/rsync.ts';
import { controlPathFor } from '../src/adapters/ssh-master.ts';
import { loadConfig } from '../src/config/load.ts';

const RUNS = Number(process.argv[2] ?? 3);
const ROWS = 100_000;
const SCHEMA = `
CREATE TABLE memory_items (id uuid PRIMARY KEY, body text NOT NULL, meta jsonb,
  created timestamptz NOT NULL DEFAULT now(), embedding float8[]);
CREATE TABLE resources (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, url text);`;
const lab = await Lab.start();
const [pp, ps] = await Promise.all([PgCluster.create('primary'), PgCluster.create('standby')]);
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  setupReplication(pp, ps, SCHEMA);
  const file = lab.writeConfig({
    postgres: {
      hosts: { primary: { psql: psqlArgv(pp) }, standby: { psql: psqlArgv(ps) } },
      tables: [
        { name: 'memory_items', key: ['id'] },
        { name: 'resources', key: ['id'] },
      ],
      timeout: 600,
    },
    memory: { enabled: false },
  });
  const env = { ...process.env, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: file };
  const hactl = (args: string[]) => {
    const r = spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, join(ROOT, 'bin/hactl'), ...args], {
      env,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    return { code: r.status, stdout: r.stdout, rss: Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024 };
  };
  await lab.host('primary').startGateway();
  pp.sql(
    `INSERT INTO memory_items (id, body) SELECT gen_random_uuid(), 'before ' || g FROM generate_series(1, 1000) g`,
  );
  for (let i = 0; i < 100 && ps.sql('SELECT count(*) FROM memory_items') !== '1000'; i++)
    await new Promise((r) => setTimeout(r, 200));
  await lab.host('primary').kill();
  pp.stopSync('fast');
  const f = hactl(['failover', '--yes', '--json']);
  if (f.code !== 0) throw new Error(`failover: ${f.stdout}`);
  // 100k rows written while the standby serves, ~490 bytes each (~49 MB), multi-byte text among them.
  ps.sql(`INSERT INTO memory_items (id, body, meta, embedding)
    SELECT gen_random_uuid(), 'bench ' || g || ' ' || repeat('memory of a conversation é€😀 ', 12),
      jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b')), ARRAY[g * 0.5, g * 0.25, 1e-7]
    FROM generate_series(1, ${ROWS}) g`);
  const mb = Number(ps.sql(`SELECT sum(pg_column_size(m)) FROM memory_items m WHERE body LIKE 'bench %'`)) / 1e6;
  pp.start();
  await lab.host('primary').startSshd();
  pp.sql('CREATE DATABASE rawcopy', 'postgres');
  pp.sql(SCHEMA, 'rawcopy');

  const cfg = lab.config();
  const ssh = (h: string) => [...sshArgv({ ...cfg.hosts[h], name: h }, 10), cfg.hosts[h].address].join(' ');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const psqlOn = (c: PgCluster, db: string, cmd: string) =>
    `psql -X -q -h 127.0.0.1 -p ${c.port} -U postgres -d ${db} -c ${q(cmd)}`;
  const rawCmd =
    `${ssh('standby')} ${q(psqlOn(ps, 'memu', "\\copy (SELECT * FROM memory_items WHERE body LIKE 'bench %') to stdout"))}` +
    ` | ${ssh('primary')} ${q(psqlOn(pp, 'rawcopy', '\\copy memory_items from stdin'))}`;
  const raw = () => {
    pp.sql('TRUNCATE memory_items', 'rawcopy');
    const t = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', 'bash', '-o', 'pipefail', '-c', rawCmd], {
      encoding: 'utf8',
    });
    const took = ms(t);
    if (r.status !== 0) throw new Error(`raw copy: ${r.stderr}`);
    const n = pp.sql('SELECT count(*) FROM memory_items', 'rawcopy');
    if (n !== String(ROWS)) throw new Error(`raw copy: ${n} rows`);
    return { ms: took, rss: Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024 };
  };
  const stepScript = join(lab.dir, 'step.mjs');
  writeFileSync(
    stepScript,
    `import { loadConfig } from ${JSON.stringify(join(ROOT, 'dist/config/load.js'))};
import { syncBack } from ${JSON.stringify(join(ROOT, 'dist/postgres/run.js'))};
import { readFileSync } from 'node:fs';
// What failback's sync-back step does (steps.ts postgresStep).
const at = [performance.now()];
const config = await loadConfig(process.argv[2]);
at.push(performance.now());
const { outcome: o } = await syncBack(config, 'copy');
at.push(performance.now());
const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
console.log(JSON.stringify({ error: o.error, phases: at.slice(1).map((t, i) => Math.round(t - at[i])), hwmKb: hwm }));
process.exit(o.error ? 2 : 0);\n`,
  );
  // Cold: no OpenSSH master open (each run pays its handshakes, as the raw copy does); warm: the masters
  // the cold run left (as in a failback, where the memory sync opened them a moment before).
  const config = await loadConfig(file);
  const stopMasters = () => {
    for (const h of ['primary', 'standby']) {
      const cp = controlPathFor(config.stateDir, { ...cfg.hosts[h], name: h } as never);
      if (cp) spawnSync('ssh', ['-o', `ControlPath=${cp}`, '-O', 'exit', 'x'], { stdio: 'ignore' });
    }
  };
  const resumeScript = join(lab.dir, 'resume.mjs');
  writeFileSync(
    resumeScript,
    `import { loadConfig } from ${JSON.stringify(join(ROOT, 'dist/config/load.js'))};
import { syncBack } from ${JSON.stringify(join(ROOT, 'dist/postgres/run.js'))};
const config = await loadConfig(process.argv[2]);
const t = performance.now();
const { outcome: o } = await syncBack(config, 'resume');
console.log(JSON.stringify({ error: o.error, ms: Math.round(performance.now() - t) }));
process.exit(o.error ? 2 : 0);\n`,
  );
  const step = (cold: boolean) => {
    if (cold) stopMasters();
    const t = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, stepScript, file], {
      env,
      encoding: 'utf8',
    });
    const took = ms(t);
    if (r.status !== 0) throw new Error(`sync-back: ${r.stdout}${r.stderr}`);
    const phases = JSON.parse(r.stdout).phases as number[];
    if (process.env.BENCH_DEBUG) console.error(r.stdout);
    const n = pp.sql(`SELECT count(*) FROM memory_items WHERE body LIKE 'bench %'`);
    if (n !== String(ROWS)) throw new Error(`sync-back: ${n} rows on the primary`);
    pp.sql(`DELETE FROM memory_items WHERE body LIKE 'bench %'`);
    return { ms: took, rss: Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024, phases };
  };
  const rawRuns: Array<{ ms: number; rss: number }> = [];
  const stepRuns: Array<{ ms: number; rss: number; phases: number[] }> = [];
  const warmRuns: typeof stepRuns = [];
  for (let i = 0; i < RUNS; i++) {
    rawRuns.push(raw());
    stepRuns.push(step(true));
    warmRuns.push(step(false));
  }
  const r = median(rawRuns.map((x) => x.ms));
  const s = median(stepRuns.map((x) => x.ms));
  const w = median(warmRuns.map((x) => x.ms));
  console.log(`${ROWS} changed rows, ${mb.toFixed(1)} MB on disk, ${RUNS} alternating runs each (medians)\n`);
  console.log('| | time | peak RSS on the witness |\n|---|---|---|');
  console.log(
    `| raw \`psql \\copy\` over two ssh pipes | ${(r / 1000).toFixed(2)} s | ${Math.max(...rawRuns.map((x) => x.rss)).toFixed(0)} MB (largest process) |`,
  );
  console.log(
    `| hactl sync-back step, no OpenSSH master open (two handshakes, as raw) | ${(s / 1000).toFixed(2)} s | ${Math.max(...stepRuns.map((x) => x.rss)).toFixed(0)} MB |`,
  );
  console.log(`| ratio, cold | ${(s / r).toFixed(2)}x | |`);
  console.log(
    `| hactl sync-back step, the masters open (as after failback's memory sync) | ${(w / 1000).toFixed(2)} s | ${Math.max(...warmRuns.map((x) => x.rss)).toFixed(0)} MB |`,
  );
  console.log(`| ratio, warm | ${(w / r).toFixed(2)}x | |`);
  const ph = (i: number, runs = stepRuns) => median(runs.map((x) => x.phases[i]!));
  console.log(
    `\nhactl's step, median phases (cold / warm): loading the config ${ph(0)} / ${ph(0, warmRuns)} ms; ` +
      `the copy (primary's columns and digests into the standby's psql with the base, compare there, COPY ` +
      `stream, sequences) ${ph(1)} / ${ph(1, warmRuns)} ms; the rest of the wall time is node starting`,
  );
  // The whole failback once: its steps, for the downtime breakdown.
  const b = hactl(['failback', '--yes', '--json']);
  const j = JSON.parse(b.stdout);
  if (b.code !== 0) throw new Error(`failback: ${j.summary}`);
  const steps = j.steps as Array<{ op: string; role?: string; detail: string; ms: number }>;
  const from = steps.findIndex((x) => x.op === 'stop');
  const down = steps.slice(from, steps.findIndex((x) => x.op === 'verify') + 1).reduce((a, x) => a + x.ms, 0);
  console.log(`\nhactl failback --yes: exit ${b.code}, peak RSS ${b.rss.toFixed(0)} MB (the whole failback)\n`);
  console.log('| step | ms | the bot |\n|---|---|---|');
  steps.forEach((x, i) =>
    console.log(
      `| ${x.op}${x.role ? ` ${x.role}` : ''}: ${x.detail.slice(0, 90)} | ${x.ms} | ${i >= from && x.op !== 'record' ? 'down' : 'up'} |`,
    ),
  );
  console.log(`\ndowntime (stop to verify): ${(down / 1000).toFixed(2)} s`);
  // The resume's comparison alone (both sides now equal, 101k rows each: what the resume compares), for the breakdown.
  const cmp = spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, resumeScript, file], {
    env,
    encoding: 'utf8',
  });
  if (cmp.status !== 0) throw new Error(`resume comparison: ${cmp.stdout}${cmp.stderr}`);
  const cj = JSON.parse(cmp.stdout);
  console.log(
    `the resume's comparison alone (both directions, 0 rows to move): ${(cj.ms / 1000).toFixed(2)} s, ` +
      `peak RSS ${(Number(/maxrss_kb=(\d+)/.exec(cmp.stderr)?.[1] ?? 0) / 1024).toFixed(0)} MB`,
  );
} finally {
  pp.destroy();
  ps.destroy();
  await lab.stop();
}
