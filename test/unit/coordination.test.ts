// Coordination's pure decisions (src/coordination/plan.ts), as tables: which commands need the
// lead, what a run does with the election's answer, which records a run changed, the durations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changedRecords, decideRun, etcdTimes, kindOf } from '../../dist/coordination/plan.js';
import { config } from './helpers.ts';

test('kindOf: acting commands need the lead, check observes, pause/resume write, the rest is local', () => {
  const rows: Array<[string, string | null, string]> = [
    ['failover', 'cluster', 'act'],
    ['failback', 'cluster', 'act'],
    ['sync-memory', 'memory', 'act'],
    ['backup-tier', 'backup-daily', 'act'],
    ['backup-tier', null, 'local'], // --list
    ['check', 'cluster', 'observe'],
    ['pause', null, 'write'],
    ['resume', null, 'write'],
    ['restore', null, 'local'],
    ['validate', null, 'local'],
  ];
  for (const [cmd, lock, kind] of rows) assert.equal(kindOf(cmd, lock), kind, `${cmd} ${lock}`);
});

test('decideRun: only the leader acts; others observe without alerting, or stand back with 75', () => {
  const rows: Array<[string, boolean, unknown]> = [
    ['act', true, { run: 'body', push: 'as-leader', muteAlerts: false }],
    ['act', false, { run: 'not-leader', summary: 'failover: nothing done: witness w1 leads (it acts)' }],
    ['observe', true, { run: 'body', push: 'as-leader', muteAlerts: false }],
    ['observe', false, { run: 'body', push: 'no', muteAlerts: true }],
    ['write', false, { run: 'body', push: 'record-only', muteAlerts: false }],
    ['local', false, { run: 'skip' }],
  ];
  for (const [kind, leader, want] of rows)
    assert.deepEqual(decideRun(kind as any, 'failover', leader, 'w1'), want, `${kind} leader=${leader}`);
});

test('changedRecords: only files that differ from what was pulled, each with the revision read', () => {
  const pulled = new Map([
    ['state.json', { text: 'a', rev: '7' }],
    ['pause.json', { text: null, rev: '0' }],
    ['memory.json', { text: 'm', rev: '9' }],
    ['backup.json', { text: 'b', rev: '3' }],
  ]);
  const now = new Map<string, string | null>([
    ['state.json', 'a2'],
    ['pause.json', 'p'],
    ['memory.json', 'm'],
    ['backup.json', null], // a vanished file is not shared
  ]);
  assert.deepEqual(changedRecords(pulled, now), [
    { name: 'state.json', text: 'a2', rev: '7' },
    { name: 'pause.json', text: 'p', rev: '0' },
  ]);
});

test('etcdTimes: durations with units or bare seconds, whole-second leases, bounded', () => {
  assert.deepEqual(etcdTimes({ leaseTTL: '15s', timeout: 5 }), { ttl: 15, timeoutMs: 5000 });
  assert.deepEqual(etcdTimes({ leaseTTL: '1500ms', timeout: '500ms' }), { ttl: 2, timeoutMs: 500 });
  assert.deepEqual(etcdTimes({ leaseTTL: '1m', timeout: '1m' }), { ttl: 60, timeoutMs: 60000 });
  const bad = etcdTimes({ leaseTTL: '1h', timeout: '0s' });
  assert.ok('problems' in bad);
  assert.deepEqual(
    bad.problems.map((p: string) => p.split(' ')[0]),
    ['/coordination/etcd/leaseTTL', '/coordination/etcd/timeout'],
  );
});

test('the section is optional, and loads with its defaults when given', async () => {
  assert.equal((await config()).coordination, undefined);
  const c = await config({ coordination: { etcd: { endpoints: ['http://192.0.2.1:2379'] } } });
  assert.deepEqual(c.coordination.etcd, { endpoints: ['http://192.0.2.1:2379'], leaseTTL: 15, timeout: 5 });
  await assert.rejects(config({ coordination: { etcd: { endpoints: ['http://192.0.2.1:2379'], cert: 'c.pem' } } }));
  await assert.rejects(config({ coordination: { etcd: { endpoints: [] } } }));
});

// The leader's watchdog (issue 21, item 9): how long the lease surely lives, on the monotonic clock.
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { keepaliveOn } from '../../dist/coordination/etcd.js';
import { keepaliveAnswered, leaseGranted, renewalTimes } from '../../dist/coordination/plan.js';

test('watchdog: a reply counts from the send time of its request, however late it comes', () => {
  // ttl 3 s granted at 0; a keepalive sent at 1000 answered (at 2500, say) with 3 s left.
  assert.equal(keepaliveAnswered(leaseGranted(0, 3), 1000, 3).validUntil, 4000);
});

