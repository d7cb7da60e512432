// sync-memory --watch end to end (issue 25, RPO with the primary's host dead): the built hactl, real
// rsync over real sshd on 127.0.0.2 (primary) / 127.0.0.3 (standby). rsync runs are counted by a
// wrapper first on PATH (local runs only: the remote side's --server runs are not the witness's),
// never by timing.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Lab } from '../lab/lab.ts';
import { readMem, seedTree, writeMem } from '../lab/memory.ts';

let lab: Lab;
const P = () => lab.host('primary');
const S = () => lab.host('standby');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let bin: string;
const count = () => join(lab.dir, 'rsync-runs.log');
const failFlag = () => join(lab.dir, 'rsync-fail');
/** The witness's rsync runs so far (the wrapper's log). */
const rsyncRuns = () => (existsSync(count()) ? readFileSync(count(), 'utf8').split('\n').filter(Boolean).length : 0);
const withWrapper = () => ({ PATH: `${bin}:${process.env.PATH}` });

before(async () => {
  lab = await Lab.start();
  bin = join(lab.dir, 'wrapped-bin');
  mkdirSync(bin, { recursive: true });
  const real = execFileSync('sh', ['-c', 'command -v rsync'], { encoding: 'utf8' }).trim();
  const w = join(bin, 'rsync');
  writeFileSync(
    w,
    '#!/bin/sh\n' +
      `echo run >> '${count()}'\n` +
      `if [ -e '${failFlag()}' ]; then echo 'rsync: connection unexpectedly closed (lab)' >&2; exit 12; fi\n` +
      `exec '${real}' "$@"\n`,
  );
  chmodSync(w, 0o755);
});
after(async () => {
  await lab?.stop();
});
beforeEach(async () => {
  await lab.reset();
  rmSync(count(), { force: true });
  rmSync(failFlag(), { force: true });
  for (const h of [P(), S()]) {
    for (const d of ['workspace', 'agents', 'openclaw.json'])
      rmSync(join(h.openclawDir, d), { recursive: true, force: true });
    for (const d of readdirSync(h.home).filter((n) => n.startsWith('-oc')))
      rmSync(join(h.home, d), { recursive: true, force: true });
  }
});

const syncLines = () => lab.history().filter((h) => h.command === 'sync-memory');

describe('sync-memory --watch', () => {
  test('a change written on the primary after the first cycle reaches the standby within the same run', async () => {
    writeMem(P(), seedTree(5));
    const run = lab.hactl(['sync-memory', '--watch', '--every', '0.3s', '--window', '15s']);
    // Bounded: the watch's first cycle (a whole sync) is recorded, then an agent writes a note.
    for (let i = 0; i < 400 && syncLines().length === 0; i++) await sleep(50);
    const [first] = syncLines();
    assert.ok(first, 'the watch recorded its first cycle');
    assert.equal(first.exitCode, 0, JSON.stringify(first));
    assert.equal(readMem(S())['workspace/memory/late.md'], undefined, 'not there before it is written');
    writeMem(P(), { 'workspace/memory/late.md': 'written after the first cycle\n' });
    const r = await run;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 1, 'one summary line under cron');
    assert.match(r.stdout, /^sync-memory --watch: \d+ cycle\(s\) in \d+ s, ([2-9]|\d{2,}) synced/);
    assert.equal(readMem(S())['workspace/memory/late.md'], 'written after the first cycle\n');
    const lines = syncLines();
    assert.ok(lines.length >= 2, 'a second sync ran');
    assert.deepEqual(new Set(lines.map((h) => h.pid)), new Set([first.pid]), 'every sync by the one watch run');
  });

  test('no change on the primary: the scans run no rsync after the first cycle', async () => {
    writeMem(P(), seedTree(5));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    // What one plain no-change run costs in rsync runs.
    const before = rsyncRuns();
    const plain = await lab.hactl(['sync-memory'], withWrapper());
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    const one = rsyncRuns() - before;
    assert.ok(one >= 1, 'the wrapper counts the plain run');
    const r = await lab.hactl(['sync-memory', '--watch', '--every', '0.2s', '--window', '3s', '--json'], withWrapper());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout);
    assert.ok(j.cycles.length >= 3, `several cycles ran: ${JSON.stringify(j.cycles)}`);
    assert.equal(j.cycles.filter((c: { synced: boolean }) => c.synced).length, 1, 'only the first cycle synced');
    assert.deepEqual(
      j.cycles.filter((c: { scan?: string }) => c.scan),
      [],
      'every scan gave a fingerprint',
    );
    // The first cycle syncs under the memory lock, and ends at its scan: the plain run before found this
    // very tree and recorded its print (issue 25). So the whole watch runs no rsync.
    assert.match(j.cycles[0].summary, /its fingerprint/, JSON.stringify(j.cycles[0]));
    assert.equal(rsyncRuns() - before - one, 0, 'no rsync in the watch: the first cycle ended at its scan');
  });

  test('a failing cycle is retried each cycle and alerted once', async () => {
    writeMem(P(), seedTree(5));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    writeFileSync(failFlag(), '');
    const r = await lab.hactl(['sync-memory', '--watch', '--every', '0.2s', '--window', '3s', '--json'], withWrapper());
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout);
    const failed = j.cycles.filter((c: { synced: boolean; exitCode: number }) => c.synced && c.exitCode === 2);
    assert.ok(failed.length >= 2, `a failed copy is tried again at the next cycle: ${JSON.stringify(j.cycles)}`);
    // Held twice: memory.json's fold sends a problem once, and the alert lifecycle holds a repeat.
    const alerts = lab.telegram.texts().filter((t) => /^\[lab\] 🟡 memory sync failed/.test(t));
    assert.equal(alerts.length, 1, lab.telegram.texts().join('\n'));
    assert.match(alerts[0]!, /exit 12|connection unexpectedly closed/);
    // The recovery is said once too.
    rmSync(failFlag());
    writeMem(P(), { 'workspace/memory/after.md': 'after the failure\n' });
    const ok = await lab.hactl(['sync-memory', '--watch', '--every', '0.2s', '--window', '1s'], withWrapper());
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(readMem(S())['workspace/memory/after.md'], 'after the failure\n');
    assert.equal(lab.telegram.texts().filter((t) => /memory sync OK again/.test(t)).length, 1);
  });
});
