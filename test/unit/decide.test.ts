// The failover decisions as tables, the way Pacemaker's scheduler is tested:
// each row is config + state + observation -> expected plan (plan.ts) or
// expected new state and alerts (fold.ts). docs/decisions.md says the same in words.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideFailback, decideFailover } from '../../dist/failover/plan.js';
import { confirmObservation, shouldRetry } from '../../dist/failover/retry.js';
import { describeStep } from '../../dist/failover/describe.js';
import { assess, foldCheck, foldHold, foldMove } from '../../dist/failover/fold.js';
import { initialState } from '../../dist/core/model.js';
import { telegramText } from '../../dist/alerts/render.js';
import { decide as lifecycle } from '../../dist/alerts/incident.js';
import { config } from './helpers.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
/** An event as Telegram shows it (alerts are typed events, rendered only at the channel). */
const tx = (e: any): string => (e ? telegramText(e, '[hactl]') : '');
/** What a check would open (its resolves are said only if something was open). */
const opened = (events: any[]) => events.filter((e) => e.phase !== 'resolve');
const at = (s: number) => new Date(NOW.getTime() + s * 1000);
const ob = (status: string, extra: Record<string, unknown> = {}) => ({
  status,
  detail: `${status} detail`,
  confirmed: true,
  ...extra,
});
const obs = (p: string, s: string) => ({ primary: ob(p), standby: ob(s) });
const AUTO = { auto: true, who: 'hactl --auto on witness' };
const HAND = { auto: false, who: 'ann@witness' };
const PAUSED = {
  version: 1,
  since: at(-600).toISOString(),
  until: at(3600).toISOString(),
  reason: 'kernel upgrade',
  by: 'ann@witness',
};

/** A state: serving side, the last check's statuses, streaks and attempt records as given. */
function state(
  o: {
    serving?: 'primary' | 'standby';
    check?: [string, string] | null;
    checkAge?: number;
    confirmed?: boolean;
    failures?: number;
    reachable?: number;
    /** Seconds before NOW the primary's reachable run began; default an hour when reachable > 0. */
    backFor?: number | null;
    failover?: Record<string, unknown>;
    failback?: Record<string, unknown>;
    incidents?: Record<string, unknown>;
  } = {},
): any {
  const s: any = initialState(NOW);
  s.serving = o.serving ?? 'primary';
  if (o.check) {
    const hosts = obs(o.check[0], o.check[1]);
    if (o.confirmed === false) (hosts as any)[s.serving].confirmed = false;
    s.lastCheck = { at: at(-(o.checkAge ?? 10)).toISOString(), hosts };
  }
  const servingSide = s.serving;
  s.streaks[servingSide].failures =
    o.failures ?? (o.check && o.check[servingSide === 'primary' ? 0 : 1] !== 'healthy' ? 1 : 0);
  s.streaks.primary.reachable = o.reachable ?? 0;
  const backFor = o.backFor === undefined ? (o.reachable ? 3600 : null) : o.backFor;
  if (backFor !== null) s.streaks.primary.reachableSince = at(-backFor).toISOString();
  s.failover = { ...s.failover, ...(o.failover ?? {}) };
  if (o.incidents) s.incidents = o.incidents;
  if (o.failback) s.failback = { attempts: 0, lastAttemptAt: null, escalatedAt: null, lastResult: null, ...o.failback };
  return s;
}

/** This witness's stamp, and the idle side's latest grant long over by it (a restart or a start may go ahead). */
const W_HERE = { boot: 'w-boot', uptime: 10_000 };
const idleOver = (st: any, idle: 'primary' | 'standby') => ({
  ...st,
  permits: { ...(st.permits ?? {}), [idle]: { token: 4, lease: 45, by: 'w-boot', at: 10_000 - 100 } },
});

/** A state rebuilt `ago` s before NOW after a corrupt state.json (bug #15). */
const rebuilt = (st: any, ago = 60) => ({
  ...st,
  rebuiltAt: at(-ago).toISOString(),
  rebuiltFrom: '/var/lib/hactl/state.json.corrupt-x',
});
const REBUILT_HOLD = /state rebuilt at .*no automatic action until hactl check confirms which side serves/;

interface PlanRow {
  name: string;
  cfg?: Record<string, unknown>;
  st: any;
  req?: typeof AUTO;
  now?: Date;
  pause?: Record<string, unknown>;
  /** This witness's monotonic stamp (src/fencing/rule.ts). */
  here?: { boot: string; uptime: number };
  act: boolean;
  exit?: number;
  kind?: string;
  ops?: string[];
  rollback?: string[];
  reason?: RegExp;
  escalate?: boolean;
  check?: (plan: any) => void;
}

function runPlanTable(decide: typeof decideFailover, rows: PlanRow[]): void {
  for (const r of rows) {
    test(r.name, async () => {
      const cfg = await config(r.cfg ?? {});
      const d: any = (decide as any)(cfg, r.st, r.req ?? AUTO, r.now ?? NOW, r.pause as any, r.here);
      assert.equal(d.act, r.act, JSON.stringify(d));
      if (r.exit !== undefined) assert.equal(d.exitCode, r.exit);
      if (r.kind) assert.equal(d.plan.kind, r.kind);
      if (r.ops)
        assert.deepEqual(
          d.plan.steps.map((s: any) => s.op),
          r.ops,
        );
      if (r.rollback)
        assert.deepEqual(
          d.plan.rollback.map((s: any) => `${s.op} ${s.role}`),
          r.rollback,
        );
      if (r.reason) assert.match(d.act ? d.plan.reason : d.reason, r.reason);
      if (r.check) r.check(d.plan);
      assert.equal(!!d.escalate, !!r.escalate);
      if (d.act) for (const s of d.plan.steps) assert.ok(s.reason, `step ${s.op} carries its reason`);
    });
  }
}

const FAILOVER_OPS = ['preflight', 'fence', 'settle', 'start', 'verify', 'record'];
const LAST_CHANCE_OPS = ['sync-last-chance', 'preflight', 'fence', 'settle', 'start', 'verify', 'record'];
const RETURN_OPS = ['sync-back', 'preflight', 'fence', 'settle', 'start', 'verify', 'record'];
const ROLLBACK_TO_PRIMARY = ['start primary', 'verify primary'];
const onStandby = (o: Parameters<typeof state>[0] = {}) => state({ serving: 'standby', ...o });
const stepOf = (plan: any, op: string) => plan.steps.find((s: any) => s.op === op);

