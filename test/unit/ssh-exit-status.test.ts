// ssh exits 255 when it fails and when the remote script does. Scripts run over OpenSSH (check's probes
// through a master, backup's count check and commit) print their own status last on stderr, so that a
// script's 255 is never taken for a dead connection. Run here by a local sh, as sshd's shell would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { exitStatusOf, withExitStatus } from '../../src/adapters/ssh-master.ts';

const sh = (script: string) => spawnSync('sh', ['-c', withExitStatus(script)], { encoding: 'utf8' });

for (const [script, code, said] of [
  ["echo 'Permission denied (publickey).' >&2; exit 255", 255, 'Permission denied (publickey).\n'],
  ['echo out; exit 3', 3, ''],
  ['true', 0, ''],
] as const)
  test(`the script's own status comes through: ${script}`, () => {
    const r = sh(script);
    assert.equal(r.status, code);
    const s = exitStatusOf(r.stderr);
    assert.equal(s.finished, true, r.stderr);
    assert.equal(s.stderr, said, 'the status line is not part of what the script said');
  });

test("no status line: ssh's own failure (its stderr kept whole)", () => {
  const stderr = 'ssh: connect to host 127.0.0.2 port 22: Connection refused\n';
  assert.deepEqual(exitStatusOf(stderr), { finished: false, stderr });
  // A script that prints something like the line itself, then dies with its connection, is not "finished".
  assert.equal(exitStatusOf('hactl-ssh-exit 0\nclient_loop: send disconnect: Broken pipe\n').finished, false);
});
