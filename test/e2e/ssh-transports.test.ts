// The two ways hactl runs a script on a host, side by side over real sshd: ssh2 (SshSession, its own
// connection) and OpenSSH through a warm master (MuxSession for check's probes, runThroughMaster for
// backup). Whatever the script does, both must hand back the same bytes and the same verdict:
//   - multi-byte text at every offset across chunk boundaries arrives byte-exact (issue 23 #1);
//   - one table of remote behaviours (exit codes, stderr without a final newline, noise, a script that
//     prints the status marker itself) gives identical results and probe verdicts (issue 25);
//   - a command that prints far more than the cap ends in an error naming the cap, without reading the
//     rest (issue 25), and a hostile ~/.curlrc on the host changes nothing in the HTTP probe.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lab } from '../lab/lab.ts';
import { endMastersLeft } from '../lab/masters.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config, HostConfig } from '../../src/config/types.ts';
import { SshError, SshSession, type RemoteSession, type RunResult } from '../../src/adapters/ssh.ts';
import { leaveMaster, MuxSession } from '../../src/adapters/ssh-mux.ts';
import {
  masterAnswers,
  controlOption,
  controlPathFor,
  prepareShare,
  runThroughMaster,
} from '../../src/adapters/ssh-master.ts';
import { Gateway } from '../../src/adapters/gateway.ts';
import { systemClock } from '../../src/adapters/clock.ts';
import { OUTPUT_CAP } from '../../src/adapters/bytes.ts';

let lab: Lab;
let config: Config;
let host: HostConfig;
const sessions: Record<string, RemoteSession> = {};

before(async () => {
  lab = await Lab.start();
  const file = lab.writeConfig();
  config = await loadConfig(file);
  host = config.hosts.primary!;
  const t = config.thresholds;
  sessions.ssh2 = await SshSession.open(host, t.connectTimeout, 10);
  // A master as sync-memory leaves one, then check's probes through it.
  leaveMaster(config.stateDir, host, t.connectTimeout);
  const sock = controlPathFor(config.stateDir, host)!;
  for (let i = 0; i < 100 && (await masterAnswers(sock)) !== 'yes'; i++) await sleep(50);
  const mux = await MuxSession.attach(config.stateDir, host, t.connectTimeout, 10);
  assert.ok(mux, 'the master answers');
  sessions.mux = mux;
  const share = await prepareShare(config.stateDir, host);
  // backup's way: one ssh through the same master per script.
  sessions.master = {
    host,
    run: (script: string, timeoutSec = 10) => runThroughMaster(host, share, t.connectTimeout, script, timeoutSec),
    close: async () => undefined,
  };
});
after(async () => {
  for (const s of Object.values(sessions)) await s.close();
  if (lab) await endMastersLeft(lab, 1);
  await lab?.stop();
});

const TRANSPORTS = ['ssh2', 'mux', 'master'] as const;
const result = (r: RunResult) => ({ code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr });

describe('byte-exact reads', () => {
  // 4-byte emoji after a 0-3 byte prefix, 2- and 3-byte characters between: well over one SSH packet
  // (32 KiB) and one pipe buffer (64 KiB), so chunk boundaries fall inside characters at every offset.
  const texts = [0, 1, 2, 3].map((k) => 'a'.repeat(k) + '😀é€'.repeat(9000) + '🦀'.repeat(20000) + '\n');
  before(() => texts.forEach((t, k) => writeFileSync(join(lab.host('primary').home, `text${k}`), t)));

  for (const t of TRANSPORTS)
    test(`over ${t}: stdout and stderr arrive as the host wrote them`, async () => {
      for (const [k, want] of texts.entries()) {
        const r = await sessions[t]!.run(`cat "$HOME/text${k}"; cat "$HOME/text${k}" >&2`);
        assert.equal(r.code, 0);
        assert.ok(!r.stdout.includes('\uFFFD'), `offset ${k}: no replacement character on stdout`);
        assert.ok(r.stdout === want, `offset ${k}: stdout byte-exact`);
        assert.ok(r.stderr === want, `offset ${k}: stderr byte-exact`);
      }
    });
});

