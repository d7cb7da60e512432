// ssh exits 255 when it fails and when the remote script does. Every script hactl runs on a host (over ssh2
// and over OpenSSH) prints its own status last on stderr, after a newline, with a marker made for that run
// (src/adapters/remote-run.ts), so that a script's 255 is never taken for a dead connection and text that
// merely looks like the line is not taken for it. The nonce is on the shell's command line: a script that
// reads it there can forge its own status, no other run's (batched runs: ssh-mux.ts, and the e2e test).
// Run here by a local sh, as sshd's shell would. The same behaviours over real sshd,
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
  // It does not know this run's nonce by chance; the fixed part alone, or another run's nonce, is its own stderr.
  for (const fake of ['hactl-ssh-exit 0', `hactl-ssh-exit-${newNonce()} 0`]) {
    const r = sh(`printf '\\n%s\\n' '${fake}' >&2; exit 255`);
    const s = exitStatusOf(r.stderr, nonce);
    assert.equal(s.status, 255);
    assert.equal(s.stderr, `\n${fake}\n`);
    const lost = `\n${fake}\nclient_loop: send disconnect: Broken pipe\n`;
    assert.equal(settleRun({ transport: 'openssh', code: 255, stdout: '', stderr: lost }, nonce).ok, false);
  }
});

test('the nonce is no secret from the script: read from the command line, it forges its own status', () => {
  // The limit of the marker, said as it is: the script's shell holds the nonce in its command line.
  const r = sh(`tr '\\0' '\\n' </proc/$$/cmdline | grep -o 'hactl-ssh-exit-[0-9a-f]\\{16\\}' | head -n1 |
    while read -r m; do printf '\\n%s 0\\n' "$m" >&2; done; exec 2>/dev/null; kill -9 $$`);
  assert.equal(exitStatusOf(r.stderr, nonce).status, 0, r.stderr);
});
