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
import { CFG, action } from './fencing-faults.ts';
import {
  FENCE_BUDGET,
  GUARD_OBSERVE,
  START_SLACK,
  fenceLead,
  permitWait,
  renewalGap,
  startAllowed,
  permitLeft,
  mayGrant,
  grantLand,
} from '../../dist/fencing/rule.js';
import { decideGuard } from '../../dist/guard/plan.js';

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

const stats = { runs: 0, standbyStarts: 0, primaryStarts: 0, guardStops: 0, kills: 0, grants: 0, launchKept: 0 };

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
          if (/the launch kept/.test(l)) stats.launchKept++;
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

// Liveness the safety properties cannot see (a review of decidingGrants found them in this model).
describe('serving permits: liveness through witness reboots and a dead idle host', () => {
  const cycles = (w: World, n: number) => {
    for (let i = 0; i < n; i++) {
      w.apply({ k: 'cycle', w: 0, kill: 99 });
      w.apply({ k: 'advance', dt: 10 });
    }
  };
  test('a witness that rebooted as the primary died still fails over (its old boot dated at first sight)', async () => {
    const w = new World(await config(CFG), { witnesses: 1, etcd: false });
    cycles(w, 5);
    w.apply({ k: 'witness-down', w: 0 });
    w.apply({ k: 'host-down', h: 'primary' });
    w.apply({ k: 'advance', dt: 3 });
    w.apply({ k: 'witness-up', w: 0 });
    cycles(w, 40);
    assert.equal(w.hosts.standby.running, true, w.log.slice(-12).join('\n'));
    assert.equal(w.ws[0]!.local.serving, 'standby');
    assert.deepEqual(w.violations, []);
  });
  test('a witness reboot, then the idle host dies: the serving gateway keeps its permit', async () => {
    const w = new World(await config(CFG), { witnesses: 1, etcd: false });
    cycles(w, 3);
    w.apply({ k: 'host-down', h: 'primary' });
    for (let i = 0; i < 20 && w.ws[0]!.local.serving === 'primary'; i++) cycles(w, 1);
    w.apply({ k: 'host-up', h: 'primary' });
    cycles(w, 5);
    w.apply({ k: 'witness-down', w: 0 });
    w.apply({ k: 'advance', dt: 2 });
    w.apply({ k: 'witness-up', w: 0 });
    cycles(w, 3);
    const serving = w.ws[0]!.local.serving;
    w.apply({ k: 'host-down', h: serving === 'primary' ? 'standby' : 'primary' });
    const stops = w.log.length;
    cycles(w, 12);
    assert.equal(w.hosts[serving].running, true, w.log.slice(stops).join('\n'));
    assert.deepEqual(w.violations, []);
  });
  test('a new cluster whose standby host dies: the primary keeps its permit (the revocation mark dated)', async () => {
    const w = new World(await config(CFG), { witnesses: 1, etcd: false });
    cycles(w, 8); // past one lease: the standby's revocation mark is older than a lease
    w.apply({ k: 'host-down', h: 'standby' });
    const from = w.log.length;
    cycles(w, 12);
    assert.equal(w.hosts.primary.running, true, w.log.slice(from).join('\n'));
    assert.ok(!w.log.slice(from).some((l) => /guard P: stop/.test(l)), w.log.slice(from).join('\n'));
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
      lead: fenceLead(cfg),
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
    assert.equal(startAllowed(undefined, HERE, false).ok, false);
    const other = { token: 3, lease: 30, by: 'another-witness', at: 5 };
    assert.equal(startAllowed(other, HERE, false).ok, false, 'another boot cannot be dated');
    const seen = { ...other, seen: { w: HERE.uptime - 30 * 1.01 } };
    assert.equal(startAllowed(seen, HERE, false).ok, true, 'dated at first sight: the full wait');
    const early = { ...other, seen: { w: HERE.uptime - 30 } };
    assert.equal(startAllowed(early, HERE, false).ok, false, 'the clock-rate margin is part of the wait');
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

  test('item 4: the guard is done stopping before its permit ends: the witness waits only for that end', async () => {
    const cfg = await config({ ...CFG, thresholds: { connectTimeout: 10, commandTimeout: 20, stopDeadline: 30 } });
    // The fence lead: stop budget 5 + interval 5 + observation 2 + node start 5, whatever the
    // gateway's stopDeadline or commandTimeout (the fence cuts each method short, then SIGKILL).
    assert.equal(fenceLead(cfg), FENCE_BUDGET + 5 + GUARD_OBSERVE + START_SLACK);
    assert.equal(fenceLead(cfg), 17);
    // A live permit with no more than the lead left, a gateway running: stop now, before the end.
    const near = permitLeft({ token: 1, lease: 45, boot: 'b', uptime: 0 }, { boot: 'b', uptime: 45 - 17 });
    const o = {
      self: 'pc1',
      peer: 'pc2',
      lead: 17,
      peerAnswers: true,
      peerDetail: '',
      running: true,
      runningDetail: '',
    };
    assert.equal(near.live, true);
    assert.equal(decideGuard(cfg.guard, { ...o, permit: near }).action, 'stop');
    const far = permitLeft({ token: 1, lease: 45, boot: 'b', uptime: 0 }, { boot: 'b', uptime: 45 - 18 });
    assert.equal(decideGuard(cfg.guard, { ...o, permit: far }).action, 'none');
    // The witness's wait is the lease times the clock-rate margin, from the grant's stamp.
    assert.equal(permitWait(45), 45 * 1.01);
    const g = { token: 1, lease: 45, by: HERE.boot, at: HERE.uptime - 45 };
    assert.equal(startAllowed(g, HERE, false).ok, false);
    assert.equal(startAllowed({ ...g, at: HERE.uptime - 45.46 }, HERE, false).ok, true);
    // Slow stops (a systemd stop waiting its 90 s TimeoutStopSec): the guard's SIGKILL ends them in
    // its budget. Without that hard budget, the same world starts the standby beside them.
    const slow = async (noKill: boolean) => {
      const w = new World(await config(CFG), { witnesses: 1, etcd: false, noKill });
      w.apply({ k: 'stopSpeed', f: 1 });
      w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
      w.apply({ k: 'sever', from: 'W0', to: 'P' });
      w.apply({ k: 'sever', from: 'S', to: 'P' });
      for (let i = 0; i < 20 && w.ws[0]!.local.serving === 'primary'; i++) {
        w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
        w.apply({ k: 'failover', w: 0, lead: true, kill: 99 });
        w.apply({ k: 'advance', dt: 10 });
      }
      return w;
    };
    const fenced = await slow(false);
    assert.equal(fenced.ws[0]!.local.serving, 'standby', fenced.log.join('\n'));
    assert.deepEqual(fenced.violations, []);
    assert.notDeepEqual((await slow(true)).violations, [], 'a stop without its SIGKILL budget outlasts the permit');
  });

  test('RTO, defaults: primary cut off or dead, standby may start 60 s after the cut less its start', async () => {
    const cfg = await config({ guard: {} });
    assert.equal(cfg.guard.lease, 45);
    assert.equal(cfg.guard.interval, 5);
    assert.equal(cfg.thresholds.watchInterval, 10);
    // The standby's own start (the failover's start step and its verify; a stand-in gateway in the
    // lab, OpenClaw measured 10-15 s cold): what is left of the 60 s once the wait is over.
    const START = 10;
    const worst: number[] = [];
    // The cut falls at every second of the renewal cadence after the last grant; the host dies, or it is isolated.
    for (const dead of [false, true])
      for (let offset = 0; offset < cfg.thresholds.watchInterval; offset++) {
        const w = new World(cfg, { witnesses: 1, etcd: false });
        const R = cfg.thresholds.watchInterval;
        const cycle = () => {
          w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
          w.apply({ k: 'failover', w: 0, lead: true, kill: 99 });
        };
        for (let i = 0; i < 12; i++) {
          w.apply({ k: 'advance', dt: R });
          cycle(); // the last renewal lands `offset` s before the cut
        }
        assert.equal(w.hosts.primary.running, true, 'a healthy primary renewed every watchInterval never fences');
        w.apply({ k: 'advance', dt: offset });
        const cut = w.t;
        if (dead) w.apply({ k: 'host-down', h: 'primary' });
        else for (const a of ['W0', 'S']) w.apply({ k: 'sever', from: a, to: 'P' });
        w.apply({ k: 'advance', dt: R - offset });
        for (let i = 0; i < 12 && w.ws[0]!.local.serving === 'primary'; i++) {
          cycle();
          if (w.ws[0]!.local.serving === 'primary') w.apply({ k: 'advance', dt: R });
        }
        const started = w.log.find((l) => /started S/.test(l));
        assert.ok(started, w.log.join('\n'));
        const at = Number(/^t=(\d+)/.exec(started)![1]);
        const stopped = w.log.find((l) => /P: gateway stopped by its guard|P down/.test(l));
        assert.ok(stopped && Number(/^t=(\d+)/.exec(stopped)![1]) <= at, w.log.join('\n'));
        assert.deepEqual(w.violations, []);
        worst.push(at - cut);
      }
    const most = Math.max(...worst);
    process.stdout.write(`# standby may start ${Math.min(...worst)}-${most} s after the cut (model, default config)\n`);
    assert.ok(most <= 60 - START, `the standby may start only ${most} s after the cut: ${worst.join(', ')}`);
  });

  test('a healthy primary never fences itself: renewals every watchInterval, one failed (default config)', async () => {
    const cfg = await config({ guard: {} });
    const R = cfg.thresholds.watchInterval;
    // The longest gap the validator allows between two renewals, with one failed in it.
    assert.ok(cfg.guard.lease - fenceLead(cfg) > renewalGap(cfg.thresholds));
    const w = new World(cfg, { witnesses: 1, etcd: false });
    for (let i = 0; i < 60; i++) {
      if (i % 5 !== 3) w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
      else w.apply({ k: 'advance', dt: cfg.thresholds.connectTimeout + cfg.thresholds.retryDelay - R });
      w.apply({ k: 'advance', dt: R });
    }
    assert.equal(w.hosts.primary.running, true, w.log.join('\n'));
    assert.ok(!w.log.some((l) => /guard P: stop/.test(l)));
  });

  test("item 9 (guard half): a host's wall clock stepped back does not delay its fence", async () => {
    const w = await run({ witnesses: 1, etcd: false }, []);
    w.apply({ k: 'check', w: 0, lead: true, kill: 9 });
    w.apply({ k: 'clock', m: 'P', d: -3600 });
    for (const a of ['W0', 'S']) {
      w.apply({ k: 'cut', from: a, to: 'P' });
      w.apply({ k: 'cut', from: 'P', to: a });
    }
    w.apply({ k: 'stopSpeed', f: 1 });
    w.apply({ k: 'advance', dt: 45 });
    assert.equal(w.hosts.primary.running, false, w.log.join('\n'));
  });

  test('item 11: a gateway that cannot be told gone counts as running: the guard stops it', async () => {
    const cfg = await config(CFG);
    const p = decideGuard(cfg.guard, {
      self: 'pc1',
      peer: 'pc2',
      permit: permitLeft(null, { boot: 'b', uptime: 1 }),
      lead: fenceLead(cfg),
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

describe('serving permits: etcd leaders record each grant before sending it (issue 21, no extra lease)', () => {
  test('a leader killed after its renewal landed: the standby starts one lease after it, not two', async () => {
    const cfg = await config(CFG);
    const w = new World(cfg, { witnesses: 2, etcd: true });
    w.apply({ k: 'cycle', w: 0, kill: 99 });
    w.apply({ k: 'advance', dt: 10 });
    w.apply({ k: 'check', w: 1, lead: true, kill: 1 }); // W1's renewal lands; W1 dies before sharing it
    w.apply({ k: 'witness-down', w: 1 });
    const killed = w.t;
    for (const a of ['W0', 'W1', 'S']) w.apply({ k: 'sever', from: a, to: 'P' });
    for (let i = 0; i < 40 && w.shared.serving === 'primary'; i++) {
      w.apply({ k: 'cycle', w: 0, kill: 99 });
    }
    const started = w.log.find((l) => /started S/.test(l));
    assert.ok(started, w.log.join('\n'));
    const after = Number(/^t=(\d+)/.exec(started)![1]) - killed;
    assert.deepEqual(w.violations, []);
    // The renewal landed at the kill; the next leader read its etcd record at its next run (5 s on):
    // the permit's end by its clock (lease x 1.01 + the grant's landing deadline), and the cycle's step.
    const bound = permitWait(cfg.guard.lease) + grantLand(cfg.thresholds) + 5 + 5;
    assert.ok(after <= bound, `the standby started ${after} s after the kill (bound ${bound} s): ${w.log.join('\n')}`);
  });
});

// Two holes the shorter wait (no guard bound added) laid open; fast-check found each (seeds in the
// commit message). Each fails with its part of the rule taken out.
describe('serving permits: found by the property once the wait lost its guard bound', () => {
  const play = async (o: { witnesses: number; etcd: boolean; noPending?: boolean }, actions: Action[]) => {
    const w = new World(await config(CFG), o);
    for (const a of actions) w.apply(a);
    for (let i = 0; i < 15; i++) w.apply({ k: 'cycle', w: i, kill: 99 });
    w.advance(200);
    return w;
  };
  test('etcd: a leader killed after its grant landed: the next leader dates its grant recorded in etcd', async () => {
    const killed: Action[] = [
      { k: 'cut', from: 'P', to: 'W0' },
      { k: 'advance', dt: 2 },
      { k: 'check', w: 1, lead: true, kill: 1 },
    ];
    assert.deepEqual((await play({ witnesses: 2, etcd: true }, killed)).violations, []);
    // A leader that sends its grant before recording it leaves the next one no record: two permits.
    const blind = await play({ witnesses: 2, etcd: true, noPending: true }, killed);
    assert.notDeepEqual(blind.violations, [], 'without the grant recorded in etcd, the next leader starts too early');
  });
  test("a recorded revocation is not this run's: a later grant may have landed unrecorded (recorded)", async () => {
    const w = await play({ witnesses: 2, etcd: true }, [
      { k: 'cycle', w: 0, kill: 99 },
      { k: 'advance', dt: 29 },
      { k: 'cycle', w: 0, kill: 5 },
      { k: 'cut', from: 'W1', to: 'S' },
      { k: 'cycle', w: 1, kill: 99 },
    ]);
    assert.deepEqual(w.violations, []);
  });
});

// Issue 21 item 10 and the netns lab's case b: a leader killed after its launch on the standby. The
// next leader's check keeps that launch's permit (src/failover/observe.ts Prober.permit) while it is
// live, the standby's gateway answers and the primary's does not; its guard then does not stop the
// gateway the move started, and no second permit goes live meanwhile.
describe('serving permits: an unfinished launch kept by the next leader (item 10)', () => {
  const launchKilled = async () => {
    const w = new World(await config(CFG), { witnesses: 2, etcd: true });
    w.apply({ k: 'cycle', w: 0, kill: 99 });
    w.apply({ k: 'host-down', h: 'primary' });
    // W0's failover is killed before its verify: the standby launched, the move unrecorded.
    for (let i = 0; i < 40 && !w.log.some((l) => /started S/.test(l)); i++) w.apply({ k: 'cycle', w: 0, kill: 4 });
    w.apply({ k: 'witness-down', w: 0 });
    for (let j = 0; j < 20; j++) {
      w.apply({ k: 'check', w: 1, lead: true, kill: 99 });
      w.apply({ k: 'advance', dt: 5 });
    }
    return w;
  };
  // Random sequences rarely kill a failover right after its start (1 run in 500 above): here every
  // run starts from one, then the faults follow (cuts, deaths, clock steps, kills at any step, a
  // rebuilt shared state).
  test('after an unfinished launch, random faults: never two live permits, never two gateways', async () => {
    const cfg = await config(CFG);
    const runs = Number(process.env.HACTL_FC_RUNS ?? 500) / 2;
    let kept = 0;
    fc.assert(
      fc.property(fc.array(action(2), { maxLength: 60 }), (actions) => {
        const w = new World(cfg, { witnesses: 2, etcd: true });
        w.apply({ k: 'cycle', w: 0, kill: 99 });
        w.apply({ k: 'host-down', h: 'primary' });
        for (let i = 0; i < 40 && !w.log.some((l) => /started S/.test(l)); i++) w.apply({ k: 'cycle', w: 0, kill: 4 });
        w.apply({ k: 'host-up', h: 'primary' });
        for (const a of actions) w.apply(a);
        for (let i = 0; i < 15; i++) w.apply({ k: 'cycle', w: i, kill: 99 });
        w.advance(200);
        if (w.log.some((l) => /the launch kept/.test(l))) kept++;
        return w.violations.length === 0 || assert.fail(w.violations[0]);
      }),
      { numRuns: runs },
    );
    assert.ok(kept > runs / 10, `the launch was kept in ${kept} of ${runs} runs`);
  });
  // Found by the property above when it drew a rebuild, with the keep and without it (then W1's own
  // start, not a keep, made the grant W0 did not know): the etcd record of the state lost (rebuilt),
  // W0 dated the standby's permit from its own journal, which lacked W1's later grant, found it over
  // and granted the primary while the standby's permit lived. Now a side the shared record lost is
  // dated at first sight before the journal is merged (src/fencing/rule.ts decidingGrants).
  test("a shared state rebuilt after another witness's grant: the journal's older grant is not latest", async () => {
    const w = new World(await config(CFG), { witnesses: 2, etcd: true });
    w.apply({ k: 'cycle', w: 0, kill: 99 });
    w.apply({ k: 'host-down', h: 'primary' });
    for (let i = 0; i < 40 && !w.log.some((l) => /started S/.test(l)); i++) w.apply({ k: 'cycle', w: 0, kill: 4 });
    w.apply({ k: 'host-up', h: 'primary' });
    for (const dt of [25, 8, 3]) w.apply({ k: 'advance', dt });
    w.apply({ k: 'cycle', w: 1, kill: 99 });
    w.apply({ k: 'rebuild', w: 0 });
    for (let i = 0; i < 15; i++) w.apply({ k: 'cycle', w: i, kill: 99 });
    w.advance(200);
    assert.deepEqual(w.violations, []);
  });
  test("the launch's gateway keeps serving: its permit renewed, never with the primary's live", async () => {
    const w = await launchKilled();
    assert.deepEqual(w.violations, []);
    assert.ok(
      w.log.some((l) => /the launch kept/.test(l)),
      w.log.join('\n'),
    );
    assert.ok(!w.log.some((l) => /S: gateway stopped by its guard/.test(l)), w.log.join('\n'));
    assert.equal(w.hosts.standby.running, true);
  });
});
