// Network faults against hactl's own SSH (SshSession) and `hactl check`: each
// ends, and is classified as what it is. No assertion on elapsed time: a fault
// that hactl did not bound would make the test run past the runner's timeout.
// The bounds observed (the runner's durations) are in docs/reliability.md.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../lab/lab.ts';
import { Relay } from '../lab/relay.ts';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostVia, silentServer, stuckSshServer, tricklingBanner } from '../lab/faults.ts';
import { endMastersLeft } from '../lab/masters.ts';
import { SshSession, SshError } from '../../dist/adapters/ssh.js';
import { runRsync } from '../../dist/adapters/rsync.js';

let lab: Lab;
before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});

describe('a healthy host behind a TCP relay that coalesces segments', () => {
  test(
    'hactl check through the relay: 20 of 20 say the primary serves, none alerts',
    { timeout: 180_000 },
    async () => {
      const P = lab.host('primary');
      // A 50 ms window: a probe's whole answer (channel confirmation, output, exit status) comes in one write.
      const relay = await new Relay({ address: P.address, port: P.sshPort }, 50).start();
      try {
        hostVia(lab, P, { address: '127.0.0.1', port: relay.port });
        lab.writeConfig({ hosts: { primary: { address: '127.0.0.1', port: relay.port } } });
        await P.startGateway();
        const codes: number[] = [];
        for (let i = 0; i < 20; i++) {
          // Each check over a new ssh2 connection: the masters the previous one left are ended first.
          if (i) await endMastersLeft(lab);
          const r = await lab.hactl(['check']);
          codes.push(r.code);
          assert.match(r.stdout, /primary serving/, r.stdout + r.stderr);
        }
        assert.deepEqual(codes, Array(20).fill(0));
        assert.ok(relay.accepted >= 20, 'the checks went through the relay');
        // And through the master the last one left (the relay carries the master's connection too).
        for (let i = 0; i < 3; i++) {
          const r = await lab.hactl(['check']);
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.match(r.stdout, /primary serving/, r.stdout + r.stderr);
        }
        assert.deepEqual(lab.telegram.texts(), []);
      } finally {
        await relay.stop();
        lab.writeConfig();
      }
    },
  );

  test('300 fast commands over 10 sessions: every exit status read, 0 misreads', async () => {
    const relay = await new Relay({ address: '127.0.0.2', port: lab.host('primary').sshPort }).start();
    const host = hostVia(lab, lab.host('primary'), { address: '127.0.0.1', port: relay.port });
    const misreads: string[] = [];
    try {
      for (let s = 0; s < 10; s++) {
        const session = await SshSession.open(host, 5, 5);
        try {
          for (let i = 0; i < 30; i++) {
            const want = (s * 30 + i) % 3; // 0, 1, 2: exit statuses the probes rely on
            try {
              const r = await session.run(`echo out-${i}; exit ${want}`, 5);
              const got = `#${s * 30 + i}: code ${r.code} stdout ${JSON.stringify(r.stdout)}`;
              if (r.code !== want || r.stdout !== `out-${i}\n`) misreads.push(got);
            } catch (e) {
              misreads.push(`#${s * 30 + i}: ${(e as Error).message}`);
            }
          }
        } finally {
          await session.close();
        }
      }
    } finally {
      await relay.stop();
    }
    assert.deepEqual(misreads, [], `${misreads.length} of 300 misread`);
  });
});

/** Opens a session and runs `true`; returns the SshError kind, or 'ok'. */
async function outcome(host: any, connect = 2, command = 3): Promise<string> {
  try {
    const s = await SshSession.open(host, connect, command);
    try {
      await s.run('true');
    } finally {
      await s.close();
    }
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof SshError, `not an SshError: ${e}`);
    return e.kind;
  }
}

