// The serving-permit rule, proven as properties over random fault sequences (issue 21): 1-3
// witnesses with or without etcd quorum, a primary and a standby, link cuts in each direction,
// witness and host deaths, kill -9 at any step of a check or a failover, wall clocks stepped on any
// machine, slow stops. The model (fencing-world.ts) runs hactl's real pure decisions. Properties:
// never two live permits, never two gateways running, no start while the old side's permit is
// live and not confirmed stopped. Then each item of the issue as a named example.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { config } from './helpers.ts';
import { World, type Action } from './fencing-world.ts';
import { guardBound, fenceBound, startAllowed, permitLeft, mayGrant } from '../../dist/fencing/rule.js';
import { decideGuard } from '../../dist/guard/plan.js';
import { decideFailover } from '../../dist/failover/plan.js';

const CFG = {
  guard: { lease: '30s', interval: '10s' },
  thresholds: {
    connectTimeout: 2,
    commandTimeout: 3,
    stopDeadline: 3,
    pollInterval: 1,
    cooldown: 20,
    maxAttempts: 100,
  },
};

const names = ['W0', 'W1', 'W2', 'P', 'S'];
const action = (n: number): fc.Arbitrary<Action> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ k: fc.constant('advance' as const), dt: fc.integer({ min: 1, max: 40 }) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        k: fc.constantFrom('cut' as const, 'sever' as const, 'sever' as const, 'heal' as const),
        from: fc.constantFrom(...names),
        to: fc.constantFrom(...names),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        k: fc.constant('check' as const),
        w: fc.nat(n - 1),
        lead: fc.boolean(),
        kill: fc.oneof(fc.constant(9), fc.integer({ min: 0, max: 2 })),
      }),
    },
    {
      weight: 8,
      arbitrary: fc.record({
        k: fc.constant('cycle' as const),
        w: fc.nat(n - 1),
        kill: fc.oneof(fc.constant(99), fc.constant(99), fc.integer({ min: 0, max: 8 })),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('failover' as const),
        w: fc.nat(n - 1),
        lead: fc.boolean(),
        kill: fc.oneof(fc.constant(99), fc.integer({ min: 0, max: 8 })),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constantFrom(
          'witness-down' as const,
          'witness-up' as const,
          'witness-replace' as const,
          'quorum' as const,
          'rebuild' as const,
        ),
        w: fc.nat(n - 1),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constantFrom('host-down' as const, 'host-up' as const),
        h: fc.constantFrom('primary' as const, 'standby' as const),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('clock' as const),
        m: fc.constantFrom(...names),
        d: fc.integer({ min: -7200, max: 7200 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('loopback' as const) }) },
    {
      weight: 1,
      arbitrary: fc.record({ k: fc.constant('stopSpeed' as const), f: fc.double({ min: 0, max: 1, noNaN: true }) }),
    },
  );

const scenario = fc
  .record({ witnesses: fc.integer({ min: 1, max: 3 }), etcd: fc.boolean() })
  .map((o) => ({ ...o, etcd: o.etcd || o.witnesses > 1 }))
  .chain((o) => fc.record({ o: fc.constant(o), actions: fc.array(action(o.witnesses), { maxLength: 120 }) }));

async function run(o: { witnesses: number; etcd: boolean }, actions: Action[]): Promise<World> {
  const w = new World(await config(CFG), o);
  for (const a of actions) w.apply(a);
  w.advance(200); // whatever was pending plays out
  return w;
}

const stats = { runs: 0, standbyStarts: 0, primaryStarts: 0, guardStops: 0, kills: 0, grants: 0 };

describe('serving permits: properties over random fault sequences', () => {
  test('never two live permits, never two gateways, no start over a live unconfirmed permit', async () => {
    const cfg = await config(CFG);
    const runs = Number(process.env.HACTL_FC_RUNS ?? 500);
    fc.assert(
      fc.property(scenario, ({ o, actions }) => {
        const w = new World(cfg, o);
        for (const a of actions) w.apply(a);
        // Then the witnesses' cron lines go on over whatever faults remain, and time passes.
        for (let i = 0; i < 15; i++) w.apply({ k: 'cycle', w: i, kill: 99 });
        w.advance(200);
        if (process.env.HACTL_FC_STATS) {
          const l = w.log.join('\n');
          stats.runs++;
          if (/started S/.test(l)) stats.standbyStarts++;
          if (/started P/.test(l)) stats.primaryStarts++;
          if (/guard P: stop/.test(l)) stats.guardStops++;
          if (/killed/.test(l)) stats.kills++;
          if (/granted/.test(l)) stats.grants++;
        }
        return w.violations.length === 0 || assert.fail(w.violations[0]);
      }),
      { numRuns: runs },
    );
    if (process.env.HACTL_FC_STATS) process.stdout.write(`# ${JSON.stringify(stats)}\n`);
  });

  test('liveness: with the primary dead, a single witness moves to the standby', async () => {
    const w = await run({ witnesses: 1, etcd: false }, []);
    w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
    w.apply({ k: 'advance', dt: 5 });
    w.apply({ k: 'host-down', h: 'primary' });
    for (let i = 0; i < 30 && w.ws[0]!.local.serving === 'primary'; i++) {
      w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
      w.apply({ k: 'failover', w: 0, lead: true, kill: 99 });
      w.apply({ k: 'advance', dt: 10 });
    }
    assert.equal(w.ws[0]!.local.serving, 'standby', w.log.join('\n'));
    assert.equal(w.hosts.standby.running, true);
    assert.deepEqual(w.violations, []);
  });
});

// --- the items as named cases ---
const HERE = { boot: 'w', uptime: 10_000 };

describe('serving permits: the issue 21 cases', () => {
  test('item 1: witness-primary cut, LAN up, loopback gateway: the primary fences before the standby', async () => {
    const w = await run({ witnesses: 1, etcd: false }, []);
    w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
    w.apply({ k: 'cut', from: 'W0', to: 'P' });
    w.apply({ k: 'cut', from: 'P', to: 'W0' });
    for (let i = 0; i < 40 && w.ws[0]!.local.serving === 'primary'; i++) {
      w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
      w.apply({ k: 'failover', w: 0, lead: true, kill: 99 });
      w.apply({ k: 'advance', dt: 10 });
    }
    assert.equal(w.ws[0]!.local.serving, 'standby', w.log.join('\n'));
    assert.equal(w.hosts.primary.running, false, 'the primary fenced itself although its peer answers');
    assert.deepEqual(w.violations, []);
    // And the guard's rule itself: an expired permit with an answering peer stops.
    const cfg = await config(CFG);
    const p = decideGuard(cfg.guard, {
      self: 'pc1',
      peer: 'pc2',
      permit: permitLeft({ token: 1, lease: 30, boot: 'b', uptime: 0 }, { boot: 'b', uptime: 31 }),
      peerAnswers: true,
      peerDetail: 'answers',
      running: true,
      runningDetail: '',
    });
    assert.equal(p.action, 'stop');
  });

  test('item 2: a witness that does not lead (or has no quorum) grants and renews nothing', async () => {
    assert.equal(mayGrant(false), false);
    assert.equal(mayGrant(true), true);
    assert.equal(mayGrant(undefined), true, 'one witness without etcd is the authority');
    // The primary cut from two witnesses and the standby, not from the third (not the leader).
    const w = await run({ witnesses: 3, etcd: true }, []);
    w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
    for (const a of ['W0', 'W1', 'S']) {
      w.apply({ k: 'cut', from: a, to: 'P' });
      w.apply({ k: 'cut', from: 'P', to: a });
    }
    for (let i = 0; i < 40 && w.shared.serving === 'primary'; i++) {
      w.apply({ k: 'check', w: 2, lead: false, kill: 9 }); // reaches the primary, does not lead
      w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
      w.apply({ k: 'failover', w: 0, lead: true, kill: 99 });
      w.apply({ k: 'advance', dt: 10 });
    }
    assert.equal(w.shared.serving, 'standby', w.log.join('\n'));
    assert.deepEqual(w.violations, []);
  });

  test('item 3: no grant on record (rebuilt state, replaced witness) is the full wait, not none', async () => {
    const cfg = await config(CFG);
    const bound = guardBound(cfg, 'primary');
    assert.equal(startAllowed(undefined, HERE, bound, false).ok, false);
    const other = { token: 3, lease: 30, by: 'another-witness', at: 5 };
    assert.equal(startAllowed(other, HERE, bound, false).ok, false, 'another boot cannot be dated');
    const seen = { ...other, seen: { w: HERE.uptime - 30 * 1.01 - bound } };
    assert.equal(startAllowed(seen, HERE, bound, false).ok, true, 'dated at first sight: the full wait');
    // In the model: the witness replaced right after granting, the primary then isolated.
    const w = await run({ witnesses: 1, etcd: false }, []);
    w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
    w.apply({ k: 'witness-replace', w: 0 });
    for (const a of ['W0', 'S']) {
      w.apply({ k: 'cut', from: a, to: 'P' });
      w.apply({ k: 'cut', from: 'P', to: a });
    }
    for (let i = 0; i < 6; i++) {
      w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
      w.apply({ k: 'failover', w: 0, lead: true, kill: 99 });
      w.apply({ k: 'advance', dt: 2 });
    }
    assert.deepEqual(w.violations, []);
  });

  test("item 4: the wait covers the guard's real run: every stop method's deadlines and its tick", async () => {
    const cfg = await config({ ...CFG, thresholds: { connectTimeout: 10, commandTimeout: 20, stopDeadline: 30 } });
    const methods = cfg.hosts[cfg.pair.primary].gateway.stop.length;
    // tick 10 + node's start 5 + observe max(10, 20) + per method: its run (20 + 30 + 5 to SIGKILL)
    // and its wait for the process to go (30 + 1 poll + 20 for a last gone check)
    assert.equal(guardBound(cfg, 'primary'), 10 + 5 + 20 + methods * (20 + 30 + 5 + 30 + 1 + 20));
    assert.equal(fenceBound({ ...cfg, stopMethods: 1 }), 10 + 5 + 20 + 106);
    const st: any = {
      version: 1,
      serving: 'primary',
      servingSince: new Date(0).toISOString(),
      lastCheck: {
        at: new Date(Date.parse('2026-12-01T12:00:00Z')).toISOString(),
        hosts: {
          primary: { status: 'unreachable', detail: '', confirmed: true },
          standby: { status: 'gateway-down', detail: '', confirmed: true },
        },
      },
      streaks: {
        primary: { failures: 3, healthy: 0, reachable: 0 },
        standby: { failures: 0, healthy: 0, reachable: 3 },
      },
      failover: { attempts: 0, lastAttemptAt: null, escalatedAt: null, lastResult: null },
      level: 'critical',
      permits: { primary: { token: 1, lease: 30, by: 'w', at: HERE.uptime - 30 - 10 - 10 - 1 } },
    };
    const now = new Date('2026-12-01T12:00:05Z');
    // Today's wait (lease + interval + connectTimeout + stopDeadline = 80 s) has passed: not enough.
    const d: any = decideFailover(cfg, st, { auto: true, who: 'cron' }, now, undefined, HERE);
    assert.equal(d.act, false, JSON.stringify(d));
    assert.match(d.reason, /guard bound/);
  });

  test("item 9 (guard half): a host's wall clock stepped back does not delay its fence", async () => {
    const w = await run({ witnesses: 1, etcd: false }, []);
    w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
    w.apply({ k: 'clock', m: 'P', d: -3600 });
    for (const a of ['W0', 'S']) {
      w.apply({ k: 'cut', from: a, to: 'P' });
      w.apply({ k: 'cut', from: 'P', to: a });
    }
    w.apply({ k: 'advance', dt: 30 + 10 + 1 });
    w.apply({ k: 'stopSpeed', f: 0 });
    w.apply({ k: 'advance', dt: 10 });
    assert.equal(w.hosts.primary.running, false, w.log.join('\n'));
  });

  test('item 11: a gateway that cannot be told gone counts as running: the guard stops it', async () => {
    const cfg = await config(CFG);
    const p = decideGuard(cfg.guard, {
      self: 'pc1',
      peer: 'pc2',
      permit: permitLeft(null, { boot: 'b', uptime: 1 }),
      peerAnswers: false,
      peerDetail: '',
      running: true,
      runningUnknown: true,
      runningDetail: 'unknown: ss failed',
    });
    assert.equal(p.action, 'stop');
  });

  test('kill -9 of a check between the grant landing and its save: the journal keeps the wait', async () => {
    const w = await run({ witnesses: 1, etcd: false }, []);
    w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
    w.apply({ k: 'advance', dt: 25 });
    w.apply({ k: 'check', w: 0, lead: true, kill: 1 }); // landed, never saved
    for (const a of ['W0', 'S']) {
      w.apply({ k: 'cut', from: a, to: 'P' });
      w.apply({ k: 'cut', from: 'P', to: a });
    }
    w.apply({ k: 'stopSpeed', f: 1 });
    for (let i = 0; i < 12; i++) {
      w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
      w.apply({ k: 'failover', w: 0, lead: true, kill: 99 });
      w.apply({ k: 'advance', dt: 5 });
    }
    assert.deepEqual(w.violations, []);
  });
});

// A known gap (docs/partitions.md "What is not covered yet"): with several witnesses, a leader
// killed after its grant landed and before its push hides that grant from the next leader, whose
// wait then counts from an older grant. Closing it needs the grant record written to etcd (under
// the lead, compare-and-swap) before the grant: src/coordination. Kept here, marked todo, so that
// the fix is seen to turn it green.
test(
  'todo (several witnesses): a leader killed between its grant and its push; the next leader waits too little',
  { todo: 'needs a write-ahead of the grant record into etcd (src/coordination)' },
  async () => {
    const w = new World(await config(CFG), { witnesses: 2, etcd: true });
    w.apply({ k: 'advance', dt: 5 });
    w.apply({ k: 'check', w: 1, lead: true, kill: 9 });
    w.apply({ k: 'advance', dt: 20 });
    w.apply({ k: 'check', w: 0, lead: true, kill: 1 }); // landed at t=25, never pushed
    for (const a of ['W0', 'W1', 'S']) w.apply({ k: 'sever', from: a, to: 'P' });
    for (let i = 0; i < 60; i++) w.apply({ k: 'cycle', w: 1, kill: 99 });
    assert.deepEqual(w.violations, []);
  },
);