describe('plan: decideFailover', () => {
  runPlanTable(decideFailover, [
    {
      name: 'by hand: preflight the standby, then act; if nothing verifies after the fence, restart the primary (#6)',
      st: state(),
      req: HAND,
      act: true,
      kind: 'failover',
      ops: FAILOVER_OPS,
      rollback: ROLLBACK_TO_PRIMARY,
      check: (p) => {
        assert.equal(stepOf(p, 'start').onFail, 'rollback');
        assert.equal(stepOf(p, 'verify').onFail, 'rollback');
        assert.equal(p.steps[0].role, 'standby');
      },
    },
    {
      name: 'by hand after a gateway-down check: last-chance sync first',
      st: state({ check: ['gateway-down', 'gateway-down'] }),
      req: HAND,
      act: true,
      ops: LAST_CHANCE_OPS,
    },
    {
      name: 'by hand while the standby serves: nothing to do',
      st: state({ serving: 'standby' }),
      req: HAND,
      act: false,
      exit: 0,
    },
    { name: 'auto without a check: wait', st: state(), act: false, exit: 0, reason: /no check recorded/ },
    {
      name: 'auto on stale state: exit 3',
      st: state({ check: ['gateway-down', 'gateway-down'], checkAge: 301 }),
      act: false,
      exit: 3,
      reason: /stale/,
    },
    {
      name: 'auto, standby serving, both healthy: fence the idle primary',
      st: state({ serving: 'standby', check: ['healthy', 'healthy'] }),
      act: true,
      kind: 'fence-idle',
      ops: ['fence'],
    },
    {
      name: 'auto, standby serving, primary down: failback decides',
      st: state({ serving: 'standby', check: ['gateway-down', 'healthy'] }),
      act: false,
      exit: 0,
      reason: /failback decides/,
    },
    {
      name: "auto, the serving standby's host died, primary answers: back to the primary, memory loss known (#7)",
      st: onStandby({ check: ['gateway-down', 'unreachable'] }),
      act: true,
      kind: 'return',
      ops: FAILOVER_OPS,
      rollback: [],
      check: (p) => {
        assert.equal(stepOf(p, 'fence').role, 'standby');
        assert.equal(stepOf(p, 'fence').unreachable, 'stopped');
        assert.equal(stepOf(p, 'start').role, 'primary');
        assert.match(p.memoryLoss, /could not be synced back \(its host is unreachable\)/);
      },
    },
    {
      name: "auto, the serving standby's gateway died, primary answers: sync back, then back to the primary (#8)",
      st: onStandby({ check: ['gateway-down', 'gateway-down'] }),
      act: true,
      kind: 'return',
      ops: RETURN_OPS,
      check: (p) => {
        assert.equal(stepOf(p, 'sync-back').onFail, 'continue');
        assert.equal(p.memoryLoss, undefined);
      },
    },
    {
      name: 'auto, the serving standby down, not confirmed',
      st: onStandby({ check: ['gateway-down', 'gateway-down'], confirmed: false }),
      act: false,
      reason: /not confirmed/,
    },
    {
      name: 'auto, the serving standby has a configuration problem: exit 3',
      st: onStandby({ check: ['gateway-down', 'auth-failure'] }),
      act: false,
      exit: 3,
    },
    {
      name: 'auto, the serving standby down and the primary unreachable: both down, exit 2',
      st: onStandby({ check: ['unreachable', 'ssh-timeout'] }),
      act: false,
      exit: 2,
      reason: /primary pc1 is unreachable too/,
    },
    {
      name: 'auto, the serving side down while the idle side already serves: adopt it',
      st: state({ check: ['gateway-down', 'healthy'] }),
      act: true,
      kind: 'failover',
      ops: ['fence', 'verify', 'record'],
    },
    {
      name: 'auto, the serving standby down while the primary already serves: adopt it',
      st: onStandby({ check: ['healthy', 'unreachable'] }),
      act: true,
      kind: 'return',
      ops: ['fence', 'verify', 'record'],
      check: (p) => assert.equal(stepOf(p, 'fence').unreachable, 'stopped', 'no live permit seen there'),
    },
    {
      // A witness that lost its state.json just after a failover names the primary, which died: the standby
      // serves under a permit from the forgotten move, which the check extended. Adopting it starts nothing,
      // so it waits on no permit: held, it let the standby's guard stop the one gateway serving
      // (fencing-liveness.test.ts).
      name: 'auto, with a guard, the idle side serves under a live permit, the serving side undatable: adopt now',
      cfg: { guard: {} },
      st: (() => {
        const st = state({ check: ['unreachable', 'healthy'] });
        st.lastCheck.hosts.standby.permit = { token: 5, lease: 45, by: 'this-witness', at: 100 };
        return { ...st, permits: { primary: { token: 4, lease: 45, by: 'another-witness', at: 5 } } };
      })(),
      here: W_HERE,
      act: true,
      kind: 'failover',
      ops: ['fence', 'verify', 'record'],
      check: (p) => assert.equal(stepOf(p, 'fence').unreachable, 'left'),
    },
    {
      // Its gateway answers, but the check extended no permit there (refused: none live; a gateway started by
      // hand): the primary may still serve under its own, so the adoption waits for it, as a failover does.
      name: 'auto, with a guard, the idle side answers without a live permit: the adoption waits for the permit',
      cfg: { guard: {} },
      st: (() => {
        const st = state({ check: ['unreachable', 'healthy'] });
        st.lastCheck.hosts.standby.permit = { token: 5, lease: 45, by: 'this-witness', at: 100, error: 'not-live' };
        return { ...st, permits: { primary: { token: 4, lease: 45, by: 'another-witness', at: 5 } } };
      })(),
      here: W_HERE,
      act: false,
      reason: /primary pc1 unreachable: waiting for its serving permit to run out/,
    },
    {
      name: 'auto, with a guard, the same with the standby not serving: a failover, which waits for the permit',
      cfg: { guard: {} },
      st: {
        ...state({ check: ['unreachable', 'gateway-down'] }),
        permits: { primary: { token: 4, lease: 45, by: 'another-witness', at: 5 } },
      },
      here: W_HERE,
      act: false,
      reason: /primary pc1 unreachable: waiting for its serving permit to run out/,
    },
    {
      name: 'auto, primary host-key failure: never a reason (exit 3)',
      st: state({ check: ['hostkey-failure', 'gateway-down'] }),
      act: false,
      exit: 3,
      reason: /configuration problem/,
    },
    {
      name: 'auto, primary auth failure: never a reason (exit 3)',
      st: state({ check: ['auth-failure', 'gateway-down'] }),
      act: false,
      exit: 3,
    },
    {
      name: 'auto, primary healthy, standby idle: nothing',
      st: state({ check: ['healthy', 'gateway-down'] }),
      act: false,
      exit: 0,
      reason: /healthy: nothing to do/,
    },
    {
      name: 'auto, both gateways up: fence the idle standby',
      st: state({ check: ['healthy', 'healthy'] }),
      act: true,
      kind: 'fence-idle',
    },
    {
      name: 'auto, failure not confirmed',
      st: state({ check: ['gateway-down', 'gateway-down'], confirmed: false }),
      act: false,
      exit: 0,
      reason: /not confirmed/,
    },
    {
      name: 'auto, fewer confirmed checks than failuresBeforeFailover',
      cfg: { thresholds: { failuresBeforeFailover: 3 } },
      st: state({ check: ['gateway-down', 'gateway-down'], failures: 2 }),
      act: false,
      reason: /2\/3/,
    },
    {
      name: 'auto, standby unreachable too: no attempt, exit 2',
      st: state({ check: ['unreachable', 'unreachable'] }),
      act: false,
      exit: 2,
      reason: /standby pc2 is unreachable too/,
    },
    {
      // Only the serving gateway is down, and nothing could start elsewhere: it starts again where it is
      // (its guard fenced it while the witness was away; test/unit/fencing-liveness.test.ts).
      name: 'auto, with a guard, the primary host answers, its gateway down, the standby unreachable: restart',
      cfg: { guard: {} },
      st: idleOver(state({ check: ['gateway-down', 'unreachable'] }), 'standby'),
      here: W_HERE,
      act: true,
      kind: 'restart',
      ops: ['preflight', 'fence', 'fence', 'settle', 'start', 'verify', 'record'],
      reason: /primary pc1 gateway-down for 1 confirmed check\(s\) while standby pc2 is unreachable: starting it again/,
      // The standby counts as stopped once its permit is over (slept out), then the primary stops and starts.
      check: (plan) =>
        assert.deepEqual(
          plan.steps.map((x: any) => `${x.op} ${x.role ?? x.serving}`),
          [
            'preflight primary',
            'fence standby',
            'fence primary',
            'settle primary',
            'start primary',
            'verify primary',
            'record primary',
          ],
        ),
    },
    {
      // Without permits nothing says the standby is not serving (an unfinished move's launch, cut from here).
      name: 'auto, no guard, the primary gateway down, the standby unreachable: no restart, exit 2',
      st: state({ check: ['gateway-down', 'unreachable'] }),
      act: false,
      exit: 2,
      reason: /standby pc2 is unreachable too: not failing over/,
    },
    {
      name: 'auto, with a guard, a restart waits while the unreachable standby may hold a permit it cannot date',
      cfg: { guard: {} },
      st: {
        ...state({ check: ['gateway-down', 'unreachable'] }),
        permits: { standby: { token: 4, lease: 45, by: 'another-witness', at: 5 } },
      },
      here: W_HERE,
      act: false,
      reason: /standby pc2 unreachable: waiting for its serving permit to run out/,
    },
    {
      name: 'auto, with a guard, the standby permit datable: the restart acts now and sleeps out the rest',
      cfg: { guard: {} },
      st: {
        ...state({ check: ['gateway-down', 'unreachable'] }),
        permits: { standby: { token: 4, lease: 45, by: 'w-boot', at: 10_000 - 20 } },
      },
      here: W_HERE,
      act: true,
      kind: 'restart',
    },
    {
      name: 'auto, serving from the standby, its gateway down, the primary unreachable: restart the standby',
      cfg: { guard: {} },
      st: idleOver(onStandby({ check: ['unreachable', 'gateway-down'] }), 'primary'),
      here: W_HERE,
      act: true,
      kind: 'restart',
      check: (plan) => assert.deepEqual(plan.steps.at(-1), { ...plan.steps.at(-1), serving: 'standby' }),
    },
    {
      name: 'auto, a restart in cooldown waits like any move',
      cfg: { guard: {}, thresholds: { cooldown: 300 } },
      st: idleOver(
        state({
          check: ['gateway-down', 'unreachable'],
          failover: { attempts: 1, lastAttemptAt: at(-100).toISOString() },
        }),
        'standby',
      ),
      here: W_HERE,
      act: false,
      reason: /cooldown/,
    },
    {
      name: 'auto, standby host-key failure: no attempt, exit 3 (#14)',
      st: state({ check: ['gateway-down', 'hostkey-failure'] }),
      act: false,
      exit: 3,
      reason: /cannot judge|neither judge nor start/,
    },
    {
      name: 'auto, gateway crash confirmed: last-chance sync then the move',
      st: state({ check: ['gateway-down', 'gateway-down'] }),
      act: true,
      ops: LAST_CHANCE_OPS,
      rollback: [],
    },
    {
      name: 'auto, dead host confirmed: no last-chance sync, no rollback',
      st: state({ check: ['unreachable', 'gateway-down'] }),
      act: true,
      ops: FAILOVER_OPS,
      rollback: [],
      check: (p) => {
        assert.equal(stepOf(p, 'start').onFail, 'abort');
        assert.equal(stepOf(p, 'start').missed, 'stop-then-next');
      },
    },
    {
      name: 'auto, confirmed down but paused by an operator: nothing acts, exit 1 (hactl pause)',
      st: state({ check: ['unreachable', 'gateway-down'] }),
      pause: PAUSED,
      act: false,
      exit: 1,
      reason: /paused by ann@witness until .*: kernel upgrade; automatic actions are skipped/,
    },
    {
      name: 'auto, confirmed down, the pause expired: the move goes ahead',
      st: state({ check: ['unreachable', 'gateway-down'] }),
      pause: { ...PAUSED, until: at(-1).toISOString() },
      act: true,
      ops: FAILOVER_OPS,
    },
    {
      name: 'auto, confirmed down, the pause was ended by hactl resume: the move goes ahead',
      st: state({ check: ['unreachable', 'gateway-down'] }),
      pause: { ...PAUSED, resumedAt: at(-60).toISOString(), resumedBy: 'ann@witness' },
      act: true,
      ops: FAILOVER_OPS,
    },
    {
      name: 'auto, state rebuilt after corruption, no check since: nothing acts, exit 1 (#15)',
      st: rebuilt(state()),
      act: false,
      exit: 1,
      reason: REBUILT_HOLD,
    },
    {
      name: 'auto, state rebuilt, the last check (confirmed down) is older than the rebuild: nothing acts (#15)',
      st: rebuilt(state({ check: ['unreachable', 'gateway-down'], checkAge: 100 }), 60),
      act: false,
      exit: 1,
      reason: REBUILT_HOLD,
    },
    {
      name: 'auto, state rebuilt, a check since but its failure not confirmed: nothing acts (#15)',
      st: rebuilt(state({ check: ['gateway-down', 'gateway-down'], confirmed: false, checkAge: 10 }), 60),
      act: false,
      exit: 1,
      reason: REBUILT_HOLD,
    },
    {
      name: 'auto, state rebuilt, a confirmed check since: the move goes ahead (#15)',
      st: rebuilt(state({ check: ['unreachable', 'gateway-down'], checkAge: 10 }), 60),
      act: true,
      ops: FAILOVER_OPS,
    },
    {
      name: 'by hand after a rebuild, no check since: a person acts (#15)',
      st: rebuilt(state()),
      req: HAND,
      act: true,
      ops: FAILOVER_OPS,
    },
    {
      name: 'by hand while paused: a person acts (the pause holds only automatic actions)',
      st: state(),
      req: HAND,
      pause: PAUSED,
      act: true,
      ops: FAILOVER_OPS,
    },
    {
      name: 'auto, escalated before: stay quiet, exit 2',
      st: state({ check: ['unreachable', 'gateway-down'], failover: { attempts: 3, escalatedAt: NOW.toISOString() } }),
      act: false,
      exit: 2,
      reason: /gave up/,
    },
    {
      name: 'auto, attempts at the cap: escalate once',
      cfg: { thresholds: { maxAttempts: 3 } },
      st: state({ check: ['unreachable', 'gateway-down'], failover: { attempts: 3 } }),
      act: false,
      exit: 2,
      escalate: true,
    },
    {
      name: 'auto, in cooldown',
      cfg: { thresholds: { cooldown: 300 } },
      st: state({
        check: ['unreachable', 'gateway-down'],
        failover: { attempts: 1, lastAttemptAt: at(-100).toISOString() },
      }),
      act: false,
      exit: 0,
      reason: /cooldown/,
    },
    {
      name: 'auto, cooldown over',
      cfg: { thresholds: { cooldown: 300 } },
      st: state({
        check: ['unreachable', 'gateway-down'],
        failover: { attempts: 1, lastAttemptAt: at(-400).toISOString() },
      }),
      act: true,
    },
    {
      // The witness's clock stepped back 12 minutes after the attempt: its age is unknown, not 12 minutes more.
      name: 'auto, the last attempt in the future by this clock (stepped back): no cooldown',
      cfg: { thresholds: { cooldown: 300 } },
      st: state({
        check: ['unreachable', 'gateway-down'],
        failover: { attempts: 1, lastAttemptAt: at(720).toISOString() },
      }),
      act: true,
    },
  ]);
});