describe('one classifier: the same remote behaviour, the same verdict over every transport', () => {
  // [behaviour, script, the probe's verdict]
  const table: Array<[string, string, string]> = [
    ['exit 0', 'echo ok', 'healthy'],
    ['exit 1', 'echo bad >&2; exit 1', 'gateway-down'],
    ['exit 7 without a final newline', "printf 'partial'; printf 'refused' >&2; exit 7", 'gateway-down'],
    ['exit 124', 'echo slow >&2; exit 124', 'gateway-down'],
    ['exit 255 with a final newline', "echo 'Permission denied (publickey).' >&2; exit 255", 'gateway-down'],
    ['exit 255 without a final newline', "printf 'Connection timed out' >&2; exit 255", 'gateway-down'],
    ['exit 255, nothing said', 'exit 255', 'gateway-down'],
    ['stderr noise, exit 0', 'for i in 1 2 3; do echo "warn $i" >&2; done; printf \'x\' >&2; echo ok', 'healthy'],
    ['prints the marker, exit 255', "printf '\\nhactl-ssh-exit 0\\n' >&2; exit 255", 'gateway-down'],
    ['prints the marker without newline, exit 0', "printf 'hactl-ssh-exit 255' >&2; echo ok", 'healthy'],
    ['prints the mux mark', 'echo hactl-mux-up; echo hactl-mux-up >&2; exit 3', 'gateway-down'],
  ];

  const verdict = async (s: RemoteSession, run: string): Promise<string> => {
    const gw = { ...host.gateway, probe: { command: { run } } };
    try {
      const p = await new Gateway(s, gw, config.thresholds, systemClock()).probe();
      return `${p.healthy ? 'healthy' : 'gateway-down'}: ${p.detail}`;
    } catch (e) {
      return e instanceof SshError ? e.kind : `threw ${(e as Error).message}`;
    }
  };

  for (const [name, script, want] of table)
    test(name, async () => {
      const seen: Record<string, unknown> = {};
      const verdicts: Record<string, string> = {};
      for (const t of TRANSPORTS) {
        seen[t] = await sessions[t]!.run(script).then(result, (e: Error) => `threw ${(e as SshError).kind}`);
        verdicts[t] = await verdict(sessions[t]!, script);
      }
      assert.equal(verdicts.ssh2!.split(':')[0], want, verdicts.ssh2);
      for (const t of TRANSPORTS) {
        assert.deepEqual(seen[t], seen.ssh2, `${t}: the run's result as over ssh2`);
        assert.equal(verdicts[t], verdicts.ssh2, `${t}: the probe's verdict as over ssh2`);
      }
    });
});

test('runs sent together through a master share one ssh client and come back as if run alone', async () => {
  const mux = sessions.mux as MuxSession;
  const scripts = [
    'echo ok',
    "printf 'partial'; printf 'refused' >&2; exit 7",
    "printf 'Connection timed out' >&2; exit 255",
    "printf '\\nhactl-ssh-exit 0\\n' >&2; exit 255",
    'cat "$HOME/text1"; cat "$HOME/text2" >&2',
    'echo hactl-mux-up; exit 3',
  ];
  const alone = await Promise.all(scripts.map((s) => sessions.ssh2!.run(s)));
  const before = mux.spawned;
  const together = await Promise.all(scripts.map((s, i) => mux.run(s, 10, { behind: i === 0 })));
  assert.equal(mux.spawned - before, 1, 'one ssh client for all of them');
  for (const [i, r] of together.entries())
    assert.ok(
      JSON.stringify(result(r)) === JSON.stringify(result(alone[i]!)),
      `${scripts[i]}: ${JSON.stringify(result(r)).slice(0, 200)}`,
    );
});

