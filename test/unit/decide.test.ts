// The failover decisions as tables, the way Pacemaker's scheduler is tested:
// each row is config + state + observation -> expected plan (plan.ts) or
// expected new state and alerts (fold.ts). docs/decisions.md says the same in words.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { confirmObservation, decideFailback, decideFailover, describeStep, shouldRetry } from '../../dist/failover/plan.js';
import { assess, foldCheck, foldHold, foldMove } from '../../dist/failover/fold.js';
import { initialState } from '../../dist/core/model.js';
import { config } from './helpers.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const at = (s: number) => new Date(NOW.getTime() + s * 1000);
const ob = (status: string, extra: Record<string, unknown> = {}) => ({ status, detail: `${status} detail`, confirmed: true, ...extra });
const obs = (p: string, s: string) => ({ primary: ob(p), standby: ob(s) });
const AUTO = { auto: true, who: 'hactl --auto on witness' };
const HAND = { auto: false, who: 'ann@witness' };

/** A state: serving side, the last check's statuses, streaks and attempt records as given. */
function state(o: {
  serving?: 'primary' | 'standby'; check?: [string, string] | null; checkAge?: number; confirmed?: boolean;
  failures?: number; reachable?: number; failover?: Record<string, unknown>; failback?: Record<string, unknown>;
} = {}): any {
  const s: any = initialState(NOW);
  s.serving = o.serving ?? 'primary';
  if (o.check) {
    const hosts = obs(o.check[0], o.check[1]);
    if (o.confirmed === false) (hosts as any)[s.serving].confirmed = false;
    s.lastCheck = { at: at(-(o.checkAge ?? 10)).toISOString(), hosts };
  }
  const servingSide = s.serving;
  s.streaks[servingSide].failures = o.failures ?? (o.check && o.check[servingSide === 'primary' ? 0 : 1] !== 'healthy' ? 1 : 0);
  s.streaks.primary.reachable = o.reachable ?? 0;
  s.failover = { ...s.failover, ...(o.failover ?? {}) };
  if (o.failback) s.failback = { attempts: 0, lastAttemptAt: null, escalatedAt: null, lastResult: null, ...o.failback };
  return s;
}

interface PlanRow {
  name: string;
  cfg?: Record<string, unknown>;
  st: any;
  req?: typeof AUTO;
  now?: Date;
  act: boolean;
  exit?: number;
  kind?: string;
  ops?: string[];
  reason?: RegExp;
  escalate?: boolean;
}

function runPlanTable(decide: typeof decideFailover, rows: PlanRow[]): void {
  for (const r of rows) {
    test(r.name, async () => {
      const cfg = await config(r.cfg ?? {});
      const d: any = decide(cfg, r.st, r.req ?? AUTO, r.now ?? NOW);
      assert.equal(d.act, r.act, JSON.stringify(d));
      if (r.exit !== undefined) assert.equal(d.exitCode, r.exit);
      if (r.kind) assert.equal(d.plan.kind, r.kind);
      if (r.ops) assert.deepEqual(d.plan.steps.map((s: any) => s.op), r.ops);
      if (r.reason) assert.match(d.act ? d.plan.reason : d.reason, r.reason);
      assert.equal(!!d.escalate, !!r.escalate);
      if (d.act) for (const s of d.plan.steps) assert.ok(s.reason, `step ${s.op} carries its reason`);
    });
  }
}

const FAILOVER_OPS = ['fence', 'settle', 'start', 'verify', 'record'];

