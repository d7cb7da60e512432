// Snapshot names and retention, case by case.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSnapshot, planRetention, snapshotName, snapshots } from '../../dist/backup/retention.js';

const hours = (start: string, n: number, step = 1) =>
  Array.from({ length: n }, (_, i) => snapshotName(new Date(new Date(start).getTime() + i * step * 3600e3)));

describe('snapshot names', () => {
  test('round trip, and only complete snapshots count', () => {
    const n = snapshotName(new Date('2026-11-22T14:05:09.123Z'));
    assert.equal(n, '2026-11-22T140509Z');
    assert.equal(parseSnapshot(n)!.toISOString(), '2026-11-22T14:05:09.000Z');
    assert.deepEqual(snapshots(['latest', '.incomplete-2026-11-22T150000Z', n, '.rejected-x', '2026-11-21T000000Z']), [
      '2026-11-21T000000Z',
      n,
    ]);
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
    const { keep } = planRetention(['2026-11-22T100000Z', '2026-11-22T103000Z', '2026-11-22T110000Z'], {
      hourly: 2,
      daily: 0,
      weekly: 0,
    });
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
    for (const k of keep.slice(0, 3))
      assert.equal(new Date(parseSnapshot(k)!).getUTCDay(), 0, `${k} is the newest of its ISO week (a Sunday)`);
  });
  test('zero everywhere still keeps the latest; nothing else', () => {
    const all = hours('2026-11-22T00:00:00Z', 5);
    assert.deepEqual(planRetention(all, { hourly: 0, daily: 0, weekly: 0 }).keep, [all.at(-1)]);
  });
  test('a second snapshot within the same hour prunes nothing it must keep (issue 24 #8)', () => {
    const r = { hourly: 24, daily: 7, weekly: 4 };
    const two = ['2026-11-22T100000Z', '2026-11-22T103000Z'];
    assert.deepEqual(planRetention(two, r, two[1]).prune, [], 'the hour is still running: both stay');
    // The next hour's run: hour 10 is over, its newest (10:30) stays, 10:00 goes.
    assert.deepEqual(planRetention([...two, '2026-11-22T110000Z'], r, '2026-11-22T110000Z').prune, [two[0]]);
    // Days only: the day still running keeps its snapshots; the next day keeps only the newest of it.
    const d = { hourly: 0, daily: 7, weekly: 0 };
    assert.deepEqual(planRetention(two, d, two[1]).prune, []);
    assert.deepEqual(planRetention([...two, '2026-11-23T000000Z'], d).prune, [two[0]]);
  });
  test('the snapshot just taken is never pruned, whatever its name sorts as (a clock stepped back)', () => {
    const names = ['2026-11-22T090000Z', '2026-11-22T120000Z', '2026-11-22T150000Z'];
    const { keep } = planRetention(names, { hourly: 1, daily: 0, weekly: 0 }, '2026-11-22T120000Z');
    assert.ok(keep.includes('2026-11-22T120000Z'), keep.join(' '));
    assert.ok(keep.includes('2026-11-22T150000Z'));
  });
  test('a future-dated snapshot (a clock that ran ahead) does not end the real hour: nothing pruned', () => {
    const r = { hourly: 24, daily: 7, weekly: 4 };
    const ahead = '2026-11-22T150000Z';
    const first = planRetention([ahead, '2026-11-22T141000Z'], r, '2026-11-22T141000Z');
    assert.deepEqual(first.prune, []);
    const second = planRetention([ahead, '2026-11-22T141000Z', '2026-11-22T142000Z'], r, '2026-11-22T142000Z');
    assert.deepEqual(second.prune, [], 'the hour of the one just taken is still running');
  });
  test('property: never the newest, the one just taken or its period, nor the newest of the last N periods', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 24 * 60 * 30 }), { minLength: 1, maxLength: 40 }),
        fc.record({ hourly: fc.nat(30), daily: fc.nat(10), weekly: fc.nat(5) }),
        fc.nat(),
        (mins, r, pick) => {
          const names = snapshots(mins.map((m) => snapshotName(new Date(Date.UTC(2026, 10, 1) + m * 60e3))));
          const taken = names[pick % names.length]!;
          const { keep, prune } = planRetention(names, r, taken);
          assert.deepEqual([...keep, ...prune].sort(), names);
          assert.ok(keep.includes(taken) && keep.includes(names.at(-1)!));
          // The period of the one just taken is still running: all of it stays (finest level kept).
          const len = r.hourly > 0 ? 13 : r.daily > 0 ? 10 : 0;
          if (len) for (const s of names) if (s.slice(0, len) === taken.slice(0, len)) assert.ok(keep.includes(s), s);
          for (const [n, len] of [
            [r.hourly, 13],
            [r.daily, 10],
          ] as const) {
            const newestOf = new Map<string, string>();
            for (const s of names) newestOf.set(s.slice(0, len), s); // oldest first: the last one wins
            for (const s of [...newestOf.values()].slice(-n || names.length + 1)) assert.ok(keep.includes(s), s);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
  test('nothing to prune in an empty folder', () => {
    assert.deepEqual(planRetention([], { hourly: 24, daily: 7, weekly: 4 }), { keep: [], prune: [] });
  });
});

