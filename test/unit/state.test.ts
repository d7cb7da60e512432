// State files, the lock and known_hosts: the pieces that keep hactl from
// acting on a lie.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { readJson, writeJson } from '../../dist/state/files.js';
import { acquireLock, withFileLock } from '../../dist/state/lock.js';
import { spawn } from 'node:child_process';
import { ROOT } from '../lab/lab.ts';
import { knownKeysFor, verifyHostKey } from '../../dist/adapters/knownhosts.js';
import { initialState } from '../../dist/core/model.js';
import { StateError, LockedError } from '../../dist/errors.js';

const made: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'hactl-unit-'));
  made.push(d);
  return d;
};
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

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
    await assert.rejects(
      readJson(f, 'state'),
      (e: any) => e instanceof StateError && /state\.json/.test(e.message) && e.exitCode === 78,
    );
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
    assert.throws(
      () => acquireLock(d, 'cluster', 'hactl check', 60),
      (e: any) => e instanceof LockedError && /held by pid \d+ .*hactl failover/.test(e.message) && e.exitCode === 75,
    );
    a.release();
    acquireLock(d, 'cluster', 'hactl check', 60).release();
    // The file stays (flock: unlinking it would let a late opener lock a removed inode); it names nobody.
    assert.equal(readFileSync(join(d, 'cluster.lock'), 'utf8'), '');
  });
  test('a record left in the file decides nothing: an old holder on another host blocks nobody', () => {
    const d = tmp();
    writeFileSync(
      join(d, 'cluster.lock'),
      JSON.stringify({
        pid: process.pid,
        host: 'elsewhere',
        command: 'hactl failover',
        since: '2026-01-01T00:00:00Z',
        leaseUntil: new Date(Date.now() + 3600e3).toISOString(),
      }),
    );
    const l = acquireLock(d, 'cluster', 'hactl check', 60);
    assert.match(readFileSync(join(d, 'cluster.lock'), 'utf8'), /hactl check/);
    l.release();
  });
  test('a half-written record blocks nobody', () => {
    const d = tmp();
    writeFileSync(join(d, 'cluster.lock'), '{"pid":');
    acquireLock(d, 'cluster', 'hactl check', 60).release();
  });
});

/** A node child running `code` (ESM, with S = dist/state) until killed; resolves once it printed `ready`. */
function child(code: string): Promise<{ pid: number; kill(): Promise<void>; out: Promise<string> }> {
  const c = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const S = { ...await import('${ROOT}/dist/state/files.js'), ` +
        `...await import('${ROOT}/dist/state/lock.js') };\n${code}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const done = new Promise<string>((r) => c.on('close', () => r(out)));
  return new Promise((resolve) => {
    c.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready'))
        resolve({
          pid: c.pid!,
          out: done,
          kill: async () => {
            c.kill('SIGKILL');
            await done;
          },
        });
    });
    c.on('close', () => resolve({ pid: 0, out: done, kill: async () => undefined }));
  });
}

