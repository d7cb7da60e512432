// OpenSSH connection sharing for rsync (src/adapters/ssh-master.ts), end to end: the built hactl, real
// rsync and ssh, real sshd hosts. A shared connection must never weaken the host-key check, and a master
// that died or hangs must never fail or hang a run. No timings here (bench/ has them).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Lab } from '../lab/lab.ts';
import { readMem, seedTree, writeMem } from '../lab/memory.ts';

let lab: Lab;
const P = () => lab.host('primary');
const S = () => lab.host('standby');
const cmDir = () => join(lab.dir, 'state', 'cm');
const sockets = () => (existsSync(cmDir()) ? readdirSync(cmDir()) : []);

/** The pid of the master behind a socket, from ssh itself (`-O check`), or 0. */
function masterPid(sock: string): number {
  const r = spawnSync('ssh', ['-F', 'none', '-o', `ControlPath=${sock}`, '-O', 'check', 'x'], { encoding: 'utf8' });
  return Number(/pid=(\d+)/.exec(r.stderr)?.[1] ?? 0);
}

before(async () => {
  lab = await Lab.start();
});
after(async () => {
  for (const s of sockets()) {
    const pid = masterPid(join(cmDir(), s));
    if (pid) process.kill(pid, 'SIGTERM');
  }
  await lab?.stop();
});
beforeEach(async () => {
  await lab.reset();
  lab.writeConfig({ memory: { deadline: 20 } });
  for (const h of [P(), S()]) rmSync(join(h.openclawDir, 'workspace'), { recursive: true, force: true });
  writeMem(P(), seedTree(5));
});

describe('sync-memory over a shared OpenSSH connection', () => {
  test('later runs reuse one master per host; a changed known_hosts or host key still fails', async () => {
    const r1 = await lab.hactl(['sync-memory']);
    assert.equal(r1.code, 0, r1.stdout + r1.stderr);
    assert.equal(sockets().length, 2, 'one master per host (primary, standby)');
    const pids = sockets().map((s) => masterPid(join(cmDir(), s)));
    assert.ok(
      pids.every((p) => p > 0),
      'both masters answer',
    );
    writeMem(P(), { 'workspace/memory/late.md': '# late\n' });
    const r2 = await lab.hactl(['sync-memory']);
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    assert.equal(readMem(S())['workspace/memory/late.md'], '# late\n');
    assert.deepEqual(
      sockets().map((s) => masterPid(join(cmDir(), s))),
      pids,
      'the same masters carried the second run',
    );

    // The operator's known_hosts now names another key for the primary, while its master still lives:
    // that master was trusted under the old file and must not carry this run.
    const saved = join(lab.dir, 'known_hosts.saved');
    execFileSync('cp', [join(lab.dir, 'known_hosts'), saved]);
    const other = join(lab.dir, 'other_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const otherKey = execFileSync('cat', [`${other}.pub`], { encoding: 'utf8' })
      .split(' ')
      .slice(0, 2)
      .join(' ');
    writeFileSync(
      join(lab.dir, 'known_hosts'),
      `[${P().address}]:${P().sshPort} ${otherKey}\n[${S().address}]:${S().sshPort} ${otherKey}\n`,
    );
    writeMem(P(), { 'workspace/memory/late.md': '# later\n' });
    const r3 = await lab.hactl(['sync-memory']);
    assert.equal(r3.code, 2, r3.stdout + r3.stderr);
    assert.match(r3.stdout + r3.stderr, /host key/i);
    assert.equal(readMem(S())['workspace/memory/late.md'], '# late\n', 'nothing copied past a failed host key');

    // The configured known_hosts again, but the primary's host key changed (a reinstalled host, an impostor).
    execFileSync('cp', [saved, join(lab.dir, 'known_hosts')]);
    await P().changeHostKey();
    const r4 = await lab.hactl(['sync-memory']);
    assert.equal(r4.code, 2, r4.stdout + r4.stderr);
    assert.match(r4.stdout + r4.stderr, /host key/i);
  });

  test('a master that was killed or hangs neither fails nor hangs the next run', async () => {
    const r1 = await lab.hactl(['sync-memory']);
    assert.equal(r1.code, 0, r1.stdout + r1.stderr);
    const [a, b] = sockets().map((s) => join(cmDir(), s));
    // a: the master died (SIGKILL): its socket stays, nobody listens.
    process.kill(masterPid(a!), 'SIGKILL');
    // b: something listens on the socket and never answers (a stopped or wedged master).
    const pidB = masterPid(b!);
    process.kill(pidB, 'SIGKILL');
    rmSync(b!, { force: true });
    const hung: Server = createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(b!, r));
    try {
      writeMem(P(), { 'workspace/memory/after.md': '# after\n' });
      const r2 = await lab.hactl(['sync-memory']);
      assert.equal(r2.code, 0, r2.stdout + r2.stderr);
      assert.equal(readMem(S())['workspace/memory/after.md'], '# after\n');
      assert.ok(masterPid(a!) > 0 && masterPid(b!) > 0, 'new masters took both places');
    } finally {
      hung.close();
    }
  });
});
