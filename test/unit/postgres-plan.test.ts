// The PostgreSQL domain's decisions as tables: check's verdict on replication,
// the sync-back plan (by key and content), the fold of its outcome, and the SQL quoting.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { config as makeConfig } from './helpers.ts';
import { describeSyncPlan, digestsOf, planSyncBack, replicationVerdict } from '../../dist/postgres/plan.js';
import { foldSyncBack } from '../../dist/postgres/fold.js';
import {
  columnsSql,
  disableSubscriptionSql,
  qi,
  ql,
  qt,
  rowDigestsSql,
  setSubscriptionSql,
  slotSql,
  subscriptionSql,
  syncSequencesSql,
} from '../../dist/postgres/sql.js';
import { syncSourceSql } from '../../dist/postgres/sync-sql.js';

const PG = {
  tables: [
    { name: 'memory_items', key: ['id'] },
    { name: 'category_items', key: ['item_id', 'cat'] },
  ],
  lagWarning: 1000,
};
const cfg = () => makeConfig({ postgres: PG });

const sub = (v: object) => ({ ok: true, value: { exists: true, enabled: true, slot: 'memu_sub', pid: 42, ...v } });
const slot = (v: object) => ({ ok: true, value: { exists: true, active: true, lag: 10, ...v } });
const down = { ok: false, reachable: false, error: 'unreachable: no route' };
const dbErr = { ok: false, reachable: true, error: 'pc2: psql failed with exit 2: connection refused' };

