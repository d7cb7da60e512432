// hactl guard's decision and record, and the check's partition fold, as tables (docs/partitions.md).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideGuard } from '../../dist/guard/plan.js';
import { permitLeft } from '../../dist/fencing/rule.js';
import { foldGuard } from '../../dist/guard/fold.js';
import { foldWitnessView, witnessCutOff } from '../../dist/guard/witness.js';
import { lanUrl } from '../../dist/guard/remote.js';
import { initialState } from '../../dist/core/model.js';
import { config } from './helpers.ts';
import { telegramText } from '../../dist/alerts/render.js';

/** An event as Telegram shows it (alerts are typed events, rendered only at the channel). */
const tx = (e: any, prefix = '[t]'): string => (e ? telegramText(e, prefix) : '');

const G = { lease: 90, interval: 60 };
const NOW = new Date('2026-12-01T12:00:00Z');
const BOOT = 'host-boot';
/** A permit written at host uptime 1000 s for `lease` s, judged at host uptime 1000 + age. */
const permit = (age: number | null, o: { boot?: string; lease?: number } = {}) =>
  permitLeft(age === null ? null : { token: 4, lease: o.lease ?? 90, boot: o.boot ?? BOOT, uptime: 1000 }, {
    boot: BOOT,
    uptime: 1000 + (age ?? 0),
  });
const seen = (o: Record<string, unknown> = {}) => ({
  self: 'pc1',
  peer: 'pc2',
  permit: permit(10),
  lead: 17,
  peerAnswers: true,
  peerDetail: '192.0.2.2:22 accepts',
  running: true,
  runningDetail: 'pid 42 on 18789',
  ...o,
});

describe('guard: decideGuard (serve only with a live permit, src/fencing/rule.ts)', () => {
  const rows: Array<[string, Record<string, unknown>, string, string, number, RegExp]> = [
    ['live permit, peer answers', {}, 'none', 'witness', 0, /permit 4 live for 80 s more: pc1 may serve/],
    ['live permit, peer silent: the permit is enough', { peerAnswers: false }, 'none', 'witness', 0, /may serve/],
    ['permit 72.5 s old: 17.5 s left, more than the lead', { permit: permit(72.5) }, 'none', 'witness', 0, /live/],
    [
      'permit 73 s old: 17 s left, within the fence lead: stop before its end, whoever answers',
      { permit: permit(73) },
      'stop',
      'nobody',
      2,
      /permit 4 ends in 17 s, within the guard's fence lead of 17 s .*stopping its gateway before the permit ends/,
    ],
    [
      'permit within the lead, no gateway: nothing to stop, critical',
      { permit: permit(89.5), running: false },
      'none',
      'nobody',
      2,
      /ends in 1 s.*no gateway runs/,
    ],
    ['permit exactly 90 s old: expired', { permit: permit(90) }, 'stop', 'nobody', 2, /expired 0 s ago/],
    [
      'item 1: expired permit, peer answers: the answer is no permit, stop',
      { permit: permit(91) },
      'stop',
      'nobody',
      2,
      /no live permit .*peer pc2 answers .*no permit.*stopping its gateway/,
    ],
    ['no permit, gateway runs: stop', { permit: permit(null) }, 'stop', 'nobody', 2, /no permit/],
    [
      'item 11: cannot tell whether a gateway runs: as running, stop',
      { permit: permit(200), running: true, runningUnknown: true, runningDetail: 'unknown: ss failed' },
      'stop',
      'nobody',
      2,
      /cannot tell whether a gateway runs \(unknown: ss failed\)/,
    ],
    [
      'a permit of another boot (the host rebooted) is expired',
      { permit: permit(5, { boot: 'old-boot' }) },
      'stop',
      'nobody',
      2,
      /another boot/,
    ],
    [
      'expired permit, no gateway: nothing to stop, still critical',
      { permit: permit(500), peerAnswers: false, running: false },
      'none',
      'nobody',
      2,
      /isolated: permit 4 expired .* no gateway runs/,
    ],
    ['no permit, no gateway: the idle side, ok', { permit: permit(null), running: false }, 'none', 'nobody', 0, /idle/],
  ];
  for (const [name, o, action, contact, exit, reason] of rows) {
    test(name, () => {
      const p = decideGuard(G, seen(o) as any);
      assert.equal(p.action, action);
      assert.equal(p.contact, contact);
      assert.equal(p.exitCode, exit);
      assert.match(p.reason, reason);
    });
  }
});

