// Snapshot names and retention, case by case.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSnapshot, planRetention, snapshotName, snapshots } from '../../dist/backup/retention.js';

const hours = (start: string, n: number, step = 1) => Array.from({ length: n }, (_, i) => snapshotName(new Date(new Date(start).getTime() + i * step * 3600e3)));

describe('snapshot names', () => {
  test('round trip, and only complete snapshots count', () => {
    const n = snapshotName(new Date('2026-11-22T14:05:09.123Z'));
    assert.equal(n, '2026-11-22T140509Z');
    assert.equal(parseSnapshot(n)!.toISOString(), '2026-11-22T14:05:09.000Z');
    assert.deepEqual(snapshots(['latest', '.incomplete-2026-11-22T150000Z', n, '.rejected-x', '2026-11-21T000000Z']), ['2026-11-21T000000Z', n]);
    assert.equal(parseSnapshot('2026-13-40T999999Z'), null);
  });
});

describe('planRetention', () => {
  test('hourly keeps the newest N hours', () => {
    const all = hours('2026-11-22T00:00:00Z', 30);
    const { keep, prune } = planRetention(all, { hourly: 24, daily: 0, weekly: 0 });
    assert.deepEqual(keep, all.slice(6));
    assert.deepEqual(prune, all.slice(0, 6));
  });
  test('several snapshots in one hour: only the newest of that hour counts', () => {
    const { keep } = planRetention(['2026-11-22T100000Z', '2026-11-22T103000Z', '2026-11-22T110000Z'], { hourly: 2, daily: 0, weekly: 0 });
    assert.deepEqual(keep, ['2026-11-22T103000Z', '2026-11-22T110000Z']);
  });
  test('like borg prune: N hours means the N newest hours that have a snapshot', () => {
    const all = hours('2026-10-01T12:00:00Z', 30, 24);
    assert.equal(planRetention(all, { hourly: 24, daily: 0, weekly: 0 }).keep.length, 24);
  });
  test('daily and weekly reach back past the newest days', () => {
    const all = hours('2026-10-01T12:00:00Z', 60, 24); // one a day at noon for 60 days
    const { keep } = planRetention(all, { hourly: 0, daily: 7, weekly: 4 });
    // 7 newest days, plus the newest of 4 ISO weeks (3 of them older than the dailies).
    assert.equal(keep.length, 7 + 3);
    assert.equal(keep.at(-1), all.at(-1));
    for (const k of keep.slice(0, 3)) assert.equal(new Date(parseSnapshot(k)!).getUTCDay(), 0, `${k} is the newest of its ISO week (a Sunday)`);
  });
  test('zero everywhere still keeps the latest; nothing else', () => {
    const all = hours('2026-11-22T00:00:00Z', 5);
    assert.deepEqual(planRetention(all, { hourly: 0, daily: 0, weekly: 0 }).keep, [all.at(-1)]);
  });
  test('nothing to prune in an empty folder', () => {
    assert.deepEqual(planRetention([], { hourly: 24, daily: 7, weekly: 4 }), { keep: [], prune: [] });
  });
});
