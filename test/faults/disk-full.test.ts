// Disk full in the state directory (a 256 KiB tmpfs mounted by the test, as
// root): a clear error naming the file and the fix, the previous state intact,
// whole history lines only, no temp file left; `hactl check` says it in one line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendLine, readJson, writeJson } from '../../dist/state/files.js';
import { initialState } from '../../dist/core/model.js';
import { Lab } from '../lab/lab.ts';

const mnt = mkdtempSync(join(tmpdir(), 'hactl-full-'));
let lab: Lab;
before(async () => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mnt]);
  lab = await Lab.start();
});
after(async () => {
  // First the lab: its hosts' connections go, and with them the OpenSSH masters check leaves (their
  // sockets are in the state dir on this mount and keep it busy until they exit).
  await lab?.stop();
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
      break;
    } catch {
      execFileSync('sleep', ['0.1']); // busy for a moment more, or not mounted
    }
  }
  rmSync(mnt, { recursive: true, force: true });
});

/** Fill the file system with one file until ENOSPC. */
function fill(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}

test('state modules: ENOSPC is one clear error and the previous version is kept', async () => {
  const dir = join(mnt, 'state-modules');
  mkdirSync(dir);
  const st = initialState(new Date('2026-12-01T00:00:00Z'));
  writeJson(join(dir, 'state.json'), st);
  appendLine(join(dir, 'history.jsonl'), { run: 1 });
  fill(dir);
  try {
    assert.throws(
      () => writeJson(join(dir, 'state.json'), { ...st, level: 'critical', pad: 'x'.repeat(8192) }),
      (e: any) =>
        e.exitCode === 2 && /state\.json: cannot write: no space left/.test(e.message) && /free space/.test(e.hint),
    );
    assert.deepEqual(await readJson(join(dir, 'state.json'), 'state'), st);
    // Larger than what is left of the history's last page: the append needs a block it cannot get.
    assert.throws(
      () => appendLine(join(dir, 'history.jsonl'), { run: 2, pad: 'y'.repeat(6000) }),
      /history\.jsonl: cannot write: no space left/,
    );
    assert.equal(readFileSync(join(dir, 'history.jsonl'), 'utf8'), '{"run":1}\n');
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.endsWith('.tmp')),
      [],
    );
  } finally {
    rmSync(join(dir, 'filler'));
  }
});

test('hactl check on a full state directory: exit 2, one line naming the file and the fix, state intact', async () => {
  const stateDir = join(mnt, 'cli');
  lab.writeConfig({ stateDir });
  await lab.host('primary').startGateway();
  const first = await lab.hactl(['check']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const before = readFileSync(join(stateDir, 'state.json'), 'utf8');
  fill(stateDir);
  await lab.host('primary').kill(); // the next check has news to record
  const r = await lab.hactl(['check']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /no space left on .*cli/);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace without --debug');
  assert.equal(readFileSync(join(stateDir, 'state.json'), 'utf8'), before);
  assert.deepEqual(
    readdirSync(stateDir).filter((n) => n.endsWith('.tmp')),
    [],
  );
});
