// History stats (a pure fold), learned start order (a pure sort), and rotation that keeps the
// stats exact, as tables. Rotation runs on real files in a temp dir; a kill -9 at each step
// is simulated by stopping the rotation right after that step's effect.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  emptyStats,
  foldEntries,
  kindOf,
  meanRecoverySeconds,
  selectEntries,
} from '../../dist/operator/history-stats.js';
import { orderMethods } from '../../dist/failover/learned.js';
import { allTimeStats, appendHistory, keptEntries, rotateLocked, rotatedFiles } from '../../dist/state/history.js';

const PAIR = { primary: 'pc1', standby: 'pc2' };
const T0 = Date.parse('2026-11-22T14:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const obs = (status: string, extra: Record<string, unknown> = {}) => ({ status, confirmed: true, ...extra });
const check = (s: number, p: any, sb: any = obs('gateway-down'), serving = 'primary') => ({
  at: at(s),
  command: 'check',
  serving,
  hosts: { primary: p, standby: sb },
});
const start = (role: string, methods: Array<[string, boolean]>) => ({
  op: 'start',
  role,
  ok: methods.some(([, ok]) => ok),
  methods: methods.map(([name, ok]) => ({ name, ok, ms: 5 })),
});
const move = (s: number, kind: string, ok: boolean, ms: number, steps: any[] = []) => ({
  at: at(s),
  command: kind === 'failback' ? 'failback' : 'failover',
  acted: true,
  kind,
  ok,
  ms,
  steps,
  summary: `${kind} ${ok ? 'done' : 'FAILED'}`,
});

// One scripted sequence: a false alarm, an incident recovered by failover (A fails, B works),
// a failback, a failover that failed then one that worked, a failover that did not act.
const SEQ = [
  check(0, obs('healthy')),
  check(120, obs('healthy', { transient: true })), // failed once, fine on the retry
  check(240, obs('gateway-down')), // first confirmed failure
  check(360, obs('gateway-down')),
  move(370, 'failover', true, 30_000, [
    start('standby', [
      ['A', false],
      ['B', true],
    ]),
  ]),
  check(480, obs('gateway-down'), obs('healthy'), 'standby'),
  move(600, 'failback', true, 20_000, [start('primary', [['A', true]])]),
  check(720, obs('unreachable')),
  move(730, 'failover', false, 10_000, [
    start('standby', [
      ['B', false],
      ['A', false],
    ]),
  ]),
  move(850, 'failover', true, 10_000, [start('standby', [['B', true]])]),
  { at: at(900), command: 'failover', acted: false, reason: 'nothing to do' },
  { at: at(960), command: 'sync-memory' },
  { at: at(970), command: 'backup-tier' },
];

describe('history stats (pure fold)', () => {
  const s = foldEntries(emptyStats(), SEQ, PAIR);
  const rows: Array<[string, unknown, unknown]> = [
    ['entries', s.entries, SEQ.length],
    ['checks', s.checks, 6],
    ['false alarms (unconfirmed single failures)', s.falseAlarms, 1],
    ['failovers', s.failovers, { ok: 2, failed: 1 }],
    ['failbacks', s.failbacks, { ok: 1, failed: 0 }],
    ['recoveries', s.recoveries, 2],
    // (370+30 - 240) and (850+10 - 720): 160 s and 140 s
    ['mean time to recover (s)', meanRecoverySeconds(s), 150],
    ['methods on pc2', s.methods.pc2, { A: { tried: 2, ok: 0 }, B: { tried: 3, ok: 2 } }],
    ['methods on pc1', s.methods.pc1, { A: { tried: 1, ok: 1 } }],
    ['last failover', s.lastFailover?.at, at(850)],
    ['last failback', s.lastFailback?.at, at(600)],
    ['no incident open', s.openFailureAt, null],
  ];
  for (const [name, got, want] of rows) test(name, () => assert.deepEqual(got, want));

  test('a start method the host does not have (absent) is not counted as tried: no 0/1 (0%)', () => {
    const absent = {
      op: 'start',
      role: 'primary',
      ok: true,
      methods: [
        { name: 'systemd-user', ok: false, ms: 3, absent: true },
        { name: 'detached', ok: true, ms: 900 },
      ],
    };
    const t = foldEntries(emptyStats(), [move(100, 'failback', true, 1000, [absent])], PAIR);
    assert.deepEqual(t.methods.pc1, { 'systemd-user': { tried: 0, ok: 0, absent: 1 }, detached: { tried: 1, ok: 1 } });
    // Learned order still puts the method the host does not have after the one that works.
    assert.deepEqual(orderMethods(['systemd-user', 'openclaw-cli', 'detached'], t.methods.pc1), [
      'detached',
      'openclaw-cli',
      'systemd-user',
    ]);
  });

  test('folding in any two parts gives the same stats as folding all (what rotation relies on)', () => {
    for (let cut = 0; cut <= SEQ.length; cut++) {
      const parts = foldEntries(foldEntries(emptyStats(), SEQ.slice(0, cut), PAIR), SEQ.slice(cut), PAIR);
      assert.deepEqual(parts, s, `cut at ${cut}`);
    }
  });

  test('an incident open when the history ends is carried, not counted', () => {
    const open = foldEntries(emptyStats(), SEQ.slice(0, 4), PAIR);
    assert.equal(open.openFailureAt, at(240));
    assert.equal(meanRecoverySeconds(open), null);
  });

  test('a serving side that recovers by itself closes the incident without a recovery', () => {
    const r = foldEntries(emptyStats(), [check(0, obs('gateway-down')), check(120, obs('healthy'))], PAIR);
    assert.deepEqual([r.openFailureAt, r.recoveries], [null, 0]);
  });

  const kinds: Array<[string, string]> = [
    ['check', 'check'],
    ['failover', 'failover'],
    ['failback', 'failback'],
    ['sync-memory', 'sync'],
    ['backup-tier', 'backup'],
    ['pause', 'pause'],
    ['resume', 'pause'],
    ['cron', 'other'],
  ];
  for (const [command, kind] of kinds)
    test(`kind of ${command} is ${kind}`, () => assert.equal(kindOf({ command }), kind));

  test('--since and --kind select', () => {
    assert.equal(selectEntries(SEQ, new Date(at(700)), null).length, 6);
    assert.equal(selectEntries(SEQ, null, ['failback']).length, 1);
    assert.equal(selectEntries(SEQ, new Date(at(700)), ['failover', 'sync']).length, 4);
  });
});

describe('orderMethods (order: learned)', () => {
  const c = (tried: number, ok: number) => ({ tried, ok });
  const rows: Array<[string, string[], Record<string, { tried: number; ok: number }> | undefined, string[]]> = [
    ['no stats: configured order', ['a', 'b', 'c'], undefined, ['a', 'b', 'c']],
    ['the one that works goes first', ['a', 'b', 'c'], { a: c(1, 0), b: c(1, 0), c: c(1, 1) }, ['c', 'a', 'b']],
    ['ties keep configured order', ['a', 'b', 'c'], { a: c(2, 1), b: c(4, 2), c: c(1, 1) }, ['c', 'a', 'b']],
    ['never tried keeps its place', ['a', 'b', 'c'], { a: c(3, 0), c: c(3, 3) }, ['c', 'b', 'a']],
    ['never tried first stays first', ['a', 'b', 'c'], { b: c(1, 0), c: c(1, 1) }, ['a', 'c', 'b']],
    ['rate, not count', ['a', 'b'], { a: c(10, 6), b: c(2, 2) }, ['b', 'a']],
    ['tried 0 is never tried', ['a', 'b'], { a: c(0, 0), b: c(1, 1) }, ['a', 'b']],
  ];
  for (const [name, methods, stats, want] of rows)
    test(name, () => assert.deepEqual(orderMethods(methods, stats), want));
});

describe('rotation keeps all-time stats exact', () => {
  const policy = { maxBytes: 500, maxAgeSeconds: 30 * 86400, keep: 1, pair: PAIR };
  const want = foldEntries(emptyStats(), SEQ, PAIR);

  test('appends rotate by size; stats over all files equal the stats of all lines', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hactl-hist-')), 'history.jsonl');
    for (const e of SEQ) await appendHistory(file, e, policy);
    assert.ok(rotatedFiles(file).length >= 1, 'rotated at least once');
    assert.ok(rotatedFiles(file).length <= policy.keep, 'older rotated files pruned');
    assert.ok(keptEntries(file).length < SEQ.length, 'some lines only in the stats file now');
    assert.deepEqual((await allTimeStats(file, PAIR)).stats, want);
  });

  test('rotates by age: a first line older than maxAge', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hactl-hist-')), 'history.jsonl');
    const p = { ...policy, maxBytes: 1e9, maxAgeSeconds: 600 };
    for (const e of SEQ) await appendHistory(file, e, p);
    assert.ok(rotatedFiles(file).length >= 1);
    assert.deepEqual((await allTimeStats(file, PAIR)).stats, want);
  });

  test('a line without a date rotates by size only: no clock of the run ages the file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hactl-hist-')), 'history.jsonl');
    const p = { ...policy, maxBytes: 1e9, maxAgeSeconds: 600 };
    await appendHistory(file, SEQ[0], p); // dated 2026-11: long before now by any clock
    await appendHistory(file, { command: 'check', exitCode: 0 }, p);
    assert.equal(rotatedFiles(file).length, 0, 'not aged by Date.now()');
    await appendHistory(file, { command: 'check', exitCode: 0 }, { ...p, maxBytes: 10 });
    assert.equal(rotatedFiles(file).length, 1, 'the size rule still applies');
  });

  for (const crash of ['after-rename', 'after-fold'] as const) {
    test(`a kill -9 ${crash}: no line lost or counted twice, now and after the next rotation`, async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'hactl-hist-')), 'history.jsonl');
      const big = { ...policy, maxBytes: 1e9 };
      for (const e of SEQ.slice(0, 5)) await appendHistory(file, e, big);
      await rotateLocked(file, big); // a complete one first
      for (const e of SEQ.slice(5, 9)) await appendHistory(file, e, big);
      await rotateLocked(file, big, crash);
      assert.deepEqual(
        (await allTimeStats(file, PAIR)).stats,
        foldEntries(emptyStats(), SEQ.slice(0, 9), PAIR),
        'read right after the crash',
      );
      for (const e of SEQ.slice(9)) await appendHistory(file, e, big);
      await rotateLocked(file, { ...big, keep: 1 });
      assert.deepEqual((await allTimeStats(file, PAIR)).stats, want, 'after the next rotation');
      const names = readdirSync(join(file, '..')).filter((n) => n.endsWith('.jsonl'));
      assert.deepEqual(names, ['history.3.jsonl']);
    });
  }

  test('a broken line (a writer killed mid-line) is never counted', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hactl-hist-')), 'history.jsonl');
    writeFileSync(file, JSON.stringify(SEQ[0]) + '\n' + '{"at":"2026-11-22T14:0', { mode: 0o600 });
    await appendHistory(file, SEQ[1], policy);
    assert.equal((await allTimeStats(file, PAIR)).stats.entries, 2);
  });
});