// ---- plan and fold, as tables: observation in, decision out ----
import * as plan from '../../dist/backup/plan.js';
import { foldTier, sameProblem } from '../../dist/backup/fold.js';
import { telegramText } from '../../dist/alerts/render.js';
import { planRestoreRequest } from '../../dist/backup/restore-plan.js';
import { parseListing } from '../../dist/backup/list.js';

const tier = (over: Record<string, unknown> = {}) =>
  ({
    name: 't1',
    source: 'a:data',
    destination: 'b:snaps',
    filters: [],
    interval: 60,
    retention: { hourly: 24, daily: 0, weekly: 0 },
    minFreeMB: 100,
    deepVerifyEvery: 0,
    sqlite: [],
    ...over,
  }) as any;
const host = (name: string) => ({ name }) as any;
const R = (over: Record<string, unknown> = {}) =>
  ({ tier: tier(over), src: { host: host('a'), path: 'data' }, dst: { host: host('b'), path: 'snaps' } }) as any;
const NOW = new Date('2026-11-22T12:00:00Z');
const minsAgo = (m: number) => new Date(NOW.getTime() - m * 60000).toISOString();

describe('planUpstream', () => {
  const rows: Array<[string, any, any, RegExp | null]> = [
    ['no upstream tier', undefined, undefined, null],
    [
      'never ran',
      tier({ name: 'up' }),
      undefined,
      /upstream tier up has no fresh snapshot \(none recorded; every 60 min\)/,
    ],
    ['fresh: within twice the interval', tier({ name: 'up' }), { lastOkAt: minsAgo(120) }, null],
    ['stale', tier({ name: 'up' }), { lastOkAt: minsAgo(300) }, /last 300 min ago; every 60 min/],
    ['ran but never ok', tier({ name: 'up' }), { lastOkAt: null }, /none recorded/],
  ];
  for (const [what, up, rec, want] of rows) {
    test(what, () => {
      const got = plan.planUpstream(up, rec, NOW);
      if (want) assert.match(got!, want);
      else assert.equal(got, null);
    });
  }
});

describe('planSource and planFreeSpace', () => {
  const rows: Array<[string, () => any, string | null, RegExp | null]> = [
    ['source ok', () => plan.planSource('ok', R()), null, null],
    [
      'source missing',
      () => plan.planSource('missing', R()),
      'refused',
      /^REFUSED: source a:data is missing; no snapshot made, nothing pruned$/,
    ],
    ['source empty', () => plan.planSource('empty', R()), 'refused', /^REFUSED: source a:data is empty/],
    ['free space above the floor', () => plan.planFreeSpace(200 * 1024, R()), null, null],
    ['free space exactly the floor', () => plan.planFreeSpace(100 * 1024, R()), null, null],
    [
      'free space below the floor',
      () => plan.planFreeSpace(99 * 1024 + 1023, R()),
      'refused',
      /^REFUSED: 99 MB free at b:snaps, below the floor of 100 MB$/,
    ],
  ];
  for (const [what, run, result, line] of rows) {
    test(what, () => {
      const o = run();
      if (!result) return assert.equal(o, null);
      assert.equal(o.result, result);
      assert.match(o.line, line!);
      assert.match(o.alert, /^backup tier t1 refused: /);
    });
  }
});

