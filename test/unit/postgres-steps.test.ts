// Where the PostgreSQL steps sit in failover and failback (src/failover/plan.ts),
// and that a config without a postgres section plans exactly as before.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideFailback, decideFailover } from '../../dist/failover/plan.js';
import { describeStep } from '../../dist/failover/describe.js';
import { initialState } from '../../dist/core/model.js';
import { config } from './helpers.ts';

const NOW = new Date('2026-11-22T14:00:00Z');
const HAND = { auto: false, who: 'ann@witness' };
const PG = { tables: [{ name: 'memory_items', key: ['id'] }] };
const ops = (d: any) => d.plan.steps.map((s: any) => (s.op === 'postgres' ? `postgres:${s.action}` : s.op));
const standbyServing = () => ({ ...initialState(NOW), serving: 'standby' });

describe('postgres steps in the failover and failback plans', () => {
  const rows: Array<[string, boolean, 'failover' | 'failback', string[]]> = [
    ['failover, no postgres', false, 'failover', ['preflight', 'fence', 'settle', 'start', 'verify', 'record']],
    [
      'failover pauses replication before the standby starts',
      true,
      'failover',
      ['preflight', 'fence', 'postgres:pause', 'settle', 'start', 'verify', 'record'],
    ],
    [
      'failback, no postgres',
      false,
      'failback',
      ['sync-back', 'preflight', 'stop', 'settle', 'start', 'verify', 'record'],
    ],
    [
      'failback copies before the standby stops, resumes after',
      true,
      'failback',
      [
        'sync-back',
        'postgres:sync-back',
        'preflight',
        'stop',
        'postgres:resume',
        'settle',
        'start',
        'verify',
        'record',
      ],
    ],
  ];
  for (const [name, pg, kind, want] of rows) {
    test(name, async () => {
      const c = await config(pg ? { postgres: PG } : {});
      const d =
        kind === 'failover'
          ? decideFailover(c, initialState(NOW), HAND, NOW)
          : decideFailback(c, standbyServing(), HAND, NOW);
      assert.deepEqual(ops(d), want);
      for (const s of d.plan.steps) assert.ok(describeStep(c, s).length > 10, `a dry-run line for ${s.op}`);
    });
  }
});
