// The lab's own promise, tested: a host it kills (stopSshd: sshd and its connections) keeps no SSH
// connection, also one that was being accepted at that moment. A connection that outlived the kill (hactl's
// background ControlMaster, connecting as a check exited) made the "dead" primary reachable through it, and
// the split-brain case saw no failover in CI (test/lab/lab.ts frozenSessions).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Lab } from '../lab/lab.ts';

let lab: Lab;
before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});

/** An ssh client whose command ends by itself (0) unless its connection dies first (255). */
function client(): Promise<number | null> {
  const h = lab.host('primary');
  const c = spawn(
    'ssh',
    [
      ...['-F', 'none', '-i', join(lab.dir, 'client_ed25519'), '-p', String(h.sshPort)],
      ...['-o', `UserKnownHostsFile=${join(lab.dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes'],
      ...['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `root@${h.address}`, 'sleep 2'],
    ],
    { stdio: 'ignore' },
  );
  return new Promise((r) => c.once('exit', (code) => r(code)));
}

test('a killed host keeps none of its connections, also those being accepted as it dies', async (t) => {
  const h = lab.host('primary');
  let survived = 0;
  let refused = 0;
  // 20 rounds, each with 6 clients a few ms apart and the kill a little later than in the last round: the
  // kill lands in every phase of a handshake (accepted, re-exec, auth, session) in some round.
  for (let round = 0; round < 20; round++) {
    await h.startSshd();
    const clients: Promise<number | null>[] = [];
    for (let i = 0; i < 6; i++) {
      clients.push(client());
      await new Promise((r) => setTimeout(r, 3));
    }
    await new Promise((r) => setTimeout(r, (round * 6) % 120));
    await h.stopSshd();
    const codes = await Promise.all(clients);
    survived += codes.filter((c) => c === 0).length;
    refused += codes.filter((c) => c !== 0).length;
  }
  t.diagnostic(`${refused} connections ended by the kill, ${survived} outlived it`);
  assert.equal(survived, 0, 'a connection outlived its host');
  await h.startSshd();
});