describe('lock after kill -9, past its lease', () => {
  test('a command lock whose holder was killed is taken over at once', async () => {
    const d = tmp();
    const c = await child(
      `S.acquireLock('${d}', 'cluster', 'hactl failover', 900); console.log('ready'); setInterval(() => {}, 1000);`,
    );
    assert.throws(() => acquireLock(d, 'cluster', 'hactl check', 60), LockedError);
    await c.kill();
    acquireLock(d, 'cluster', 'hactl check', 60).release();
  });
  test('a section lock (outbox, backup record) whose holder was killed is taken over at once', async () => {
    const d = tmp();
    const f = join(d, 'outbox.json');
    const c = await child(
      `await S.withFileLock('${f}', async () => { console.log('ready'); ` +
        'await new Promise(() => setInterval(() => {}, 1000)); });',
    );
    await assert.rejects(
      withFileLock(f, async () => 1, 100),
      LockedError,
    );
    await c.kill();
    assert.equal(await withFileLock(f, async () => 'mine', 100), 'mine');
  });
  test('temp files of a writer killed before its rename are removed by the next run', async () => {
    const d = tmp();
    const big = 'x'.repeat(4 << 20);
    let left: string[] = [];
    for (let i = 0; i < 30 && !left.length; i++) {
      const c = await child(
        `console.log('ready'); for (;;) ` +
          `S.writeJson('${d}/state.json', { version: 1, big: '${big.slice(0, 10)}'.repeat(400000) });`,
      );
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
      await c.kill();
      left = readdirSync(d).filter((n) => n.endsWith('.tmp'));
    }
    assert.ok(left.length, 'no kill landed between create and rename in 30 tries');
    acquireLock(d, 'cluster', 'hactl check', 60).release();
    assert.deepEqual(
      readdirSync(d).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });
  test('a lock held past its lease is still held (a lock lives as long as its holder)', async () => {
    const d = tmp();
    const c = await child(
      `S.acquireLock('${d}', 'backup', 'hactl backup-tier', 2); console.log('ready'); setInterval(() => {}, 1000);`,
    );
    try {
      await new Promise((r) => setTimeout(r, 3500)); // past the first lease of 2 s
      assert.throws(
        () => acquireLock(d, 'backup', 'hactl backup-tier', 60),
        (e: any) => e instanceof LockedError && /backup-tier/.test(e.message),
      );
    } finally {
      await c.kill();
    }
  });
  // 20 simultaneous takers under CPU stress: test/faults/lock-stress.test.ts.
});

describe('known_hosts', () => {
  const d = tmp();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'k1')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'k2')]);
  const pub = (n: string) =>
    readFileSync(join(d, `${n}.pub`), 'utf8')
      .split(' ')
      .slice(0, 2);
  const wire = (n: string) => Buffer.from(pub(n)[1]!, 'base64');

  test('[host]:port entries match only that port; the right key passes, another fails', () => {
    const kh = join(d, 'kh1');
    writeFileSync(kh, `[192.0.2.1]:2222 ${pub('k1').join(' ')}\n192.0.2.1 ${pub('k2').join(' ')}\n`);
    const keys = knownKeysFor(kh, '192.0.2.1', 2222);
    assert.equal(keys.length, 1);
    assert.equal(verifyHostKey(keys, wire('k1')).ok, true);
    assert.equal(verifyHostKey(keys, wire('k2')).ok, false);
    assert.equal(knownKeysFor(kh, '192.0.2.1', 22).length, 1);
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
    assert.equal(verifyHostKey(knownKeysFor(kh, '192.0.2.9', 22), wire('k1')).ok, false);
  });
  test('@revoked keys are refused even when listed', () => {
    const kh = join(d, 'kh4');
    writeFileSync(kh, `192.0.2.1 ${pub('k1').join(' ')}\n@revoked 192.0.2.1 ${pub('k1').join(' ')}\n`);
    assert.equal(verifyHostKey(knownKeysFor(kh, '192.0.2.1', 22), wire('k1')).ok, false);
  });
});

describe('method output', () => {
  test('the line that says why is kept, not the help footer', async () => {
    const { lastLine } = await import('../../dist/adapters/gateway.js');
    const out =
      '[openclaw] The CLI command failed.\n' +
      '[openclaw] Reason: service management skipped: non-default state dir\n' +
      '[openclaw] Try: openclaw doctor\n' +
      '[openclaw] Help: openclaw --help\n';
    assert.equal(lastLine(out), '[openclaw] Reason: service management skipped: non-default state dir');
    assert.equal(lastLine('Gateway service disabled.\n'), 'Gateway service disabled.');
    assert.equal(lastLine('one\ntwo\n'), 'two');
  });
});

describe("rsync's ssh", () => {
  test('reads no ssh_config: -F none, strict host keys, our key, known_hosts and BatchMode', async () => {
    const { sshArgv } = await import('../../dist/adapters/rsync.js');
    const argv = sshArgv(
      { name: 'h', address: '192.0.2.1', port: 2222, user: 'u', key: '/k', knownHosts: '/kh' } as any,
      5,
    );
    assert.deepEqual(argv.slice(0, 3), ['ssh', '-F', 'none']);
    for (const o of ['BatchMode=yes', 'StrictHostKeyChecking=yes', 'UserKnownHostsFile=/kh', 'ConnectTimeout=5'])
      assert.ok(argv.includes(o), o);
  });
});

describe('history appends a kill cannot cut', () => {
  test('a line that would cross a page boundary starts on the next page, behind empty lines', async () => {
    const { appendLine } = await import('../../dist/state/files.js');
    const dir = mkdtempSync(join(tmpdir(), 'hactl-hist-'));
    const file = join(dir, 'history.jsonl');
    try {
      appendLine(file, { pad: 'x'.repeat(4000) }); // 4011 bytes: the next line cannot fit in this page
      appendLine(file, { pad: 'y'.repeat(200) });
      const text = readFileSync(file, 'utf8');
      assert.equal(text.indexOf('{"pad":"y'), 4096, 'the second line starts the second page');
      assert.deepEqual(
        text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l).pad.length),
        [4000, 200],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a killed writer's half line is cut back; whole lines and a missing file are left alone", async () => {
    const { cutPartialTail } = await import('../../dist/state/files.js');
    const dir = mkdtempSync(join(tmpdir(), 'hactl-hist-'));
    const file = join(dir, 'history.jsonl');
    try {
      cutPartialTail(file);
      for (const [before, after] of [
        ['{"a":1}\n{"b":', '{"a":1}\n'],
        ['{"a":1}\n', '{"a":1}\n'],
        ['{"b":', ''],
        [`{"a":1}\n${'z'.repeat(9000)}`, '{"a":1}\n'],
      ]) {
        writeFileSync(file, before);
        cutPartialTail(file);
        assert.equal(readFileSync(file, 'utf8'), after, JSON.stringify(before.slice(0, 20)));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