test("watchdog: the TTL is the reply's own, not the configured one; a reply of 0 extends nothing", () => {
  const granted = leaseGranted(0, 10);
  // etcd says 1 s is left: the grant's own 10 s still stand (a reply never shortens what is known).
  assert.equal(keepaliveAnswered(granted, 100, 1).validUntil, 10_000);
  assert.equal(keepaliveAnswered(granted, 9500, 1).validUntil, 10_500);
  assert.equal(keepaliveAnswered(granted, 9500, 0).validUntil, 10_000);
});

test('renewal: a round every third of the TTL, and two more tries fit before the watchdog stops the leader', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 60_000 }), (ttl, timeoutMs) => {
      const { everyMs, tryMs } = renewalTimes(ttl, timeoutMs);
      assert.equal(everyMs, (ttl * 1000) / 3);
      assert.ok(tryMs > 0 && tryMs <= Math.max(200, timeoutMs / 3));
      // the watchdog gives up 250 ms before the lease could lapse (etcd.ts watchdog)
      assert.ok(everyMs + 2 * tryMs <= ttl * 1000 - 250, `ttl ${ttl} s, timeout ${timeoutMs} ms`);
    }),
  );
});

/** A member whose keepalive stream answers with `ttl` (or, undefined, never); what it was sent. */
function member(ttl?: string) {
  const seen = { written: [] as unknown[], cancelled: false };
  const lease = {
    async leaseKeepAlive() {
      const stream: any = new EventEmitter();
      stream.write = (m: unknown) => {
        seen.written.push(m);
        if (ttl !== undefined) setImmediate(() => stream.emit('data', { ID: '7', TTL: ttl }));
      };
      stream.cancel = () => (seen.cancelled = true);
      return stream;
    },
  };
  return { lease, seen };
}

test('keepaliveOn: one keepalive; the answer is its TTL, and the stream is closed', async () => {
  const m = member('4');
  assert.equal(await keepaliveOn(m.lease as any, '7', 300), 4);
  assert.deepEqual(m.seen.written, [{ ID: '7' }]);
  assert.equal(m.seen.cancelled, true);
});

test('keepaliveOn: a stream that opens only after the try ended is cancelled as it opens', async () => {
  const m = member(undefined);
  let open!: () => void;
  const late = { leaseKeepAlive: () => new Promise((r) => (open = () => r(m.lease.leaseKeepAlive()))) };
  await assert.rejects(keepaliveOn(late as any, '7', 20), /no answer within/);
  open();
  await new Promise((r) => setImmediate(r));
  assert.equal(m.seen.cancelled, true);
});

test('keepaliveOn: a member that never answers fails the try by itself (the next round goes on)', async () => {
  const m = member(undefined);
  await assert.rejects(keepaliveOn(m.lease as any, '7', 50), /etcd: keepalive: no answer within/);
  assert.equal(m.seen.cancelled, true);
});

// Issue 21: a leader records each grant in etcd before it sends it; the next leader dates the ones
// no shared state followed into its own journal: now + the grant's landing deadline.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { foldPending } from '../../dist/coordination/store.js';
import { loadValidator } from '../../dist/validators.js';
import { initialState } from '../../dist/core/model.js';
import { grantLand, startAllowed, withPending } from '../../dist/fencing/rule.js';