describe('guard: foldGuard', () => {
  const stopPlan = decideGuard(G, seen({ permit: permit(200), peerAnswers: false }) as any);
  test('stopped: exit 2, FENCED, fencedAt set, an alert', () => {
    const f = foldGuard(
      undefined,
      seen({ permit: permit(91) }) as any,
      stopPlan,
      { ok: true, detail: 'stopped by x' },
      NOW,
      '[t]',
    );
    assert.equal(f.exitCode, 2);
    assert.match(f.summary, /^guard: FENCED: pc1 holds no live permit/);
    assert.equal(f.record.fencedAt, NOW.toISOString());
    assert.match(tx(f.alert), /^\[t\] 🟠 pc1 holds no live serving permit: its guard stopped its gateway/);
  });
  test('stopped before the end (within the fence lead): the alert says the permit ends unrenewed', () => {
    const o = seen({ permit: permit(80) }) as any;
    const f = foldGuard(undefined, o, decideGuard(G, o), { ok: true, detail: 'stopped in 0.3 s' }, NOW, '[t]');
    assert.match(f.summary, /^guard: FENCED: pc1: permit 4 ends in 10 s, within the guard's fence lead/);
    assert.match(tx(f.alert), /^\[t\] 🟠 pc1's serving permit ends in 10 s unrenewed: its guard stopped its gateway/);
  });
  test('could not stop: exit 2, critical alert, no fencedAt', () => {
    const f = foldGuard(undefined, seen() as any, stopPlan, { ok: false, detail: 'still pid 42' }, NOW, '[t]');
    assert.equal(f.exitCode, 2);
    assert.match(f.summary, /could not stop/);
    assert.equal(f.record.fencedAt, null);
    assert.match(tx(f.alert), /^\[t\] 🔴 .*could NOT stop/);
    assert.equal(f.alert!.severity, 'critical');
  });
  test('still isolated next run: fencedAt kept, no new alert', () => {
    const prior = foldGuard(undefined, seen() as any, stopPlan, { ok: true, detail: 'x' }, NOW, '[t]').record;
    const idle = decideGuard(G, seen({ permit: permit(300), peerAnswers: false, running: false }) as any);
    const f = foldGuard(prior, seen() as any, idle, null, new Date(NOW.getTime() + 60_000), '[t]');
    assert.equal(f.record.fencedAt, NOW.toISOString());
    assert.equal(f.alert, null);
    assert.equal(f.exitCode, 2);
  });
  test('in contact again: fencedAt cleared', () => {
    const prior = foldGuard(undefined, seen() as any, stopPlan, { ok: true, detail: 'x' }, NOW, '[t]').record;
    const f = foldGuard(prior, seen() as any, decideGuard(G, seen() as any), null, NOW, '[t]');
    assert.equal(f.record.fencedAt, null);
    assert.equal(f.exitCode, 0);
  });
});

describe('check: foldWitnessView', () => {
  const ob = (status: string, extra: Record<string, unknown> = {}) => ({
    status,
    detail: `${status} d`,
    confirmed: true,
    ...extra,
  });
  const view = (serving: boolean) => ({ role: 'standby', serving, detail: 'http://192.0.2.1:18789/readyz: HTTP 200' });
  const ASSESS = { level: 'critical', exitCode: 2, line: 'CRITICAL: nothing serving' };
  test('cut off, the standby sees the primary serving: warning verdict, one alert, then none', async () => {
    const cfg = await config();
    const obs: any = { primary: ob('unreachable', { seenBy: view(true) }), standby: ob('gateway-down') };
    assert.equal(witnessCutOff('primary', obs), true);
    const a = foldWitnessView(cfg, initialState(NOW), obs, ASSESS as any, NOW);
    assert.equal(a.assessment.exitCode, 1);
    assert.match(
      a.assessment.line,
      /^WARNING: the witness cannot reach the primary pc1; the standby pc2 sees it serving/,
    );
    // Said each check; the one lifecycle (src/alerts/incident.ts) sends it once and its end once.
    // The idle host's cut-off is said over on every check (it serves no longer).
    assert.deepEqual(
      a.alerts.map((e: any) => [e.phase, e.key]),
      [
        ['open', 'serving-lost:pc1'],
        ['resolve', 'serving-lost:pc2'],
      ],
    );
    assert.match(tx(a.alerts[0]), /the witness cannot reach the primary pc1 .* no failover/);
    assert.equal(a.alerts[0]!.key, 'serving-lost:pc1');
    const b = foldWitnessView(cfg, a.state, obs, ASSESS as any, new Date(NOW.getTime() + 60_000));
    assert.deepEqual(
      b.alerts.map((e: any) => [e.kind, e.key]),
      [
        ['serving-lost', 'serving-lost:pc1'],
        ['resolved', 'serving-lost:pc2'],
      ],
    );
    const healed: any = { primary: ob('healthy'), standby: ob('gateway-down') };
    const c = foldWitnessView(cfg, b.state, healed, { level: 'ok', exitCode: 0, line: 'OK' } as any, NOW);
    assert.equal(c.alerts.length, 2);
    assert.equal(c.alerts[0]!.phase, 'resolve');
    assert.match(tx(c.alerts[0]), /reaches the primary pc1 again/);
    assert.equal(c.assessment.exitCode, 0);
  });
  test('the standby does not see it serving: the verdict stands, no alert', async () => {
    const obs: any = { primary: ob('unreachable', { seenBy: view(false) }), standby: ob('gateway-down') };
    const a = foldWitnessView(await config(), initialState(NOW), obs, ASSESS as any, NOW);
    assert.equal(a.assessment.exitCode, 2);
    assert.deepEqual(
      a.alerts.filter((e: any) => e.phase !== 'resolve'),
      [],
    );
  });
  test('permits: a grant replaces the record, a revocation marks it, a host not touched keeps its own', async () => {
    const g = { token: 5, lease: 90, by: 'w', at: 100 };
    const obs: any = { primary: ob('healthy', { permit: g }), standby: ob('gateway-down', { permitRevoked: true }) };
    const old = { token: 4, lease: 90, by: 'w', at: 10 };
    const st: any = { ...initialState(NOW), permits: { primary: old, standby: old } };
    const a = foldWitnessView(await config(), st, obs, ASSESS as any, NOW);
    assert.deepEqual(a.state.permits, { primary: g, standby: { ...old, revoked: true } });
    const fresh = foldWitnessView(await config(), initialState(NOW), obs, ASSESS as any, NOW);
    assert.deepEqual(fresh.state.permits!.standby, { token: 0, lease: 0, by: '', at: 0, revoked: true });
    const none: any = { primary: ob('unreachable'), standby: ob('gateway-down') };
    const b = foldWitnessView(await config(), a.state, none, ASSESS as any, NOW);
    assert.deepEqual(b.state.permits, a.state.permits);
  });
});

describe('second view: lanUrl', () => {
  test('the probe URL on the LAN address (lanAddress, else address)', async () => {
    const cfg = await config({
      hosts: {
        pc1: { address: '192.0.2.1', lanAddress: '198.51.100.7', user: 'claw', key: '/k', knownHosts: '/kh' },
        pc2: { address: '192.0.2.2', user: 'claw', key: '/k', knownHosts: '/kh' },
      },
    });
    assert.match(lanUrl(cfg.hosts.pc1), /^http:\/\/198\.51\.100\.7:18789\//);
    assert.match(lanUrl(cfg.hosts.pc2), /^http:\/\/192\.0\.2\.2:18789\//);
  });
});

describe('hactl guard: which host it guards', () => {
  const run = async (guard: Record<string, unknown> | undefined, args: string[]) => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawnSync } = await import('node:child_process');
    const { stringify } = await import('yaml');
    const { BASE } = await import('./helpers.ts');
    const dir = mkdtempSync(join(tmpdir(), 'hactl-guard-'));
    const file = join(dir, 'hactl.yaml');
    writeFileSync(file, stringify({ ...BASE, stateDir: join(dir, 'state'), ...(guard ? { guard } : {}) }));
    const bin = new URL('../../bin/hactl', import.meta.url).pathname;
    return spawnSync(process.execPath, [bin, '--config', file, 'guard', ...args], { encoding: 'utf8' });
  };
  test('no guard section: exit 78, naming the fix', async () => {
    const r = await run(undefined, ['--host', 'pc1']);
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /no guard section/);
  });
  test('a host not in pair: exit 78', async () => {
    const r = await run({ lease: '90s' }, ['--host', 'nope']);
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /guard.self: 'nope' is not in pair/);
  });
  test('neither --host nor guard.self: exit 78', async () => {
    const r = await run({ lease: '90s' }, []);
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /guard.self: not set/);
  });
});