describe('plan: decideFailover', () => {
  runPlanTable(decideFailover, [
    { name: 'by hand: act now', st: state(), req: HAND, act: true, kind: 'failover', ops: FAILOVER_OPS },
    { name: 'by hand after a gateway-down check: last-chance sync first', st: state({ check: ['gateway-down', 'gateway-down'] }),
      req: HAND, act: true, ops: ['sync-last-chance', ...FAILOVER_OPS] },
    { name: 'by hand while the standby serves: nothing to do', st: state({ serving: 'standby' }), req: HAND, act: false, exit: 0 },
    { name: 'auto without a check: wait', st: state(), act: false, exit: 0, reason: /no check recorded/ },
    { name: 'auto on stale state: exit 3', st: state({ check: ['gateway-down', 'gateway-down'], checkAge: 301 }), act: false,
      exit: 3, reason: /stale/ },
    { name: 'auto, standby serving, both healthy: fence the idle primary',
      st: state({ serving: 'standby', check: ['healthy', 'healthy'] }), act: true, kind: 'fence-idle', ops: ['fence'] },
    { name: 'auto, standby serving, primary down: failback decides', st: state({ serving: 'standby', check: ['gateway-down', 'healthy'] }),
      act: false, exit: 0, reason: /failback decides/ },
    { name: 'auto, primary host-key failure: never a reason (exit 3)', st: state({ check: ['hostkey-failure', 'gateway-down'] }),
      act: false, exit: 3, reason: /configuration problem/ },
    { name: 'auto, primary auth failure: never a reason (exit 3)', st: state({ check: ['auth-failure', 'gateway-down'] }),
      act: false, exit: 3 },
    { name: 'auto, primary healthy, standby idle: nothing', st: state({ check: ['healthy', 'gateway-down'] }), act: false, exit: 0,
      reason: /healthy: nothing to do/ },
    { name: 'auto, both gateways up: fence the idle standby', st: state({ check: ['healthy', 'healthy'] }), act: true,
      kind: 'fence-idle' },
    { name: 'auto, failure not confirmed', st: state({ check: ['gateway-down', 'gateway-down'], confirmed: false }), act: false,
      exit: 0, reason: /not confirmed/ },
    { name: 'auto, fewer confirmed checks than failuresBeforeFailover', cfg: { thresholds: { failuresBeforeFailover: 3 } },
      st: state({ check: ['gateway-down', 'gateway-down'], failures: 2 }), act: false, reason: /2\/3/ },
    { name: 'auto, standby unreachable too: no attempt, exit 2', st: state({ check: ['unreachable', 'unreachable'] }), act: false,
      exit: 2, reason: /standby pc2 is unreachable too/ },
    { name: 'auto, gateway crash confirmed: last-chance sync then the move',
      st: state({ check: ['gateway-down', 'gateway-down'] }), act: true, ops: ['sync-last-chance', ...FAILOVER_OPS] },
    { name: 'auto, dead host confirmed: no last-chance sync', st: state({ check: ['unreachable', 'gateway-down'] }), act: true,
      ops: FAILOVER_OPS },
    { name: 'auto, escalated before: stay quiet, exit 2',
      st: state({ check: ['unreachable', 'gateway-down'], failover: { attempts: 3, escalatedAt: NOW.toISOString() } }),
      act: false, exit: 2, reason: /gave up/ },
    { name: 'auto, attempts at the cap: escalate once', cfg: { thresholds: { maxAttempts: 3 } },
      st: state({ check: ['unreachable', 'gateway-down'], failover: { attempts: 3 } }), act: false, exit: 2, escalate: true },
    { name: 'auto, in cooldown', cfg: { thresholds: { cooldown: 300 } },
      st: state({ check: ['unreachable', 'gateway-down'], failover: { attempts: 1, lastAttemptAt: at(-100).toISOString() } }),
      act: false, exit: 0, reason: /cooldown/ },
    { name: 'auto, cooldown over', cfg: { thresholds: { cooldown: 300 } },
      st: state({ check: ['unreachable', 'gateway-down'], failover: { attempts: 1, lastAttemptAt: at(-400).toISOString() } }),
      act: true },
  ]);
});

const FAILBACK_OPS = ['sync-back', 'stop', 'settle', 'start', 'verify', 'record'];
const onStandby = (o: Parameters<typeof state>[0] = {}) => state({ serving: 'standby', ...o });

describe('plan: decideFailback', () => {
  runPlanTable(decideFailback, [
    { name: 'primary already serves', st: state(), act: false, exit: 0 },
    { name: 'by hand: sync back, stop the standby, start the primary', st: onStandby(), req: HAND, act: true, kind: 'failback',
      ops: FAILBACK_OPS },
    { name: 'auto, manual policy: never', cfg: { failback: { policy: 'manual' } }, st: onStandby({ check: ['gateway-down', 'healthy'],
      reachable: 5 }), act: false, reason: /manual/ },
    { name: 'auto, no check', st: onStandby(), act: false, exit: 0, reason: /no check/ },
    { name: 'auto, stale check', st: onStandby({ check: ['gateway-down', 'healthy'], checkAge: 400, reachable: 5 }), act: false,
      exit: 3 },
    { name: 'auto, primary back for too few checks', cfg: { thresholds: { successesBeforeFailback: 3 } },
      st: onStandby({ check: ['gateway-down', 'healthy'], reachable: 2 }), act: false, reason: /2\/3/ },
    { name: 'auto, primary back long enough', cfg: { thresholds: { successesBeforeFailback: 3 } },
      st: onStandby({ check: ['gateway-down', 'healthy'], reachable: 3 }), act: true, ops: FAILBACK_OPS },
  ]);
});

