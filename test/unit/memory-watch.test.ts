// sync-memory --watch (issue 25): the cron line's choice, the window, when a cycle syncs, and the
// fingerprint script run by a real sh and GNU find on a scratch tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planJobs } from '../../dist/operator/schedule.js';
import {
  cronCadence,
  fingerprintScript,
  foldCycles,
  needsSync,
  scan,
  settled,
  unscannable,
  watchWindow,
} from '../../dist/memory/watch.js';
import { config } from './helpers.ts';

const memoryRun = (intervalMinutes: number, watchEvery?: number) =>
  planJobs({ memory: { enabled: true, intervalMinutes, watchEvery }, tiers: [] }).find(
    (j: { id: string }) => j.id === 'sync-memory',
  ).runs;

test('hactl cron watches when the sync runs every minute and memory.watchEvery is shorter', async () => {
  const c = await config();
  assert.equal(c.memory.watchEvery, 10, 'the default');
  assert.deepEqual(memoryRun(c.memory.interval / 60, c.memory.watchEvery), [['sync-memory', '--watch']]);
  assert.deepEqual(memoryRun(5, 10), [['sync-memory']], 'a longer interval: one sync per run');
  assert.deepEqual(memoryRun(1, 0), [['sync-memory']], 'watchEvery 0: no watch');
  assert.deepEqual(memoryRun(1, 60), [['sync-memory']], 'no scan fits inside the minute');
  assert.deepEqual(memoryRun(1), [['sync-memory']], 'no watchEvery given');
});

test('the window ends the run inside its cron cadence', () => {
  assert.equal(cronCadence(60), 60);
  assert.equal(cronCadence(90), 120, 'cron runs 1.5 min every 2 min');
  assert.equal(cronCadence(300), 300);
  assert.equal(watchWindow(60, 10), 50);
  assert.equal(watchWindow(60, 90), 0);
});

test('a cycle syncs first, on a failed scan, a changed role or print; a failed copy is retried', () => {
  const seen = { role: 'primary' as const, print: 'a' };
  assert.equal(needsSync(true, seen, 'primary', 'a'), true);
  assert.equal(needsSync(false, seen, 'primary', 'a'), false);
  assert.equal(needsSync(false, seen, 'primary', 'b'), true);
  assert.equal(needsSync(false, seen, 'standby', 'a'), true);
  assert.equal(needsSync(false, seen, 'primary', undefined), true);
  assert.equal(needsSync(false, undefined, 'primary', 'a'), true);
  // The host still down: a failed scan after a failed copy waits for the scan to answer again.
  assert.equal(needsSync(false, undefined, 'primary', undefined, 'failed'), false);
  assert.equal(needsSync(false, undefined, 'primary', 'a', 'failed'), true, 'the scan answers: retried');
  assert.equal(needsSync(true, undefined, 'primary', undefined, 'failed'), true, "a run's first cycle syncs");
  for (const k of ['ok', 'invalid', 'refused'] as const) assert.deepEqual(settled(k, 'primary', 'a'), seen);
  for (const k of ['failed', 'skipped', undefined] as const) assert.equal(settled(k, 'primary', 'a'), undefined);
  assert.equal(settled('ok', 'primary', undefined), undefined);
});

test('the run says the last synced cycle; all turned away is 75', () => {
  const c = (synced: boolean, exitCode: number, summary: string, busy = false) => ({
    atMs: 0,
    synced,
    exitCode,
    summary,
    ...(busy && { busy }),
  });
  const v = foldCycles(
    [c(true, 2, 'sync-memory: FAILED: x'), c(true, 0, 'sync-memory: 5 files'), c(false, 0, '')],
    30_000,
  );
  assert.equal(v.exitCode, 0);
  assert.match(v.summary, /^sync-memory --watch: 3 cycle\(s\) in 30 s, 2 synced; last: 5 files$/);
  const away = foldCycles([c(false, 75, 'memory.lock is held by pid 1', true)], 1000);
  assert.equal(away.exitCode, 75);
  assert.match(away.summary, /turned away by the memory lock: memory.lock is held by pid 1/);
});

