// Issue 12, the pure parts as tables: when check --watch probes next, when it hands over to
// failover --auto, what the watch adds up to; and the remote scripts' absent check, run here
// with sh against a scratch HOME (no ssh needed to read what the script does).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { foldWatch, handOver, nextProbeAt } from '../../dist/failover/watch-plan.js';
import { runCommand, detachedStart } from '../../dist/adapters/remote-scripts.js';
import { needsOf } from '../../dist/adapters/gateway.js';
import { initialState } from '../../dist/core/model.js';
import { config } from './helpers.ts';

const W = { intervalMs: 30_000, windowMs: 100_000 };

describe('nextProbeAt', () => {
  const rows: Array<[string, number, number, number | null]> = [
    // [name, last probe started (ms after start), now, expected next start]
    ['the next slot after a quick probe', 0, 2_000, 30_000],
    ['a probe that overran is followed at once, not by a burst', 30_000, 75_000, 75_000],
    ['the last slot inside the window', 60_000, 61_000, 90_000],
    ['no probe starts after the window', 90_000, 91_000, null],
    ['an overrun past the window ends the watch', 60_000, 100_001, null],
  ];
  for (const [name, last, now, want] of rows) test(name, () => assert.equal(nextProbeAt(W, 0, last, now), want));
  test('the default window (100 s at 30 s) gives 4 probes per 2-minute cron run', () => {
    const starts = [0];
    for (let n; (n = nextProbeAt(W, 0, starts.at(-1)!, starts.at(-1)! + 1500)) !== null;) starts.push(n);
    assert.deepEqual(starts, [0, 30_000, 60_000, 90_000]);
  });
});

describe('handOver', () => {
  const NOW = new Date('2026-12-01T12:00:00Z');
  const AUTO = { auto: true, who: 'hactl --auto on witness' };
  const ob = (status: string, confirmed = true) => ({ status, detail: status, confirmed });
  const st = (p: string, s: string, extra: Record<string, unknown> = {}) => {
    const x: any = initialState(NOW);
    x.lastCheck = { at: new Date(NOW.getTime() - 5000).toISOString(), hosts: { primary: ob(p), standby: ob(s) } };
    x.streaks.primary.failures = p === 'healthy' ? 0 : 1;
    return { ...x, ...extra };
  };
  test('a confirmed failure of the serving side goes to failover --auto', async () => {
    const v = handOver(await config(), st('gateway-down', 'gateway-down'), AUTO, NOW, undefined);
    assert.equal(v.go, true);
    assert.match(v.reason, /gateway-down for 1 confirmed check/);
  });
  test('healthy: no hand-over', async () => {
    assert.equal(handOver(await config(), st('healthy', 'gateway-down'), AUTO, NOW, undefined).go, false);
  });
  test('in cooldown: no hand-over (the watch does not hammer a failing failover)', async () => {
    const failover = { attempts: 1, lastAttemptAt: new Date(NOW.getTime() - 10_000).toISOString() };
    const s = st('gateway-down', 'gateway-down', { failover: { ...initialState(NOW).failover, ...failover } });
    const v = handOver(await config(), s, AUTO, NOW, undefined);
    assert.deepEqual([v.go, /cooldown/.test(v.reason)], [false, true]);
  });
  test('at the attempt cap: handed over, so failover --auto records the escalation and alerts', async () => {
    const failover = { attempts: 3, lastAttemptAt: new Date(NOW.getTime() - 3600_000).toISOString() };
    const s = st('gateway-down', 'gateway-down', { failover: { ...initialState(NOW).failover, ...failover } });
    assert.equal(handOver(await config(), s, AUTO, NOW, undefined).go, true);
  });
  test('paused: no hand-over', async () => {
    const pause = {
      version: 1,
      since: new Date(NOW.getTime() - 60_000).toISOString(),
      until: new Date(NOW.getTime() + 3600_000).toISOString(),
      reason: 'maintenance',
      by: 'ann@witness',
    };
    assert.equal(handOver(await config(), st('gateway-down', 'gateway-down'), AUTO, NOW, pause as any).go, false);
  });
});