describe('planSnapshot', () => {
  const rows: Array<[string, string[], string | null, { name: string; prev: string | null; leftovers: string[] }]> = [
    ['first snapshot', [], null, { name: '2026-11-22T120000Z', prev: null, leftovers: [] }],
    [
      'links to what latest names',
      ['2026-11-22T100000Z', '2026-11-22T110000Z', 'latest'],
      '2026-11-22T100000Z',
      { name: '2026-11-22T120000Z', prev: '2026-11-22T100000Z', leftovers: [] },
    ],
    [
      'no latest pointer: the newest snapshot',
      ['2026-11-22T100000Z', '2026-11-22T110000Z'],
      null,
      { name: '2026-11-22T120000Z', prev: '2026-11-22T110000Z', leftovers: [] },
    ],
    [
      'this second taken: the next one',
      ['2026-11-22T120000Z'],
      '2026-11-22T120000Z',
      { name: '2026-11-22T120001Z', prev: '2026-11-22T120000Z', leftovers: [] },
    ],
    [
      'leftovers of a killed run are named',
      ['.incomplete-2026-11-22T110000Z', '.rejected-x'],
      null,
      { name: '2026-11-22T120000Z', prev: null, leftovers: ['.incomplete-2026-11-22T110000Z'] },
    ],
  ];
  for (const [what, entries, latest, want] of rows) {
    test(what, () => {
      const p = plan.planSnapshot(NOW, { entries, latest });
      assert.deepEqual({ name: p.name, prev: p.prev, leftovers: p.leftovers }, want);
    });
  }
  test('a dry run says what it would do, and prunes nothing', () => {
    const p = plan.planSnapshot(NOW, { entries: ['2026-11-22T100000Z'], latest: null });
    const o = plan.planDryRun(R({ retention: { hourly: 1, daily: 0, weekly: 0 } }), p, []);
    assert.equal(
      o.line,
      '--dry-run: would snapshot a:data to b:snaps/2026-11-22T120000Z (unchanged files hard-linked to ' +
        '2026-11-22T100000Z); would prune 2026-11-22T100000Z',
    );
  });
});

describe('rsyncStats: what the source held, counted by the one rule', () => {
  const rows: Array<[string, string, { files?: number; size?: number }]> = [
    [
      'regular files and folders',
      'Number of files: 4 (reg: 3, dir: 1)\nTotal file size: 1,234 bytes\n',
      { files: 3, size: 1234 },
    ],
    [
      'a symlink and a FIFO count as entries, by their size',
      'Number of files: 5 (reg: 1, dir: 1, link: 2, special: 1)\nTotal file size: 15 bytes\n',
      { files: 4, size: 15 },
    ],
    ['nothing at all', 'Number of files: 0\nTotal file size: 0 bytes\n', { files: 0, size: 0 }],
    ['no stats (rsync failed early)', 'rsync: connection unexpectedly closed\n', { files: undefined, size: undefined }],
  ];
  for (const [what, out, want] of rows) test(what, () => assert.deepEqual(plan.rsyncStats(out), want));
});

describe('planCommit: the count check, the name, retention', () => {
  const ret = { hourly: 1, daily: 0, weekly: 0 };
  const N = '2026-11-22T120000Z';
  const rows: Array<[string, any, any, string[], any]> = [
    [
      'counts match: into place, older pruned',
      { files: 3, size: 10 },
      { files: 3, bytes: 10 },
      ['2026-11-22T100000Z', 'latest', `.incomplete-${N}`],
      { commit: true, name: N, prune: ['2026-11-22T100000Z'] },
    ],
    [
      'a file short: rejected',
      { files: 3, size: 10 },
      { files: 2, bytes: 10 },
      [],
      {
        commit: false,
        rejectAs: `.rejected-${N}`,
        why: 'the snapshot holds 2 files / 10 bytes, the source had 3 / 10',
      },
    ],
    [
      'bytes differ: rejected',
      { files: 3, size: 10 },
      { files: 3, bytes: 9 },
      [],
      { commit: false, rejectAs: `.rejected-${N}`, why: 'the snapshot holds 3 files / 9 bytes, the source had 3 / 10' },
    ],
    [
      'files vanished during the copy: bytes unknown, files checked',
      plan.expectedTree({ files: 5, size: 50, vanished: 2 }),
      { files: 3, bytes: 7 },
      [],
      { commit: true, name: N, prune: [] },
    ],
    ['no stats: nothing to check against', {}, { files: 3, bytes: 7 }, [], { commit: true, name: N, prune: [] }],
    [
      'the name was taken meanwhile: the next second; the hour still runs, so nothing is pruned',
      { files: 1, size: 1 },
      { files: 1, bytes: 1 },
      [N],
      { commit: true, name: '2026-11-22T120001Z', prune: [] },
    ],
  ];
  for (const [what, expect, counted, entries, want] of rows) {
    test(what, () => assert.deepEqual(plan.planCommit(N, expect, counted, entries, ret), want));
  }
});

