// The decision core, case by case: (config, state, observations, now) -> plan.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCheck, assess, decideFailback, decideFailover, needsRetry } from '../../dist/core/decide.js';
import { initialState } from '../../dist/core/model.js';
import { config } from './helpers.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const later = (s: number) => new Date(NOW.getTime() + s * 1000);
const ob = (status: string, extra: Record<string, unknown> = {}) => ({ status, detail: `${status} detail`, confirmed: true, ...extra });
const obs = (p: string, s: string) => ({ primary: ob(p), standby: ob(s) });

async function afterChecks(cfg: any, list: Array<[string, string]>, start = initialState(NOW)) {
  let st = start;
  let last: any;
  list.forEach(([p, s], i) => {
    last = applyCheck(cfg, st, obs(p, s), later(i));
    st = last.state;
  });
  return { state: st, last };
}

describe('assess', () => {
  test('primary serving, standby idle and reachable: OK, exit 0', async () => {
    const a = assess(await config(), 'primary', obs('healthy', 'gateway-down'));
    assert.equal(a.exitCode, 0);
    assert.match(a.line, /^OK: primary pc1 serving, standby pc2 ready/);
  });
  test('standby host down: degraded, exit 1', async () => {
    assert.equal(assess(await config(), 'primary', obs('healthy', 'unreachable')).exitCode, 1);
  });
  test('serving from the standby: degraded, exit 1', async () => {
    assert.equal(assess(await config(), 'standby', obs('gateway-down', 'healthy')).exitCode, 1);
  });
  test('two gateways up: degraded, named', async () => {
    const a = assess(await config(), 'primary', obs('healthy', 'healthy'));
    assert.equal(a.exitCode, 1);
    assert.match(a.line, /two gateways/);
  });
  test('nothing serving: critical, exit 2', async () => {
    assert.equal(assess(await config(), 'primary', obs('gateway-down', 'gateway-down')).exitCode, 2);
    assert.equal(assess(await config(), 'primary', obs('ssh-timeout', 'unreachable')).exitCode, 2);
  });
  test('serving host has a configuration problem: unknown, exit 3', async () => {
    assert.equal(assess(await config(), 'primary', obs('hostkey-failure', 'gateway-down')).exitCode, 3);
    assert.equal(assess(await config(), 'primary', obs('auth-failure', 'gateway-down')).exitCode, 3);
  });
});

describe('needsRetry', () => {
  test('failures are retried, config problems and health are not', () => {
    for (const s of ['gateway-down', 'unreachable', 'ssh-timeout']) assert.equal(needsRetry(s), true, s);
    for (const s of ['healthy', 'auth-failure', 'hostkey-failure']) assert.equal(needsRetry(s), false, s);
  });
});

describe('applyCheck', () => {
  test('counts consecutive confirmed failures and resets on health', async () => {
    const cfg = await config();
    const { state } = await afterChecks(cfg, [['gateway-down', 'gateway-down'], ['unreachable', 'gateway-down']]);
    assert.equal(state.streaks.primary.failures, 2);
    assert.equal(state.streaks.primary.reachable, 0);
    const { state: s2 } = await afterChecks(cfg, [['healthy', 'gateway-down']], state);
    assert.equal(s2.streaks.primary.failures, 0);
    assert.equal(s2.streaks.primary.healthy, 1);
  });
  test('an unconfirmed failure does not count', async () => {
    const cfg = await config();
    const r = applyCheck(cfg, initialState(NOW), { primary: ob('gateway-down', { confirmed: false }), standby: ob('gateway-down') }, NOW);
    assert.equal(r.state.streaks.primary.failures, 0);
  });
  test('a configuration problem resets the streaks instead of counting as failure', async () => {
    const cfg = await config();
    const { state } = await afterChecks(cfg, [['gateway-down', 'gateway-down'], ['hostkey-failure', 'gateway-down']]);
    assert.equal(state.streaks.primary.failures, 0);
  });
  test('alerts once when both are down, and once when that ends', async () => {
    const cfg = await config();
    const { state, last } = await afterChecks(cfg, [['unreachable', 'unreachable']]);
    assert.match(last.alert, /both down/);
    const again = applyCheck(cfg, state, obs('unreachable', 'unreachable'), later(60));
    assert.equal(again.alert, undefined);
    const back = applyCheck(cfg, again.state, obs('healthy', 'gateway-down'), later(120));
    assert.match(back.alert, /no longer both down/);
  });
  test('the primary down with a ready standby is not a check alert (failover sends its own)', async () => {
    const { last } = await afterChecks(await config(), [['gateway-down', 'gateway-down']]);
    assert.equal(last.alert, undefined);
    assert.equal(last.assessment.exitCode, 2);
  });
  test('health on the serving side resets the failover attempts', async () => {
    const cfg = await config();
    const st = { ...initialState(NOW), failover: { attempts: 2, lastAttemptAt: NOW.toISOString(), escalatedAt: NOW.toISOString(), lastResult: 'failed' } };
    const r = applyCheck(cfg, st, obs('healthy', 'gateway-down'), NOW);
    assert.equal(r.state.failover.attempts, 0);
    assert.equal(r.state.failover.escalatedAt, null);
  });
});

