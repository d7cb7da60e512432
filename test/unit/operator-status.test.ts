// hactl status's verdict (pure summarize) as a table: state files in, exit code and findings out.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize, render } from '../../dist/operator/status.js';
import { emptyStats } from '../../dist/operator/history-stats.js';

const NOW = new Date('2026-11-22T14:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const config: any = {
  pair: { primary: 'pc1', standby: 'pc2' },
  status: { checkEvery: 120 },
  memory: { enabled: true, interval: 300 },
  backup: { tiers: [{ name: 'nas', interval: 60 }] },
};
const o = (status: string) => ({ status, detail: status, confirmed: true });
function state(over: Record<string, any> = {}, checkedAgo = 30): any {
  const zero = { failures: 0, healthy: 3, reachable: 3 };
  return {
    version: 1,
    serving: 'primary',
    servingSince: ago(86400),
    lastCheck: { at: ago(checkedAgo), hosts: { primary: o('healthy'), standby: o('gateway-down') } },
    streaks: { primary: zero, standby: zero },
    failover: { attempts: 0, lastAttemptAt: null, escalatedAt: null, lastResult: null },
    level: 'ok',
    ...over,
  };
}
function input(over: Record<string, any> = {}): any {
  return {
    now: NOW,
    state: { ok: state() },
    pause: { ok: undefined },
    outbox: { ok: [] },
    locks: [],
    memory: { ok: { version: 1, lastRunAt: ago(60), lastGoodAt: ago(60), lastResult: 'ok' } },
    backup: { ok: { nas: { lastRunAt: ago(600), lastOkAt: ago(600), lastResult: 'ok', runs: 3, snapshot: 's1' } } },
    history: { ok: emptyStats() },
    ...over,
  };
}
const pause = { version: 1, since: ago(60), until: ago(-3600), reason: 'disk swap', by: 'ann@w' };
const lock = { name: 'cluster', pid: 1, host: 'w', command: 'hactl failover', since: ago(5), leaseUntil: ago(-60) };

describe('status summary (pure)', () => {
  const rows: Array<[string, any, number, RegExp | null]> = [
    ['all good', input(), 0, null],
    ['check 5 min ago, cadence 2 min: fresh', input({ state: { ok: state({}, 300) } }), 0, null],
    [
      'check 7 min ago: stale witness',
      input({ state: { ok: state({}, 420) } }),
      1,
      /stale witness: the last check ran 7m ago/,
    ],
    ['no state yet: unknown', input({ state: { ok: undefined } }), 3, /no check has run yet/],
    ['state unreadable: unknown', input({ state: { error: 'state.json: corrupt' } }), 3, /state unreadable/],
    ['nothing serving: critical', input({ state: { ok: state({ level: 'critical' }) } }), 2, /nothing serving/],
    ['critical and stale: critical wins', input({ state: { ok: state({ level: 'critical' }, 3600) } }), 2, /stale/],
    ['a host not judged: unknown', input({ state: { ok: state({ level: 'unknown' }) } }), 3, /could not judge/],
    ['degraded: warning', input({ state: { ok: state({ level: 'degraded' }) } }), 1, /degraded/],
    ['paused: warning', input({ pause: { ok: pause } }), 1, /paused by ann@w until .*disk swap/],
    ['pause expired: fine', input({ pause: { ok: { ...pause, until: ago(10) } } }), 0, null],
    [
      'alerts waiting: warning',
      input({ outbox: { ok: [{ at: ago(600), tries: 4 }] } }),
      1,
      /1 alert\(s\) not delivered/,
    ],
    ['a live lock: fine', input({ locks: [{ ...lock, stale: false }] }), 0, null],
    [
      'a dead run left a lock: warning',
      input({ locks: [{ ...lock, stale: true }] }),
      1,
      /lock cluster left by a dead run/,
    ],
    [
      'memory sync too old: warning',
      input({ memory: { ok: { version: 1, lastRunAt: ago(60), lastGoodAt: ago(1000), lastResult: 'failed' } } }),
      1,
      /last good memory sync 17 min ago/,
    ],
    [
      'backup tier overdue: warning',
      input({
        backup: { ok: { nas: { lastRunAt: ago(60), lastOkAt: ago(3 * 3600), lastResult: 'failed', runs: 2 } } },
      }),
      1,
      /backup tier nas overdue/,
    ],
  ];
  for (const [name, inp, code, finding] of rows) {
    test(name, () => {
      const s = summarize(config, inp);
      assert.equal(s.exitCode, code, s.line);
      if (finding) assert.match(s.line, finding);
      else assert.deepEqual(s.findings, []);
    });
  }

  test('hosts carry the last observation, its age and the consecutive counts; pause says until when', () => {
    const st = state({
      streaks: {
        primary: { failures: 2, healthy: 0, reachable: 5 },
        standby: { failures: 0, healthy: 0, reachable: 9 },
      },
    });
    const s = summarize(config, input({ state: { ok: st }, pause: { ok: pause } }));
    assert.deepEqual(
      s.hosts.map((h: any) => [h.role, h.host, h.status, h.ageSeconds, h.failures, h.reachable]),
      [
        ['primary', 'pc1', 'healthy', 30, 2, 5],
        ['standby', 'pc2', 'gateway-down', 30, 0, 9],
      ],
    );
    assert.deepEqual(s.pause, { paused: true, until: pause.until, line: s.pause.line });
    assert.deepEqual(s.backup, [{ tier: 'nas', snapshot: 's1', lastOkAt: ago(600), lastResult: 'ok' }]);
    const text = render(s, NOW).join('\n');
    assert.match(text, /primary\s+pc1\s+healthy\s+failures 2, healthy 0, reachable 5/);
    assert.match(text, /pause\s+paused by ann@w/);
  });

  test('the idle standby (gateway cleanly stopped) reads "idle, ready", not "gateway-down failures 12"', () => {
    const st = state({
      streaks: {
        primary: { failures: 0, healthy: 12, reachable: 12 },
        standby: { failures: 12, healthy: 0, reachable: 12 },
      },
    });
    const s = summarize(config, input({ state: { ok: st } }));
    assert.deepEqual(
      s.hosts.map((h: any) => [h.role, h.idle]),
      [
        ['primary', false],
        ['standby', true],
      ],
    );
    const text = render(s, NOW).join('\n');
    assert.match(text, /standby\s+pc2\s+idle, ready\s+reachable for 12 check\(s\)/);
    assert.doesNotMatch(text, /gateway-down|failures 12/);
    // The serving host down is still said as it is.
    const down = state({
      lastCheck: { at: ago(30), hosts: { primary: o('gateway-down'), standby: o('gateway-down') } },
    });
    const d = render(summarize(config, input({ state: { ok: down } })), NOW).join('\n');
    assert.match(d, /primary\s+pc1\s+gateway-down\s+failures/);
  });
});