describe('deep verify and the summary line', () => {
  const rows: Array<[number, number, boolean]> = [
    [0, 0, false],
    [0, 1, true],
    [0, 3, false],
    [2, 3, true],
    [5, 3, true],
    [6, 3, false],
  ];
  for (const [runs, every, want] of rows)
    test(`runs before ${runs}, every ${every}: ${want}`, () => assert.equal(plan.planDeepVerify(runs, every), want));
  test('a clean verify says nothing; a difference and a failure are warnings', () => {
    assert.equal(plan.deepVerifyWarning('S', { ok: true, changed: [], detail: 'ok' }), null);
    assert.match(
      plan.deepVerifyWarning('S', { ok: true, changed: ['a', 'b', 'c', 'd'], detail: 'ok' })!,
      /^deep verify of S: 4 file\(s\) differ .*e\.g\. a, b, c\)/,
    );
    assert.equal(
      plan.deepVerifyWarning('S', { ok: false, changed: [], detail: 'rsync exit 23' }),
      'deep verify of S: rsync exit 23',
    );
  });
  test('warnings turn a made snapshot into a warning', () => {
    const s = { name: 'S', prev: 'P', count: { files: 2, bytes: 9 }, sent: 100, pruned: ['X'] };
    assert.equal(
      plan.snapshotMade(s, []).line,
      'S: 2 files, 9 bytes (100 bytes moved), unchanged files linked to P; pruned 1',
    );
    const w = plan.snapshotMade(s, ['upstream stale']);
    assert.equal(w.result, 'warning');
    assert.match(w.line, /^WARNING: S: .*; upstream stale$/);
  });
});

describe('overdue', () => {
  const rows: Array<[string, any, RegExp | null]> = [
    ['never ran: not overdue', {}, null],
    ['fresh', { t1: { lastOkAt: minsAgo(100), lastResult: 'ok', runs: 1 } }, null],
    [
      'stale',
      { t1: { lastOkAt: minsAgo(300), lastResult: 'failed', detail: 'FAILED: x', runs: 1 } },
      /^backup tier t1 overdue: last good snapshot 300 min ago \(every 60 min; last run failed: FAILED: x\)$/,
    ],
    ['never good', { t1: { lastOkAt: null, lastResult: 'refused', runs: 0 } }, /no good snapshot yet/],
  ];
  for (const [what, rec, want] of rows) {
    test(what, () => {
      const got = plan.overdue([tier()], rec, NOW);
      if (want) assert.match(got[0]!, want);
      else assert.deepEqual(got, []);
    });
  }
});