describe('decideFailover', () => {
  test('by hand: acts now, with fence, settle, start, verify, record', async () => {
    const cfg = await config();
    const d = decideFailover(cfg, initialState(NOW), { auto: false, now: NOW });
    assert.equal(d.act, true);
    assert.deepEqual(d.steps.map((s: any) => s.op), ['fence', 'settle', 'start', 'verify', 'record']);
    assert.deepEqual(d.steps.find((s: any) => s.op === 'start').methods, ['systemd-user', 'openclaw-cli', 'detached']);
  });
  test('by hand while the standby serves: nothing to do', async () => {
    const d = decideFailover(await config(), { ...initialState(NOW), serving: 'standby' }, { auto: false, now: NOW });
    assert.equal(d.act, false);
    assert.equal(d.exitCode, 0);
  });
  test('auto without any check: no action', async () => {
    const d = decideFailover(await config(), initialState(NOW), { auto: true, now: NOW });
    assert.equal(d.act, false);
  });
  test('auto on a confirmed gateway crash: acts, with a last-chance sync first', async () => {
    const cfg = await config();
    const { state } = await afterChecks(cfg, [['gateway-down', 'gateway-down']]);
    const d = decideFailover(cfg, state, { auto: true, now: later(1) });
    assert.equal(d.act, true);
    assert.equal(d.steps[0].op, 'sync-last-chance');
  });
  test('auto on a dead host: acts, no last-chance sync', async () => {
    const cfg = await config();
    const { state } = await afterChecks(cfg, [['unreachable', 'gateway-down']]);
    const d = decideFailover(cfg, state, { auto: true, now: later(1) });
    assert.equal(d.act, true);
    assert.ok(!d.steps.some((s: any) => s.op === 'sync-last-chance'));
  });
  test('auto with the standby unreachable too: no attempt (the witness may be the one cut off)', async () => {
    const cfg = await config();
    const { state } = await afterChecks(cfg, [['unreachable', 'unreachable']]);
    const d = decideFailover(cfg, state, { auto: true, now: later(1) });
    assert.equal(d.act, false);
    assert.equal(d.exitCode, 2);
    assert.match(d.reason, /standby pc2 is unreachable too/);
  });
  test('auto on stale state: refuses with exit 3', async () => {
    const cfg = await config();
    const { state } = await afterChecks(cfg, [['gateway-down', 'gateway-down']]);
    const d = decideFailover(cfg, state, { auto: true, now: later(301) });
    assert.equal(d.act, false);
    assert.equal(d.exitCode, 3);
  });
  test('auto waits for failuresBeforeFailover confirmed checks', async () => {
    const cfg = await config({ thresholds: { failuresBeforeFailover: 3 } });
    const { state } = await afterChecks(cfg, [['gateway-down', 'gateway-down'], ['gateway-down', 'gateway-down']]);
    const d = decideFailover(cfg, state, { auto: true, now: later(2) });
    assert.equal(d.act, false);
    assert.match(d.reason, /2\/3/);
  });
  test('a host-key or auth failure is never a reason to fail over', async () => {
    const cfg = await config();
    for (const s of ['hostkey-failure', 'auth-failure']) {
      const { state } = await afterChecks(cfg, [[s, 'gateway-down'], [s, 'gateway-down']]);
      const d = decideFailover(cfg, state, { auto: true, now: later(2) });
      assert.equal(d.act, false, s);
      assert.equal(d.exitCode, 3);
    }
  });
  test('cooldown, then max attempts: escalate once, then stay quiet', async () => {
    const cfg = await config({ thresholds: { cooldown: 300, maxAttempts: 3 } });
    const { state } = await afterChecks(cfg, [['gateway-down', 'gateway-down']]);
    const tried = { ...state, failover: { attempts: 1, lastAttemptAt: NOW.toISOString(), escalatedAt: null, lastResult: 'failed' } };
    const inCooldown = decideFailover(cfg, tried, { auto: true, now: later(100) });
    assert.equal(inCooldown.act, false);
    assert.match(inCooldown.reason, /cooldown/);
    const fresh = { ...tried, lastCheck: { ...tried.lastCheck, at: later(400).toISOString() } };
    assert.equal(decideFailover(cfg, fresh, { auto: true, now: later(400) }).act, true);
    const maxed = { ...fresh, failover: { ...fresh.failover, attempts: 3 } };
    const esc = decideFailover(cfg, maxed, { auto: true, now: later(400) });
    assert.equal(esc.act, false);
    assert.equal(esc.escalate, true);
    assert.match(esc.alert, /ESCALATION/);
    const quiet = decideFailover(cfg, { ...maxed, failover: { ...maxed.failover, escalatedAt: later(400).toISOString() } }, { auto: true, now: later(410) });
    assert.equal(quiet.act, false);
    assert.equal(quiet.escalate, undefined);
    assert.equal(quiet.exitCode, 2);
  });
  test('both gateways up: fence the idle one only', async () => {
    const cfg = await config();
    const { state } = await afterChecks(cfg, [['healthy', 'healthy']]);
    const d = decideFailover(cfg, state, { auto: true, now: later(1) });
    assert.equal(d.act, true);
    assert.equal(d.kind, 'fence-idle');
    assert.deepEqual(d.steps, [{ op: 'fence', role: 'standby', why: 'second gateway' }]);
  });
});