// Partitions (issue 16, docs/partitions.md): the standby's view of the primary, and the serving
// permit's wait (issue 21, src/fencing/rule.ts): the default guard (lease 45 s, interval 5 s). The
// primary's guard stops its gateway before the permit ends (its fence lead), so the wait is the
// lease x 1.01 = 45.45 s after the grant; a datable wait is slept out by the run (act now).
const GUARD = { guard: {} };
const HERE = { boot: 'w-boot', uptime: 10_000 };
/** The primary unreachable from the witness (confirmed twice), the standby ready; seenBy / grant as given. */
const cutOff = (o: { seen?: boolean; status?: string; grantedAgo?: number; by?: string } = {}) => {
  const st = state({ check: [o.status ?? 'unreachable', 'gateway-down'], failures: 2 });
  if (o.seen !== undefined)
    st.lastCheck.hosts.primary.seenBy = {
      role: 'standby',
      serving: o.seen,
      detail: 'http://192.0.2.1:18789/ HTTP 200',
    };
  if (o.grantedAgo !== undefined)
    st.permits = { primary: { token: 7, lease: 45, by: o.by ?? HERE.boot, at: HERE.uptime - o.grantedAgo } };
  return st;
};

describe('plan: decideFailover across a partition (#16)', () => {
  runPlanTable(decideFailover, [
    {
      name: 'the witness cannot reach the primary but the standby sees it serving: no failover, warning',
      st: cutOff({ seen: true }),
      act: false,
      exit: 1,
      reason: /witness cannot reach primary pc1 \(unreachable\), but the standby pc2 sees its gateway serving/,
    },
    {
      name: 'the same for an SSH timeout',
      st: cutOff({ seen: true, status: 'ssh-timeout' }),
      act: false,
      exit: 1,
      reason: /cannot reach primary pc1 \(ssh-timeout\)/,
    },
    {
      name: 'the standby does not see it serving either: failover',
      st: cutOff({ seen: false }),
      act: true,
      kind: 'failover',
    },
    {
      name: 'no second view recorded (the standby could not be asked): failover as before',
      st: cutOff(),
      act: true,
      kind: 'failover',
    },
    {
      name: 'a reachable primary with its gateway down is fenced over SSH: the second view does not hold it',
      st: (() => {
        const st = cutOff({ seen: true, status: 'gateway-down' });
        return st;
      })(),
      act: true,
      kind: 'failover',
    },
    {
      name: 'by hand: the second view does not hold an operator',
      st: cutOff({ seen: true }),
      req: HAND,
      act: true,
      kind: 'failover',
    },
    {
      name: 'permit granted 10 s ago (dated): failover now, its run sleeps out the 35 s left of the permit',
      cfg: GUARD,
      here: HERE,
      st: cutOff({ seen: false, grantedAgo: 10 }),
      act: true,
      kind: 'failover',
    },
    {
      name: 'permit granted 50 s ago (past lease x 1.01): failover',
      cfg: GUARD,
      here: HERE,
      st: cutOff({ seen: false, grantedAgo: 50 }),
      act: true,
      kind: 'failover',
    },
    {
      name: 'item 3: no grant on record is no reason to skip the wait',
      cfg: GUARD,
      here: HERE,
      st: cutOff({ seen: false }),
      act: false,
      reason: /no grant on record/,
    },
    {
      name: 'a grant by another boot (another witness, a reboot) that this witness never dated: the full wait',
      cfg: GUARD,
      here: HERE,
      st: cutOff({ seen: false, grantedAgo: 5000, by: 'other-boot' }),
      act: false,
      reason: /cannot be dated/,
    },
    {
      name: 'no monotonic stamp: the permit cannot be dated, no failover',
      cfg: GUARD,
      st: cutOff({ seen: false, grantedAgo: 5000 }),
      act: false,
      reason: /cannot date/,
    },
    {
      name: 'guard: the second view comes first (a primary that serves is never waited out)',
      cfg: GUARD,
      here: HERE,
      st: cutOff({ seen: true, grantedAgo: 1000 }),
      act: false,
      exit: 1,
    },
    {
      name: 'guard: a reachable primary with its gateway down is fenced over SSH, no permit wait',
      cfg: GUARD,
      here: HERE,
      st: cutOff({ status: 'gateway-down', grantedAgo: 10 }),
      act: true,
      kind: 'failover',
    },
    {
      name: 'no guard section: a recorded grant is ignored',
      st: cutOff({ seen: false, grantedAgo: 10 }),
      act: true,
      kind: 'failover',
    },
  ]);
});

