// State files, the lock and known_hosts: the pieces that keep hactl from
// acting on a lie.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { readJson, writeJson } from '../../dist/state/files.js';
import { acquireLock } from '../../dist/state/lock.js';
import { knownKeysFor, verifyHostKey } from '../../dist/adapters/knownhosts.js';
import { initialState } from '../../dist/core/model.js';
import { StateError, LockedError } from '../../dist/errors.js';

const made: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'hactl-unit-')); made.push(d); return d; };
after(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

describe('state files', () => {
  test('write is atomic: no temp file left, mode 0600, reads back', async () => {
    const d = tmp();
    const f = join(d, 'state.json');
    writeJson(f, initialState(new Date('2026-01-01T00:00:00Z')));
    assert.deepEqual(readdirSync(d), ['state.json']);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(f).mode & 0o777, 0o600);
    const st: any = await readJson(f, 'state');
    assert.equal(st.serving, 'primary');
  });
  test('a missing file is undefined (first run), a corrupt one is a StateError, never reset', async () => {
    const d = tmp();
    assert.equal(await readJson(join(d, 'none.json'), 'state'), undefined);
    const f = join(d, 'state.json');
    writeFileSync(f, '{"version":1,');
    await assert.rejects(readJson(f, 'state'), (e: any) => e instanceof StateError && /state\.json/.test(e.message) && e.exitCode === 78);
    assert.equal(readFileSync(f, 'utf8'), '{"version":1,');
  });
  test('a file that fails the schema is a StateError naming the key', async () => {
    const d = tmp();
    const f = join(d, 'state.json');
    writeFileSync(f, JSON.stringify({ ...initialState(new Date()), serving: 'nobody' }));
    await assert.rejects(readJson(f, 'state'), (e: any) => e instanceof StateError && /serving/.test(e.message));
  });
  test('an unknown version is refused', async () => {
    const d = tmp();
    const f = join(d, 'state.json');
    writeFileSync(f, JSON.stringify({ ...initialState(new Date()), version: 2 }));
    await assert.rejects(readJson(f, 'state'), (e: any) => e instanceof StateError && /version/.test(e.message));
  });
});

describe('lock', () => {
  test('a second holder is refused with the holder named; release frees it', () => {
    const d = tmp();
    const a = acquireLock(d, 'cluster', 'hactl failover', 60);
    assert.throws(() => acquireLock(d, 'cluster', 'hactl check', 60), (e: any) => e instanceof LockedError && /held by pid \d+ .*hactl failover/.test(e.message) && e.exitCode === 75);
    a.release();
    acquireLock(d, 'cluster', 'hactl check', 60).release();
    assert.equal(existsSync(join(d, 'cluster.lock')), false);
  });
  test('an expired lease is taken over', () => {
    const d = tmp();
    writeFileSync(join(d, 'cluster.lock'), JSON.stringify({ pid: process.pid, host: 'elsewhere', command: 'hactl failover', since: '2026-01-01T00:00:00Z', leaseUntil: '2026-01-01T00:15:00Z' }));
    const l = acquireLock(d, 'cluster', 'hactl check', 60);
    assert.match(readFileSync(join(d, 'cluster.lock'), 'utf8'), /hactl check/);
    l.release();
  });
  test('a dead holder on this machine is taken over', () => {
    const d = tmp();
    const hostname = () => execFileSync('hostname').toString().trim();
    writeFileSync(join(d, 'cluster.lock'), JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), command: 'hactl failover', since: new Date().toISOString(), leaseUntil: new Date(Date.now() + 3600e3).toISOString() }));
    acquireLock(d, 'cluster', 'hactl check', 60).release();
  });
  test('a half-written lock is held while fresh and stale when old', () => {
    const d = tmp();
    const f = join(d, 'cluster.lock');
    writeFileSync(f, '');
    assert.throws(() => acquireLock(d, 'cluster', 'hactl check', 60), LockedError);
    utimesSync(f, new Date(Date.now() - 60e3), new Date(Date.now() - 60e3));
    acquireLock(d, 'cluster', 'hactl check', 60).release();
  });
});

describe('known_hosts', () => {
  const d = tmp();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'k1')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'k2')]);
  const pub = (n: string) => readFileSync(join(d, `${n}.pub`), 'utf8').split(' ').slice(0, 2);
  const wire = (n: string) => Buffer.from(pub(n)[1]!, 'base64');

  test('[host]:port entries match only that port; the right key passes, another fails', () => {
    const kh = join(d, 'kh1');
    writeFileSync(kh, `[10.0.0.1]:2222 ${pub('k1').join(' ')}\n10.0.0.1 ${pub('k2').join(' ')}\n`);
    const keys = knownKeysFor(kh, '10.0.0.1', 2222);
    assert.equal(keys.length, 1);
    assert.equal(verifyHostKey(keys, wire('k1')).ok, true);
    assert.equal(verifyHostKey(keys, wire('k2')).ok, false);
    assert.equal(knownKeysFor(kh, '10.0.0.1', 22).length, 1);
  });
  test('hashed entries (ssh-keygen -H) match', () => {
    const kh = join(d, 'kh2');
    writeFileSync(kh, `pc1.lan ${pub('k1').join(' ')}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', kh]);
    assert.match(readFileSync(kh, 'utf8'), /^\|1\|/);
    assert.equal(verifyHostKey(knownKeysFor(kh, 'pc1.lan', 22), wire('k1')).ok, true);
    assert.equal(knownKeysFor(kh, 'pc2.lan', 22).length, 0);
  });
  test('no entry at all is a refusal, never trust on first use', () => {
    const kh = join(d, 'kh3');
    writeFileSync(kh, '');
    assert.equal(verifyHostKey(knownKeysFor(kh, '10.0.0.9', 22), wire('k1')).ok, false);
  });
  test('@revoked keys are refused even when listed', () => {
    const kh = join(d, 'kh4');
    writeFileSync(kh, `10.0.0.1 ${pub('k1').join(' ')}\n@revoked 10.0.0.1 ${pub('k1').join(' ')}\n`);
    assert.equal(verifyHostKey(knownKeysFor(kh, '10.0.0.1', 22), wire('k1')).ok, false);
  });
});

describe('method output', () => {
  test('the line that says why is kept, not the help footer', async () => {
    const { lastLine } = await import('../../dist/adapters/gateway.js');
    const out = '[openclaw] The CLI command failed.\n[openclaw] Reason: service management skipped: non-default state dir\n[openclaw] Try: openclaw doctor\n[openclaw] Help: openclaw --help\n';
    assert.equal(lastLine(out), '[openclaw] Reason: service management skipped: non-default state dir');
    assert.equal(lastLine('Gateway service disabled.\n'), 'Gateway service disabled.');
    assert.equal(lastLine('one\ntwo\n'), 'two');
  });
});
