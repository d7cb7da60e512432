// Issue 12 #3: memory is synced every minute by default, and the generated crontab says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cronFields, planJobs } from '../../dist/operator/schedule.js';
import { config } from './helpers.ts';

test('memory.interval defaults to one minute, and hactl cron runs sync-memory every minute', async () => {
  const c = await config();
  assert.equal(c.memory.interval, 60);
  // The same conversion src/commands/cron.ts makes.
  const jobs = planJobs({ memory: { enabled: true, intervalMinutes: c.memory.interval / 60 }, tiers: [] });
  const job = jobs.find((j: { id: string }) => j.id === 'sync-memory');
  assert.equal(cronFields(job.when), '* * * * *');
  assert.equal(job.when.note, undefined);
});