describe('decideFailback', () => {
  const serving = (st: any) => ({ ...st, serving: 'standby' });
  test('primary already serves: nothing to do', async () => {
    const d = decideFailback(await config(), initialState(NOW), { auto: true, now: NOW });
    assert.equal(d.act, false);
  });
  test('by hand: sync back first, then stop the standby, start the primary', async () => {
    const d = decideFailback(await config(), serving(initialState(NOW)), { auto: false, now: NOW });
    assert.equal(d.act, true);
    assert.deepEqual(d.steps.map((s: any) => s.op), ['sync-back', 'stop', 'settle', 'start', 'verify', 'record']);
    assert.equal(d.steps[1].role, 'standby');
  });
  test('auto waits for successesBeforeFailback checks with the primary host back', async () => {
    const cfg = await config({ thresholds: { successesBeforeFailback: 3 } });
    const st = serving(initialState(NOW));
    const two = await afterChecks(cfg, [['gateway-down', 'healthy'], ['gateway-down', 'healthy']], st);
    assert.equal(decideFailback(cfg, two.state, { auto: true, now: later(2) }).act, false);
    const three = await afterChecks(cfg, [['gateway-down', 'healthy']], two.state);
    assert.equal(decideFailback(cfg, three.state, { auto: true, now: later(2) }).act, true);
  });
  test('a blip resets the count', async () => {
    const cfg = await config({ thresholds: { successesBeforeFailback: 2 } });
    const r = await afterChecks(cfg, [['gateway-down', 'healthy'], ['unreachable', 'healthy'], ['gateway-down', 'healthy']], serving(initialState(NOW)));
    assert.equal(decideFailback(cfg, r.state, { auto: true, now: later(3) }).act, false);
  });
  test('manual policy: never automatic, by hand still acts', async () => {
    const cfg = await config({ failback: { policy: 'manual' } });
    const r = await afterChecks(cfg, [['gateway-down', 'healthy'], ['gateway-down', 'healthy'], ['gateway-down', 'healthy'], ['gateway-down', 'healthy']], serving(initialState(NOW)));
    const auto = decideFailback(cfg, r.state, { auto: true, now: later(4) });
    assert.equal(auto.act, false);
    assert.match(auto.reason, /manual/);
    assert.equal(decideFailback(cfg, r.state, { auto: false, now: later(4) }).act, true);
  });
});
