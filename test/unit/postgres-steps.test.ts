// Where the PostgreSQL steps sit in failover and failback (src/core/decide.ts),
// and that a config without a postgres section plans exactly as before.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideFailback, decideFailover, describeStep } from '../../dist/core/decide.js';
import { initialState } from '../../dist/core/model.js';
import { config } from './helpers.ts';

const NOW = new Date('2026-11-22T14:00:00Z');
const PG = { tables: [{ name: 'memory_items', key: ['id'] }] };
const ops = (d: any) => d.steps.map((s: any) => (s.op === 'postgres' ? `postgres:${s.action}` : s.op));
const standbyServing = () => ({ ...initialState(NOW), serving: 'standby' });

describe('postgres steps in the failover and failback plans', () => {
  const rows: Array<[string, boolean, 'failover' | 'failback', string[]]> = [
    ['failover, no postgres', false, 'failover', ['fence', 'settle', 'start', 'verify', 'record']],
    [
      'failover pauses replication before the standby starts',
      true,
      'failover',
      ['fence', 'postgres:pause', 'settle', 'start', 'verify', 'record'],
    ],
    ['failback, no postgres', false, 'failback', ['sync-back', 'stop', 'settle', 'start', 'verify', 'record']],
    [
      'failback copies before the standby stops, resumes after',
      true,
      'failback',
      ['sync-back', 'postgres:sync-back', 'stop', 'postgres:resume', 'settle', 'start', 'verify', 'record'],
    ],
  ];
  for (const [name, pg, kind, want] of rows) {
    test(name, async () => {
      const c = await config(pg ? { postgres: PG } : {});
      const d =
        kind === 'failover'
          ? decideFailover(c, initialState(NOW), { auto: false, now: NOW })
          : decideFailback(c, standbyServing(), { auto: false, now: NOW });
      assert.deepEqual(ops(d), want);
      for (const s of d.steps) assert.ok(describeStep(c, s).length > 10, `a dry-run line for ${s.op}`);
    });
  }
});
