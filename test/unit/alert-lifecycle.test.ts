// The one incident lifecycle (src/alerts/incident.ts), pure: tables of events in,
// events out; a property over random event sequences; and the folds that raise the
// events (the check, the witness view, the guard) driven through it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decide, tick, MAX_NOTICES } from '../../dist/alerts/incident.js';
import { event, resolveEvent } from '../../dist/alerts/events.js';
import { shouldPing } from '../../dist/alerts/deadman.js';
import { foldCheck, foldHold, foldMove, STANDBY_LOST_CHECKS } from '../../dist/failover/fold.js';
import { foldWitnessView } from '../../dist/guard/witness.js';
import { foldGuard } from '../../dist/guard/fold.js';
import { initialState } from '../../dist/core/model.js';
import { config } from './helpers.ts';

const T0 = new Date('2026-11-22T12:00:00Z');
const t = (s: number) => new Date(T0.getTime() + s * 1000);
const POLICY = { repeatEvery: 3600, maxRepeats: 2, resolveAfter: 0 };
const open = (kind: string, key: string, severity = 'high', message = kind) =>
  event(kind as never, severity as never, 'open', message, T0, { key });
const end = (key: string) => resolveEvent(key, `${key} over`, T0);

/** Runs events through the lifecycle, each at its second; returns what was sent and the ledger. */
function run(steps: Array<[number, any]>, policy = POLICY) {
  let ledger: any = {};
  const sent: any[] = [];
  for (const [s, ev] of steps) {
    const r = ev ? decide(ledger, ev, t(s), policy) : tick(ledger, t(s), policy);
    ledger = r.ledger;
    sent.push(...r.send);
  }
  return { ledger, sent };
}

describe('lifecycle: one incident per key', () => {
  test('open -> held -> repeats (capped) -> resolved with how long it lasted', () => {
    const { ledger, sent } = run([
      [0, open('both-down', 'both-down', 'critical')],
      [60, open('both-down', 'both-down', 'critical')],
      [3600, null],
      [7200, open('both-down', 'both-down', 'critical')],
      [10800, null], // capped: two repeats at most
      [10900, end('both-down')],
      [11000, end('both-down')], // nothing open: not said
    ]);
    assert.deepEqual(
      sent.map((e) => [e.facts.step, e.phase]),
      [
        ['opened', 'open'],
        ['repeat', 'open'],
        ['repeat', 'open'],
        ['resolved', 'resolve'],
      ],
    );
    assert.match(sent[1].message, /^still open after 60 min \(reminder 1\/2\): both-down/);
    assert.equal(sent[3].facts.lastedSeconds, 10900);
    assert.equal(sent[3].facts.held, 1);
    assert.deepEqual(ledger, {});
  });

  test('issue 22 #1: escalation, the primary back by itself (resolved), a power loss: the failover is sent', () => {
    const { sent } = run([
      [0, open('escalation', 'service', 'critical')],
      [600, end('service')],
      [1560, open('failover-done', 'service', 'high')],
    ]);
    assert.deepEqual(
      sent.map((e) => e.kind),
      ['escalation', 'resolved', 'failover-done'],
    );
  });

  test('a different or worse event is never held behind an open incident; each action is sent', () => {
    const { sent } = run([
      [0, open('escalation', 'service', 'critical')],
      [10, open('failover-done', 'service', 'high')], // different kind, still open
      [20, open('failover-failed', 'service', 'critical')],
      [30, open('failover-failed', 'service', 'critical')], // an action: every attempt is news
      [40, open('standby-lost', 'standby-lost:pc2', 'medium')],
      [50, open('standby-lost', 'standby-lost:pc2', 'high')], // worse
      [60, open('standby-lost', 'standby-lost:pc2', 'high')], // the same: held
    ]);
    assert.deepEqual(
      sent.map((e) => `${e.kind}/${e.facts.step}`),
      [
        'escalation/opened',
        'failover-done/changed',
        'failover-failed/changed',
        'failover-failed/changed',
        'standby-lost/opened',
        'standby-lost/escalated',
      ],
    );
  });

  test('issue 21: a second cut within 6 h is alerted, and no "reaches again" without its "cannot reach"', () => {
    const cut = open('serving-lost', 'serving-lost:pc1');
    const { sent } = run([
      [0, end('serving-lost:pc1')],
      [10, cut],
      [20, end('serving-lost:pc1')],
      [30, end('serving-lost:pc1')],
      [3000, cut],
    ]);
    assert.deepEqual(
      sent.map((e) => e.facts.step),
      ['opened', 'resolved', 'opened'],
    );
  });

  test('resolveAfter: a flap inside it is one incident; its end is said once it stayed quiet', () => {
    const { sent } = run(
      [
        [0, open('both-down', 'both-down')],
        [10, end('both-down')],
        [20, open('both-down', 'both-down')],
        [30, end('both-down')],
        [100, null],
        [200, null],
      ],
      { ...POLICY, resolveAfter: 120 },
    );
    assert.deepEqual(
      sent.map((e) => e.facts.step),
      ['opened', 'resolved'],
    );
  });

  test('a failback with nothing open is still said (an action); a notice is said once per repeatEvery', () => {
    const back = event('failback-done', 'low', 'resolve', 'pc1 ONLINE', T0, { key: 'service' });
    const paused = event('paused', 'medium', 'notice', 'paused for 1 h', T0);
    const { sent } = run([
      [0, back],
      [10, paused],
      [20, paused],
      [4000, paused],
    ]);
    assert.deepEqual(
      sent.map((e) => e.kind),
      ['failback-done', 'paused', 'paused'],
    );
  });

  test('notices remembered are capped', () => {
    let ledger: any = {};
    for (let i = 0; i < MAX_NOTICES + 10; i++) {
      ledger = decide(ledger, event('paused', 'low', 'notice', `n${i}`, T0), t(i), POLICY).ledger;
    }
    assert.equal(Object.keys(tick(ledger, t(100), POLICY).ledger).length, MAX_NOTICES);
  });
});