describe('each network fault ends, classified as what it is', () => {
  const P = () => lab.host('primary');
  const at = (port: number) => hostVia(lab, P(), { address: '127.0.0.1', port });

  test('connection refused: unreachable', async () => {
    const { freePort } = await import('../lab/lab.ts');
    assert.equal(await outcome(at(await freePort('127.0.0.1'))), 'unreachable');
  });

  test('a listener that never speaks: ssh-timeout', async () => {
    const srv = await silentServer().start();
    try {
      assert.equal(await outcome(at(srv.port)), 'ssh-timeout');
    } finally {
      await srv.stop();
    }
  });

  test(
    'a banner sent byte by byte over 60 s: ssh-timeout, bounded by the connect deadline',
    { timeout: 30_000 },
    async () => {
      const srv = await tricklingBanner(60_000).start();
      try {
        assert.equal(await outcome(at(srv.port)), 'ssh-timeout');
      } finally {
        await srv.stop();
      }
    },
  );

  test('authentication refused: auth-failure', async () => {
    const key = join(lab.dir, 'stranger_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    assert.equal(await outcome({ ...at(P().sshPort), address: P().address, key }), 'auth-failure');
  });

  test('a changed host key: hostkey-failure', async () => {
    const kh = join(lab.dir, 'known_hosts_changed');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(lab.dir, 'impostor')]);
    const other = readFileSync(join(lab.dir, 'impostor.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(kh, `[${P().address}]:${P().sshPort} ${other}\n`);
    assert.equal(await outcome({ ...at(P().sshPort), address: P().address, knownHosts: kh }), 'hostkey-failure');
  });

  test(
    'a remote command that hangs and ignores SIGTERM is killed on the host; nothing is left running',
    { timeout: 60_000 },
    async () => {
      const s = await SshSession.open({ ...at(P().sshPort), address: P().address }, 2, 3);
      try {
        const r = await s.run(`trap '' TERM; echo $$ > ${lab.dir}/hung.pid; sleep 300 & wait; sleep 300`, 1);
        // `timeout -k` sends KILL to its whole process group (itself included); the wrapper's shell reports
        // 128 + KILL as the script's status, as it does over OpenSSH (src/adapters/remote-run.ts).
        assert.deepEqual([r.code, r.signal], [137, undefined], 'KILL after TERM was ignored');
        const pid = Number(readFileSync(join(lab.dir, 'hung.pid'), 'utf8'));
        let state = '';
        try {
          state = readFileSync(`/proc/${pid}/stat`, 'utf8');
        } catch {
          /* gone */
        }
        assert.ok(!state || / Z /.test(state), `the hung command still runs: ${state}`);
      } finally {
        await s.close();
      }
    },
  );

  test('a connection dropped mid-command: unreachable', { timeout: 60_000 }, async () => {
    const relay = await new Relay({ address: P().address, port: P().sshPort }).start();
    try {
      const s = await SshSession.open(at(relay.port), 2, 30);
      const run = s.run('sleep 30', 30);
      setTimeout(() => relay.dropAll(), 500);
      await assert.rejects(run, (e: any) => e instanceof SshError && e.kind === 'unreachable');
      await s.close();
    } finally {
      await relay.stop();
    }
  });

  test(
    'a server that authenticates but never opens the channel: the local deadline ends it (ssh-timeout)',
    { timeout: 60_000 },
    async () => {
      const srv = await stuckSshServer(join(P().dir, 'host_ed25519'));
      try {
        const s = await SshSession.open(at(srv.port), 2, 1);
        await assert.rejects(
          s.run('true', 1),
          (e: any) => e instanceof SshError && e.kind === 'ssh-timeout' && /local deadline/.test(e.message),
        );
        await s.close();
      } finally {
        await srv.stop();
      }
    },
  );

  test(
    "rsync's ssh hanging (authenticated, no session ever opens): the deadline stops the process group",
    { timeout: 60_000 },
    async () => {
      const srv = await stuckSshServer(join(P().dir, 'host_ed25519'));
      try {
        const r = await runRsync({
          from: { path: `${lab.dir}/` },
          to: { host: at(srv.port), path: '/tmp/never' },
          flags: 'a',
          connectTimeout: 2,
          ioTimeout: 600,
          deadline: 3,
        });
        assert.equal(r.timedOut, true, `rsync ended by itself: code ${r.code} ${r.stderr}`);
        assert.notEqual(r.code, 0);
      } finally {
        await srv.stop();
      }
    },
  );
});
