// The memory sync's decisions as tables: the gate (go/no-go on a dry run, before
// anything is written anywhere) and the fold (record and alert from an outcome).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideCopy, fullValidation, pushDue, receiverCount, type CopyObservation } from '../../src/memory/gate.ts';
import {
  invalidOutcome,
  nextRecord,
  stoppedOutcome,
  type MemoryRecord,
  type SyncOutcome,
} from '../../src/memory/fold.ts';

const m = { maxDeleteShare: 0.2, deleteAllowance: 5, root: '.openclaw' };
const words = { source: 'primary', receiver: "standby and the witness's copy", verb: 'the push' };
const obs = (o: Partial<CopyObservation>): CopyObservation => ({
  ok: true,
  missingSource: false,
  sourceFiles: 10,
  created: 0,
  deleted: 0,
  undecodable: [],
  ...o,
});

describe('decideCopy: the gate of every copy', () => {
  const rows: Array<[string, Partial<CopyObservation>, boolean, string, string?]> = [
    ['nothing changed', {}, false, 'go'],
    ['a few new files', { sourceFiles: 12, created: 2 }, false, 'go'],
    ['source directory missing', { ok: false, missingSource: true }, false, 'missing'],
    ['rsync failed (ssh)', { ok: false, problem: 'reading primary: rsync exit 255' }, false, 'failed'],
    ['empty source, witness had 500', { sourceFiles: 0, deleted: 500 }, false, 'empty'],
    ['empty source, witness empty too', { sourceFiles: 0 }, false, 'empty'],
    ['empty source even when allowed', { sourceFiles: 0, deleted: 500 }, true, 'empty'],
    ['1 file where there were 500', { sourceFiles: 1, deleted: 499 }, false, 'mass-delete'],
    ['1 of 500 with --allow-mass-delete', { sourceFiles: 1, deleted: 499 }, true, 'go'],
    ['6 of 30 deleted (limit 6)', { sourceFiles: 24, deleted: 6 }, false, 'go'],
    ['7 of 30 deleted (limit 6)', { sourceFiles: 23, deleted: 7 }, false, 'mass-delete'],
    ['5 of 6 deleted (allowance 5)', { sourceFiles: 1, deleted: 5 }, false, 'go'],
    ['a name that is not UTF-8', { undecodable: ['bad\\#377.md'] }, true, 'names'],
    // issue 24 #3: the witness held 80 invalid files the standby never had; the standby loses none.
    [
      '80 of 86 on the witness, 0 of 6 on the target',
      { sourceFiles: 6, deleted: 80, target: { deleted: 0, held: 6 } },
      false,
      'go',
    ],
    [
      '2 on the witness, 10 of 30 on the target',
      { sourceFiles: 28, deleted: 2, target: { deleted: 10, held: 30 } },
      false,
      'mass-delete',
    ],
  ];
  for (const [name, o, allow, want] of rows) {
    test(`${name} -> ${want}`, () => {
      const v = decideCopy(obs(o), m, words, allow);
      assert.equal(v.go ? 'go' : v.why, want, JSON.stringify(v));
    });
  }
  test('reasons name the source, the receiver and the numbers', () => {
    const v = decideCopy(obs({ sourceFiles: 23, deleted: 7 }), m, words);
    assert.ok(!v.go);
    assert.equal(v.kind, 'refused');
    assert.match(
      v.reason,
      /^the push would delete 7 of 30 memory files \(limit 6: 20% or 5 files\) on standby and the witness's copy$/,
    );
    const e = decideCopy(obs({ sourceFiles: 0 }), m, words);
    assert.ok(!e.go && e.reason === 'no memory files on primary under .openclaw');
    const n = decideCopy(obs({ undecodable: ['a\\#377'] }), m, words);
    assert.ok(!n.go && n.kind === 'invalid' && /1 name\(s\) on primary are not UTF-8 \(a\\#377\)/.test(n.reason));
  });
  test('receiverCount: what the receiver holds, from the dry run alone', () => {
    assert.equal(receiverCount(obs({ sourceFiles: 23, created: 0, deleted: 7 })), 30);
    assert.equal(receiverCount(obs({ sourceFiles: 12, created: 2 })), 10);
    assert.equal(receiverCount(obs({ sourceFiles: undefined })), 0);
  });
});

describe('pushDue and fullValidation', () => {
  const now = new Date('2026-09-10T12:00:00Z');
  const rows: Array<[boolean, number, string | null, boolean]> = [
    [true, 0, '2026-09-10T11:59:00Z', true],
    [false, 1, '2026-09-10T11:59:00Z', true],
    [false, 0, '2026-09-10T11:59:00Z', false],
    [false, 0, '2026-09-10T10:00:00Z', true], // older than fullPushEvery (3600 s)
    [false, 0, null, true],
  ];
  for (const [full, changed, last, want] of rows) {
    test(`full=${full} changed=${changed} last=${last} -> ${want}`, () =>
      assert.equal(pushDue(full, changed, last, now, 3600), want));
  }
  test('fullValidation', () => {
    assert.equal(fullValidation(undefined, 'push'), true);
    assert.equal(fullValidation({ lastResult: 'invalid', mode: 'push' }, 'push'), true);
    assert.equal(fullValidation({ lastResult: 'ok', mode: 'pull-standby' }, 'push'), true);
    assert.equal(fullValidation({ lastResult: 'ok', mode: 'push' }, 'push'), false);
  });
});

describe('stoppedOutcome', () => {
  test('missing, empty and mass-delete wordings', () => {
    const v = decideCopy(obs({ ok: false, missingSource: true }), m, words);
    assert.ok(!v.go);
    const o = stoppedOutcome('push', v, 'nothing deleted on the standby');
    assert.equal(o.kind, 'refused');
    assert.equal(o.line, 'memory directory .openclaw is missing on primary; nothing deleted on the standby');
    assert.match(
      o.alert!,
      /^memory sync refused: \.openclaw is missing on primary \(unmounted or deleted\?\)\. Nothing deleted/,
    );
    const f = decideCopy(obs({ ok: false, problem: 'x: rsync exit 255' }), m, words);
    assert.ok(!f.go);
    assert.equal(stoppedOutcome('push', f, 'keeps').kind, 'failed');
  });
});

describe('stoppedOutcome and invalidOutcome: every wording', () => {
  const stop = (
    why: 'missing' | 'empty' | 'mass-delete' | 'failed' | 'names',
    kind: 'refused' | 'failed' = 'refused',
  ) => ({ go: false, kind, why, reason: `R(${why})` }) as const;
  const rows: Array<[string, ReturnType<typeof stop>, string, RegExp, RegExp]> = [
    [
      'missing',
      stop('missing'),
      '',
      /^memory directory R\(missing\); k$/,
      /refused: R\(missing\) \(unmounted or deleted\?\)\. K\.$/,
    ],
    ['empty', stop('empty'), '', /^R\(empty\); k$/, /refused: R\(empty\) \(empty or unmounted\?\)\. K\.$/],
    [
      'mass delete, with a hint',
      stop('mass-delete'),
      'use --allow-mass-delete',
      /^R\(mass-delete\); k$/,
      /\. K\. use --allow/,
    ],
    ['failed', stop('failed', 'failed'), '', /^R\(failed\); k$/, /^memory sync failed: R\(failed\)\. K\.$/],
  ];
  for (const [name, v, hint, line, alert] of rows) {
    test(name, () => {
      const o = stoppedOutcome('push', v, 'k', hint);
      assert.equal(o.kind, v.kind);
      assert.match(o.line, line);
      assert.match(o.alert!, alert);
    });
  }
  test('invalid files: at most five named and shown, the rest counted', () => {
    const r = {
      files: 9,
      invalid: ['a', 'b', 'c', 'd', 'e', 'f'],
      problems: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
    };
    const o = invalidOutcome('push', 'primary', r, 'rejected/x', 'the standby keeps its copy');
    assert.equal(o.kind, 'invalid');
    assert.equal(o.line, '6 invalid memory file(s) from primary: a, b, c, d, e, ...; the standby keeps its copy');
    assert.match(o.alert!, /: p1; p2; p3; p4; p5; and 2 more\. Rejected copy kept on the witness in rejected\/x$/);
    const one = invalidOutcome('push', 'primary', { files: 1, invalid: ['a'], problems: ['p1'] }, 'k', 'x');
    assert.equal(one.line, '1 invalid memory file(s) from primary: a; x');
    assert.match(one.alert!, /: p1\. Rejected/);
  });
});

describe('nextRecord: the fold', () => {
  const now = new Date('2026-09-10T12:00:00Z');
  const ok: SyncOutcome = {
    kind: 'ok',
    mode: 'push',
    line: '10 files',
    files: 10,
    changed: 1,
    deleted: 0,
    bytes: 9,
    pushed: true,
  };
  const bad: SyncOutcome = { kind: 'invalid', mode: 'push', line: '1 invalid', alert: 'memory sync: 1 invalid' };
  const prevBad: MemoryRecord = {
    version: 1,
    lastRunAt: 'x',
    lastGoodAt: 'y',
    lastResult: 'invalid',
    problem: 'memory sync: 1 invalid',
  };
  const rows: Array<[string, MemoryRecord | undefined, SyncOutcome, RegExp | undefined]> = [
    ['first good run: no alert', undefined, ok, undefined],
    ['a new problem: alerted', undefined, bad, /^memory sync: 1 invalid$/],
    ['the same problem again: not alerted', prevBad, bad, undefined],
    ['recovery: alerted once', prevBad, ok, /^memory sync OK again: 10 files$/],
    ['skipped keeps the problem, no alert', prevBad, { kind: 'skipped', mode: 'push', line: 's' }, undefined],
    ['a good run with a notice (conflicts)', undefined, { ...ok, alert: 'conflicts' }, /^conflicts$/],
    [
      'recovery with a notice: both, in one message',
      prevBad,
      { ...ok, alert: 'conflicts' },
      /^memory sync OK again: 10 files\nconflicts$/,
    ],
    [
      'a failure without its own alert: its line',
      undefined,
      { kind: 'failed', mode: 'push', line: 'ssh' },
      /^memory sync: ssh$/,
    ],
    ['another problem than before: alerted', prevBad, { ...bad, alert: 'memory sync: 2 invalid' }, /2 invalid/],
  ];
  for (const [name, prev, o, alert] of rows) {
    test(name, () => {
      const r = nextRecord(prev, o, now);
      if (alert) assert.match(r.alert ?? '', alert);
      else assert.equal(r.alert, undefined);
      assert.equal(r.rec.lastResult, o.kind);
      assert.equal(r.rec.lastRunAt, now.toISOString());
    });
  }
  test('a good push moves lastGoodAt and lastPushAt; a bad run keeps them', () => {
    const g = nextRecord(undefined, ok, now).rec;
    assert.equal(g.lastGoodAt, now.toISOString());
    assert.equal(g.lastPushAt, now.toISOString());
    const b = nextRecord(g, bad, new Date('2026-09-10T12:05:00Z')).rec;
    assert.equal(b.lastGoodAt, now.toISOString());
    assert.equal(b.lastPushAt, now.toISOString());
    assert.equal(b.problem, 'memory sync: 1 invalid');
    assert.equal(nextRecord(prevBad, { kind: 'skipped', mode: 'push', line: 's' }, now).rec.problem, prevBad.problem);
  });
});

describe("unchangedSince: a run ends at its scan only when this witness's last good run began there", async () => {
  const { unchangedSince, NO_TREE } = await import('../../src/memory/gate.ts');
  const now = new Date('2026-12-07T18:00:00Z');
  const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
  const scan = { key: 'k1', print: 'ab12' };
  const rec = (mode: SyncOutcome['mode'] = 'push', over: Partial<MemoryRecord> = {}): MemoryRecord => ({
    version: 1,
    lastRunAt: ago(60),
    lastGoodAt: ago(60),
    lastPushAt: ago(60),
    lastResult: 'ok',
    mode,
    files: 3,
    ...over,
  });
  const seen = (mode: SyncOutcome['mode'] = 'push', over: Partial<typeof scan & { at: string }> = {}) => ({
    mode,
    at: ago(60),
    ...scan,
    ...over,
  });
  const hour = 3600;
  test('the same print, key and mode after a good run, within the full push period: ends at the scan', () => {
    assert.equal(unchangedSince(rec(), seen(), 'push', scan, now, hour), true);
    assert.equal(unchangedSince(rec('pull-standby'), seen('pull-standby'), 'pull-standby', scan, now, hour), true);
  });
  type Row = [string, MemoryRecord | undefined, ReturnType<typeof seen> | undefined, typeof scan | undefined];
  const rows: Row[] = [
    ['no shared record', undefined, seen(), scan],
    ['no record of a scan on this witness', rec(), undefined, scan],
    ['no scan this run (no master)', rec(), seen(), undefined],
    ['the tree moved', rec(), seen(), { ...scan, print: 'ff00' }],
    ['another source, filter, target or staging', rec(), seen(), { ...scan, key: 'k2' }],
    ['the last run went the other way', rec('pull-standby'), seen(), scan],
    ['the print was of the other direction', rec(), seen('pull-standby'), scan],
    ['the last run (any witness) failed', rec('push', { lastResult: 'failed' }), seen(), scan],
    ['the last run found invalid files', rec('push', { lastResult: 'invalid' }), seen(), scan],
    ['a last-chance copy since', rec('last-chance'), seen(), scan],
    ['the full push is due', rec('push', { lastPushAt: ago(2 * hour) }), seen(), scan],
    ['the print is older than the period', rec(), seen('push', { at: ago(2 * hour) }), scan],
    [
      'pull-standby: the print is older than the period',
      rec('pull-standby'),
      seen('pull-standby', { at: ago(2 * hour) }),
      scan,
    ],
    ['a clock stepped back past the print', rec(), seen('push', { at: ago(-120) }), scan],
    ['no tree at the source', rec(), seen('push', { print: NO_TREE }), { key: 'k1', print: NO_TREE }],
  ];
  for (const [name, prev, s, sc] of rows)
    test(`copies: ${name}`, () => {
      const mode = name.startsWith('pull-standby') ? 'pull-standby' : 'push';
      assert.equal(unchangedSince(prev, s, mode, sc, now, hour), false);
    });
});