describe('plan: the confirming retry', () => {
  const rows: Array<[string, 'primary' | 'standby', 'primary' | 'standby', boolean]> = [
    ['healthy', 'primary', 'primary', false],
    ['auth-failure', 'primary', 'primary', false],
    ['hostkey-failure', 'standby', 'primary', false],
    ['gateway-down', 'primary', 'primary', true],
    ['gateway-down', 'standby', 'primary', false], // an idle standby's gateway is down by design
    ['unreachable', 'standby', 'primary', true],
    ['ssh-timeout', 'primary', 'standby', true],
  ];
  for (const [status, role, serving, want] of rows) {
    test(`${status} on ${role} (serving ${serving}): retry ${want}`, () => {
      assert.equal(shouldRetry(role, serving, ob(status)), want);
    });
  }
  test('a second probe that is healthy makes the observation transient', () => {
    const r = confirmObservation(ob('gateway-down'), ob('healthy'));
    assert.equal(r.status, 'healthy');
    assert.equal(r.transient, true);
    assert.match(r.detail, /first probe: gateway-down/);
  });
  test('a second failure is confirmed', () => {
    assert.equal(confirmObservation(ob('unreachable'), ob('unreachable', { confirmed: false })).confirmed, true);
  });
});

describe('fold: assess (the check verdict)', () => {
  const rows: Array<[string, 'primary' | 'standby', [string, string], number, RegExp]> = [
    ['serving healthy, idle ready', 'primary', ['healthy', 'gateway-down'], 0, /^OK: primary pc1 serving, standby pc2 ready/],
    ['standby host down', 'primary', ['healthy', 'unreachable'], 1, /standby pc2 not ready/],
    ['serving from the standby', 'standby', ['gateway-down', 'healthy'], 1, /serving from the standby/],
    ['two gateways', 'primary', ['healthy', 'healthy'], 1, /two gateways/],
    ['serving down but the idle side serves', 'primary', ['gateway-down', 'healthy'], 1, /but standby pc2 serves/],
    ['nothing serving', 'primary', ['gateway-down', 'gateway-down'], 2, /CRITICAL/],
    ['nothing serving, hosts gone', 'primary', ['ssh-timeout', 'unreachable'], 2, /CRITICAL/],
    ['serving host-key failure', 'primary', ['hostkey-failure', 'gateway-down'], 3, /UNKNOWN/],
    ['serving auth failure', 'primary', ['auth-failure', 'gateway-down'], 3, /UNKNOWN/],
  ];
  for (const [name, serving, [p, s], code, line] of rows) {
    test(name, async () => {
      const a = assess(await config(), serving, obs(p, s));
      assert.equal(a.exitCode, code);
      assert.match(a.line, line);
    });
  }
});

describe('fold: foldCheck', () => {
  test('counts consecutive confirmed failures and resets on health', async () => {
    const cfg = await config();
    let s = initialState(NOW);
    s = foldCheck(cfg, s, obs('gateway-down', 'gateway-down'), at(1)).state;
    s = foldCheck(cfg, s, obs('unreachable', 'gateway-down'), at(2)).state;
    assert.equal(s.streaks.primary.failures, 2);
    assert.equal(s.streaks.primary.reachable, 0);
    s = foldCheck(cfg, s, obs('healthy', 'gateway-down'), at(3)).state;
    assert.deepEqual(s.streaks.primary, { failures: 0, healthy: 1, reachable: 1 });
  });
  test('an unconfirmed failure does not count', async () => {
    const r = foldCheck(await config(), initialState(NOW), { primary: ob('gateway-down', { confirmed: false }), standby: ob('gateway-down') }, NOW);
    assert.equal(r.state.streaks.primary.failures, 0);
  });
  test('a configuration problem resets the streaks instead of counting as failure', async () => {
    const cfg = await config();
    const s = foldCheck(cfg, initialState(NOW), obs('gateway-down', 'gateway-down'), at(1)).state;
    assert.equal(foldCheck(cfg, s, obs('hostkey-failure', 'gateway-down'), at(2)).state.streaks.primary.failures, 0);
  });
  test('both down: alert once, not repeated, and once when it ends', async () => {
    const cfg = await config();
    const one = foldCheck(cfg, initialState(NOW), obs('unreachable', 'unreachable'), at(1));
    assert.equal(one.alerts.length, 1);
    assert.match(one.alerts[0]!, /both down/);
    const two = foldCheck(cfg, one.state, obs('unreachable', 'unreachable'), at(60));
    assert.deepEqual(two.alerts, []);
    const back = foldCheck(cfg, two.state, obs('healthy', 'gateway-down'), at(120));
    assert.match(back.alerts[0]!, /no longer both down/);
    assert.deepEqual(back.state.incidents, {});
  });
  test('the primary down with a ready standby is not a check alert (failover sends its own)', async () => {
    const r = foldCheck(await config(), initialState(NOW), obs('gateway-down', 'gateway-down'), NOW);
    assert.deepEqual(r.alerts, []);
    assert.equal(r.assessment.exitCode, 2);
  });
  test('health on the serving side resets the failover attempts', async () => {
    const st = state({ failover: { attempts: 2, lastAttemptAt: NOW.toISOString(), escalatedAt: NOW.toISOString() } });
    const r = foldCheck(await config(), st, obs('healthy', 'gateway-down'), NOW);
    assert.equal(r.state.failover.attempts, 0);
    assert.equal(r.state.failover.escalatedAt, null);
  });
});

