// Pause, the pure parts: durations, the record, and the verdict that
// failover --auto / failback --auto act on, as tables.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_PAUSE,
  humanDuration,
  parseForOption,
  pauseState,
  pauseVerdict,
  planPause,
  planResume,
} from '../../dist/operator/pause.js';

const NOW = new Date('2026-11-22T14:00:00Z');
const at = (s: number) => new Date(NOW.getTime() + s * 1000);

describe('parseForOption (--for)', () => {
  const rows: Array<[string, number | RegExp]> = [
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['1d', 86400],
    ['1h30m', 5400],
    ['1.5h', 5400],
    [' 2h ', 7200],
    ['10', /not a duration/],
    ['2 h', /not a duration/],
    ['h', /not a duration/],
    ['-2h', /not a duration/],
    ['', /not a duration/],
  ];
  for (const [text, want] of rows) {
    test(JSON.stringify(text), () => {
      const got = parseForOption(text);
      if (typeof want === 'number') assert.equal(got, want);
      else assert.match((got as { error: string }).error, want);
    });
  }
  test('humanDuration', () => {
    assert.deepEqual([45, 60, 5400, 90000, 0].map(humanDuration), ['45 s', '1m', '1h 30m', '1d 1h', '0 s']);
  });
});

describe('planPause', () => {
  test('default length, reason on one line, bounds', () => {
    const p = planPause(NOW, undefined, ' disk swap\non pc-a ', 'ann@w');
    assert.ok(!('error' in p));
    assert.equal(p.until, at(DEFAULT_PAUSE).toISOString());
    assert.equal(p.reason, 'disk swap on pc-a');
    assert.equal((planPause(NOW, 7200, '', 'ann@w') as { reason: null }).reason, null);
    assert.match((planPause(NOW, 8 * 86400, undefined, 'a') as { error: string }).error, /at most 7d/);
    assert.match((planPause(NOW, 0, undefined, 'a') as { error: string }).error, /more than 0/);
  });
});

describe('pauseVerdict', () => {
  const p = planPause(NOW, 7200, 'kernel upgrade', 'ann@w') as Exclude<ReturnType<typeof planPause>, { error: string }>;
  const rows: Array<[string, Parameters<typeof pauseVerdict>[0], Date, string, boolean, RegExp]> = [
    ['no pause file', undefined, NOW, 'none', false, /^not paused$/],
    [
      'just paused',
      p,
      at(1),
      'active',
      true,
      /^paused by ann@w until 2026-11-22T16:00:00.000Z \(1h 59m left\): kernel upgrade; automatic/,
    ],
    ['a minute before the end', p, at(7141), 'active', true, /\(59 s left\)/],
    ['at the end', p, at(7200), 'expired', false, /expired at 2026-11-22T16:00:00.000Z/],
    [
      'resumed',
      { ...p, resumedAt: at(60).toISOString(), resumedBy: 'bob@w' },
      at(61),
      'resumed',
      false,
      /ended at .* by bob@w/,
    ],
  ];
  for (const [name, rec, now, state, paused, line] of rows) {
    test(name, () => {
      assert.equal(pauseState(rec, now), state);
      const v = pauseVerdict(rec, now);
      assert.equal(v.paused, paused);
      assert.match(v.line, line);
    });
  }
  test('resume: only an active pause is ended', () => {
    assert.equal(planResume(undefined, NOW, 'bob@w'), null);
    assert.equal(planResume(p, at(7200), 'bob@w'), null);
    const r = planResume(p, at(10), 'bob@w')!;
    assert.equal(r.resumedBy, 'bob@w');
    assert.equal(pauseVerdict(r, at(11)).paused, false);
  });
});