const FAILBACK_OPS = ['sync-back', 'preflight', 'stop', 'settle', 'start', 'verify', 'record'];
const BACK = ['gateway-down', 'healthy'] as [string, string];

describe('plan: decideFailback', () => {
  runPlanTable(decideFailback, [
    { name: 'primary already serves', st: state(), act: false, exit: 0 },
    {
      name: 'auto, state rebuilt, no check since: no failback, exit 1 (#15)',
      cfg: { failback: { policy: 'auto' } },
      st: rebuilt(onStandby({ reachable: 5 })),
      act: false,
      exit: 1,
      reason: REBUILT_HOLD,
    },
    {
      name: 'auto, state rebuilt, a confirmed check since, primary back long enough: failback (#15)',
      cfg: { failback: { policy: 'auto' } },
      st: rebuilt(onStandby({ check: BACK, reachable: 5, checkAge: 10 }), 60),
      act: true,
      kind: 'failback',
    },
    {
      name: 'auto, primary back long enough but paused: no failback, exit 1',
      cfg: { failback: { policy: 'auto' } },
      st: onStandby({ check: BACK, reachable: 5 }),
      pause: PAUSED,
      act: false,
      exit: 1,
      reason: /paused by ann@witness/,
    },
    {
      name:
        'by hand: sync back, preflight the primary, stop the standby, start the primary; ' +
        'rollback restarts the standby (#9)',
      st: onStandby(),
      req: HAND,
      act: true,
      kind: 'failback',
      ops: FAILBACK_OPS,
      rollback: ['start standby', 'verify standby'],
      check: (p) => {
        assert.equal(stepOf(p, 'preflight').role, 'primary');
        assert.equal(stepOf(p, 'sync-back').onFail, 'abort');
        assert.equal(stepOf(p, 'sync-back').unreachable, 'continue');
        assert.equal(stepOf(p, 'stop').unreachable, 'stopped');
        assert.equal(stepOf(p, 'start').onFail, 'rollback');
      },
    },
    {
      name: 'by hand, escalated before: still acts (a human asked)',
      st: onStandby({ failback: { attempts: 3, escalatedAt: NOW.toISOString() } }),
      req: HAND,
      act: true,
    },
    {
      name: 'auto, manual policy: never',
      cfg: { failback: { policy: 'manual' } },
      st: onStandby({ check: ['gateway-down', 'healthy'], reachable: 5 }),
      act: false,
      reason: /manual/,
    },
    { name: 'auto, no check', st: onStandby(), act: false, exit: 0, reason: /no check/ },
    {
      name: 'auto, stale check',
      st: onStandby({ check: ['gateway-down', 'healthy'], checkAge: 400, reachable: 5 }),
      act: false,
      exit: 3,
    },
    {
      name: 'auto, primary back for too few checks',
      cfg: { thresholds: { successesBeforeFailback: 3 } },
      st: onStandby({ check: ['gateway-down', 'healthy'], reachable: 2 }),
      act: false,
      reason: /2\/3/,
    },
    {
      name: 'auto, healthyFor: back for 3 checks but only 30 s of 10 min (checks run by hand)',
      cfg: { thresholds: { successesBeforeFailback: 3, healthyFor: '10m' } },
      st: onStandby({ check: BACK, reachable: 3, backFor: 30 }),
      act: false,
      exit: 0,
      reason: /reachable, gateway idle, for 30 s of 600 s \(thresholds.healthyFor\)/,
    },
    {
      name: 'auto, healthyFor: back 1 s short of it',
      cfg: { thresholds: { healthyFor: '10m' } },
      st: onStandby({ check: BACK, reachable: 5, backFor: 599 }),
      act: false,
      reason: /599 s of 600 s/,
    },
    {
      name: 'auto, healthyFor: back exactly that long',
      cfg: { thresholds: { healthyFor: '10m' } },
      st: onStandby({ check: BACK, reachable: 5, backFor: 600 }),
      act: true,
      ops: FAILBACK_OPS,
      reason: /over 600 s/,
    },
    {
      name: 'auto, healthyFor: long enough but too few checks (the count stays a minimum)',
      cfg: { thresholds: { successesBeforeFailback: 3, healthyFor: '1m' } },
      st: onStandby({ check: BACK, reachable: 2, backFor: 7200 }),
      act: false,
      reason: /2\/3 checks/,
    },
    {
      name: 'auto, healthyFor: a state without reachableSince (older hactl) waits',
      cfg: { thresholds: { healthyFor: '1m' } },
      st: onStandby({ check: BACK, reachable: 50, backFor: null }),
      act: false,
      reason: /0 s of 60 s/,
    },
    {
      name: 'auto, healthyFor 0: the count alone decides',
      cfg: { thresholds: { successesBeforeFailback: 1, healthyFor: 0 } },
      st: onStandby({ check: BACK, reachable: 1, backFor: 0 }),
      act: true,
    },
    {
      name: 'by hand: healthyFor does not hold a person back',
      cfg: { thresholds: { healthyFor: '1h' } },
      st: onStandby({ check: BACK, reachable: 1, backFor: 5 }),
      req: HAND,
      act: true,
    },
    {
      name: 'auto, primary back long enough',
      cfg: { thresholds: { successesBeforeFailback: 3 } },
      st: onStandby({ check: ['gateway-down', 'healthy'], reachable: 3 }),
      act: true,
      ops: FAILBACK_OPS,
    },
    {
      name: 'auto, failback in cooldown (#9)',
      cfg: { thresholds: { cooldown: 300 } },
      st: onStandby({ check: BACK, reachable: 5, failback: { attempts: 1, lastAttemptAt: at(-10).toISOString() } }),
      act: false,
      reason: /cooldown/,
    },
    {
      name: 'auto, failback attempts at the cap: escalate once (#9)',
      cfg: { thresholds: { maxAttempts: 2 } },
      st: onStandby({ check: BACK, reachable: 5, failback: { attempts: 2 } }),
      act: false,
      exit: 2,
      escalate: true,
    },
    {
      name: 'auto, failback escalated: quiet, exit 2 (#9)',
      st: onStandby({ check: BACK, reachable: 5, failback: { attempts: 2, escalatedAt: NOW.toISOString() } }),
      act: false,
      exit: 2,
      reason: /hactl failback by hand/,
    },
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
    [
      'serving healthy, idle ready',
      'primary',
      ['healthy', 'gateway-down'],
      0,
      /^OK: primary pc1 serving, standby pc2 ready/,
    ],
    ['standby host down', 'primary', ['healthy', 'unreachable'], 1, /standby pc2 not ready/],
    ['serving from the standby', 'standby', ['gateway-down', 'healthy'], 1, /serving from the standby/],
    ['two gateways', 'primary', ['healthy', 'healthy'], 1, /two gateways/],
    ['serving down but the idle side serves', 'primary', ['gateway-down', 'healthy'], 1, /but standby pc2 serves/],
    ['nothing serving', 'primary', ['gateway-down', 'gateway-down'], 2, /CRITICAL/],
    ['nothing serving, hosts gone', 'primary', ['ssh-timeout', 'unreachable'], 2, /CRITICAL/],
    ['serving host-key failure', 'primary', ['hostkey-failure', 'gateway-down'], 3, /UNKNOWN/],
    ['serving auth failure', 'primary', ['auth-failure', 'gateway-down'], 3, /UNKNOWN/],
    [
      'idle standby host-key failure, primary serving (#14)',
      'primary',
      ['healthy', 'hostkey-failure'],
      3,
      /UNKNOWN: cannot judge standby pc2.*primary pc1 serving/,
    ],
    [
      'idle standby auth failure, nothing serving (#14)',
      'primary',
      ['gateway-down', 'auth-failure'],
      3,
      /UNKNOWN: .*nothing serving/,
    ],
  ];
  test('a transient failure is named; hosts called primary and standby are not named twice', async () => {
    const cfg = await config({
      hosts: {
        primary: { address: '192.0.2.1', user: 'claw', key: '/k', knownHosts: '/kh' },
        standby: { address: '192.0.2.2', user: 'claw', key: '/k', knownHosts: '/kh' },
      },
      pair: { primary: 'primary', standby: 'standby' },
    });
    const a = assess(cfg, 'primary', { primary: ob('healthy', { transient: true }), standby: ob('gateway-down') });
    assert.match(
      a.line,
      new RegExp(
        String.raw`^OK: primary serving, standby ready ` +
          String.raw`\[primary healthy \(transient, recovered on retry\); standby gateway-down\]$`,
      ),
    );
  });
  for (const [name, serving, [p, s], code, line] of rows) {
    test(name, async () => {
      const a = assess(await config(), serving, obs(p, s));
      assert.equal(a.exitCode, code);
      assert.match(a.line, line);
    });
  }
});

describe('fold: foldCheck after a rebuilt state (#15)', () => {
  const fresh = () => rebuilt(initialState(at(-60)), 60);
  test('the standby answers and the primary does not: the standby serves, never guessed "primary"', async () => {
    const cfg = await config();
    const r = foldCheck(cfg, fresh(), obs('gateway-down', 'healthy'), NOW);
    assert.equal(r.state.serving, 'standby');
    assert.match(r.assessment.line, /serving from the standby/);
    const d: any = decideFailover(cfg, r.state, AUTO, at(1));
    assert.equal(d.act, false, 'the serving standby is healthy: nothing to do');
  });
  test('the primary answers: it serves; both answer: the primary (the standby is the second gateway)', async () => {
    const cfg = await config();
    assert.equal(foldCheck(cfg, fresh(), obs('healthy', 'gateway-down'), NOW).state.serving, 'primary');
    const both = foldCheck(cfg, fresh(), obs('healthy', 'healthy'), NOW).state;
    assert.equal(both.serving, 'primary');
    const d: any = decideFailover(cfg, both, AUTO, at(1));
    assert.equal(d.plan.kind, 'fence-idle');
    assert.equal(d.plan.steps[0].role, 'standby');
  });
  test('a confirming check ends the rebuild, whatever the clocks say (a witness clock stepped back)', async () => {
    const cfg = await config();
    // Rebuilt "in the future" by this clock: it was stepped back 12 minutes after the rebuild.
    const ahead = rebuilt(initialState(at(-60)), -720);
    const unconfirmed = foldCheck(cfg, ahead, { ...obs('gateway-down', 'healthy') }, NOW);
    assert.equal(unconfirmed.state.rebuiltAt, undefined, 'the standby answered, confirmed: the mark goes');
    const d: any = decideFailover(cfg, unconfirmed.state, AUTO, at(1));
    assert.doesNotMatch(d.reason ?? '', /state rebuilt/);
    const both = obs('gateway-down', 'gateway-down'); // neither answers: the primary, by rule, not confirmed yet
    const notYet = foldCheck(cfg, ahead, { ...both, primary: { ...both.primary, confirmed: false } } as any, NOW);
    assert.ok(notYet.state.rebuiltAt, 'nothing confirmed: the mark stays, and so does the hold');
  });
  test('once confirmed, the serving side is no longer inferred (a recorded standby stays recorded)', async () => {
    const cfg = await config();
    const s = foldCheck(cfg, fresh(), obs('gateway-down', 'healthy'), NOW).state;
    const next = foldCheck(cfg, s, obs('healthy', 'gateway-down'), at(10)).state;
    assert.equal(next.serving, 'standby');
    assert.equal(foldCheck(cfg, state(), obs('gateway-down', 'healthy'), NOW).state.serving, 'primary');
  });
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
    assert.deepEqual(s.streaks.primary, {
      failures: 0,
      healthy: 1,
      reachable: 1,
      reachableSince: at(3).toISOString(),
      unready: 0,
    });
  });
  test('reachableSince: the first check of a reachable run, kept through it, cleared when it breaks', async () => {
    const cfg = await config();
    let s = initialState(NOW);
    const primary = () => s.streaks.primary;
    s = foldCheck(cfg, s, obs('unreachable', 'healthy'), at(1)).state;
    assert.equal(primary().reachableSince, null);
    s = foldCheck(cfg, s, obs('gateway-down', 'healthy'), at(2)).state;
    assert.equal(primary().reachableSince, at(2).toISOString());
    s = foldCheck(cfg, s, obs('healthy', 'healthy'), at(3)).state;
    assert.equal(primary().reachableSince, at(2).toISOString(), 'gateway-down then healthy: one run');
    s = foldCheck(cfg, s, obs('ssh-timeout', 'healthy'), at(4)).state;
    assert.equal(primary().reachableSince, null);
    s = foldCheck(cfg, s, obs('gateway-down', 'healthy'), at(5)).state;
    assert.equal(primary().reachableSince, at(5).toISOString(), 'a new run starts afresh');
    s = foldCheck(cfg, s, obs('auth-failure', 'healthy'), at(6)).state;
    assert.equal(primary().reachableSince, null, 'a configuration problem breaks the run');
  });
  test('reachableSince: a state from before the field starts its run at the next check, never earlier', async () => {
    const s: any = initialState(NOW);
    s.streaks.primary = { failures: 0, healthy: 0, reachable: 7 };
    const next = foldCheck(await config(), s, obs('gateway-down', 'healthy'), at(9)).state;
    assert.equal(next.streaks.primary.reachable, 8);
    assert.equal(next.streaks.primary.reachableSince, at(9).toISOString());
  });
  test('an unconfirmed failure does not count', async () => {
    const r = foldCheck(
      await config(),
      initialState(NOW),
      { primary: ob('gateway-down', { confirmed: false }), standby: ob('gateway-down') },
      NOW,
    );
    assert.equal(r.state.streaks.primary.failures, 0);
  });
  test('a configuration problem resets the streaks instead of counting as failure', async () => {
    const cfg = await config();
    const s = foldCheck(cfg, initialState(NOW), obs('gateway-down', 'gateway-down'), at(1)).state;
    assert.equal(foldCheck(cfg, s, obs('hostkey-failure', 'gateway-down'), at(2)).state.streaks.primary.failures, 0);
  });
  test('both down: alert once, not repeated, and once when it ends', async () => {
    // The check says what holds each time; the one lifecycle (src/alerts/incident.ts) opens it once.
    const cfg = await config();
    let ledger: any = {};
    const sent = (events: any[], now: Date) =>
      events.flatMap((e) => {
        const r = lifecycle(ledger, e, now, { repeatEvery: 6 * 3600, maxRepeats: 3, resolveAfter: 0 });
        ledger = r.ledger;
        return r.send.map(tx);
      });
    const one = foldCheck(cfg, initialState(NOW), obs('unreachable', 'unreachable'), at(1));
    const first = sent(one.alerts, at(1));
    assert.equal(first.length, 1);
    assert.match(first[0]!, /both down/);
    const two = foldCheck(cfg, one.state, obs('unreachable', 'unreachable'), at(60));
    assert.deepEqual(sent(two.alerts, at(60)), []);
    const back = foldCheck(cfg, two.state, obs('healthy', 'gateway-down'), at(120));
    const end = sent(back.alerts, at(120));
    assert.equal(end.length, 1);
    assert.match(end[0]!, /no longer both down.*\(lasted 119 s\)$/);
    assert.equal(back.state.incidents, undefined, 'incidents live in the outbox ledger now');
  });
  test('split brain healing: no "no longer both down" when no both-down was alerted (#11)', async () => {
    // The primary was cut off from the witness (alive), the standby took over; then the cut heals.
    const st = onStandby({ check: ['unreachable', 'gateway-down'] });
    const r = foldCheck(await config(), st, obs('healthy', 'healthy'), at(1));
    assert.deepEqual(opened(r.alerts), []);
    assert.match(r.assessment.line, /two gateways/);
  });
  test('the primary down with a ready standby is not a check alert (failover sends its own)', async () => {
    const r = foldCheck(await config(), initialState(NOW), obs('gateway-down', 'gateway-down'), NOW);
    assert.deepEqual(opened(r.alerts), []);
    assert.equal(r.assessment.exitCode, 2);
  });
  test('health on the serving side resets the failover attempts', async () => {
    const st = state({ failover: { attempts: 2, lastAttemptAt: NOW.toISOString(), escalatedAt: NOW.toISOString() } });
    const r = foldCheck(await config(), st, obs('healthy', 'gateway-down'), NOW);
    assert.equal(r.state.failover.attempts, 0);
    assert.equal(r.state.failover.escalatedAt, null);
  });
});

