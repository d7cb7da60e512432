// The failover's fence of a host the last check could not reach, under the permit rule (issue 21,
// RTO): once the host's permit is over by this witness's clock, its guard has fenced it, so the
// fence passes without sitting out the SSH connect to a host that is gone, and settle adds no blind
// wait. The "host" here is a local TCP listener that accepts and never speaks SSH: the handshake
// hangs until connectTimeout (60 s), which the test's own timeout (20 s) would hit if the runner
// still waited for it. Nothing leaves loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runner } from '../../dist/failover/run.js';
import { systemClock } from '../../dist/adapters/clock.js';
import { machineStamp } from '../../dist/guard/local.js';
import { config } from './helpers.ts';

async function silentHost(): Promise<{ port: number; close(): void }> {
  const socks = new Set<Socket>();
  const server = createServer((s) => {
    socks.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => {
      for (const s of socks) s.destroy();
      server.close();
    },
  };
}

const plan = (cause: string) => ({
  kind: 'failover',
  reason: 'test',
  cause,
  by: { auto: true, who: 'test' },
  steps: [
    { op: 'fence', role: 'primary', unreachable: 'stopped', onFail: 'abort', reason: 'r' },
    { op: 'settle', seconds: 10, role: 'primary', onFail: 'abort', reason: 'r' },
  ],
  rollback: [],
});

async function setup(grantAgo: number) {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-fence-race-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
  writeFileSync(join(dir, 'known_hosts'), '');
  const host = await silentHost();
  const h = {
    address: '127.0.0.1',
    port: host.port,
    user: 'claw',
    key: join(dir, 'key'),
    knownHosts: join(dir, 'known_hosts'),
  };
  const cfg = await config({
    stateDir: join(dir, 'state'),
    hosts: { pc1: h, pc2: h },
    thresholds: { connectTimeout: 60, commandTimeout: 60 },
    guard: { lease: '100s', interval: '5s' }, // the validator's bound for a 60 s connect
  });
  const here = machineStamp();
  const fencing = {
    grants: { primary: { token: 3, lease: 45, by: here.boot, at: here.uptime - grantAgo } },
    here: machineStamp,
    by: 'witness',
    changes: {},
  };
  const lines: string[] = [];
  const io = { progress: (m: string) => lines.push(m), detail: (m: string) => lines.push(m) };
  const ok = async () => ({ ok: true, detail: 'n/a' });
  const runner = new Runner(cfg, io, systemClock(), ok as any, ok as any, fencing as any);
  return {
    runner,
    host,
    done: async () => {
      host.close(); // the pending handshake fails now, so close() returns
      await runner.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test(
  'a host the last check could not reach, its permit over: fence and settle pass without its connect',
  { timeout: 20_000 },
  async () => {
    const { runner, done } = await setup(100);
    try {
      const res = await runner.run(plan('ssh-timeout') as any);
      assert.equal(res.ok, true, JSON.stringify(res.outcomes));
      const [fence, settle] = res.outcomes;
      assert.match(fence.detail, /does not answer yet .*permit 3 .*ended/);
      assert.equal(fence.unreachable, true);
      assert.match(settle.detail, /passed by its permit's end: its guard saw its gateway gone/);
    } finally {
      await done();
    }
  },
);

test(
  'a host the last check reached (gateway down): the fence waits for its connect, never races it',
  { timeout: 20_000 },
  async () => {
    const { runner, done, host } = await setup(100);
    setTimeout(() => host.close(), 1000); // the handshake then fails: the host does not answer
    try {
      const res = await runner.run(plan('gateway-down') as any);
      const [fence] = res.outcomes;
      assert.match(fence.detail, /not fenced: host does not answer \(/);
      assert.doesNotMatch(fence.detail, /yet/);
    } finally {
      await done();
    }
  },
);

// An attempt that may have landed is dated at its end: its bound is what a cut in flight adds to the wait.
test('a grant is bounded by connectTimeout, not commandTimeout', async () => {
  const { grantPermit, secondView } = await import('../../dist/guard/remote.js');
  const cfg = await config({ thresholds: { connectTimeout: 4, commandTimeout: 30 } });
  const seen: Array<{ script: string; timeout: number }> = [];
  const session = {
    run: async (script: string, timeout: number) => {
      seen.push({ script, timeout });
      return { code: 0, stdout: 'token=7\n', stderr: '' };
    },
  };
  assert.deepEqual(await grantPermit(cfg, session as any, 7, 45, 'w'), { token: 7 });
  assert.ok(seen[0]!.timeout <= 4 + 1, `the grant's run deadline: ${seen[0]!.timeout} s`);
  assert.match(seen[0]!.script, /^timeout -k 5 4 sh -c /, 'the host-side deadline of the grant script');
  // The second view's GET across the LAN: the same bound (it runs beside the confirming retry).
  await secondView(cfg, session as any, 'standby', cfg.hosts.pc1);
  assert.match(seen[1]!.script, /curl -q -sS -m 4 /);
});

test(
  "an adoption's fence of a host that does not answer, its permit live: left to its guard, no wait",
  { timeout: 20_000 }, // a wait for the permit (45 s) would pass it
  async () => {
    const { runner, done, host } = await setup(0);
    setTimeout(() => host.close(), 500); // the handshake then fails: the host does not answer
    const adopt = plan('unreachable');
    adopt.steps = [{ op: 'fence', role: 'primary', unreachable: 'left', onFail: 'abort', reason: 'r' }];
    try {
      const res = await runner.run(adopt as any);
      assert.equal(res.ok, true, JSON.stringify(res.outcomes));
      const [fence] = res.outcomes;
      assert.match(fence.detail, /not fenced: host does not answer \(.*\); left to its guard/);
      assert.equal(fence.unreachable, true);
    } finally {
      await done();
    }
  },
);