describe('every read has a cap', () => {
  const done = () => join(lab.host('primary').home, 'flood-done');
  for (const t of TRANSPORTS)
    test(`over ${t}: 50 MiB of output is an error naming the cap, and the rest is not read`, async () => {
      rmSync(done(), { force: true });
      const base = process.memoryUsage().rss;
      let peak = base;
      const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
      let err: Error | undefined;
      try {
        await sessions[t]!.run('yes hactl-flood | head -c 52428800 && touch "$HOME/flood-done"', 30);
      } catch (e) {
        err = e as Error;
      } finally {
        clearInterval(sample);
      }
      assert.ok(err, 'the run fails');
      assert.match(err.message, /^output over 1 MiB cap from primary yes hactl-flood/);
      assert.ok(peak - base < 24 * OUTPUT_CAP, `memory grew by ${Math.round((peak - base) / 2 ** 20)} MiB`);
      // The writer was cut off (its pipe closed), not read to its end: it never finishes.
      for (let i = 0; i < 50; i++) {
        const r = await sessions.ssh2!.run('pgrep -f "[y]es hactl-flood" >/dev/null && echo running; true');
        if (!r.stdout.includes('running')) break;
        await sleep(100);
      }
      assert.equal(existsSync(done()), false, 'the remote writer did not get to its end');
    });

  for (const t of TRANSPORTS)
    test(`over ${t}: a ~/.curlrc on the host changes nothing in the HTTP probe`, async () => {
      const h = lab.host('primary');
      await h.startGateway();
      const rc = join(h.home, '.curlrc');
      writeFileSync(rc, 'output = "/dev/null"\nproxy = "http://127.0.0.1:9"\n');
      try {
        const p = await new Gateway(sessions[t]!, host.gateway, config.thresholds, systemClock()).probe();
        assert.equal(p.healthy, true, p.detail);
      } finally {
        rmSync(rc, { force: true });
      }
    });

  for (const t of TRANSPORTS)
    for (const framing of ['content-length', 'chunked'] as const)
      test(`over ${t}: an HTTP body over its cap (${framing}) is the probe's failure, naming the cap`, async () => {
        const body = `{"ready":true,"pad":"${'x'.repeat(3 * OUTPUT_CAP)}"}`;
        const server = createServer((_req, res) => {
          if (framing === 'content-length') res.setHeader('content-length', Buffer.byteLength(body));
          res.end(body);
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
        const gw = { ...host.gateway, probe: { http: { url, status: 200, json: { ready: true } } } };
        try {
          const p = await new Gateway(sessions[t]!, gw, config.thresholds, systemClock()).probe();
          assert.equal(p.healthy, false);
          assert.match(p.detail, /body over 512 KiB cap/);
        } finally {
          server.closeAllConnections();
          server.close();
        }
      });
});

test('a state dir with a space still shares one master per host', async () => {
  const stateDir = join(lab.dir, 'state dir');
  const sock = controlPathFor(stateDir, host);
  assert.ok(sock, 'a socket path for a state dir with a space');
  /** The master's pid, from ssh itself (`-O check`, the path quoted as ssh reads it), or 0. */
  const masterPid = () =>
    Number(
      /pid=(\d+)/.exec(
        spawnSync('ssh', ['-F', 'none', '-o', controlOption(sock), '-O', 'check', 'x'], { encoding: 'utf8' }).stderr,
      )?.[1] ?? 0,
    );
  const t = config.thresholds;
  leaveMaster(stateDir, host, t.connectTimeout);
  for (let i = 0; i < 100 && (await masterAnswers(sock)) !== 'yes'; i++) await sleep(50);
  const pid = masterPid();
  assert.ok(pid > 0, 'the master answers at the path with a space');
  const mux = await MuxSession.attach(stateDir, host, t.connectTimeout, 10);
  assert.ok(mux, 'check attaches to it');
  try {
    assert.equal((await mux.run('echo through')).stdout, 'through\n');
    const share = await prepareShare(stateDir, host);
    assert.equal((await runThroughMaster(host, share, t.connectTimeout, 'echo backup', 10)).stdout, 'backup\n');
    assert.equal(masterPid(), pid, 'the same master carried both');
    assert.deepEqual(readdirSync(join(stateDir, 'cm')), [sock.split('/').pop()], 'one socket, no second master');
  } finally {
    await mux.close();
    process.kill(pid, 'SIGTERM');
  }
});

test('a batched run cannot forge another: no separator or status of another is on a command line', async () => {
  const mux = sessions.mux as MuxSession;
  // Reads every command line on the host and prints every separator and status line it finds, as its own
  // output and as a finished run's status 0.
  const forger = [
    "for p in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <\"$p\"; echo; done 2>/dev/null |",
    "  grep -o 'hactl-[a-z-]*-[0-9a-f]\\{16\\}[-0-9]*' | sort -u | while read -r m; do",
    '    printf \'\\n%s\\nforged\\n\' "$m"; printf \'\\n%s\\nforged\\n\' "$m" >&2; printf \'\\n%s 0\\n\' "$m" >&2',
    '  done; exit 0',
  ].join('\n');
  const victim = 'sleep 0.5; echo real; echo said >&2; exit 3';
  const [, r] = await Promise.all([mux.run(forger), mux.run(victim)]);
  assert.deepEqual(result(r), { code: 3, signal: undefined, stdout: 'real\n', stderr: 'said\n' });
});

test('a health read past its cap does not take the probe sent with it', async () => {
  const mux = sessions.mux as MuxSession;
  const before = mux.spawned;
  const gw = { ...host.gateway, probe: { command: { run: 'echo ok' } } };
  // check's way: the probe, and the health read behind it, asked for in the same turn.
  const health = mux.run('head -c 2097152 /dev/zero | tr "\\0" x', 10, { behind: true, what: 'health read' });
  const probe = new Gateway(mux, gw, config.thresholds, systemClock()).probe();
  const [p, h] = await Promise.all([
    probe,
    health.then(
      () => undefined,
      (e: Error) => e,
    ),
  ]);
  assert.equal(mux.spawned - before, 1, 'sent together');
  assert.equal(p.healthy, true, p.detail);
  assert.ok(h instanceof Error);
  assert.match(h.message, /^output over 1 MiB cap from primary health read/);
});

test('a batched run past its own cap does not take the next one with it, even when they pass the sum', async () => {
  const mux = sessions.mux as MuxSession;
  // The first takes 1.9 MiB of the client's 2 MiB; the next passes the client's cap at its first 0.1 MiB.
  const [a, b] = await Promise.all([
    mux.run('head -c 1992294 /dev/zero | tr "\\0" a', 10, { what: 'first' }).then(
      () => undefined,
      (e: Error) => e.message,
    ),
    mux.run('head -c 524288 /dev/zero | tr "\\0" b; echo; echo end', 10, { what: 'second' }),
  ]);
  assert.match(a ?? '', /^output over 1 MiB cap from primary first/);
  assert.equal(b.code, 0);
  assert.ok(b.stdout === `${'b'.repeat(524288)}\nend\n`, `second: ${b.stdout.length} characters`);
});

test('a batched run just under its cap on stderr is not charged when another passes the sum', async () => {
  const mux = sessions.mux as MuxSession;
  // The first writes 1 MiB less 10 bytes on stderr: under its cap, though its section also holds its
  // status line (36 bytes). The second then passes the sum of the caps on stdout.
  const [a, b] = await Promise.all([
    mux.run('head -c 1048566 /dev/zero | tr "\\0" e >&2', 10, { what: 'first' }),
    mux.run('head -c 2621440 /dev/zero | tr "\\0" o', 10, { what: 'second' }).then(
      () => undefined,
      (e: Error) => e.message,
    ),
  ]);
  assert.equal(a.code, 0);
  assert.equal(Buffer.byteLength(a.stderr), 1048566);
  assert.match(b ?? '', /^output over 1 MiB cap from primary second/);
});
