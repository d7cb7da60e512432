// Losing the etcd lead mid-run (issue 21, item 6): the run's abort signal stops the failover runner
// before its next effect, and no rollback runs (a rollback is an effect too). Hosts on 127.0.0.1
// port 1: nothing answers, nothing leaves loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runner } from '../../dist/failover/run.js';
import { systemClock } from '../../dist/adapters/clock.js';
import { config } from './helpers.ts';

const hosts = {
  pc1: { address: '127.0.0.1', port: 1, user: 'claw', key: '/k', knownHosts: '/kh' },
  pc2: { address: '127.0.0.1', port: 1, user: 'claw', key: '/k', knownHosts: '/kh' },
};

test('a run that lost the lead during a step starts no further step and no rollback', async () => {
  const cfg = await config({ hosts });
  const lead = new AbortController();
  const lines: string[] = [];
  const io = { progress: (m: string) => lines.push(m), detail: (m: string) => lines.push(m), signal: lead.signal };
  const ran: string[] = [];
  const runner = new Runner(
    cfg,
    io,
    systemClock(),
    async (step: any) => {
      ran.push(step.op);
      lead.abort('lost the etcd lead (test)'); // the watchdog fires while this step runs
      return { ok: true, detail: 'synced' };
    },
    async () => {
      ran.push('postgres');
      return { ok: true, detail: 'done' };
    },
  );
  const plan = {
    kind: 'failover',
    reason: 'test',
    steps: [
      { op: 'sync-last-chance', from: 'primary', to: 'standby', reason: 'r', onFail: 'continue' },
      { op: 'postgres', action: 'pause', reason: 'r', onFail: 'rollback' },
      {
        op: 'start',
        role: 'standby',
        methods: ['detached'],
        missed: 'stop-then-next',
        reason: 'r',
        onFail: 'rollback',
      },
    ],
    rollback: [{ op: 'postgres', action: 'resume', reason: 'r', onFail: 'continue' }],
  };
  try {
    const res = await runner.run(plan as any);
    assert.deepEqual(ran, ['sync-last-chance'], 'no step after the lead was lost, no rollback');
    assert.equal(res.ok, false);
    assert.equal(res.rollback, undefined);
    assert.match(res.failed.detail, /not started: lost the etcd lead/);
  } finally {
    await runner.close();
  }
});
