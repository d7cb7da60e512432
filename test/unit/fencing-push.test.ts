// Issue 21 item 5, on real parts (test/lab/lab.ts: real sshd on 127.0.0.2/.3, real rsync): a memory
// push never lands on a host that holds a live serving permit. The permit is read on the target over
// SSH right before the push, by that host's own boot_id and uptime (src/guard/remote.ts pushRefused).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab.ts';
import { readMem, seedTree, writeMem } from '../lab/memory.ts';

let lab: Lab;
before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});

test('a push is refused while the standby holds a live permit, and goes once it holds none', async () => {
  const P = lab.host('primary');
  const S = lab.host('standby');
  const config = lab.writeConfig({ guard: { lease: '45s', interval: '5s' } }, 'guarded.yaml');
  writeMem(P, seedTree(5));
  // The standby serves (a failover granted it its permit): live for 300 s more by its own clock.
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  mkdirSync(join(S.home, '.hactl'), { recursive: true });
  const permit = join(S.home, '.hactl', 'permit');
  writeFileSync(permit, JSON.stringify({ token: 9, lease: 300, boot, uptime, by: 'w' }));
  const r1 = await lab.hactl(['sync-memory'], { HACTL_CONFIG: config });
  assert.match(r1.stdout, /holds a permit to serve \(permit 9 live .*\): nothing pushed/, r1.stdout + r1.stderr);
  assert.deepEqual(Object.keys(readMem(S)), [], 'nothing landed on the serving host');
  rmSync(permit);
  const r2 = await lab.hactl(['sync-memory'], { HACTL_CONFIG: config });
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  assert.deepEqual(readMem(S), readMem(P), r2.stdout);
});