describe('lifecycle: properties over random event sequences (fast-check)', () => {
  const KEYS = ['service', 'both-down', 'standby-lost:pc2'];
  const KINDS = ['escalation', 'failover-done', 'both-down', 'standby-lost', 'memory-problem'];
  const step = fc.oneof(
    fc.record({
      op: fc.constant('open'),
      key: fc.constantFrom(...KEYS),
      kind: fc.constantFrom(...KINDS),
      severity: fc.constantFrom('low', 'medium', 'high', 'critical'),
      dt: fc.integer({ min: 0, max: 8000 }),
    }),
    fc.record({ op: fc.constant('resolve'), key: fc.constantFrom(...KEYS), dt: fc.integer({ min: 0, max: 8000 }) }),
    fc.record({ op: fc.constant('tick'), dt: fc.integer({ min: 0, max: 8000 }) }),
  );
  const policy = fc.record({
    repeatEvery: fc.integer({ min: 1, max: 7200 }),
    maxRepeats: fc.integer({ min: 0, max: 3 }),
    resolveAfter: fc.constantFrom(0, 0, 60, 600),
  });

  test('each opened incident: first event delivered, at most one open per key, resolved only after opened', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), policy, (steps, pol) => {
        let ledger: any = {};
        let now = 0;
        /** Per key: open (its opening event was sent) or not, from what was sent only. */
        const openByKey = new Map<string, boolean>();
        for (const s of steps as any[]) {
          now += s.dt;
          const before = ledger;
          const r =
            s.op === 'tick'
              ? tick(ledger, t(now), pol)
              : decide(
                  ledger,
                  s.op === 'open' ? open(s.kind, s.key, s.severity, `${s.kind} ${now}`) : end(s.key),
                  t(now),
                  pol,
                );
          ledger = r.ledger;
          if (s.op === 'open' && !(before[s.key] && !before[s.key].notice)) {
            // A new incident: its first event is what was sent, at once.
            assert.equal(r.send.length, 1);
            assert.equal(r.send[0].facts.step, 'opened');
            assert.equal(r.send[0].kind, s.kind);
          }
          for (const e of r.send) {
            const key = e.facts.incident as string;
            if (e.facts.step === 'opened' && e.key) {
              assert.ok(!openByKey.get(key), `${key} opened twice`);
              openByKey.set(key, true);
            }
            if (e.facts.step === 'resolved') {
              assert.ok(openByKey.get(key), `${key} resolved before it was opened`);
              openByKey.set(key, false);
            }
          }
          for (const k of KEYS) assert.equal(!!(ledger[k] && !ledger[k].notice), !!openByKey.get(k), k);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the folds raise typed events', () => {
  const ob = (status: string) => ({ status, detail: `${status} detail`, confirmed: true });
  const obs = (p: string, s: string) => ({ primary: ob(p), standby: ob(s) }) as any;

  /** N checks through foldCheck and the lifecycle; what was sent. */
  async function checks(seq: Array<[string, string]>) {
    const cfg = await config();
    let state: any = initialState(T0);
    let ledger: any = {};
    const sent: any[] = [];
    seq.forEach(([p, s], i) => {
      const f = foldCheck(cfg, state, obs(p, s), t(60 * i));
      state = f.state;
      for (const e of f.alerts) {
        const r = decide(ledger, e, t(60 * i), POLICY);
        ledger = r.ledger;
        sent.push(...r.send);
      }
    });
    return sent;
  }

  test(`the standby unreachable for ${STANDBY_LOST_CHECKS} checks: one alert, one "resolved" when back`, async () => {
    const h = ['healthy', 'gateway-down'] as [string, string];
    const u = ['healthy', 'unreachable'] as [string, string];
    const sent = await checks([h, u, u, u, u, u, h, h]);
    assert.deepEqual(
      sent.map((e) => `${e.kind}/${e.phase}`),
      ['standby-lost/open', 'resolved/resolve'],
    );
    assert.equal(sent[0].severity, 'high');
    assert.deepEqual(sent[0].hosts, ['pc2']);
    assert.equal(sent[1].facts.lastedSeconds, 180); // opened at the third check (180 s), back at 360 s
  });

  test('two checks unreachable is no alert (a blip)', async () => {
    const sent = await checks([
      ['healthy', 'unreachable'],
      ['healthy', 'unreachable'],
      ['healthy', 'gateway-down'],
    ]);
    assert.deepEqual(sent, []);
  });

  test('a standby host-key failure: one alert (critical), however many checks', async () => {
    const k = ['healthy', 'hostkey-failure'] as [string, string];
    const sent = await checks([k, k, k, k]);
    assert.deepEqual(
      sent.map((e) => `${e.kind}/${e.severity}/${e.hosts}`),
      ['host-access/critical/pc2'],
    );
    const a = await checks([
      ['auth-failure', 'gateway-down'],
      ['auth-failure', 'gateway-down'],
      ['healthy', 'gateway-down'],
    ]);
    assert.deepEqual(
      a.map((e) => `${e.kind}/${e.phase}`),
      ['host-access/open', 'resolved/resolve'],
    );
  });

  test('both down: one incident, its end said once; nothing when it never began', async () => {
    const sent = await checks([
      ['unreachable', 'unreachable'],
      ['unreachable', 'unreachable'],
      ['healthy', 'gateway-down'],
      ['healthy', 'gateway-down'],
    ]);
    assert.deepEqual(
      sent.map((e) => `${e.kind}/${e.phase}`),
      ['both-down/open', 'resolved/resolve'],
    );
  });

  test('escalation, the primary back by itself, a power loss: escalation, resolved, OFFLINE', async () => {
    const cfg = await config();
    let ledger: any = {};
    const sent: any[] = [];
    const feed = (events: any[], s: number) => {
      for (const e of events) {
        const r = decide(ledger, e, t(s), POLICY);
        ledger = r.ledger;
        sent.push(...r.send);
      }
    };
    // Three failed automatic failovers, recorded as hactl records them (foldMove), reach the escalation.
    const failing: any = {
      kind: 'failover',
      cause: 'unreachable',
      by: { auto: true, who: 'hactl --auto on w' },
      steps: [{ op: 'record', serving: 'standby' }],
      rollback: [],
      reason: 'pc1 unreachable',
    };
    const failed: any = { ok: false, outcomes: [], failed: { op: 'start', detail: 'pc2: start timed out' } };
    let state: any = initialState(T0);
    for (let i = 0; i < 3; i++) state = foldMove(cfg, state, failing, failed, T0, T0).state;
    assert.equal(state.failover.attempts, 3);
    const hold = foldHold(
      cfg,
      state,
      { act: false, exitCode: 2, reason: 'x', escalate: { what: 'failover', alert: '' } } as any,
      t(0),
    );
    feed(hold.alerts, 0);
    const back = foldCheck(cfg, hold.state, obs('healthy', 'gateway-down'), t(600));
    feed(back.alerts, 600);
    // A power loss 16 min later: the automatic failover ran through.
    const plan: any = {
      kind: 'failover',
      cause: 'unreachable',
      by: { auto: true, who: 'hactl --auto on w' },
      steps: [],
      rollback: [],
      reason: 'pc1 unreachable',
    };
    const res = { ok: true, outcomes: [] };
    feed(foldMove(cfg, back.state, plan, res, t(1560), t(1570)).alerts, 1570);
    assert.deepEqual(
      sent.map((e) => `${e.kind}/${e.severity}`),
      ['escalation/critical', 'resolved/low', 'failover-done/high'],
    );
    assert.equal(sent[1].facts.lastedSeconds, 600);
    assert.match(sent[2].message, /pc1 OFFLINE/);
  });

  test('the witness view: cut, healed, cut again within 6 h: two openings, one resolved between', async () => {
    const cfg = await config();
    let ledger: any = {};
    const sent: any[] = [];
    const cutObs = {
      primary: { ...ob('unreachable'), seenBy: { role: 'standby', serving: true, detail: 'HTTP 200' } },
      standby: ob('gateway-down'),
    } as any;
    const seq = [cutObs, obs('healthy', 'gateway-down'), obs('healthy', 'gateway-down'), cutObs];
    let state: any = initialState(T0);
    seq.forEach((o, i) => {
      const v = foldWitnessView(cfg, state, o, { level: 'ok', exitCode: 0, line: 'OK' }, t(600 * i));
      state = v.state;
      for (const e of v.alerts) {
        const r = decide(ledger, e, t(600 * i), POLICY);
        ledger = r.ledger;
        sent.push(...r.send);
      }
    });
    assert.deepEqual(
      sent.map((e) => `${e.kind}/${e.facts.step}`),
      ['serving-lost/opened', 'resolved/resolved', 'serving-lost/opened'],
    );
  });

  test('review #2: cut, failover, failback, cut again at once: the second cut-off is sent as opened', async () => {
    const cfg = await config();
    let ledger: any = {};
    const sent: any[] = [];
    const feed = (events: any[], s: number) => {
      for (const e of events) {
        const r = decide(ledger, e, t(s), POLICY);
        ledger = r.ledger;
        sent.push(...r.send);
      }
    };
    const seen = { level: 'ok', exitCode: 0, line: 'OK' } as any;
    const cutObs = {
      primary: { ...ob('unreachable'), seenBy: { role: 'standby', serving: true, detail: 'HTTP 200' } },
      standby: ob('gateway-down'),
    } as any;
    // A move as the failover's runner leaves it: its record step done (src/failover/plan.ts).
    const move = (kind: string, serving: string) =>
      ({
        kind,
        cause: 'x',
        by: { auto: false, who: 'ann@w' },
        steps: [{ op: 'record', serving }],
        rollback: [],
        reason: kind,
      }) as any;
    const done = { ok: true, outcomes: [{ op: 'record', ok: true, detail: 'recorded' }] } as any;
    let state: any = initialState(T0);
    let v = foldWitnessView(cfg, state, cutObs, seen, t(0));
    feed(v.alerts, 0);
    let m = foldMove(cfg, v.state, move('failover', 'standby'), done, t(60), t(70));
    assert.equal(m.state.serving, 'standby');
    feed(m.alerts, 70);
    // The standby serves; the witness still cannot reach pc1 (no longer the serving host).
    const away = { primary: ob('unreachable'), standby: ob('healthy') } as any;
    v = foldWitnessView(cfg, m.state, away, seen, t(600));
    feed(v.alerts, 600);
    m = foldMove(cfg, v.state, move('failback', 'primary'), done, t(1200), t(1210));
    assert.equal(m.state.serving, 'primary');
    feed(m.alerts, 1210);
    state = m.state;
    v = foldWitnessView(cfg, state, cutObs, seen, t(1270));
    feed(v.alerts, 1270);
    assert.deepEqual(
      sent.filter((e) => e.key === 'serving-lost:pc1').map((e) => `${e.phase}/${e.facts.step}`),
      ['open/opened', 'resolve/resolved', 'open/opened'],
    );
  });

  test("the guard's stop failure is a critical incident; a fence that worked is a high notice", () => {
    const o: any = { self: 'pc1', peer: 'pc2', peerAnswers: false, permit: { left: -90 } };
    const plan: any = { contact: 'nobody', action: 'stop', reason: 'lease expired', exitCode: 2 };
    const failed = foldGuard(undefined, o, plan, { ok: false, detail: 'systemctl timed out' }, T0, '[p]');
    assert.equal(failed.alert!.kind, 'guard-stop-failed');
    assert.equal(failed.alert!.severity, 'critical');
    assert.match(failed.alert!.message, /could NOT stop its gateway/);
    const fenced = foldGuard(undefined, o, plan, { ok: true, detail: 'stopped' }, T0, '[p]');
    assert.equal(fenced.alert!.kind, 'guard-fenced');
    assert.equal(fenced.alert!.severity, 'high');
  });
});

describe('dead-man ping (src/alerts/deadman.ts)', () => {
  const d = { onWarning: true, commands: ['check'] };
  const rows: Array<[string, number | undefined, boolean]> = [
    ['check', 0, true],
    ['check', 1, true],
    ['check', 2, false],
    ['check', 3, false],
    ['check', 75, false],
    ['check', 78, false],
    ['check', undefined, false],
    ['failover', 0, false],
  ];
  for (const [cmd, code, want] of rows)
    test(`${cmd} exit ${code} -> ${want}`, () => assert.equal(shouldPing(d, cmd, code), want));
  test('onWarning false: exit 1 does not ping', () =>
    assert.equal(shouldPing({ ...d, onWarning: false }, 'check', 1), false));
});