const out = (op: string, ok: boolean, extra: Record<string, unknown> = {}) => ({
  op,
  ok,
  detail: `${op} ${ok ? 'ok' : 'failed'}`,
  ms: 10,
  ...extra,
});

describe('fold: foldMove and foldHold', () => {
  test('a failover that ran through: the standby serves, attempts reset, one alert', async () => {
    const cfg = await config();
    const d: any = decideFailover(cfg, state({ check: ['gateway-down', 'gateway-down'] }), AUTO, NOW);
    const res = { ok: true, outcomes: d.plan.steps.map((s: any) => out(s.op, true)) };
    const f = foldMove(cfg, state(), d.plan, res, NOW, at(5));
    assert.equal(f.state.serving, 'standby');
    assert.equal(f.state.servingSince, at(5).toISOString());
    assert.equal(f.exitCode, 0);
    assert.deepEqual(f.alerts.map(tx), [
      '[hactl] 🟠 pc1 OFFLINE (gateway-down) — pc2 takes over (automatic: hactl --auto on witness)',
    ]);
  });
  test('a manual failover says who asked, not "OFFLINE (healthy)" (#11)', async () => {
    const cfg = await config();
    const d: any = decideFailover(cfg, state({ check: ['healthy', 'gateway-down'] }), HAND, NOW);
    const f = foldMove(
      cfg,
      state(),
      d.plan,
      { ok: true, outcomes: d.plan.steps.map((s: any) => out(s.op, true)) },
      NOW,
      at(5),
    );
    assert.equal(tx(f.alerts[0]), '[hactl] 🟠 failover by hand: pc1 stopped, pc2 takes over (by hand: ann@witness)');
  });
  test('a manual failover that fails after the fence: the primary restarted, said (#6)', async () => {
    const cfg = await config();
    const d: any = decideFailover(cfg, state(), HAND, NOW);
    const failed = out('start', false);
    for (const [ok, said] of [
      [true, /primary pc1 restarted, serving again/],
      [false, /primary pc1 could NOT be restarted either.*NOTHING SERVES/],
    ] as const) {
      const res = {
        ok: false,
        outcomes: [out('preflight', true), out('fence', true), failed],
        failed,
        rollback: [out('start', ok), out('verify', ok)],
      };
      const f = foldMove(cfg, state(), d.plan, res, NOW, at(5));
      assert.equal(f.state.serving, 'primary');
      assert.match(tx(f.alerts[0]), /FAILOVER FAILED/);
      assert.match(tx(f.alerts[0]), said);
      assert.match(tx(f.alerts[0]), /by hand: ann@witness/);
    }
  });
  test('a failed preflight says no gateway was touched (#6)', async () => {
    const cfg = await config();
    const d: any = decideFailover(cfg, state(), HAND, NOW);
    const failed = { ...out('preflight', false), role: 'standby' };
    const f = foldMove(cfg, state(), d.plan, { ok: false, outcomes: [failed], failed }, NOW, at(1));
    assert.match(
      tx(f.alerts[0]),
      /FAILOVER FAILED — pc2 did not take over, standby failed its preflight, no gateway was touched/,
    );
    assert.equal(f.state.failover.attempts, 1);
  });
  test('a restart where nothing else could serve: the same side serves, said; it spends no attempt', async () => {
    const cfg = await config({ guard: {} });
    const escalated = { attempts: 3, lastAttemptAt: at(-900).toISOString(), escalatedAt: at(-900).toISOString() };
    const st = { ...idleOver(onStandby({ check: ['unreachable', 'gateway-down'] }), 'primary'), failback: escalated };
    const d: any = decideFailover(cfg, st, AUTO, NOW, undefined, W_HERE);
    const steps = d.plan.steps.map((x: any) => out(x.op, true));
    const ok = foldMove(cfg, st, d.plan, { ok: true, outcomes: steps }, NOW, at(5));
    assert.equal(ok.state.serving, 'standby');
    assert.equal(ok.state.servingSince, st.servingSince, 'the standby has served since its failover, not since now');
    assert.deepEqual(ok.state.failback, escalated, 'the failback budget is not the restart to reset');
    assert.equal(ok.state.failover.lastAttemptAt, NOW.toISOString(), 'the cooldown counts from it');
    assert.equal(ok.alerts[0].kind, 'restart-done');
    assert.match(tx(ok.alerts[0]), /pc2 GATEWAY-DOWN with no host to take over — restarted/);
    const failed = out('start', false, { detail: 'no method started it' });
    let s2: any = st;
    for (let i = 0; i < 5; i++) {
      const no = foldMove(cfg, s2, d.plan, { ok: false, outcomes: [failed], failed }, at(i * 600), at(i * 600 + 5));
      assert.equal(no.alerts[0].kind, 'restart-failed');
      assert.equal(no.alerts[0].severity, 'critical');
      s2 = no.state;
    }
    assert.equal(s2.serving, 'standby');
    assert.equal(s2.failover.attempts, 0, 'failed restarts escalate nothing');
    assert.match(s2.failover.lastResult, /restart failed: no method started it/);
    // The primary's host back, its gateway idle: the return to it goes ahead (not "gave up, a human must act").
    const back = { ...s2, lastCheck: { at: at(3000).toISOString(), hosts: obs('gateway-down', 'gateway-down') } };
    back.streaks = { ...s2.streaks, standby: { ...s2.streaks.standby, failures: 3 } };
    const r: any = decideFailover(cfg, back, AUTO, at(3010), undefined, W_HERE);
    assert.equal(r.act, true, JSON.stringify(r));
    assert.equal(r.plan.kind, 'return');
  });
  test('back from a dead standby: the primary serves, the lost memory is alerted (#7)', async () => {
    const cfg = await config();
    const st = onStandby({ check: ['gateway-down', 'unreachable'] });
    const d: any = decideFailover(cfg, st, AUTO, NOW);
    const f = foldMove(
      cfg,
      st,
      d.plan,
      { ok: true, outcomes: d.plan.steps.map((s: any) => out(s.op, true)) },
      NOW,
      at(5),
    );
    assert.equal(f.state.serving, 'primary');
    assert.match(
      tx(f.alerts[0]),
      new RegExp(
        'pc2 UNREACHABLE while serving — back to pc1 — ' +
          'WARNING: memory the standby wrote since .* could not be synced back',
      ),
    );
    assert.match(f.summary, /WARNING/);
  });
  test('back from a standby whose gateway died: a failed sync-back is passed and alerted (#8)', async () => {
    const cfg = await config();
    const st = onStandby({ check: ['gateway-down', 'gateway-down'] });
    const d: any = decideFailover(cfg, st, AUTO, NOW);
    const outcomes = d.plan.steps.map((s: any) => out(s.op, s.op !== 'sync-back'));
    const f = foldMove(cfg, st, d.plan, { ok: true, outcomes }, NOW, at(5));
    assert.match(
      tx(f.alerts[0]),
      /pc2 GATEWAY-DOWN while serving — back to pc1 — WARNING: .*could not be synced back \(sync-back failed\)/,
    );
    const failed = out('start', false);
    const bad = foldMove(cfg, st, d.plan, { ok: false, outcomes: [failed], failed }, NOW, at(5));
    assert.match(tx(bad.alerts[0]), /RETURN TO pc1 FAILED/);
    assert.equal(bad.state.failover.attempts, 1);
  });
  test('a failed failover counts one attempt and alerts the failure', async () => {
    const cfg = await config();
    const d: any = decideFailover(cfg, state({ check: ['unreachable', 'gateway-down'] }), AUTO, NOW);
    const failed = out('start', false);
    const f = foldMove(cfg, state(), d.plan, { ok: false, outcomes: [out('fence', true), failed], failed }, NOW, at(5));
    assert.equal(f.state.serving, 'primary');
    assert.equal(f.state.failover.attempts, 1);
    assert.equal(f.exitCode, 2);
    assert.match(tx(f.alerts[0]), /FAILOVER FAILED/);
    assert.equal(f.rolledBack, null);
  });
  test('a failed failback with its rollback: the standby still serves, said in the alert', async () => {
    const cfg = await config();
    const d: any = decideFailback(cfg, state({ serving: 'standby' }), HAND, NOW);
    const failed = out('start', false);
    for (const [ok, said] of [
      [true, /standby pc2 restarted, serving again/],
      [false, /standby pc2 could NOT be restarted/],
    ] as const) {
      const res = { ok: false, outcomes: [failed], failed, rollback: [out('start', ok)] };
      const f = foldMove(cfg, state({ serving: 'standby' }), d.plan, res, NOW, at(5));
      assert.equal(f.state.serving, 'standby');
      assert.match(tx(f.alerts[0]), /FAILBACK FAILED/);
      assert.match(tx(f.alerts[0]), said);
      assert.equal(f.state.failback.attempts, 1, 'failback has its own attempt budget (#9)');
      assert.equal(f.state.failover.attempts, 0);
    }
  });
  test('a failback that ran through resets both budgets', async () => {
    const cfg = await config();
    const st = onStandby({ failback: { attempts: 2, escalatedAt: NOW.toISOString() } });
    const d: any = decideFailback(cfg, st, HAND, NOW);
    const f = foldMove(
      cfg,
      st,
      d.plan,
      { ok: true, outcomes: d.plan.steps.map((s: any) => out(s.op, true)) },
      NOW,
      at(5),
    );
    assert.equal(f.state.serving, 'primary');
    assert.equal(f.state.failback.attempts, 0);
    assert.equal(f.state.failback.escalatedAt, null);
    assert.match(tx(f.alerts[0]), /pc1 ONLINE — memory synced, pc2 stopped \(by hand: ann@witness\)/);
  });
  test('a failback past a standby that does not answer: online, the memory left behind is alerted (#7)', async () => {
    const cfg = await config();
    const st = onStandby();
    const d: any = decideFailback(cfg, st, HAND, NOW);
    const outcomes = d.plan.steps.map((s: any) =>
      s.op === 'sync-back' ? { ...out(s.op, false), unreachable: true } : out(s.op, true),
    );
    const f = foldMove(cfg, st, d.plan, { ok: true, outcomes }, NOW, at(5));
    assert.equal(f.state.serving, 'primary');
    assert.match(
      tx(f.alerts[0]),
      /pc1 ONLINE — pc2 stopped — WARNING: memory the standby wrote could not be synced back/,
    );
  });
  test('a failback escalation is recorded in its own budget (#9)', async () => {
    const cfg = await config({ thresholds: { maxAttempts: 2 } });
    const st = onStandby({ check: BACK, reachable: 5, failback: { attempts: 2 } });
    const d: any = decideFailback(cfg, st, AUTO, NOW);
    const h = foldHold(cfg, st, d, NOW);
    assert.equal(h.state.failback.escalatedAt, NOW.toISOString());
    assert.match(tx(h.alerts[0]), /ESCALATION: 2 failback attempts to pc1/);
  });
  test('fence-idle: its reason is the alert', async () => {
    const cfg = await config();
    const d: any = decideFailover(cfg, state({ check: ['healthy', 'healthy'] }), AUTO, NOW);
    const f = foldMove(cfg, state(), d.plan, { ok: true, outcomes: [out('fence', true)] }, NOW, at(1));
    assert.match(tx(f.alerts[0]), /runs a gateway while primary serves/);
    assert.equal(f.state.serving, 'primary');
    const failed = out('fence', false);
    const bad = foldMove(cfg, state(), d.plan, { ok: false, outcomes: [failed], failed }, NOW, at(1));
    assert.match(tx(bad.alerts[0]), /TWO GATEWAYS/);
    assert.equal(bad.state.failover.attempts, 0, 'a failed fence of a second gateway is not a failover attempt');
  });
  test('holding back: nothing changes; an escalation is recorded once with its alert', async () => {
    const cfg = await config({ thresholds: { maxAttempts: 2 } });
    const st = state({ check: ['unreachable', 'gateway-down'], failover: { attempts: 2 } });
    const d: any = decideFailover(cfg, st, AUTO, NOW);
    const h = foldHold(cfg, st, d, NOW);
    assert.equal(h.state.failover.escalatedAt, NOW.toISOString());
    assert.match(tx(h.alerts[0]), /ESCALATION: 2 failover attempts/);
    const quiet: any = decideFailover(cfg, h.state, AUTO, at(1));
    assert.deepEqual(foldHold(cfg, h.state, quiet, at(1)), { state: h.state, alerts: [] });
  });
});

describe('plan: describeStep', () => {
  test('every step of every plan has a line with its reason', async () => {
    const cfg = await config();
    const plans = [
      decideFailover(cfg, state({ check: ['gateway-down', 'gateway-down'] }), AUTO, NOW),
      decideFailback(cfg, state({ serving: 'standby' }), HAND, NOW),
    ] as any[];
    for (const d of plans)
      for (const s of [...d.plan.steps, ...d.plan.rollback]) assert.match(describeStep(cfg, s), /\(.+\)$/);
  });
});