describe('foldWatch', () => {
  const p = (exitCode: number, summary: string, extra: Record<string, unknown> = {}) => ({
    atMs: 0,
    exitCode,
    summary,
    ...extra,
  });
  test('the last probe decides the exit code; an action is named in the line', () => {
    const v = foldWatch(
      [p(0, 'check: OK'), p(2, 'check: CRITICAL', { handover: { exitCode: 0, summary: 'failover: done' } })].concat(
        p(1, 'check: DEGRADED'),
      ),
      92_000,
    );
    assert.deepEqual(v, {
      exitCode: 1,
      summary: 'check --watch: 3 probe(s) in 92 s; failover: done; last check: DEGRADED',
    });
  });
  test('a failed action makes the watch critical', () => {
    const v = foldWatch([p(2, 'check: CRITICAL', { handover: { exitCode: 2, summary: 'failover: FAILED' } })], 1);
    assert.equal(v.exitCode, 2);
  });
  test('probes turned away by the lock are counted; none observed is exit 75', () => {
    assert.match(foldWatch([p(75, 'busy', { busy: true }), p(0, 'check: OK')], 30_000).summary, /1 turned away/);
    assert.equal(foldWatch([p(75, 'busy', { busy: true })], 30_000).exitCode, 75);
  });
});

describe('absent start methods (remote script, run with sh here)', () => {
  const home = mkdtempSync(join(tmpdir(), 'hactl-absent-'));
  const sh = (script: string) =>
    spawnSync('sh', ['-c', script], { env: { HOME: home, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
  test('a one-command method whose program is missing is absent and does not run', () => {
    const m = { name: 'vendor', run: 'no-such-cli start' };
    const r = sh(runCommand(m.run, {}, needsOf(m)));
    assert.equal(r.status, 3);
    assert.match(r.stdout, /^HACTL_ABSENT: no-such-cli not found on PATH$/m);
  });
  test("a failing requires test is absent with the test's own reason; the command never runs", () => {
    const m = { name: 'svc', run: 'touch ran', requires: 'echo "no unit here"; exit 1' };
    const r = sh(runCommand(m.run, {}, needsOf(m)));
    assert.equal(r.status, 3);
    assert.match(r.stdout, /^HACTL_ABSENT: no unit here$/m);
    assert.equal(existsSync(join(home, 'ran')), false);
  });
  test('a passing requires test runs the command (with the method env)', () => {
    const m = { name: 'svc', run: 'touch "$MARK"', requires: '[ -n "$MARK" ]' };
    const r = sh(runCommand(m.run, { MARK: 'ran' }, needsOf(m)));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(existsSync(join(home, 'ran')), true);
    rmSync(join(home, 'ran'));
  });
  test('a command of several parts is not guessed at (it may set PATH itself)', () => {
    assert.equal(needsOf({ name: 'x', run: 'PATH=/opt/x:$PATH; vendor start' }).program, undefined);
    assert.equal(needsOf({ name: 'x', detached: 'openclaw gateway run' }).program, 'openclaw');
  });
  test('the default systemd-user method is absent without a unit file, present with one', async () => {
    const c = await config();
    const sysd = c.gateway.start.find((m: any) => m.name === 'systemd-user');
    const bin = join(home, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const withPath = (s: string) =>
      spawnSync('sh', ['-c', s], { env: { HOME: home, PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
    const before = withPath(runCommand('exit 0', {}, { requires: sysd.requires }));
    assert.equal(before.status, 3);
    assert.match(before.stdout, /HACTL_ABSENT: no openclaw-gateway\.service unit/);
    const units = join(home, '.config', 'systemd', 'user');
    mkdirSync(units, { recursive: true });
    writeFileSync(join(units, 'openclaw-gateway.service'), '[Service]\n');
    assert.equal(withPath(runCommand('exit 0', {}, { requires: sysd.requires })).status, 0);
  });
  test('a detached start with its program missing writes no pid file', () => {
    const r = sh(detachedStart('no-such-gw run', '.run', {}, { program: 'no-such-gw' }));
    assert.equal(r.status, 3);
    assert.equal(existsSync(join(home, '.run', 'gateway.pid')), false);
  });
});
