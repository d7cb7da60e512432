// Words that mislead during an incident (issue 24 item 6), each checked where it is made:
// failback's waiting reasons say what they count (the primary reachable with its gateway idle,
// not "back"), failback with nothing serving does not say "already serves", and the
// config-broken alert points to a command that shows the problems (doctor, not validate).
// Status's "idle, ready" is in operator-status.test.ts, history's absent methods in
// operator-history.test.ts, the by-hand prompt in test/e2e/operator-json.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideFailback } from '../../dist/failover/plan.js';
import { initialState } from '../../dist/core/model.js';
import { configBrokenEvent } from '../../dist/alerts/protection.js';
import { config } from './helpers.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const AUTO = { auto: true, who: 'hactl --auto on witness' };
const HAND = { auto: false, who: 'ann@witness' };
const ob = (status: string) => ({
  status,
  detail: status === 'healthy' ? 'ready' : 'connection refused',
  confirmed: true,
});

function state(serving: 'primary' | 'standby', primary: string, standby: string, reachable = 0) {
  const s: any = initialState(new Date(NOW.getTime() - 3600_000));
  s.serving = serving;
  s.lastCheck = {
    at: new Date(NOW.getTime() - 30_000).toISOString(),
    hosts: { primary: ob(primary), standby: ob(standby) },
  };
  s.streaks.primary = { failures: 0, healthy: 0, reachable, reachableSince: s.lastCheck.at };
  return s;
}

describe('words that mislead', () => {
  test('failback waiting: says the primary is reachable with its gateway idle, not "back"', async () => {
    const c = await config({ thresholds: { successesBeforeFailback: 3 }, failback: { policy: 'auto' } });
    const d: any = decideFailback(c, state('standby', 'gateway-down', 'healthy', 2), AUTO, NOW);
    assert.equal(d.act, false);
    assert.match(d.reason, /primary pc1 reachable, gateway idle, for 2\/3 checks/);
    assert.doesNotMatch(d.reason, /back for/);
  });

  test('nothing serving: failback does not say "primary already serves"', async () => {
    const c = await config();
    for (const req of [AUTO, HAND]) {
      const d: any = decideFailback(c, state('primary', 'gateway-down', 'gateway-down'), req, NOW);
      assert.equal(d.act, false);
      assert.doesNotMatch(d.reason, /already serves/);
      assert.match(d.reason, /gateway was gateway-down at the last check .*does not serve/);
    }
    const ok: any = decideFailback(c, state('primary', 'healthy', 'gateway-down'), HAND, NOW);
    assert.match(ok.reason, /already serves/);
  });

  test('the config-broken alert points to hactl doctor, which shows every problem', () => {
    const t = configBrokenEvent('/etc/hactl/hactl.yaml', 'hactl.yaml:3:1: /thresholds bad', NOW).message;
    assert.match(t, /hactl doctor shows every problem/);
    assert.doesNotMatch(t, /hactl validate/);
  });
});
