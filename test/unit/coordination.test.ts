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
// The keepalive events are fed to trackLease as etcd3's Lease emits them, with a fake clock.
import { EventEmitter } from 'node:events';
import { trackLease } from '../../dist/coordination/etcd.js';
import { leaseGranted } from '../../dist/coordination/plan.js';

/** A lease granted at t=0 with `ttl` s; `events` are [time ms, event, reply TTL] in order. */
function lifeAfter(ttl: number, events: Array<[number, string, number?]>): number {
  const lease = new EventEmitter();
  let t = 0;
  let life = leaseGranted(0, ttl);
  trackLease(
    lease as any,
    (f) => (life = f(life)),
    () => t,
  );
  for (const [at, ev, replyTtl] of events) {
    t = at;
    lease.emit(ev, ev === 'keepaliveSucceeded' ? { ID: '1', TTL: String(replyTtl) } : undefined);
  }
  return life.validUntil;
}

test('watchdog: a reply counts from the send time of the request it answers, not the latest', () => {
  // ttl 3 s, renewals every second. The reply to the request sent at 1000 comes late, at 2500,
  // after the next request went out at 2000: the lease lives until 1000 + 3000, not 2000 + 3000.
  const until = lifeAfter(3, [
    [0, 'keepaliveEstablished'],
    [0, 'keepaliveFired'],
    [50, 'keepaliveSucceeded', 3],
    [1000, 'keepaliveFired'],
    [2000, 'keepaliveFired'],
    [2500, 'keepaliveSucceeded', 3],
  ]);
  assert.equal(until, 4000);
});

test("watchdog: the TTL is the reply's own, not the configured one", () => {
  // etcd says 1 s is left (a lease whose TTL the server holds shorter than asked).
  assert.equal(
    lifeAfter(10, [
      [0, 'keepaliveEstablished'],
      [100, 'keepaliveFired'],
      [200, 'keepaliveSucceeded', 1],
    ]),
    10_000, // the grant's own 10 s still stand: a reply never shortens what is known
  );
  assert.equal(
    lifeAfter(10, [
      [0, 'keepaliveEstablished'],
      [9500, 'keepaliveFired'],
      [9600, 'keepaliveSucceeded', 1],
    ]),
    10_500,
  );
});

test('watchdog: requests lost with a broken stream are never paired with a new stream’s replies', () => {
  // Requests at 1000 and 2000 on a stream that broke unanswered; a new stream at 5000, request at
  // 5000 answered at 5100: the lease lives until 5000 + 3000.
  assert.equal(
    lifeAfter(3, [
      [0, 'keepaliveEstablished'],
      [1000, 'keepaliveFired'],
      [2000, 'keepaliveFired'],
      [5000, 'keepaliveEstablished'],
      [5000, 'keepaliveFired'],
      [5100, 'keepaliveSucceeded', 3],
    ]),
    8000,
  );
  // A reply with nothing pending extends nothing.
  assert.equal(lifeAfter(3, [[100, 'keepaliveSucceeded', 3]]), 3000);
});

// Issue 21: a leader records each grant in etcd before it sends it; the next leader dates the ones
// no shared state followed into its own journal: now + the grant's landing deadline.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { foldPending } from '../../dist/coordination/store.js';
import { grantLand, startAllowed, withPending } from '../../dist/fencing/rule.js';

test('foldPending: an earlier leader’s recorded grant is dated now + its landing deadline, in the journal', () => {
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