describe('foldTier: the record and the alert, once per problem', () => {
  const at = { tier: 't1', prefix: '[hactl]', now: NOW, ms: 42 };
  const ok = { result: 'ok', line: 'S: 1 files', snapshot: 'S', files: 1, bytes: 2, sent: 3 } as const;
  const refused = (mb: number) =>
    ({
      result: 'refused',
      line: `REFUSED: ${mb} MB free`,
      alert: `backup tier t1 refused: only ${mb} MB free`,
    }) as const;
  const prevBad = {
    lastRunAt: minsAgo(60),
    lastOkAt: minsAgo(120),
    lastResult: 'refused',
    runs: 4,
    problem: 'backup tier t1 refused: only 5 MB free',
    snapshot: 'P',
  } as const;
  const rows: Array<[string, any, any, string | null]> = [
    ['first run ok: no alert', undefined, ok, null],
    ['a new problem is alerted', undefined, refused(5), '[hactl] 🟡 backup tier t1 refused: only 5 MB free'],
    ['the same problem with other numbers: not again', prevBad, refused(4), null],
    [
      'a different problem: alerted',
      prevBad,
      { result: 'failed', line: 'FAILED: x', alert: 'backup tier t1 failed: x' },
      '[hactl] 🟡 backup tier t1 failed: x',
    ],
    ['the end of a problem is alerted', prevBad, ok, '[hactl] ✅ backup tier t1 OK again: S: 1 files'],
    [
      'a warning is a problem',
      undefined,
      { ...ok, result: 'warning', warnings: ['w 1'] },
      '[hactl] 🟡 backup tier t1: w 1',
    ],
  ];
  // A typed event (backup-problem, or the end of backup:t1), as Telegram shows it.
  const shown = (e: any) => (e ? telegramText(e, '[hactl]') : null);
  for (const [what, prev, o, alert] of rows) test(what, () => assert.equal(shown(foldTier(prev, o, at).alert), alert));
  test('a failure keeps the last good time, the snapshot, and the run count', () => {
    const { record } = foldTier(prevBad as any, refused(4), at);
    assert.deepEqual(record, {
      lastRunAt: NOW.toISOString(),
      lastOkAt: prevBad.lastOkAt,
      lastResult: 'refused',
      detail: 'REFUSED: 4 MB free',
      snapshot: 'P',
      ms: 42,
      runs: 4,
      problem: 'backup tier t1 refused: only 4 MB free',
    });
  });
  test('a good run counts, with its figures', () => {
    const { record } = foldTier(prevBad as any, ok, at);
    assert.deepEqual(record, {
      lastRunAt: NOW.toISOString(),
      lastOkAt: NOW.toISOString(),
      lastResult: 'ok',
      detail: 'S: 1 files',
      snapshot: 'S',
      files: 1,
      bytes: 2,
      sent: 3,
      ms: 42,
      runs: 5,
      problem: null,
    });
  });
  test('sameProblem ignores numbers only', () => {
    assert.equal(sameProblem('a 1 b', 'a 22 b'), true);
    assert.equal(sameProblem('a 1 b', 'a 1 c'), false);
    assert.equal(sameProblem(null, 'a'), false);
  });
});

describe('restore requests and the snapshot listing', () => {
  const rows: Array<[string, string, string, string | RegExp]> = [
    ['latest', '/memory/', 'memory'],
    ['2026-11-22T140000Z', '', '.'],
    ['latest', 'a/../../etc', /must stay inside the snapshot/],
    ['yesterday', 'a', /is not a snapshot name/],
  ];
  for (const [snap, path, want] of rows) {
    test(`${snap} ${path || '(all)'}`, () => {
      if (typeof want === 'string') assert.equal(planRestoreRequest('t', snap, path, '/x', false).path, want);
      else assert.throws(() => planRestoreRequest('t', snap, path, '/x', false), want);
    });
  }
  test('--list lines', () => {
    const got = parseListing(
      'LATEST 2026-11-22T110000Z\n2026-11-22T100000Z 3 10\n2026-11-22T110000Z 2 7\nnoise 1 2\n',
      NOW,
    );
    assert.deepEqual(
      got.map((s) => [s.name, s.ageMin, s.files, s.bytes, s.latest]),
      [
        ['2026-11-22T100000Z', 120, 3, 10, false],
        ['2026-11-22T110000Z', 60, 2, 7, true],
      ],
    );
  });
});

describe('failure outcomes say what stays', () => {
  const rows: Array<[string, () => any, RegExp, RegExp]> = [
    [
      'a copy that failed, with a previous snapshot',
      () => plan.transferFailed(R(), 'rsync exit 23', 'P'),
      /^FAILED: rsync exit 23; P stays the latest$/,
      /^backup tier t1 failed: rsync exit 23\. P stays the latest snapshot\.$/,
    ],
    [
      'a copy that failed, first run',
      () => plan.transferFailed(R(), 'rsync exit 23', null),
      /; no snapshot yet$/,
      /failed: rsync exit 23\. $/,
    ],
    [
      'a count that did not match',
      () => plan.rejected(R(), 'S', 'why', null),
      /^FAILED: why; kept as \.rejected-S for inspection; nothing stays the latest$/,
      /failed verification: why\. Kept as \.rejected-S\.$/,
    ],
    [
      'a rename that failed',
      () => plan.commitFailed(R(), 'S', 'mv: denied'),
      /^FAILED: could not put S into place: mv: denied$/,
      /^backup tier t1 failed: could not/,
    ],
    [
      'anything else',
      () => plan.crashed('t1', 'host b unreachable'),
      /^FAILED: host b unreachable$/,
      /^backup tier t1 failed: host b unreachable$/,
    ],
  ];
  for (const [what, run, line, alert] of rows) {
    test(what, () => {
      const o = run();
      assert.equal(o.result, 'failed');
      assert.match(o.line, line);
      assert.match(o.alert, alert);
    });
  }
  test('a witness-local side is named by its path', () => assert.equal(plan.where({ path: '/srv/data' }), '/srv/data'));
});