test('foldPending: an earlier leader’s recorded grant is dated now + its landing time, in its journal', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'hactl-pending-'));
  try {
    const thresholds = { commandTimeout: 20, connectTimeout: 10 };
    const cfg = { stateDir, guard: { lease: 45 }, thresholds } as any;
    const here = { boot: 'me', uptime: 1000 };
    const found = new Map([
      ['primary', JSON.stringify({ token: 7, lease: 45, witness: 'w2' })],
      ['standby', 'not json'],
      ['elsewhere', '{}'],
    ]);
    const got = foldPending(cfg, found, here);
    assert.deepEqual(got, [
      { role: 'primary', token: 7, lease: 45 },
      { role: 'standby', token: 0, lease: 45 },
    ]);
    const j = JSON.parse(readFileSync(join(stateDir, 'permits.json'), 'utf8'));
    assert.deepEqual(j.primary, { token: 7, lease: 45, by: 'me', at: 1000 + grantLand(thresholds), ahead: 31 });
    // The grant goes into state.json as it is: its schema takes it (it once refused `ahead`, and every
    // run set the state aside as corrupt and rebuilt it).
    const validState = await loadValidator('state');
    const state = {
      ...initialState(new Date(0)),
      permits: { primary: j.primary, standby: { ...j.primary, seen: { w: 1 } } },
    };
    assert.equal(validState(state), true, JSON.stringify(validState.errors));
    // Another witness that first sees it (shared with the state) a moment later adds what may still land.
    const seen = { ...j.primary, seen: { other: 50 } };
    const soon = 50 + 31 + 45 * 1.01;
    assert.equal(startAllowed(seen, { boot: 'other', uptime: soon - 0.5 }, false).ok, false);
    assert.equal(startAllowed(seen, { boot: 'other', uptime: soon + 0.5 }, false).ok, true);
    // Its wait: the whole lease from the latest landing, by this witness's clock; not before.
    const end = 1000 + grantLand(thresholds) + 45 * 1.01;
    assert.equal(startAllowed(j.primary, { boot: 'me', uptime: end - 0.5 }, false).ok, false);
    assert.equal(startAllowed(j.primary, { boot: 'me', uptime: end + 0.5 }, false).ok, true);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('withPending: the later ending of the record and the pending grant wins', () => {
  const here = { boot: 'me', uptime: 500 };
  const recorded = { token: 3, lease: 45, by: 'me', at: 490 };
  assert.deepEqual(withPending({ primary: recorded }, [{ role: 'primary', token: 4, lease: 45 }], 31, here).primary, {
    token: 4,
    lease: 45,
    by: 'me',
    at: 531,
    ahead: 31,
  });
  const later = { ...recorded, at: 600 }; // a pending attempt of this witness's own, later still
  assert.equal(withPending({ primary: later }, [{ role: 'primary', token: 4, lease: 45 }], 31, here).primary, later);
});

// Issue 21 item 10: where a new leader takes over an earlier leader's unfinished move.
import { changedHosts, parseIntent, resumeAt, resumeSteps } from '../../dist/coordination/plan.js';

test('resumeAt: the same kind of move goes on from the recorded step; anything else from the start', () => {
  const plan = {
    kind: 'failover',
    steps: [
      { op: 'preflight', role: 'standby' },
      { op: 'sync-last-chance', from: 'primary', to: 'standby' },
      { op: 'fence', role: 'primary' },
      { op: 'start', role: 'standby' },
      { op: 'verify', role: 'standby' },
    ],
  };
  const at = (step: object, kind = 'failover') =>
    resumeAt({ command: 'failover', witness: 'w1', since: 'x', kind, step } as any, plan);
  assert.equal(at({ i: 3, op: 'start', role: 'standby' }), 3, 'its launch is not redone from the start');
  assert.equal(at({ i: 2, op: 'fence', role: 'primary' }), 2);
  assert.equal(at({ i: 3, op: 'start', role: 'primary' }), 0, 'another side: from the start');
  assert.equal(at({ i: 3, op: 'start', role: 'standby' }, 'failback'), 0, 'another kind: from the start');
  assert.equal(resumeAt(null, plan), 0);
  // The steps run: the confirming ones before it (preflight, fence), then from the recorded one.
  const r = resumeSteps(
    { command: 'failover', witness: 'w1', since: 'x', kind: 'failover', step: { i: 3, op: 'start', role: 'standby' } },
    plan,
  );
  assert.deepEqual(
    r.steps.map((x: any) => x.op),
    ['preflight', 'fence', 'start', 'verify'],
  );
  assert.deepEqual(r.index, [0, 2, 3, 4]);
  assert.equal(resumeAt({ command: 'failover', witness: 'w1', since: 'x' }, plan), 0, 'no step on record');
});

test('parseIntent, changedHosts: a leader past its preflight may have changed a host; an old record may have', () => {
  const i = parseIntent(
    '{"command":"failover","witness":"w1","since":"t","kind":"failover","step":{"i":0,"op":"preflight"}}',
  );
  assert.equal(changedHosts(i!), false, 'a preflight changes nothing: the next leader runs afresh');
  assert.equal(changedHosts(parseIntent('{"command":"failover","witness":"w1","since":"t"}')!), true);
  assert.equal(changedHosts(parseIntent('not json')!), true, 'unreadable: as if it changed a host');
  assert.equal(parseIntent(null), null);
  const s = parseIntent('{"command":"failover","witness":"w1","since":"t","step":{"i":3,"op":"start"},"token":9}');
  assert.equal(s!.token, 9);
});

test('startingOn: the side an unfinished move was starting, whose permit a leading check leaves alone', async () => {
  const { startingOn } = await import('../../dist/coordination/plan.js');
  const at = (op: string, role?: string) =>
    startingOn({ command: 'failover', witness: 'w1', since: 't', step: { i: 3, op, role } });
  assert.equal(at('start', 'standby'), 'standby');
  assert.equal(at('verify', 'standby'), 'standby');
  assert.equal(at('fence', 'primary'), undefined, 'not started yet: the idle host is revoked as ever');
  assert.equal(startingOn(undefined), undefined);
});
