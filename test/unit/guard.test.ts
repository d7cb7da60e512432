// hactl guard's decision and record, and the check's partition fold, as tables (docs/partitions.md).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideGuard, leaseFresh } from '../../dist/guard/plan.js';
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
const seen = (o: Record<string, unknown> = {}) => ({
  self: 'pc1',
  peer: 'pc2',
  leaseAge: 10,
  peerAnswers: true,
  peerDetail: '192.0.2.2:22 accepts',
  running: true,
  runningDetail: 'pid 42 on 18789',
  ...o,
});

describe('guard: decideGuard', () => {
  const rows: Array<[string, Record<string, unknown>, string, string, number, RegExp]> = [
    ['fresh lease, peer answers', {}, 'none', 'witness', 0, /lease 10 s old \(lease 90 s\): the witness reaches pc1/],
    ['fresh lease, peer silent: the witness is enough', { peerAnswers: false }, 'none', 'witness', 0, /witness/],
    ['lease exactly 90 s old: still fresh', { leaseAge: 90, peerAnswers: false }, 'none', 'witness', 0, /90 s old/],
    ['stale lease, peer answers: keep, warn', { leaseAge: 91 }, 'none', 'peer', 1, /peer pc2 answers .*witness down/],
    ['no lease file, peer answers: keep, warn', { leaseAge: null }, 'none', 'peer', 1, /no lease file/],
    [
      'stale lease, peer silent, gateway runs: stop',
      { leaseAge: 91, peerAnswers: false },
      'stop',
      'nobody',
      2,
      /pc1 isolated/,
    ],
    ['no lease file, peer silent: stop', { leaseAge: null, peerAnswers: false }, 'stop', 'nobody', 2, /isolated/],
    [
      'isolated, no gateway: nothing to stop, still critical',
      { leaseAge: 500, peerAnswers: false, running: false },
      'none',
      'nobody',
      2,
      /no gateway runs/,
    ],
    [
      'an mtime far in the future is not trusted',
      { leaseAge: -1000, peerAnswers: false },
      'stop',
      'nobody',
      2,
      /isolated/,
    ],
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
  test('leaseFresh: a small skew backwards still counts', () => assert.equal(leaseFresh(G, -5), true));
});

describe('guard: foldGuard', () => {
  const stopPlan = decideGuard(G, seen({ leaseAge: 200, peerAnswers: false }) as any);
  test('stopped: exit 2, FENCED, fencedAt set, an alert', () => {
    const f = foldGuard(undefined, seen() as any, stopPlan, { ok: true, detail: 'stopped by x' }, NOW, '[t]');
    assert.equal(f.exitCode, 2);
    assert.match(f.summary, /^guard: FENCED: pc1 isolated/);
    assert.equal(f.record.fencedAt, NOW.toISOString());
    assert.match(tx(f.alert), /^\[t\] 🟠 pc1 lost the witness and its peer/);
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
    const idle = decideGuard(G, seen({ leaseAge: 300, peerAnswers: false, running: false }) as any);
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
    assert.equal(a.alerts.length, 1);
    assert.match(tx(a.alerts[0]), /the witness cannot reach the primary pc1 .* no failover/);
    assert.equal(a.alerts[0]!.key, 'serving-lost:pc1');
    const b = foldWitnessView(cfg, a.state, obs, ASSESS as any, new Date(NOW.getTime() + 60_000));
    assert.deepEqual(
      b.alerts.map((e: any) => [e.kind, e.key]),
      [['serving-lost', 'serving-lost:pc1']],
    );
    const healed: any = { primary: ob('healthy'), standby: ob('gateway-down') };
    const c = foldWitnessView(cfg, b.state, healed, { level: 'ok', exitCode: 0, line: 'OK' } as any, NOW);
    assert.equal(c.alerts.length, 1);
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
  test('lease renewals are kept per host; a host not renewed keeps its last time', async () => {
    const t1 = '2026-12-01T11:59:00.000Z';
    const obs: any = { primary: ob('healthy', { leaseRenewedAt: t1 }), standby: ob('gateway-down') };
    const st: any = { ...initialState(NOW), lease: { standby: '2026-12-01T11:00:00.000Z' } };
    const a = foldWitnessView(await config(), st, obs, ASSESS as any, NOW);
    assert.deepEqual(a.state.lease, { primary: t1, standby: '2026-12-01T11:00:00.000Z' });
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