describe('replicationVerdict', () => {
  const rows: Array<[string, 'primary' | 'standby', any, any, string, RegExp, boolean?]> = [
    ['streaming', 'primary', sub({}), slot({}), 'ok', /replication ok .*lag 10 bytes/],
    ['lag over the threshold', 'primary', sub({}), slot({ lag: 5000 }), 'warning', /lag 5000 bytes \(over 1000\)/],
    ['lag exactly at the threshold', 'primary', sub({}), slot({ lag: 1000 }), 'ok', /replication ok/],
    [
      'subscription disabled',
      'primary',
      sub({ enabled: false }),
      slot({ active: false }),
      'critical',
      /memu_sub is disabled/,
    ],
    [
      'subscription missing',
      'primary',
      sub({ exists: false, enabled: null, pid: null }),
      slot({}),
      'critical',
      /does not exist on the standby/,
    ],
    [
      'worker not running',
      'primary',
      sub({ pid: null }),
      slot({ active: false }),
      'critical',
      /apply worker is not running/,
      true,
    ],
    [
      'no worker, slot dropped: named as such',
      'primary',
      sub({ pid: null }),
      slot({ exists: false, active: null, lag: null }),
      'critical',
      /slot memu_sub does not exist on the primary \(it was dropped/,
    ],
    [
      "no worker, primary's database down: named as such",
      'primary',
      sub({ pid: null }),
      dbErr,
      'critical',
      /primary's database does not answer/,
    ],
    ['slot inactive', 'primary', sub({}), slot({ active: false }), 'critical', /not active/, true],
    [
      'slot missing',
      'primary',
      sub({}),
      slot({ exists: false, active: null, lag: null }),
      'critical',
      /slot memu_sub does not exist/,
    ],
    ["standby's database down", 'primary', dbErr, slot({}), 'critical', /standby's database does not answer/],
    ['standby host unreachable', 'primary', down, slot({}), 'warning', /not checked \(standby/],
    ['primary host unreachable', 'primary', sub({}), down, 'warning', /not checked \(primary/],
    ["primary's database down", 'primary', sub({}), dbErr, 'critical', /primary's database does not answer/],
    [
      'failed over, subscription still enabled',
      'standby',
      sub({}),
      down,
      'critical',
      /ENABLED while the standby serves/,
    ],
    [
      'failed over, paused',
      'standby',
      sub({ enabled: false, pid: null }),
      down,
      'ok',
      /paused while the standby serves/,
    ],
    [
      'failed over, slot gone on the returned primary',
      'standby',
      sub({ enabled: false, pid: null }),
      slot({ exists: false }),
      'warning',
      /slot memu_sub is gone/,
    ],
    [
      "failed over, the serving standby's database down",
      'standby',
      dbErr,
      down,
      'critical',
      /serving standby's database/,
    ],
    ['failed over, standby unreachable', 'standby', down, down, 'warning', /not checked/],
  ];
  for (const [name, serving, st, pr, level, line, retry] of rows) {
    test(name, async () => {
      const v = replicationVerdict(await cfg(), serving, { standby: st, primary: pr, slot: 'memu_sub' });
      assert.equal(v.level, level, v.line);
      assert.equal(v.exitCode, { ok: 0, warning: 1, critical: 2 }[level]);
      assert.match(v.line, line);
      assert.equal(v.retry, !!retry);
    });
  }
  test('a replicated table missing from postgres.tables: a warning naming it', async () => {
    const c = await cfg();
    const published = [
      ['public', 'memory_items'],
      ['public', 'category_items'],
      ['public', 'extra'],
      ['memu', 'other'],
    ];
    const v = replicationVerdict(c, 'primary', { standby: sub({}), primary: slot({}), slot: 'memu_sub', published });
    assert.equal(v.level, 'warning', v.line);
    assert.equal(v.exitCode, 1);
    assert.match(v.line, /2 replicated table\(s\) not in postgres.tables: extra, memu.other/);
    const w = replicationVerdict(c, 'primary', {
      standby: sub({ enabled: false }),
      primary: slot({}),
      slot: 'memu_sub',
      published,
    });
    assert.equal(w.level, 'critical', 'a worse verdict stays');
    assert.match(w.line, /disabled.*not in postgres.tables: extra/);
  });
});

describe('planSyncBack: by key and content, never by count', () => {
  const obs = (p: Array<Record<string, string>>, s: Array<Record<string, string>>) => ({
    primary: digestsOf(p),
    standby: digestsOf(s),
  });
  const rows: Array<[string, 'copy' | 'resume', any, Array<[string[], string[], string[], number]>, any?]> = [
    [
      'equal sides',
      'copy',
      obs([{ '["a"]': 'h1' }, {}], [{ '["a"]': 'h1' }, {}]),
      [
        [[], [], [], 1],
        [[], [], [], 0],
      ],
    ],
    [
      'a row only on the standby goes to the primary',
      'copy',
      obs([{ '["a"]': 'h1' }, {}], [{ '["a"]': 'h1', '["b"]': 'h2' }, {}]),
      [
        [['["b"]'], [], [], 1],
        [[], [], [], 0],
      ],
    ],
    [
      'same count, different rows: both directions seen',
      'resume',
      obs([{ '["a"]': 'h1' }, {}], [{ '["b"]': 'h2' }, {}]),
      [
        [['["b"]'], ['["a"]'], [], 0],
        [[], [], [], 0],
      ],
    ],
    [
      'a row only on the primary is left to resume',
      'copy',
      obs([{ '["a"]': 'h1' }, {}], [{}, {}]),
      [
        [[], [], [], 0],
        [[], [], [], 0],
      ],
    ],
    [
      'a row changed on one side is a conflict',
      'copy',
      obs([{ '["a"]': 'h1' }, {}], [{ '["a"]': 'h9' }, {}]),
      [
        [[], [], ['["a"]'], 0],
        [[], [], [], 0],
      ],
    ],
    [
      'composite keys',
      'resume',
      obs([{}, { '["m1", 1]': 'x' }], [{}, { '["m1", 1]': 'x', '["m1", 2]': 'y' }]),
      [
        [[], [], [], 0],
        [['["m1", 2]'], [], [], 1],
      ],
    ],
    [
      'with a base: changed only on the standby goes to the primary',
      'resume',
      obs([{ '["a"]': 'h1' }, {}], [{ '["a"]': 'h2' }, {}]),
      [
        [['["a"]'], [], [], 0],
        [[], [], [], 0],
      ],
      digestsOf([{ '["a"]': 'h1' }, {}]),
    ],
    [
      'with a base: changed only on the primary goes to the standby on resume, stays put on copy',
      'resume',
      obs([{ '["a"]': 'h2' }, {}], [{ '["a"]': 'h1' }, {}]),
      [
        [[], ['["a"]'], [], 0],
        [[], [], [], 0],
      ],
      digestsOf([{ '["a"]': 'h1' }, {}]),
    ],
    [
      'with a base: changed only on the primary, copy mode moves nothing',
      'copy',
      obs([{ '["a"]': 'h2' }, {}], [{ '["a"]': 'h1' }, {}]),
      [
        [[], [], [], 0],
        [[], [], [], 0],
      ],
      digestsOf([{ '["a"]': 'h1' }, {}]),
    ],
    [
      'with a base: changed on both sides is a conflict',
      'resume',
      obs([{ '["a"]': 'h2' }, {}], [{ '["a"]': 'h3' }, {}]),
      [
        [[], [], ['["a"]'], 0],
        [[], [], [], 0],
      ],
      digestsOf([{ '["a"]': 'h1' }, {}]),
    ],
    [
      'with a base: a key new on both sides with different rows is a conflict',
      'resume',
      obs([{}, { '["m", 1]': 'x' }], [{}, { '["m", 1]': 'y' }]),
      [
        [[], [], [], 0],
        [[], [], ['["m", 1]'], 0],
      ],
      digestsOf([{}, {}]),
    ],
  ];
  for (const [name, mode, o, want, base] of rows) {
    test(name, async () => {
      const p = planSyncBack(await cfg(), o, mode, base);
      assert.deepEqual(
        p.tables.map((t: any) => [t.toPrimary, t.toStandby, t.conflicts, t.same]),
        want,
      );
      assert.equal(
        p.toPrimary,
        want.reduce((a, w) => a + w[0].length, 0),
      );
      assert.equal(
        p.conflicts,
        want.reduce((a, w) => a + w[2].length, 0),
      );
    });
  }
  test('the --dry-run lines name each table, its counts, and conflicting keys (at most five)', async () => {
    const keys = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`["k${i}"]`, 'p']));
    const p = planSyncBack(
      await cfg(),
      obs([keys, {}], [Object.fromEntries(Object.keys(keys).map((k) => [k, 's'])), { '["m", 1]': 'h' }]),
      'resume',
    );
    assert.deepEqual(describeSyncPlan(p), [
      'memory_items: 0 row(s) standby -> primary, 0 primary -> standby, ' +
        '7 CONFLICT(S) by key ["k0"], ["k1"], ["k2"], ["k3"], ["k4"], … (2 more) (0 equal)',
      'category_items: 1 row(s) standby -> primary, 0 primary -> standby (0 equal)',
    ]);
  });
});

describe('foldSyncBack', () => {
  const plan = (
    mode: 'copy' | 'resume',
    toPrimary: string[][],
    conflicts: string[][] = [[], []],
    toStandby: string[][] = [[], []],
  ) => ({
    mode,
    tables: ['memory_items', 'category_items'].map((table, i) => ({
      table,
      toPrimary: toPrimary[i],
      toStandby: toStandby[i],
      conflicts: conflicts[i],
      same: 0,
    })),
    toPrimary: toPrimary.flat().length,
    toStandby: toStandby.flat().length,
    conflicts: conflicts.flat().length,
  });
  const rows: Array<[string, any, any, boolean, RegExp]> = [
    [
      'copied',
      plan('copy', [['a', 'b'], ['c']]),
      { inserted: { primary: [2, 1], standby: [0, 0] } },
      true,
      /^postgres sync-back: rows copied to the primary: memory_items 2, category_items 1$/,
    ],
    [
      'resumed',
      plan('resume', [[], []], undefined, [['x'], []]),
      { inserted: { primary: [0, 0], standby: [1, 0] }, resumedAt: '0/1A, streaming' },
      true,
      /memory_items 0\/1, category_items 0\/0; replication resumed \(slot at 0\/1A, streaming\)/,
    ],
    [
      'a planned row already there',
      plan('copy', [['a', 'b'], []]),
      { inserted: { primary: [1, 0], standby: [0, 0] } },
      true,
      /1 planned row\(s\) already existed/,
    ],
    [
      'conflicts fail the step',
      plan('copy', [['a'], []], [['["m1"]'], []]),
      { inserted: { primary: [1, 0], standby: [0, 0] } },
      false,
      /1 row\(s\) changed on both sides and were NOT overwritten \(memory_items: .*\["m1"\].*replication stays paused/,
    ],
    [
      'a failure keeps what was committed',
      plan('copy', [['a'], []]),
      { inserted: { primary: [0, 0], standby: [0, 0] }, error: 'pc1: psql failed' },
      false,
      /FAILED: pc1: psql failed/,
    ],
  ];
  for (const [name, p, o, ok, line] of rows) {
    test(name, () => {
      const f = foldSyncBack(p, o);
      assert.equal(f.ok, ok, f.line);
      assert.match(f.line, line);
      assert.deepEqual(
        f.tables.map((t: any) => t.toPrimary),
        o.inserted.primary,
        'rows moved per table, for history',
      );
    });
  }
});

describe('SQL quoting: configured names never become SQL', () => {
  test('identifiers and literals', () => {
    assert.equal(qi('a"b'), '"a""b"');
    assert.equal(ql("it's"), "'it''s'");
    assert.equal(
      qt({ schema: 'my schema', name: 'x"; DROP TABLE y; --', key: ['id'] }),
      '"my schema"."x""; DROP TABLE y; --"',
    );
  });
  test('every builder quotes names it was given', async () => {
    const evil = 'e"v\'il';
    const c = (
      await makeConfig({ postgres: { subscription: evil, tables: [{ schema: evil, name: evil, key: [evil] }] } })
    ).postgres;
    const texts = [
      subscriptionSql(c),
      slotSql(evil),
      rowDigestsSql(c),
      columnsSql(c),
      ...[false, true].map((back) => {
        const s = syncSourceSql(c, 10, syncSequencesSql(c, 0, false), back);
        const cols = c.tables.map(() => ({ copy: [evil, 'x'], always: [evil] }));
        return s.head + s.middle + s.tail(cols);
      }),
      disableSubscriptionSql(c),
      setSubscriptionSql(c, false),
      syncSequencesSql(c),
    ];
    for (const t of texts) {
      // Take out every well-formed identifier and literal (one scan, left to right): nothing of the name may remain.
      const stripped = t.replace(/"(?:[^"]|"")*"|'(?:[^']|'')*'/g, 'Q');
      assert.ok(!/["']/.test(stripped), `a stray quote (name not quoted) in: ${t}`);
      assert.ok(!/\bv\b|il\b/.test(stripped), `the name outside quotes in: ${t}`);
    }
    assert.match(setSubscriptionSql(c, true), /ALTER SUBSCRIPTION "e""v'il" ENABLE/);
    assert.match(subscriptionSql(c), /s\.subname = 'e"v''il'/);
  });
});