// Item 11 of issue 21: fencing fails closed. A host whose `ss` fails (an old iproute2 without -H)
// cannot say "no listener": that is unknown, never "gone", and the guard then stops (and says it
// could not verify), it never reports "was not running".
describe('fencing fails closed when ss fails (issue 21 item 11)', () => {
  const fakeBin = async (ssBody: string) => {
    const { mkdtempSync, mkdirSync, writeFileSync, chmodSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'hactl-ss-'));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'ss'), `#!/bin/sh\n${ssBody}\n`);
    chmodSync(join(dir, 'bin', 'ss'), 0o755);
    return dir;
  };
  const gone = async (ssBody: string) => {
    const { gatewayGone } = await import('../../dist/adapters/remote-scripts.js');
    const { spawnSync } = await import('node:child_process');
    const dir = await fakeBin(ssBody);
    const env = { ...process.env, HOME: dir, PATH: `${dir}/bin:${process.env.PATH}` };
    return spawnSync('sh', ['-c', gatewayGone(18999, '.openclaw/hactl', 'http://127.0.0.1:18999/')], {
      env,
      encoding: 'utf8',
    });
  };
  test('ss fails: exit 2, unknown (not 0, gone)', async () => {
    const r = await gone('echo "ss: invalid option -- \'H\'" >&2; exit 255');
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /unknown: ss failed, cannot tell whether port 18999 has a listener/);
  });
  test('ss without -H: read without it, its header dropped', async () => {
    const hdr = 'State Recv-Q Send-Q Local Address:Port Peer Address:Port';
    const noH = (rows: string) => `case "$1" in -H*) exit 1;; esac; echo "${hdr}"; ${rows}`;
    const idle = await gone(noH('true'));
    assert.equal(idle.status, 0, idle.stdout);
    const busy = await gone(noH('echo "LISTEN 0 511 127.0.0.1:18999 0.0.0.0:*"'));
    assert.equal(busy.status, 1, busy.stdout);
    assert.match(busy.stdout, /still running: a listener on port 18999/);
  });
  test('hactl guard with a failing ss and no permit: it stops and says it could not verify (exit 2)', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { spawnSync } = await import('node:child_process');
    const { stringify } = await import('yaml');
    const { BASE } = await import('./helpers.ts');
    const dir = await fakeBin('echo "ss: invalid option" >&2; exit 255');
    const file = join(dir, 'hactl.yaml');
    const gateway = {
      port: 18999,
      start: [{ name: 'none', run: 'true' }],
      stop: [{ name: 'noop', run: 'true' }],
    };
    const hosts = {
      pc1: { ...BASE.hosts.pc1, address: '127.0.0.1', gateway },
      pc2: { ...BASE.hosts.pc2, address: '127.0.0.1', port: 9, gateway },
    };
    const thresholds = { connectTimeout: 1, commandTimeout: 2, stopDeadline: 1, pollInterval: 1 };
    const guard = { self: 'pc1', lease: '45s', interval: '5s' };
    writeFileSync(file, stringify({ ...BASE, hosts, thresholds, stateDir: join(dir, 'state'), guard }));
    const bin = new URL('../../bin/hactl', import.meta.url).pathname;
    const env = { ...process.env, HOME: dir, PATH: `${dir}/bin:${process.env.PATH}` };
    const r = spawnSync(process.execPath, [bin, '--config', file, 'guard'], { encoding: 'utf8', env });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /cannot tell whether a gateway runs \(unknown: ss failed/);
    assert.match(r.stdout, /could not stop the gateway/);
    assert.doesNotMatch(r.stdout, /was not running|no gateway runs/);
  });
});

