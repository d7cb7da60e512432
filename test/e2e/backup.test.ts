// The backup chain end to end on three lab hosts (issue 4): server -> pca
// (rsync on pca pulls from server over SSH), pca -> pcb, and a witness-local
// source -> pcb. Real sshd, real rsync, real sqlite3. The clock is HACTL_NOW.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab.ts';
import { installHopKey, standInRsync } from '../lab/backup.ts';

let lab: Lab;
const H = (n: string) => lab.host(n);
const data = () => join(H('server').home, 'data');
const snapDir = (host: string, dir: string) => join(H(host).home, dir);
const snaps = (host: string, dir: string) =>
  existsSync(snapDir(host, dir))
    ? readdirSync(snapDir(host, dir))
        .filter((e) => /^\d{4}-\d\d-\d\dT\d{6}Z$/.test(e))
        .sort()
    : [];
const latest = (host: string, dir: string) => readlinkSync(join(snapDir(host, dir), 'latest'));
const at = (iso: string) => ({ HACTL_NOW: iso });
const ODD = '; $(touch /tmp/hactl-pwned-backup)';

function config(extra: Record<string, any> = {}) {
  // rsync runs on the destination host and pulls: its key and known_hosts live there.
  const viaPca = installHopKey(lab, 'pca', 'server');
  const viaPcb = installHopKey(lab, 'pcb', 'pca');
  return lab.writeConfig({
    pair: { primary: 'server', standby: 'pca' },
    memory: { enabled: false },
    backup: {
      tiers: [
        {
          name: 'server-to-pca',
          source: 'server:data',
          destination: 'pca:backups/server',
          via: viaPca,
          minFreeMB: 1,
          retention: { hourly: 24, daily: 7, weekly: 4 },
          ...(extra.t1 ?? {}),
        },
        {
          name: 'pca-to-pcb',
          source: 'pca:backups/server/latest',
          destination: 'pcb:backups/pca',
          upstream: 'server-to-pca',
          via: viaPcb,
          minFreeMB: 1,
          ...(extra.t2 ?? {}),
        },
        {
          name: 'local-to-pcb',
          source: join(lab.dir, 'witness data; $(touch /tmp/hactl-pwned-backup)'),
          destination: `pcb:backups/local${ODD}`,
          minFreeMB: 1,
          ...(extra.t3 ?? {}),
        },
        {
          name: 'odd-hop',
          source: `server:odd | data${ODD}`,
          destination: `pca:backups/odd${ODD}`,
          via: viaPca,
          minFreeMB: 1,
          sqlite: ['*.sqlite'],
        },
      ],
      ...(extra.backup ?? {}),
    },
  });
}

before(async () => {
  lab = await Lab.start([
    { name: 'server', address: '127.0.0.2' },
    { name: 'pca', address: '127.0.0.3' },
    { name: 'pcb', address: '127.0.0.4' },
  ]);
});
after(async () => {
  await lab?.stop();
});
beforeEach(async () => {
  await lab.reset();
  for (const h of ['server', 'pca', 'pcb']) rmSync(join(H(h).home, 'backups'), { recursive: true, force: true });
  rmSync(data(), { recursive: true, force: true });
  rmSync(join(H('server').home, `odd | data${ODD}`), { recursive: true, force: true });
  mkdirSync(join(data(), 'memory'), { recursive: true });
  writeFileSync(join(data(), 'MEMORY.md'), '# Memory\n- likes tea\n');
  writeFileSync(join(data(), 'memory', '2026-11-21.md'), 'yesterday\n');
  writeFileSync(join(data(), 'memory', 'big.bin'), Buffer.alloc(256 * 1024, 7));
  config();
});

