// Liveness of the serving-permit rule, as a property: the safety properties (fencing-model.test.ts)
// pass for a pair that never serves again. Random faults first (the same arbitrary), then every fault
// healed: one gateway must serve. Then one host dies, with the leading witness rebooted or replaced, and
// its clock stepped, at random times around the death: the survivor must serve in the end, and, when the
// witness kept its records and was not away longer than the permit allows, without ever being stopped by
// its own guard. It found four outages: a witness rebooted just after a failover (the extension,
// src/fencing/rule.ts renewAllowed), a serving gateway fenced while the other host was dead (the restart,
// src/failover/moves.ts restartPlan), a witness clock stepped back (the cooldown and the rebuild's
// confirmation, which read wall-clock ages), and a sole witness that lost its state.json just after a
// failover (the adoption waited on the dead side's permit, and no check renewed the side that served:
// moves.ts adoptPlan, src/failover/observe.ts Prober.permit). The three named liveness cases in
// fencing-model.test.ts were found by hand; this draws their neighbours.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { config } from './helpers.ts';
import { World, type Action } from './fencing-world.ts';
import { CFG, action, names } from './fencing-faults.ts';

type Role = 'primary' | 'standby';
const other = (r: Role): Role => (r === 'primary' ? 'standby' : 'primary');
const running = (w: World): Role[] => (['primary', 'standby'] as Role[]).filter((r) => w.hosts[r].running);

/** Every fault gone: links, machines, quorum, the loopback view. Clocks stay as stepped (a skew is no fault). */
function healAll(w: World): void {
  for (const a of names) for (const b of names) w.apply({ k: 'heal', from: a, to: b });
  w.ws.forEach((m, i) => {
    w.apply({ k: 'witness-up', w: i });
    if (!m.quorum) w.apply({ k: 'quorum', w: i });
  });
  for (const h of ['primary', 'standby'] as Role[]) w.apply({ k: 'host-up', h });
  if (!w.loopback) w.apply({ k: 'loopback' });
}

/** The leading witness's cron line every 10 s for `seconds`; each event at the first line after its time. */
function cron(w: World, seconds: number, at: Array<{ t: number; a: Action }> = []): void {
  const t0 = w.t;
  const todo = [...at].sort((x, y) => x.t - y.t);
  while (w.t < t0 + seconds) {
    while (todo.length && todo[0]!.t <= w.t - t0) w.apply(todo.shift()!.a);
    // The first witness up leads (etcd's election, healed); check, failover --auto, then 5 s.
    const lead = w.ws.findIndex((m) => m.alive && m.quorum);
    if (lead >= 0) w.apply({ k: 'cycle', w: lead, kill: 99 });
    else w.apply({ k: 'advance', dt: 5 });
    w.apply({ k: 'advance', dt: 5 });
  }
}

/**
 * How long a sole witness may be away (down, rebooting) and its serving host keep serving without a stop:
 * the guard fences once its permit has less than the fence lead left (lease 45 - lead 17 = 28 s after the
 * last renewal, which came up to 10 s before the witness went, and the next one comes up to 10 s after it
 * is back). Longer, and the serving host fences by design (docs/partitions.md, "What the guard does not
 * save"); once the witness is back it serves again: a move, or a restart where nothing else could serve.
 */
const SOLE_AWAY = 8;

const noViolation = (w: World): boolean => w.violations.length === 0 || assert.fail(w.violations[0]);

/** Around the death (at 30 s): the witness down and back (rebooted or replaced), maybe its clock stepped. */
const aroundDeath = fc.record({
  victim: fc.constantFrom('serving' as const, 'idle' as const),
  down: fc.integer({ min: 0, max: 60 }),
  away: fc.integer({ min: 1, max: 60 }),
  replace: fc.boolean(),
  step: fc.oneof(fc.constant(0), fc.integer({ min: -3600, max: 3600 })),
  stepAt: fc.integer({ min: 0, max: 90 }),
});

describe('serving permits: liveness over random faults, witness reboots around a host death', () => {
  test('faults healed, one gateway serves; a host dies around a witness reboot: the other one serves', async () => {
    // The default attempt cap (3), not the safety properties' 100: a move that fails while a wait could have
    // been slept out spends the budget, and an escalated pair never moves again by itself.
    const cfg = await config({ ...CFG, thresholds: { ...CFG.thresholds, maxAttempts: 3 } });
    const runs = Number(process.env.HACTL_FC_RUNS ?? 500) / 2;
    const seen = { serving: 0, idle: 0 };
    fc.assert(
      fc.property(
        fc
          .record({ witnesses: fc.integer({ min: 1, max: 3 }), etcd: fc.boolean() })
          .map((o) => ({ ...o, etcd: o.etcd || o.witnesses > 1 }))
          .chain((o) =>
            fc.record({ o: fc.constant(o), actions: fc.array(action(o.witnesses), { maxLength: 60 }), d: aroundDeath }),
          ),
        ({ o, actions, d }) => {
          const w = new World(cfg, o);
          for (const a of actions) w.apply(a);
          healAll(w);
          cron(w, 400);
          const live = running(w);
          const tail = () => w.log.slice(-30).join('\n');
          assert.equal(live.length, 1, `healed for 400 s, ${live.length} gateways run\n${tail()}`);
          const serving = live[0]!;
          const victim: Role = d.victim === 'serving' ? serving : other(serving);
          const survivor = other(victim);
          seen[d.victim]++;
          const from = w.log.length;
          const up = d.replace ? ('witness-replace' as const) : ('witness-up' as const);
          cron(w, 400, [
            { t: 30, a: { k: 'host-down', h: victim } },
            { t: d.down, a: { k: 'witness-down', w: 0 } },
            { t: d.down + d.away, a: { k: up, w: 0 } },
            { t: d.stepAt, a: { k: 'clock', m: 'W0', d: d.step } },
          ]);
          const after = w.log.slice(from).join('\n');
          const name = w.hosts[survivor].name;
          // Eventually: the survivor serves, and has for the last 150 s (a restart, or one more move, first).
          assert.equal(w.hosts[survivor].running, true, `${survivor} does not serve 370 s after the death\n${after}`);
          const last = w.log.filter((l) => Number(/^t=(\d+)/.exec(l)?.[1]) > w.t - 150).join('\n');
          assert.ok(!/gateway stopped by its guard/.test(last), `still stopping at the end\n${last}`);
          // Without a pause: a witness back within the renewal window (or with another to lead meanwhile)
          // never lets the survivor's guard stop it, once it serves, whether it kept its records or lost them
          // (replaced: a sole witness's empty state names the primary; the standby that serves is extended,
          // then adopted).
          if (o.witnesses === 1 && d.away > SOLE_AWAY) return noViolation(w);
          const start = d.victim === 'idle' ? 0 : w.log.slice(from).findIndex((l) => l.includes(`started ${name}`));
          assert.ok(start >= 0, after);
          const later = w.log.slice(from + start).join('\n');
          assert.ok(!new RegExp(`guard ${name}: stop`).test(later), `${name}'s guard stopped it\n${later}`);
          return noViolation(w);
        },
      ),
      { numRuns: runs },
    );
    assert.ok(seen.serving > runs / 4 && seen.idle > runs / 4, JSON.stringify(seen));
  });
});