// The guard's own loop (issue 21): inside one cron run, --watch runs every guard.interval, so a
// permit that runs out during the minute stops the gateway at the next tick, not at the next minute.
describe('guard --watch', () => {
  test('guardTicks: every interval, until the cron minute is over (or --window)', async () => {
    const { guardTicks } = await import('../../dist/commands/guard.js');
    assert.deepEqual(guardTicks(10, undefined), { everyMs: 10_000, windowMs: 50_000 });
    assert.deepEqual(guardTicks(60, undefined), { everyMs: 60_000, windowMs: 0 });
    assert.deepEqual(guardTicks(2, 5000), { everyMs: 2000, windowMs: 5000 });
  });
  test('a permit that runs out mid-watch: the same run stops the gateway (a real listener, portOwner)', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawn, spawnSync } = await import('node:child_process');
    const { createServer } = await import('node:net');
    const { stringify } = await import('yaml');
    const { BASE } = await import('./helpers.ts');
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    const gwProc = spawn(
      process.execPath,
      ['-e', `require('net').createServer(()=>{}).listen(${port},'127.0.0.1'); setTimeout(()=>{}, 60000)`],
      { stdio: 'ignore' },
    );
    try {
      const dir = mkdtempSync(join(tmpdir(), 'hactl-gwatch-'));
      // A permit for 16 s more, by this machine's own boot_id and uptime (as the witness writes it):
      // 3 s more than the guard's fence lead (5 + interval 1 + 2 + 5 = 13 s).
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
      mkdirSync(join(dir, '.hactl'));
      writeFileSync(join(dir, '.hactl', 'permit'), JSON.stringify({ token: 5, lease: 16, boot, uptime, by: 'test' }));
      const gateway = {
        port,
        alive: { url: `http://127.0.0.1:${port}/` },
        start: [{ name: 'none', run: 'true' }],
        stop: [{ name: 'port-owner', portOwner: true }],
      };
      const hosts = {
        pc1: { ...BASE.hosts.pc1, address: '127.0.0.1', gateway },
        pc2: { ...BASE.hosts.pc2, address: '127.0.0.1', port: 9, gateway },
      };
      const thresholds = { connectTimeout: 1, commandTimeout: 3, stopDeadline: 2, pollInterval: 1 };
      const guard = { self: 'pc1', lease: '45s', interval: '1s' };
      const file = join(dir, 'hactl.yaml');
      writeFileSync(file, stringify({ ...BASE, hosts, thresholds, stateDir: join(dir, 'state'), guard }));
      await new Promise((r) => setTimeout(r, 300)); // the listener is up
      const bin = new URL('../../bin/hactl', import.meta.url).pathname;
      const args = [bin, '--config', file, 'guard', '--watch', '--window', '8s', '--json'];
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, HOME: dir } });
      const out = JSON.parse(r.stdout);
      const codes = out.runs.map((x: { code: number }) => x.code);
      assert.equal(codes[0], 0, r.stdout); // live permit: serves
      assert.ok(
        out.runs.some((x: { summary: string }) =>
          /FENCED: .*permit 5 ends in \d+ s, within the guard's fence lead/.test(x.summary),
        ),
        r.stdout,
      );
      assert.equal(r.status, 2);
      const ended =
        gwProc.exitCode !== null ||
        gwProc.signalCode !== null ||
        (await Promise.race([
          new Promise((res) => gwProc.once('exit', () => res(true))),
          new Promise((res) => setTimeout(() => res(false), 2000)),
        ]));
      assert.equal(ended, true, 'the listener was stopped by its guard');
    } finally {
      gwProc.kill('SIGKILL');
    }
  });
});

