// ssh exits 255 when it fails and when the remote script does. Every script hactl runs on a host (over ssh2
// and over OpenSSH) prints its own status last on stderr, after a newline, with a marker made for that run
// (src/adapters/remote-run.ts), so that a script's 255 is never taken for a dead connection and a script
// cannot forge the line. Run here by a local sh, as sshd's shell would. The same behaviours over real sshd,
// through both transports: test/e2e/ssh-transports.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { exitStatusOf, newNonce, settleRun, withExitStatus } from '../../src/adapters/remote-run.ts';

const nonce = newNonce();
const sh = (script: string) => spawnSync('sh', ['-c', withExitStatus(script, nonce)], { encoding: 'utf8' });

for (const [script, code, said] of [
  ["echo 'Permission denied (publickey).' >&2; exit 255", 255, 'Permission denied (publickey).\n'],
  ["printf 'no newline at the end' >&2; exit 255", 255, 'no newline at the end'],
  ['echo out; exit 3', 3, ''],
  ['true', 0, ''],
] as const)
  test(`the script's own status comes through: ${script}`, () => {
    const r = sh(script);
    assert.equal(r.status, code);
    const s = exitStatusOf(r.stderr, nonce);
    assert.equal(s.status, code, r.stderr);
    assert.equal(s.stderr, said, 'the status line (and the newline before it) is not part of what the script said');
  });

test("no status line: ssh's own failure (its stderr kept whole)", () => {
  const stderr = 'ssh: connect to host 127.0.0.2 port 22: Connection refused\n';
  assert.deepEqual(exitStatusOf(stderr, nonce), { stderr });
  const r = settleRun({ transport: 'openssh', code: 255, stdout: '', stderr }, nonce);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.kind, 'unreachable');
});

test('a script that prints a marker of its own cannot pass for finished', () => {
  // It cannot know this run's nonce; the fixed part alone, or another run's nonce, is its own stderr.
  for (const fake of ['hactl-ssh-exit 0', `hactl-ssh-exit-${newNonce()} 0`]) {
    const r = sh(`printf '\\n%s\\n' '${fake}' >&2; exit 255`);
    const s = exitStatusOf(r.stderr, nonce);
    assert.equal(s.status, 255);
    assert.equal(s.stderr, `\n${fake}\n`);
    const lost = `\n${fake}\nclient_loop: send disconnect: Broken pipe\n`;
    assert.equal(settleRun({ transport: 'openssh', code: 255, stdout: '', stderr: lost }, nonce).ok, false);
  }
});