describe('backup-tier', () => {
  test('end to end: a deleted file is restored from an earlier snapshot on every tier, byte for byte', async () => {
    const r1 = await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T10:00:00Z'));
    assert.equal(r1.code, 0, r1.stdout + r1.stderr);
    assert.match(r1.stdout, /^backup-tier server-to-pca: 2026-11-22T100000Z: 3 files/);
    const r2 = await lab.hactl(['backup-tier', 'pca-to-pcb'], at('2026-11-22T10:30:00Z'));
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    assert.equal(
      readFileSync(join(snapDir('pcb', 'backups/pca'), 'latest', 'MEMORY.md'), 'utf8'),
      '# Memory\n- likes tea\n',
    );

    // A mistake at the source: the file is gone, and the next hour carries that down the chain.
    rmSync(join(data(), 'MEMORY.md'));
    assert.equal((await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T11:00:00Z'))).code, 0);
    assert.equal((await lab.hactl(['backup-tier', 'pca-to-pcb'], at('2026-11-22T11:30:00Z'))).code, 0);
    assert.equal(existsSync(join(snapDir('pca', 'backups/server'), 'latest', 'MEMORY.md')), false);
    assert.equal(existsSync(join(snapDir('pcb', 'backups/pca'), 'latest', 'MEMORY.md')), false);

    // Yesterday's file is still on every tier.
    for (const [tier, snap] of [
      ['server-to-pca', '2026-11-22T100000Z'],
      ['pca-to-pcb', '2026-11-22T103000Z'],
    ] as const) {
      const to = join(lab.dir, `restored-${tier}`);
      const plan = await lab.hactl(['restore', tier, snap, 'MEMORY.md', '--to', to]);
      assert.equal(plan.code, 0, plan.stdout + plan.stderr);
      assert.match(plan.stdout, /would go to/);
      assert.equal(existsSync(join(to, 'MEMORY.md')), false, 'the plan copies nothing');
      const done = await lab.hactl(['restore', tier, snap, 'MEMORY.md', '--to', to, '--yes']);
      assert.equal(done.code, 0, done.stdout + done.stderr);
      assert.equal(readFileSync(join(to, 'MEMORY.md'), 'utf8'), '# Memory\n- likes tea\n');
    }
    // A whole-tree restore is byte-identical to the snapshot.
    const to = join(lab.dir, 'restored-all');
    assert.equal((await lab.hactl(['restore', 'pca-to-pcb', 'latest', '--to', to, '--yes'])).code, 0);
    assert.deepEqual(readFileSync(join(to, 'memory', 'big.bin')), readFileSync(join(data(), 'memory', 'big.bin')));

    const list = await lab.hactl(['backup-tier', '--list', '--json'], at('2026-11-22T12:00:00Z'));
    const j = JSON.parse(list.stdout);
    assert.deepEqual(
      j.tiers['server-to-pca'].map((s: any) => [s.name, s.latest, s.ageMin]),
      [
        ['2026-11-22T100000Z', false, 120],
        ['2026-11-22T110000Z', true, 60],
      ],
    );
    assert.equal(j.tiers['pca-to-pcb'][0].files, 3);
    const rec = JSON.parse(readFileSync(join(lab.dir, 'state', 'backup.json'), 'utf8'));
    assert.equal(rec.tiers['pca-to-pcb'].lastResult, 'ok');
    assert.equal(rec.tiers['pca-to-pcb'].files, 2);
    assert.ok(
      lab
        .history()
        .some((h) => h.command === 'backup-tier' && h.tier === 'server-to-pca' && typeof h.durationMs === 'number'),
    );
  });

  test('an unchanged source costs almost no disk: its files are hard links to the previous snapshot', async () => {
    assert.equal((await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T10:00:00Z'))).code, 0);
    assert.equal((await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T11:00:00Z'))).code, 0);
    const [a, b] = snaps('pca', 'backups/server');
    const s1 = statSync(join(snapDir('pca', 'backups/server'), a!, 'memory', 'big.bin'));
    const s2 = statSync(join(snapDir('pca', 'backups/server'), b!, 'memory', 'big.bin'));
    assert.equal(s1.ino, s2.ino, 'the same inode in both snapshots');
    assert.equal(s2.nlink, 2);
    assert.equal(statSync(join(snapDir('pca', 'backups/server'), b!, 'MEMORY.md')).nlink, 2);
  });

  test('retention prunes exactly what it should', async () => {
    config({ t1: { retention: { hourly: 2, daily: 2, weekly: 0 } } });
    for (const t of [
      '2026-11-20T10:00:00Z',
      '2026-11-20T11:00:00Z',
      '2026-11-20T12:00:00Z',
      '2026-11-21T09:00:00Z',
      '2026-11-21T10:00:00Z',
      '2026-11-22T08:00:00Z',
    ]) {
      const r = await lab.hactl(['backup-tier', 'server-to-pca'], at(t));
      assert.equal(r.code, 0, r.stdout);
    }
    // hourly 2: 22T08, 21T10; daily 2: the newest of 22 and 21 (the same two).
    assert.deepEqual(snaps('pca', 'backups/server'), ['2026-11-21T100000Z', '2026-11-22T080000Z']);
    assert.equal(latest('pca', 'backups/server'), '2026-11-22T080000Z');
  });

  test('issue 24 #8: 2nd run in the hour prunes nothing; --list prints to a pipe; unknown name named', async () => {
    const run = async (t: string) => {
      const r = await lab.hactl(['backup-tier', 'server-to-pca'], at(t));
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return r.stdout;
    };
    assert.match(await run('2026-11-22T10:00:00Z'), /pruned 0/);
    assert.match(await run('2026-11-22T10:20:00Z'), /pruned 0/);
    assert.deepEqual(snaps('pca', 'backups/server'), ['2026-11-22T100000Z', '2026-11-22T102000Z']);
    // The hour is over: only its newest stays.
    assert.match(await run('2026-11-22T11:00:00Z'), /pruned 1/);
    assert.deepEqual(snaps('pca', 'backups/server'), ['2026-11-22T102000Z', '2026-11-22T110000Z']);

    const list = await lab.hactl(['backup-tier', '--list', 'server-to-pca'], at('2026-11-22T11:30:00Z'));
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.equal(lines[0], 'server-to-pca (pca:backups/server):');
    assert.match(lines[1]!, /^ {2}2026-11-22T102000Z {10}\s+70 min\s+.* 3 files$/);
    assert.match(lines[2]!, /^ {2}2026-11-22T110000Z \(latest\)\s+30 min/);
    assert.equal(lines.at(-1), 'backup-tier --list: server-to-pca: 2 snapshot(s), latest 2026-11-22T110000Z');

    const to = join(lab.dir, 'restored');
    const r = await lab.hactl(['restore', 'server-to-pca', '2026-11-22T103000Z', '--to', to]);
    assert.equal(r.code, 66, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        String.raw`tier server-to-pca has no snapshot 2026-11-22T103000Z at pca:backups/server; ` +
          String.raw`nearest: 2026-11-22T102000Z, 2026-11-22T110000Z`,
      ),
    );
    assert.doesNotMatch(r.stderr, /no such file or directory/);
    const j = JSON.parse(
      (await lab.hactl(['restore', 'server-to-pca', '2026-11-22T103000Z', '--to', to, '--json'])).stdout,
    );
    assert.match(j.error.message, /nearest: 2026-11-22T102000Z/);
    assert.equal(j.error.code, 'input-missing');
  });

  test('issue 24 #1: keys, known_hosts at paths with spaces, quotes, $, %: backups and restore work', async () => {
    const odd = `keys dir/it's "ours" $HOME 100%`;
    const dir = join(lab.dir, odd);
    mkdirSync(dir, { recursive: true });
    const key = join(dir, 'my key');
    copyFileSync(join(lab.dir, 'client_ed25519'), key);
    chmodSync(key, 0o600);
    const knownHosts = join(dir, 'known hosts');
    copyFileSync(join(lab.dir, 'known_hosts'), knownHosts);
    // The hop's own key and known_hosts on pca, moved to odd paths there too.
    const via = installHopKey(lab, 'pca', 'server');
    const hop = { key: `.ssh/${odd}/hop key`, knownHosts: `.ssh/${odd}/known hosts` };
    mkdirSync(join(H('pca').home, '.ssh', odd), { recursive: true });
    renameSync(join(H('pca').home, via.key), join(H('pca').home, hop.key));
    renameSync(join(H('pca').home, via.knownHosts), join(H('pca').home, hop.knownHosts));
    const local = join(lab.dir, 'witness src');
    mkdirSync(local, { recursive: true });
    writeFileSync(join(local, 'note.md'), 'from the witness\n');
    const paths = { key, knownHosts };
    lab.writeConfig({
      pair: { primary: 'server', standby: 'pca' },
      memory: { enabled: false },
      hosts: { server: paths, pca: paths, pcb: paths },
      backup: {
        tiers: [
          { name: 'local', source: local, destination: 'pcb:backups/local copy', minFreeMB: 1 },
          { name: 'hop', source: 'server:data', destination: 'pca:backups/hop', via: hop, minFreeMB: 1 },
        ],
      },
    });
    for (const tier of ['local', 'hop']) {
      const r = await lab.hactl(['backup-tier', tier], at('2026-11-22T10:00:00Z'));
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    assert.equal(
      readFileSync(join(snapDir('pcb', 'backups/local copy'), 'latest', 'note.md'), 'utf8'),
      'from the witness\n',
    );
    assert.equal(
      readFileSync(join(snapDir('pca', 'backups/hop'), 'latest', 'MEMORY.md'), 'utf8'),
      '# Memory\n- likes tea\n',
    );
    const to = join(lab.dir, 'restored here');
    const back = await lab.hactl(['restore', 'hop', 'latest', 'MEMORY.md', '--to', to, '--yes']);
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.equal(readFileSync(join(to, 'MEMORY.md'), 'utf8'), '# Memory\n- likes tea\n');
  });

  test('a run killed half-way leaves the previous snapshot as the latest and nothing partial visible', async () => {
    const src = join(lab.dir, `witness data${ODD}`);
    const local = snapDir('pcb', `backups/local${ODD}`);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.md'), 'a\n');
    assert.equal((await lab.hactl(['backup-tier', 'local-to-pcb'], at('2026-11-22T10:00:00Z'))).code, 0);
    writeFileSync(join(src, 'b.md'), 'b\n');
    writeFileSync(join(src, 'held.bin'), 'the part not copied yet\n');
    // hactl's rsync is a stand-in: the real one copies all but held.bin, then it waits until it is killed.
    const standIn = standInRsync(lab.dir, 'held.bin');
    try {
      let settled = false;
      const run = lab.hactl(['backup-tier', 'local-to-pcb'], { ...at('2026-11-22T11:00:00Z'), ...standIn.env });
      void run.then(() => {
        settled = true;
      });
      // Waits for the stand-in to say it is there (an event, not a time): bounded in count, and by the run's end.
      for (let i = 0; i < 3000 && !settled && !existsSync(standIn.pidFile); i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.ok(existsSync(standIn.pidFile), 'the stand-in rsync ran and holds the copy half-way');
      assert.equal(
        readFileSync(join(local, '.incomplete-2026-11-22T110000Z', 'b.md'), 'utf8'),
        'b\n',
        'half a copy is there',
      );
      process.kill(Number(readFileSync(standIn.pidFile, 'utf8')), 'SIGKILL');
      const r = await run;
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stdout, /FAILED: rsync killed by SIGKILL.*; 2026-11-22T100000Z stays the latest/);
      assert.equal(latest('pcb', `backups/local${ODD}`), '2026-11-22T100000Z');
      assert.deepEqual(snaps('pcb', `backups/local${ODD}`), ['2026-11-22T100000Z']);
      assert.deepEqual(
        readdirSync(local).filter((e) => e.startsWith('.')),
        [],
        'the partial copy is gone',
      );
      assert.match(lab.telegram.texts().join('\n'), /backup tier local-to-pcb failed/);
    } finally {
      standIn.release();
      rmSync(src, { recursive: true, force: true });
    }
  });

  test('symlinks in the source: every snapshot passes its count check on every kind of hop (issue 11 #3)', async () => {
    symlinkSync('MEMORY.md', join(data(), 'link.md'));
    symlinkSync('/nowhere/at/all', join(data(), 'memory', 'dangling'));
    execFileSync('mkfifo', [join(data(), 'memory', 'pipe')]);
    for (const t of ['2026-11-22T10:00:00Z', '2026-11-22T11:00:00Z']) {
      const r = await lab.hactl(['backup-tier', 'server-to-pca'], at(t));
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    assert.match((await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T11:00:00Z'))).stdout, /: 6 files, /);
    const hop = await lab.hactl(['backup-tier', 'pca-to-pcb'], at('2026-11-22T11:30:00Z'));
    assert.equal(hop.code, 0, hop.stdout + hop.stderr);
    assert.equal(readlinkSync(join(snapDir('pcb', 'backups/pca'), 'latest', 'link.md')), 'MEMORY.md');
    const src = join(lab.dir, `witness data${ODD}`);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.md'), 'a\n');
    symlinkSync('a.md', join(src, 'b.md'));
    try {
      for (const t of ['2026-11-22T10:00:00Z', '2026-11-22T11:00:00Z']) {
        const r = await lab.hactl(['backup-tier', 'local-to-pcb'], at(t));
        assert.equal(r.code, 0, r.stdout + r.stderr);
      }
      const list = JSON.parse((await lab.hactl(['backup-tier', '--list', 'local-to-pcb', '--json'])).stdout);
      assert.deepEqual(
        list.tiers['local-to-pcb'].map((x: any) => x.files),
        [2, 2],
        'counted by the same rule in --list',
      );
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  test('names that start with a dash: a source, a destination and a SQLite database (issue 11 #5)', async () => {
    const src = join(H('server').home, '-data');
    const dst = join(H('pca').home, '-snaps');
    mkdirSync(join(src, '-sub'), { recursive: true });
    writeFileSync(join(src, '-sub', '-a.md'), 'a\n');
    execFileSync('sqlite3', [join(src, '-x.sqlite'), 'CREATE TABLE t(v); INSERT INTO t VALUES (7);']);
    config({ t1: { source: 'server:-data', destination: 'pca:-snaps', sqlite: ['*.sqlite'] } });
    try {
      for (const t of ['2026-11-22T10:00:00Z', '2026-11-22T11:00:00Z']) {
        const r = await lab.hactl(['backup-tier', 'server-to-pca'], at(t));
        assert.equal(r.code, 0, r.stdout + r.stderr);
      }
      const copy = join(dst, 'latest', '.hactl-sqlite', '-x.sqlite');
      assert.equal(execFileSync('sqlite3', [copy, 'SELECT v FROM t;'], { encoding: 'utf8' }).trim(), '7');
      assert.equal(existsSync(join(dst, 'latest', '-x.sqlite')), false, 'the live database is not copied');
      const list = JSON.parse((await lab.hactl(['backup-tier', '--list', 'server-to-pca', '--json'])).stdout);
      assert.equal(list.tiers['server-to-pca'].length, 2);
      const to = join(lab.dir, 'restored-dash');
      // A PATH that starts with a dash comes after '--', as for any command line.
      const r = await lab.hactl(['restore', 'server-to-pca', 'latest', '--to', to, '--yes', '--', '-sub/-a.md']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(readFileSync(join(to, '-a.md'), 'utf8'), 'a\n');
    } finally {
      rmSync(src, { recursive: true, force: true });
      rmSync(dst, { recursive: true, force: true });
    }
  });

  test('restore never writes outside --to: links in the snapshot, and in the path to --to (issue 11 #4)', async () => {
    const outside = join(lab.dir, 'outside');
    rmSync(outside, { recursive: true, force: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'x.md'), 'not in any snapshot\n');
    symlinkSync(outside, join(data(), 'escape'));
    symlinkSync('../../..', join(data(), 'memory', 'up'));
    symlinkSync('2026-11-21.md', join(data(), 'memory', 'today.md'));
    assert.equal((await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T10:00:00Z'))).code, 0);
    const to = join(lab.dir, 'restored-links');
    // The whole snapshot: the links that point out are left out, and named; the one inside is restored.
    const whole = await lab.hactl(['restore', 'server-to-pca', 'latest', '--to', to, '--yes']);
    assert.equal(whole.code, 1, whole.stdout + whole.stderr);
    assert.match(whole.stdout, /2 link\(s\) pointing outside left out \(escape, memory\/up\)/);
    assert.equal(existsSync(join(to, 'escape')) || existsSync(join(to, 'memory', 'up')), false);
    assert.equal(readlinkSync(join(to, 'memory', 'today.md')), '2026-11-21.md');
    // A PATH through a link in the snapshot is refused, not followed.
    const through = await lab.hactl([
      'restore',
      'server-to-pca',
      'latest',
      'escape/x.md',
      '--to',
      join(lab.dir, 'r2'),
      '--yes',
    ]);
    assert.equal(through.code, 64, through.stdout + through.stderr);
    assert.match(through.stderr, /passes through .*\/escape, a symbolic link in the snapshot/);
    // --to through a link (one a careless restore could have planted) is refused.
    symlinkSync(outside, join(to, 'planted'));
    const via = await lab.hactl([
      'restore',
      'server-to-pca',
      'latest',
      'memory',
      '--to',
      join(to, 'planted', 'sub'),
      '--yes',
    ]);
    assert.equal(via.code, 64, via.stdout + via.stderr);
    assert.match(via.stderr, /passes through .*planted, a symbolic link \(to .*outside\)/);
    // A folder in DEST that is a link out is replaced by the restored folder, never followed.
    const to3 = join(lab.dir, 'restored-over-link');
    mkdirSync(to3);
    symlinkSync(outside, join(to3, 'memory'));
    const over = await lab.hactl(['restore', 'server-to-pca', 'latest', 'memory', '--to', to3, '--yes']);
    assert.equal(over.code, 1, over.stdout + over.stderr);
    assert.equal(lstatSync(join(to3, 'memory')).isDirectory(), true);
    assert.deepEqual(readdirSync(outside), ['x.md'], 'nothing was written outside');
  });

  test('restore never writes into the snapshots of a tier kept on the witness', async () => {
    const src = join(lab.dir, `witness data${ODD}`);
    const kept = join(lab.dir, 'local-snaps');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.md'), 'a\n');
    config({ t3: { destination: kept } });
    try {
      assert.equal((await lab.hactl(['backup-tier', 'local-to-pcb'], at('2026-11-22T10:00:00Z'))).code, 0);
      const into = await lab.hactl([
        'restore',
        'local-to-pcb',
        'latest',
        '--to',
        join(kept, '2026-11-22T100000Z', 'sub'),
        '--yes',
      ]);
      assert.equal(into.code, 64, into.stdout + into.stderr);
      assert.match(into.stderr, /is inside the tier's snapshots/);
      assert.deepEqual(readdirSync(join(kept, '2026-11-22T100000Z')), ['a.md'], 'the snapshot is untouched');
    } finally {
      rmSync(src, { recursive: true, force: true });
      rmSync(kept, { recursive: true, force: true });
    }
  });

  test('a run past its deadline is stopped: the previous snapshot stays latest, none partial in --list', async () => {
    const src = join(lab.dir, `witness data${ODD}`);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.md'), 'a\n');
    assert.equal((await lab.hactl(['backup-tier', 'local-to-pcb'], at('2026-11-22T10:00:00Z'))).code, 0);
    writeFileSync(join(src, 'held.bin'), 'never copied\n');
    // A stand-in rsync that never finishes (it waits on a FIFO): only the deadline can end it.
    const standIn = standInRsync(lab.dir, 'held.bin');
    config({ backup: { deadline: 1 } });
    try {
      const r = await lab.hactl(['backup-tier', 'local-to-pcb'], { ...at('2026-11-22T11:00:00Z'), ...standIn.env });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /FAILED: no result within the 1 s deadline; rsync was stopped; 2026-11-22T100000Z stays the latest/,
      );
      assert.equal(latest('pcb', `backups/local${ODD}`), '2026-11-22T100000Z');
      const list = JSON.parse((await lab.hactl(['backup-tier', '--list', 'local-to-pcb', '--json'])).stdout);
      assert.deepEqual(
        list.tiers['local-to-pcb'].map((x: any) => x.name),
        ['2026-11-22T100000Z'],
      );
    } finally {
      standIn.release();
      rmSync(src, { recursive: true, force: true });
    }
  });

  test('guards: a missing or empty source and a free-space floor are refused with an alert; none pruned', async () => {
    assert.equal((await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T10:00:00Z'))).code, 0);
    rmSync(data(), { recursive: true });
    const missing = await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T11:00:00Z'));
    assert.equal(missing.code, 2);
    assert.match(missing.stdout, /REFUSED: source server:data is missing/);
    mkdirSync(join(data(), 'memory'), { recursive: true });
    const empty = await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T12:00:00Z'));
    assert.equal(empty.code, 2);
    assert.match(empty.stdout, /REFUSED: source server:data is empty/);
    assert.deepEqual(snaps('pca', 'backups/server'), ['2026-11-22T100000Z']);
    writeFileSync(join(data(), 'x.md'), 'x\n');
    config({ t1: { minFreeMB: 1e9 } });
    const full = await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T13:00:00Z'));
    assert.equal(full.code, 2);
    assert.match(full.stdout, /REFUSED: \d+ MB free at pca:backups\/server, below the floor/);
    const texts = lab.telegram.texts();
    assert.ok(texts.some((t) => /refused: source server:data is missing/.test(t)));
    assert.ok(texts.some((t) => /refused: only \d+ MB free/.test(t)));
    // The same refusal an hour later (other numbers) is not alerted again.
    assert.equal((await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T14:00:00Z'))).code, 2);
    assert.equal(lab.telegram.texts().filter((t) => /refused: only \d+ MB free/.test(t)).length, 1);
  });

  test(
    'a hop whose destination does not answer fails, says which host, and the run ends',
    { timeout: 120_000 },
    async () => {
      assert.equal((await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T10:00:00Z'))).code, 0);
      await H('pcb').stopSshd();
      try {
        // Both ends are hosts: pca's session opens, pcb's is refused. A session left open would keep
        // hactl alive after its summary (the test's timeout then fails it).
        const r = await lab.hactl(['backup-tier', 'pca-to-pcb'], at('2026-11-22T10:30:00Z'));
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, /pcb/);
        assert.ok(!(r.stdout + r.stderr).includes('    at '), 'no stack trace');
      } finally {
        await H('pcb').startSshd();
      }
    },
  );

  test('an upstream tier without a fresh snapshot is a warning; hactl check reports an overdue tier', async () => {
    const r = await lab.hactl(['backup-tier', 'pca-to-pcb'], at(new Date().toISOString()));
    assert.equal(r.code, 2, 'no upstream snapshot at all: the source is missing');
    assert.equal(
      (await lab.hactl(['backup-tier', 'server-to-pca'], at(new Date(Date.now() - 5 * 3600e3).toISOString()))).code,
      0,
    );
    const w = await lab.hactl(['backup-tier', 'pca-to-pcb'], at(new Date().toISOString()));
    assert.equal(w.code, 1, w.stdout);
    assert.match(w.stdout, /WARNING: .*upstream tier server-to-pca has no fresh snapshot/);
    const c = await lab.hactl(['check']);
    assert.match(c.stdout, /backup tier server-to-pca overdue: last good snapshot 300 min ago/);
  });

  test('SQLite databases are copied consistently while written to, and the copy opens', async () => {
    mkdirSync(join(data(), 'state'), { recursive: true });
    const db = join(data(), 'state', 'openclaw.sqlite');
    execFileSync('sqlite3', [db, 'PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);']);
    // A writer like the gateway: one long-lived connection that keeps writing until the snapshot is made
    // (its own process group, stopped by its pid). While it is open, the live database has a -wal file.
    const writer = spawn(
      'sh',
      [
        '-c',
        '{ echo "PRAGMA busy_timeout=5000;"; ' +
          'while :; do echo "INSERT INTO t(v) VALUES (hex(randomblob(512)));"; sleep 0.005; done; } | sqlite3 "$0"',
        db,
      ],
      { stdio: 'ignore', detached: true },
    );
    const rows = () =>
      Number(
        execFileSync('sqlite3', [db, 'PRAGMA busy_timeout=5000; SELECT count(*) FROM t;'], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop(),
      );
    for (let i = 0; i < 500 && (rows() < 20 || !existsSync(`${db}-wal`)); i++)
      await new Promise((res) => setTimeout(res, 20));
    assert.equal(existsSync(`${db}-wal`), true, 'the live database is in WAL mode, with an open writer');
    config({ t1: { sqlite: ['state/*.sqlite'] } });
    const r = await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T10:00:00Z'));
    assert.equal(writer.exitCode, null, 'still writing when the snapshot was made');
    process.kill(-writer.pid!, 'SIGKILL');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const snap = join(snapDir('pca', 'backups/server'), 'latest');
    assert.equal(existsSync(join(snap, 'state', 'openclaw.sqlite')), false, 'the live database is not copied');
    assert.equal(existsSync(join(snap, 'state', 'openclaw.sqlite-wal')), false);
    const copy = join(snap, '.hactl-sqlite', 'state', 'openclaw.sqlite');
    assert.equal(execFileSync('sqlite3', [copy, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim(), 'ok');
    assert.ok(
      Number(execFileSync('sqlite3', [copy, 'SELECT count(*) FROM t;'], { encoding: 'utf8' }).trim()) >= 20,
      'the copy holds the rows written before the backup',
    );
    // A database that is gone leaves no stale copy in the next snapshot.
    for (const x of ['', '-wal', '-shm']) rmSync(`${db}${x}`, { force: true });
    assert.equal((await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T11:00:00Z'))).code, 0);
    assert.equal(existsSync(join(snap, '.hactl-sqlite', 'state', 'openclaw.sqlite')), false);
  });

  test('a witness-local source with shell characters in its path: copied, nothing injected', async () => {
    rmSync('/tmp/hactl-pwned-backup', { force: true });
    const src = join(lab.dir, 'witness data; $(touch /tmp/hactl-pwned-backup)');
    mkdirSync(join(src, "it's | `odd`"), { recursive: true });
    writeFileSync(join(src, "it's | `odd`", '-rf $(touch x).md'), 'safe\n');
    const r = await lab.hactl(['backup-tier', 'local-to-pcb'], at('2026-11-22T10:00:00Z'));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(
      readFileSync(join(snapDir('pcb', `backups/local${ODD}`), 'latest', "it's | `odd`", '-rf $(touch x).md'), 'utf8'),
      'safe\n',
    );
    // The witness pushes to pcb with the guards in rsync's own connection: a second run links, the floor refuses.
    assert.equal((await lab.hactl(['backup-tier', 'local-to-pcb'], at('2026-11-22T11:00:00Z'))).code, 0);
    const local = snapDir('pcb', `backups/local${ODD}`);
    assert.deepEqual(snaps('pcb', `backups/local${ODD}`), ['2026-11-22T100000Z', '2026-11-22T110000Z']);
    assert.equal(
      statSync(join(local, '2026-11-22T110000Z', "it's | `odd`", '-rf $(touch x).md')).nlink,
      2,
      'hard-linked to the previous snapshot',
    );
    config({ t3: { minFreeMB: 1e9 } });
    const full = await lab.hactl(['backup-tier', 'local-to-pcb'], at('2026-11-22T12:00:00Z'));
    assert.equal(full.code, 2, full.stdout);
    assert.match(full.stdout, /REFUSED: \d+ MB free at pcb:backups\/local; .*below the floor/);
    assert.equal(latest('pcb', `backups/local${ODD}`), '2026-11-22T110000Z');
    assert.deepEqual(
      readdirSync(local).filter((e) => e.startsWith('.')),
      [],
      'nothing half-made left behind',
    );
    config();
    // Between two remote hosts (rsync on pca pulls from server), with a SQLite copy made on server.
    const odd = join(H('server').home, `odd | data${ODD}`);
    mkdirSync(join(odd, "a'b"), { recursive: true });
    writeFileSync(join(odd, "a'b", '$(id).md'), 'remote\n');
    execFileSync('sqlite3', [join(odd, 'x; y.sqlite'), 'CREATE TABLE t(v); INSERT INTO t VALUES (1);']);
    const h = await lab.hactl(['backup-tier', 'odd-hop'], at('2026-11-22T10:00:00Z'));
    assert.equal(h.code, 0, h.stdout + h.stderr);
    const hop = join(snapDir('pca', `backups/odd${ODD}`), 'latest');
    assert.equal(readFileSync(join(hop, "a'b", '$(id).md'), 'utf8'), 'remote\n');
    assert.equal(
      execFileSync('sqlite3', [join(hop, '.hactl-sqlite', 'x; y.sqlite'), 'SELECT v FROM t;'], {
        encoding: 'utf8',
      }).trim(),
      '1',
    );
    assert.equal((await lab.hactl(['backup-tier', '--list'])).code, 0);
    assert.equal(existsSync('/tmp/hactl-pwned-backup'), false);
    const to = join(lab.dir, 'r; $(touch /tmp/hactl-pwned-backup)');
    assert.equal((await lab.hactl(['restore', 'local-to-pcb', 'latest', "it's | `odd`", '--to', to, '--yes'])).code, 0);
    assert.equal(readFileSync(join(to, "it's | `odd`", '-rf $(touch x).md'), 'utf8'), 'safe\n');
    assert.equal(existsSync('/tmp/hactl-pwned-backup'), false);
  });

  test('usage: unknown tier 78, no name 64, restore of a missing path 66, --dry-run changes nothing', async () => {
    assert.equal((await lab.hactl(['backup-tier', 'nope'])).code, 78);
    const first = await lab.hactl(['backup-tier', 'server-to-pca', '--dry-run'], at('2026-11-22T09:00:00Z'));
    assert.equal(first.code, 0, first.stdout);
    assert.match(first.stdout, /\(first snapshot\)/);
    assert.equal(existsSync(snapDir('pca', 'backups/server')), false, 'a dry run creates nothing, not even the folder');
    assert.equal((await lab.hactl(['backup-tier'])).code, 64);
    assert.equal((await lab.hactl(['backup-tier', 'server-to-pca'], at('2026-11-22T10:00:00Z'))).code, 0);
    assert.equal(
      (await lab.hactl(['restore', 'server-to-pca', 'latest', 'no/such', '--to', join(lab.dir, 'x')])).code,
      66,
    );
    const d = await lab.hactl(['backup-tier', 'server-to-pca', '--dry-run'], at('2026-11-22T11:00:00Z'));
    assert.equal(d.code, 0);
    assert.match(
      d.stdout,
      new RegExp(
        String.raw`would snapshot server:data to pca:backups/server/2026-11-22T110000Z ` +
          String.raw`\(unchanged files hard-linked to 2026-11-22T100000Z\)`,
      ),
    );
    assert.deepEqual(snaps('pca', 'backups/server'), ['2026-11-22T100000Z']);
  });
});