// The config refuses a guard that could not stop before its permit ends, or that a healthy primary
// would trip between two renewals (src/fencing/rule.ts permitProblems): exit 78, naming the keys.
describe('config: the guard lease against its fence lead and the renewal gap', () => {
  const refused = async (o: Record<string, unknown>) => {
    try {
      await config(o);
      return null;
    } catch (e) {
      return e as { exitCode?: number; message: string; problems?: string[] };
    }
  };
  test('the defaults pass: lease 45 s > lead 17 s + renewal gap 27 s', async () => {
    const c = await config({ guard: {} });
    assert.equal(c.guard.lease, 45);
    assert.equal(c.guard.interval, 5);
  });
  test('the old defaults (lease 90 s, interval 1 min) are refused: the guard fences 72 s before the end', async () => {
    const e = await refused({ guard: { lease: '90s', interval: '1m' } });
    assert.ok(e, 'refused');
    assert.equal(e.exitCode, 78);
    const text = [e.message, ...(e.problems ?? [])].join('\n');
    assert.match(
      text,
      /\/guard\/lease guard\.lease 90 s is too short for guard\.interval 60 s and thresholds watchInterval 10 s/,
    );
    assert.match(text, /a healthy serving host would fence itself between two renewals/);
    assert.match(text, /Make guard\.lease more than 99 s/);
  });
  test('a lease within the fence lead: the guard could not stop in time', async () => {
    const e = await refused({ guard: { lease: '15s', interval: '5s' } });
    assert.match([e?.message, ...(e?.problems ?? [])].join('\n'), /could not stop its gateway before the permit ends/);
  });
  test('a slower renewal cadence needs a longer lease: watchInterval 30 s, lease 45 s refused, 80 s kept', async () => {
    const th = { watchInterval: '30s' };
    const e = await refused({ guard: { lease: '45s' }, thresholds: th });
    assert.match([e?.message, ...(e?.problems ?? [])].join('\n'), /thresholds watchInterval 30 s.*more than 79 s/);
    assert.equal((await config({ guard: { lease: '80s' }, thresholds: th })).guard.lease, 80);
  });
});
