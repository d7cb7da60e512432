// memory.json after a sync (issue 25): a record that only moves its times (a sync that found nothing to
// do, as the one before) is written without the directory's fsync; any other change is written durably.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextRecord, onlyTimesMoved, type SyncOutcome } from '../../dist/memory/fold.js';

const noChange: SyncOutcome = {
  kind: 'ok',
  mode: 'push',
  files: 10_000,
  changed: 0,
  deleted: 0,
  bytes: 0,
  pushed: false,
  line: 'no change on a; b up to date (10000 files)',
};
const t = (m: number) => new Date(Date.UTC(2026, 11, 7, 6, m));

test('a no-change sync after a no-change sync only moves the times', () => {
  const first = nextRecord(undefined, noChange, t(0)).rec;
  const second = nextRecord(first, noChange, t(1)).rec;
  assert.notEqual(second.lastRunAt, first.lastRunAt);
  assert.equal(onlyTimesMoved(first, second), true);
});

test('anything else that changes is not only times: the record is written durably', () => {
  const first = nextRecord(undefined, noChange, t(0)).rec;
  assert.equal(onlyTimesMoved(undefined, first), false, 'no record before');
  const cases: Array<[string, SyncOutcome]> = [
    ['files copied', { ...noChange, changed: 3, line: '10000 files: 3 copied' }],
    ['a push', { ...noChange, pushed: true }],
    ['a failure', { kind: 'failed', mode: 'push', line: 'rsync failed', alert: 'memory sync failed' }],
    ['another file count', { ...noChange, files: 9_999, line: 'no change on a; b up to date (9999 files)' }],
    ['another mode', { ...noChange, mode: 'pull-standby' }],
  ];
  for (const [what, o] of cases) assert.equal(onlyTimesMoved(first, nextRecord(first, o, t(1)).rec), false, what);
  // Back to good after a failure: the problem is cleared, a change that must survive a power loss.
  const failed = nextRecord(first, cases[2]![1], t(1)).rec;
  assert.equal(onlyTimesMoved(failed, nextRecord(failed, noChange, t(2)).rec), false, 'recovery');
});

test('a run that ended at its change scan, after one that did too, only moves the times', () => {
  const first = nextRecord(undefined, { ...noChange, unchanged: true }, t(0)).rec;
  const second = nextRecord(first, { ...noChange, unchanged: true }, t(1)).rec;
  assert.equal(onlyTimesMoved(first, second), true);
});
