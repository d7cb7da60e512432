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
