// The in-process lock (native/flock.c, issue 25) and flock(1) are one lock: a lock taken one way
// refuses the other, both ways, whichever hactl took it (an older hactl, or one built without a C
// compiler, takes its locks with flock(1) only). The flock(1) way runs in a child from a copy of
// dist/ without dist/native/, as such a build would; util-linux flock(1) itself stands for the others.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { acquireLock, lockMechanism, withFileLock } from '../../dist/state/lock.js';
import { observeStatus } from '../../dist/operator/status-observe.js';

const DIST = new URL('../../dist/', import.meta.url).pathname;
const made: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'hactl-locknative-'));
  made.push(d);
  return d;
};
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A child that holds `lock` until its stdin closes, by `argv`; resolves once it says it holds it. */
async function holder(argv: string[]): Promise<ChildProcess> {
  const c = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(c);
  const first = await new Promise<string>((resolve) => {
    createInterface({ input: c.stdout! }).once('line', resolve);
    c.once('close', (code) => resolve(`closed ${code}`));
  });
  assert.equal(first, 'held');
  return c;
}
const closed = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('close', () => r())));

/** flock(1) holding `file`, as an older hactl holds it. */
const flock1 = (file: string) => holder(['flock', '-x', file, 'sh', '-c', 'echo held; read x']);

/** A hactl built without the addon: the lock module of a copy of dist/ that has no native/. */
function flock1Build(): string {
  const d = tmp();
  cpSync(DIST, join(d, 'dist'), { recursive: true, filter: (src) => !/\/dist\/(bundle|native)(\/|$)/.test(src) });
  assert.equal(existsSync(join(d, 'dist/native')), false);
  return join(d, 'dist/state/lock.js');
}

/** `code` in a child importing the lock module `mod` as L; its stdout lines. */
function inChild(mod: string, code: string): string[] {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const L = await import('${mod}');\n${code}`], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

describe('the in-process lock and flock(1) are one lock', () => {
  test('this build takes its locks in process (the lab has a C compiler: scripts/setup.sh)', () => {
    assert.equal(lockMechanism(), 'flock(2) in process');
  });

  test('held by flock(1): the in-process take is refused (75, naming it); free again once it ends', async () => {
    const dir = tmp();
    const c = await flock1(join(dir, 'cluster.lock'));
    assert.throws(
      () => acquireLock(dir, 'cluster', 'hactl failover'),
      (e: Error & { exitCode?: number }) => e.exitCode === 75 && /cluster\.lock is held/.test(e.message),
    );
    c.stdin!.end();
    await closed(c);
    acquireLock(dir, 'cluster', 'hactl failover').release();
  });

  test('held in process: flock(1) is refused, and takes it once released', () => {
    const dir = tmp();
    const lock = acquireLock(dir, 'cluster', 'hactl check');
    const busy = spawnSync('flock', ['-x', '-n', '-E', '75', join(dir, 'cluster.lock'), 'true']);
    assert.equal(busy.status, 75);
    lock.release();
    const free = spawnSync('flock', ['-x', '-n', '-E', '75', join(dir, 'cluster.lock'), 'true']);
    assert.equal(free.status, 0);
  });

  test('a build without the addon takes them with flock(1), and both builds refuse each other', () => {
    const mod = flock1Build();
    const dir = tmp();
    // The other build, alone: flock(1), and it works.
    const take = `L.acquireLock(${JSON.stringify(dir)}, 'cluster', 'x')`;
    const [how, alone] = inChild(mod, `console.log(L.lockMechanism()); ${take}.release(); console.log('ok');`);
    assert.equal(how, 'flock(1)');
    assert.equal(alone, 'ok');
    // Held here, in process: the other build is refused.
    const lock = acquireLock(dir, 'cluster', 'hactl check');
    const [refused] = inChild(mod, `try { ${take}; console.log('got'); } catch (e) { console.log(e.exitCode); }`);
    assert.equal(refused, '75');
    lock.release();
  });

  test('held by the flock(1) build: refused here', async () => {
    const mod = flock1Build();
    const dir = tmp();
    const code = `L.acquireLock(${JSON.stringify(dir)}, 'memory', 'x'); console.log('held');
      process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
    const c = await holder([
      process.execPath,
      '--input-type=module',
      '-e',
      `const L = await import('${mod}');\n${code}`,
    ]);
    assert.throws(() => acquireLock(dir, 'memory', 'hactl sync-memory'), /memory\.lock is held by pid/);
    c.stdin!.end();
    await closed(c);
    acquireLock(dir, 'memory', 'hactl sync-memory').release();
  });

  test('a section held by flock(1): the in-process try is refused, then the wait (flock(1)) gets it', async () => {
    const dir = tmp();
    const file = join(dir, 'outbox.json');
    const c = await flock1(`${file}.lock`);
    let ran = false;
    const section = withFileLock(file, async () => (ran = true), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ran, false, 'the section ran while flock(1) held its lock');
    c.stdin!.end();
    await section;
    assert.equal(ran, true);
  });

  test('the addon answers the errno: a closed descriptor is EBADF, not "held by another"', () => {
    const m = { exports: {} as { tryLock(fd: unknown): number } };
    process.dlopen(m, join(DIST, 'native/flock.node'));
    const fd = openSync(join(tmp(), 'x.lock'), 'w');
    assert.equal(m.exports.tryLock(fd), 0);
    closeSync(fd);
    assert.equal(m.exports.tryLock(fd), constants.errno.EBADF);
    assert.throws(() => m.exports.tryLock('3'), TypeError);
    assert.throws(() => m.exports.tryLock(-1), TypeError);
  });
});

describe("status names the locks held now, by the kernel's word", () => {
  const config = (stateDir: string) =>
    ({ stateDir, pair: { primary: 'a', standby: 'b' }, memory: {}, backup: { tiers: [] } }) as never;
  const locks = async (dir: string) =>
    (await observeStatus(config(dir), new Date())).locks.map((l: { name: string; pid: number }) => [l.name, l.pid]);

  test('held here and by a child: named; a holder killed with its record left, and a released one: not', async () => {
    const dir = tmp();
    const here = acquireLock(dir, 'cluster', 'hactl check');
    const mod = join(DIST, 'state/lock.js');
    const take = `L.acquireLock(${JSON.stringify(dir)}, 'backup-t1', 'x')`;
    const code = `${take}; console.log('held'); process.stdin.resume();`;
    const killed = await holder([
      process.execPath,
      '--input-type=module',
      '-e',
      `const L = await import('${mod}');\n${code}`,
    ]);
    const other = await holder([
      process.execPath,
      '--input-type=module',
      '-e',
      `const L = await import('${mod}');\n${code.replace('backup-t1', 'memory')}`,
    ]);
    assert.deepEqual(await locks(dir), [
      ['backup-t1', killed.pid],
      ['cluster', process.pid],
      ['memory', other.pid],
    ]);
    killed.kill('SIGKILL'); // its record stays in backup-t1.lock; the kernel frees the lock
    await closed(killed);
    here.release();
    assert.deepEqual(await locks(dir), [['memory', other.pid]]);
    other.stdin!.end();
    other.kill('SIGKILL');
    await closed(other);
    assert.deepEqual(await locks(dir), []);
  });
});