import { passedThrough, unsafeLinks } from '../../dist/backup/restore-plan.js';

describe('restore never follows a link out', () => {
  test('the folders a PATH passes through, the snapshot first; the last component is not one', () => {
    assert.deepEqual(passedThrough('S', '.'), ['S']);
    assert.deepEqual(passedThrough('S', 'a'), ['S']);
    assert.deepEqual(passedThrough('S', 'a/b/c.md'), ['S', 'S/a', 'S/a/b']);
  });
  const rows: Array<[string, string, boolean]> = [
    ['x', 'y', false],
    ['x', '/etc/passwd', true],
    ['x', '..', true],
    ['x', '', true],
    ['d/x', '../y', false],
    ['d/x', '../../y', true],
    ['d/x', './../e/../../y', true],
    ['d/x', 'e/../../y', false],
    ['d/e/x', '../../../etc', true],
  ];
  for (const [path, target, unsafe] of rows) {
    test(`${path} -> ${target || '(empty)'}: ${unsafe ? 'left out' : 'restored'}`, () => {
      assert.deepEqual(unsafeLinks([{ path, target }]), unsafe ? [path] : []);
    });
  }
});

import { excludeExactly } from '../../dist/backup/restore-plan.js';

describe('filter rules match a name literally', () => {
  test('[ ] * ? \\ are escaped; nothing else changes', () => {
    assert.equal(plan.rsyncLiteral('a[1]*?\\b c.md'), 'a\\[1\\]\\*\\?\\\\b c.md');
    assert.deepEqual(excludeExactly(['escape', 'memory/up*']), ['- /escape', '- /memory/up\\*']);
  });
});

import { writesIntoSnapshots } from '../../dist/backup/restore-plan.js';

describe('restore never writes into the snapshots of a witness-local tier', () => {
  const rows: Array<[string, string, boolean]> = [
    ['/srv/restore', '/srv/backups', false],
    ['/srv/backups', '/srv/backups', true],
    ['/srv/backups/2026-11-22T100000Z/x', '/srv/backups/', true],
    ['/srv/backups-old', '/srv/backups', false],
    ['/anything', '/', true],
  ];
  for (const [to, snaps, inside] of rows)
    test(`${to} in ${snaps}: ${inside}`, () => assert.equal(writesIntoSnapshots(to, snaps), inside));
});

import { nearestSnapshots, noSuchSnapshot } from '../../dist/backup/restore-plan.js';
describe('an unknown snapshot name is named, with the nearest ones (issue 24 #8)', () => {
  const entries = ['latest', '2026-11-20T100000Z', '2026-11-22T100000Z', '2026-11-22T120000Z', '.incomplete-x'];
  test('nearest in time first; only complete snapshots', () => {
    assert.deepEqual(nearestSnapshots('2026-11-22T103000Z', entries), [
      '2026-11-22T100000Z',
      '2026-11-22T120000Z',
      '2026-11-20T100000Z',
    ]);
  });
  test('the words', () => {
    assert.equal(
      noSuchSnapshot('t', '2026-11-22T103000Z', 'pca:b', entries.slice(0, 3)),
      'restore: tier t has no snapshot 2026-11-22T103000Z at pca:b; nearest: 2026-11-22T100000Z, ' +
        '2026-11-20T100000Z (every one: hactl backup-tier --list t)',
    );
    assert.match(noSuchSnapshot('t', '2026-11-22T103000Z', 'pca:b', []), /the tier has no snapshot yet$/);
  });
});