const out = (op: string, ok: boolean, extra: Record<string, unknown> = {}) => ({ op, ok, detail: `${op} ${ok ? 'ok' : 'failed'}`, ms: 10, ...extra });

describe('fold: foldMove and foldHold', () => {
  test('a failover that ran through: the standby serves, attempts reset, one alert', async () => {
    const cfg = await config();
    const d: any = decideFailover(cfg, state({ check: ['gateway-down', 'gateway-down'] }), AUTO, NOW);
    const res = { ok: true, outcomes: d.plan.steps.map((s: any) => out(s.op, true)) };
    const f = foldMove(cfg, state(), d.plan, res, NOW, at(5));
    assert.equal(f.state.serving, 'standby');
    assert.equal(f.state.servingSince, at(5).toISOString());
    assert.equal(f.exitCode, 0);
    assert.deepEqual(f.alerts, ['[hactl] ⚠️ pc1 OFFLINE (gateway-down) — pc2 takes over']);
  });
  test('a failed failover counts one attempt and alerts the failure', async () => {
    const cfg = await config();
    const d: any = decideFailover(cfg, state({ check: ['unreachable', 'gateway-down'] }), AUTO, NOW);
    const failed = out('start', false);
    const f = foldMove(cfg, state(), d.plan, { ok: false, outcomes: [out('fence', true), failed], failed }, NOW, at(5));
    assert.equal(f.state.serving, 'primary');
    assert.equal(f.state.failover.attempts, 1);
    assert.equal(f.exitCode, 2);
    assert.match(f.alerts[0]!, /FAILOVER FAILED/);
    assert.equal(f.rolledBack, null);
  });
  test('a failed failback with its rollback: the standby still serves, said in the alert', async () => {
    const cfg = await config();
    const d: any = decideFailback(cfg, state({ serving: 'standby' }), HAND, NOW);
    const failed = out('start', false);
    for (const [ok, said] of [[true, /standby restarted, still serving/], [false, /standby could NOT be restarted/]] as const) {
      const res = { ok: false, outcomes: [failed], failed, rollback: [out('start', ok)] };
      const f = foldMove(cfg, state({ serving: 'standby' }), d.plan, res, NOW, at(5));
      assert.equal(f.state.serving, 'standby');
      assert.match(f.alerts[0]!, /FAILBACK FAILED/);
      assert.match(f.alerts[0]!, said);
    }
  });
  test('fence-idle: its reason is the alert', async () => {
    const cfg = await config();
    const d: any = decideFailover(cfg, state({ check: ['healthy', 'healthy'] }), AUTO, NOW);
    const f = foldMove(cfg, state(), d.plan, { ok: true, outcomes: [out('fence', true)] }, NOW, at(1));
    assert.match(f.alerts[0]!, /runs a gateway while primary serves/);
    assert.equal(f.state.serving, 'primary');
  });
  test('holding back: nothing changes; an escalation is recorded once with its alert', async () => {
    const cfg = await config({ thresholds: { maxAttempts: 2 } });
    const st = state({ check: ['unreachable', 'gateway-down'], failover: { attempts: 2 } });
    const d: any = decideFailover(cfg, st, AUTO, NOW);
    const h = foldHold(st, d, NOW);
    assert.equal(h.state.failover.escalatedAt, NOW.toISOString());
    assert.match(h.alerts[0]!, /ESCALATION: 2 failover attempts/);
    const quiet: any = decideFailover(cfg, h.state, AUTO, at(1));
    assert.deepEqual(foldHold(h.state, quiet, at(1)), { state: h.state, alerts: [] });
  });
});

describe('plan: describeStep', () => {
  test('every step of every plan has a line with its reason', async () => {
    const cfg = await config();
    const plans = [
      decideFailover(cfg, state({ check: ['gateway-down', 'gateway-down'] }), AUTO, NOW),
      decideFailback(cfg, state({ serving: 'standby' }), HAND, NOW),
    ] as any[];
    for (const d of plans) for (const s of [...d.plan.steps, ...d.plan.rollback]) assert.match(describeStep(cfg, s), /\(.+\)$/);
  });
});