test('the fingerprint moves on a write, a same-size rewrite with its mtime restored, a delete; not otherwise', () => {
  const home = mkdtempSync(join(tmpdir(), 'hactl-fp-'));
  try {
    const root = "mem o'ry $(x)";
    const d = join(home, root, 'workspace');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'a.md'), 'one\n');
    const print = () =>
      execFileSync('sh', ['-c', fingerprintScript(root)], { env: { ...process.env, HOME: home }, encoding: 'utf8' });
    const p0 = print();
    assert.match(p0, /^[0-9a-f]{32}\n$/);
    assert.equal(print(), p0, 'no change, the same print');
    const t = new Date('2026-01-01T00:00:00Z');
    writeFileSync(join(d, 'a.md'), 'two\n');
    utimesSync(join(d, 'a.md'), t, t);
    const p1 = print();
    assert.notEqual(p1, p0);
    writeFileSync(join(d, 'a.md'), 'six\n'); // same size
    utimesSync(join(d, 'a.md'), t, t); // mtime restored: the ctime still moves
    const p2 = print();
    assert.notEqual(p2, p1);
    rmSync(join(d, 'a.md'));
    assert.notEqual(print(), p2);
    assert.equal(
      execFileSync('sh', ['-c', fingerprintScript('absent')], {
        env: { ...process.env, HOME: home },
        encoding: 'utf8',
      }),
      'missing\n',
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('what no copy takes does not move the fingerprint: live SQLite files, their journals, the holding dir', () => {
  const home = mkdtempSync(join(tmpdir(), 'hactl-fp-'));
  try {
    const root = 'state.sqlite'; // the root's own name never meets a pattern
    const d = join(home, root, 'agents', 'joe');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'notes.md'), 'one\n');
    const print = () =>
      execFileSync('sh', ['-c', fingerprintScript(root)], { env: { ...process.env, HOME: home }, encoding: 'utf8' });
    const p0 = print();
    assert.match(p0, /^[0-9a-f]{32}\n$/);
    for (const f of ['agent.sqlite', 'agent.sqlite-wal', 'agent.sqlite-shm', 'agent.sqlite-journal']) {
      writeFileSync(join(d, f), 'live pages');
      assert.equal(print(), p0, `${f} written`);
    }
    mkdirSync(join(home, root, '.~tmp~'));
    writeFileSync(join(home, root, '.~tmp~', 'notes.md'), 'half');
    mkdirSync(join(d, 'cache.sqlite'));
    writeFileSync(join(d, 'cache.sqlite', 'inner.md'), 'x');
    // The root's mtime moved with the new entries above: the root itself is not in the print (".").
    assert.equal(print(), p0, 'the holding dir and a directory named like a database, with their content');
    writeFileSync(join(d, 'notes.md'), 'two\n');
    assert.notEqual(print(), p0, 'a memory file still moves it');
    mkdirSync(join(d, '.~tmp~-not'));
    writeFileSync(join(d, 'x.sqlite.md'), 'kept');
    const p1 = print();
    writeFileSync(join(d, 'x.sqlite.md'), 'moved');
    assert.notEqual(print(), p1, 'a name that only contains .sqlite is memory');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('a root with glob characters is never scanned: rsync would expand them, find would not', async () => {
  assert.equal(unscannable('mem[1]'), true);
  assert.equal(unscannable('.openclaw/*'), true);
  assert.equal(unscannable(".open claw/$(x)'"), false);
  const session = { run: () => assert.fail('no command is sent') } as never;
  const r = await scan(session, { memory: { root: 'mem?' }, thresholds: { commandTimeout: 5 } } as never);
  assert.equal(r.print, undefined);
  assert.match(r.problem!, /glob characters/);
});
