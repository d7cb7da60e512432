// The outbox (src/state/outbox.ts) and its sender (Alerts.drain, src/adapters/alerts.ts) over
// random sequences (fast-check): events raised; runs draining, alone or two at once; channels
// answering ok, refusing for good (400) or failing for now; a run that dies between a send and
// its record; an outbox section that stays busy past its wait when a delivery is recorded; and,
// in some sequences, a channel that cannot work at all (no URL).
// Property: every event the lifecycle let out reaches every working channel exactly once (or is
// given up there after a permanent refusal) — more than once only after a run died between the
// send and its record — none lost; and every event the broken channel lacks counts its failed
// tries there, so the outbox's cap can drop it (review #4, #5, #9).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Outbox } from '../../dist/state/outbox.js';
import { withFileLock } from '../../dist/state/lock.js';
import { LockedError } from '../../dist/errors.js';
import { Alerts } from '../../dist/adapters/alerts.js';
import { event } from '../../dist/alerts/events.js';
import { recordRun } from '../../dist/backup/record.js';
import { crashed } from '../../dist/backup/plan.js';
import { runMemoryStep } from '../../dist/memory/steps.js';
import { Reporter } from '../../dist/output.js';
import { config } from './helpers.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const CHANNELS = ['chan-a', 'chan-b'];
const POLICY = { repeatEvery: 3600, maxRepeats: 2, resolveAfter: 0 };
const T0 = Date.parse('2026-12-01T10:00:00Z');

type Fault = 'locked' | 'crash';
/** The real outbox, whose next records can fail as a busy section (LockedError) or a run that dies. */
class FaultyOutbox extends Outbox {
  faults: Fault[] = [];
  crashed = 0;
  override async record(...args: Parameters<Outbox['record']>): Promise<void> {
    const f = this.faults.shift();
    if (f === 'crash') {
      this.crashed++;
      throw new Error('the run died between the send and its record');
    }
    if (f === 'locked') throw new LockedError(`${this.file}.lock: held by another run, for more than 10 s`);
    return super.record(...args);
  }
}

describe('outbox: exactly once per channel over random sequences, through the real drain', () => {
  const raise = fc.record({
    op: fc.constant('raise'),
    key: fc.constantFrom('service', 'both-down', 'standby-lost:pc2', null),
    kind: fc.constantFrom('failover-done', 'escalation', 'both-down', 'standby-lost', 'paused'),
    phase: fc.constantFrom('open', 'open', 'resolve'),
  });
  const drain = fc.record({
    op: fc.constant('drain'),
    channel: fc.constantFrom(...CHANNELS),
    answers: fc.array(fc.constantFrom('ok', 'ok', 'ok', 'permanent', 'temporary'), { maxLength: 6 }),
    runs: fc.constantFrom(1, 1, 2),
    fault: fc.constantFrom(undefined, undefined, 'locked', 'crash'),
  });

  test('every event let out reaches every channel once, or is given up there for good', async () => {
    const cfg = await config({ alerts: { prefix: '[t]' } });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(raise, drain), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        async (steps, withBroken) => {
          const dir = mkdtempSync(join(tmpdir(), 'hactl-outbox-prop-'));
          dirs.push(dir);
          const box = new FaultyOutbox(dir, 10_000);
          /** Per channel and event id: deliveries and give-ups seen. */
          const got = new Map<string, number>();
          const gaveUp = new Set<string>();
          const seen = new Set<string>();
          const script: Record<string, string[]> = Object.fromEntries(CHANNELS.map((c) => [c, []]));
          const fake = (id: string) => ({
            id,
            name: 'webhook',
            timeoutMs: 1000,
            async send(e: any, mid: string) {
              seen.add(mid);
              const a = script[id]!.shift() ?? 'ok';
              const k = `${id}/${mid}`;
              const short = /\[shortened: /.test(e.message);
              if (a === 'ok') {
                got.set(k, (got.get(k) ?? 0) + 1);
                return { ok: true };
              }
              if (short) gaveUp.add(k);
              if (a === 'permanent') return { ok: false, permanent: true, message: '400' };
              return { ok: false, permanent: false, message: 'no answer', timeout: true };
            },
          });
          const channels = CHANNELS.map(fake);
          const broken = { ...fake('broken'), problem: 'alerts.webhooks[2]: no URL (set HOOK_URL)' };
          const run = () => {
            const a = new Alerts(cfg);
            Object.defineProperty(a, 'outbox', { value: box });
            (a.channels as any[]).push(...channels, ...(withBroken ? [broken] : []));
            return a.flush().catch((e: Error) => {
              if (!/the run died/.test(e.message)) throw e;
            });
          };
          /** After a run died, its other channels may still be draining: wait for every sender lock. */
          const settled = () =>
            Promise.all(CHANNELS.map((c) => withFileLock(box.senderLock(c), async () => undefined, 10_000)));
          const note = async () => (await box.list()).filter((p) => !p.raw).forEach((p) => seen.add(p.id));
          let t = 0;
          for (const s of steps as any[]) {
            t += 60;
            if (s.op === 'raise') {
              const at = new Date(T0 + t * 1000);
              const e = event(s.kind, 'high', s.key ? s.phase : 'notice', `${s.kind} at ${t}`, at, {
                ...(s.key ? { key: s.key } : {}),
              });
              await box.prepare([e], { policy: POLICY, now: at });
              await note();
            } else {
              script[s.channel] = [...s.answers];
              if (s.fault) box.faults = [s.fault];
              await Promise.all(Array.from({ length: s.runs }, run));
              await settled();
              box.faults = [];
              for (const c of CHANNELS) script[c] = [];
            }
          }
          await run(); // the channels answer: everything left goes out
          await settled();
          for (const id of seen) {
            for (const c of CHANNELS) {
              const k = `${c}/${id}`;
              const n = got.get(k) ?? 0;
              if (gaveUp.has(k) && n === 0) continue;
              assert.ok(n >= 1, `${id} lost on ${c}`);
              assert.ok(n <= 1 + box.crashed, `${id} sent ${n} times on ${c} (runs died: ${box.crashed})`);
            }
          }
          const left = (await box.list()).filter((p) => !p.raw);
          if (!withBroken) assert.deepEqual(left, [], 'nothing left, nothing lost');
          for (const p of left) {
            assert.ok(
              CHANNELS.every((c) => p.done?.includes(c)),
              'only the broken channel lacks it',
            );
            assert.ok((p.channels?.broken?.tries ?? 0) >= 1, 'a failed try on the broken channel: the cap applies');
            assert.match(p.lastError ?? '', /broken: .*no URL/);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('outbox: from an older hactl', () => {
  test('a ledger and texts written before typed events: the texts are sent as they were, nothing throws', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-outbox-old-'));
    dirs.push(dir);
    const old = {
      version: 1,
      pending: [{ id: 'a1', at: '2026-11-30T00:00:00.000Z', text: '[t] 🔴 FAILOVER FAILED — x', tries: 2 }],
      incidents: {
        service: {
          openedAt: '2026-11-30T00:00:00.000Z',
          lastSentAt: '2026-11-30T00:00:00.000Z',
          sent: 1,
          repeats: 0,
          held: 0,
          worst: 'critical',
          last: {
            text: '[t] 🔴 FAILOVER FAILED — x',
            message: 'FAILOVER FAILED — x',
            severity: 'critical',
            event: 'failed',
          },
        },
      },
    };
    writeFileSync(join(dir, 'outbox.json'), JSON.stringify(old));
    const box = new Outbox(dir);
    const at = new Date('2026-12-01T10:00:00Z');
    const offline = event('failover-done', 'high', 'open', 'pc1 OFFLINE', at, { key: 'service' });
    await box.prepare([offline], { policy: POLICY, now: at });
    const list = await box.list();
    assert.deepEqual(
      list.map((p) => [p.event.kind, p.event.message]),
      [
        ['dropped', '[t] 🔴 FAILOVER FAILED — x'],
        ['failover-done', 'pc1 OFFLINE'],
      ],
    );
  });
});

describe("a domain's events are queued before its record is written (review #1)", () => {
  /** An outbox that cannot take events for a while (its section busy past the wait, a full disk). */
  class StuckOutbox extends Outbox {
    stuck = false;
    override add(...events: Parameters<Outbox['add']>): Promise<void> {
      if (this.stuck) return Promise.reject(new LockedError(`${this.file}.lock: held, for more than 30 s`));
      return super.add(...events);
    }
  }
  test('backup: a resolve the outbox could not take is raised again by the next run, never lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-raise-order-'));
    dirs.push(dir);
    const cfg = await config({ stateDir: dir, alerts: { prefix: '[t]' } });
    const alerts = new Alerts(cfg);
    const box = new StuckOutbox(dir);
    Object.defineProperty(alerts, 'outbox', { value: box });
    // As src/commands/backup-tier.ts records a run: the alert queued inside the record's section.
    const runOnce = (o: any, s: number) =>
      recordRun(cfg, o, { tier: 't1', prefix: '[t]', now: new Date(T0 + s * 1000), ms: 1 }, (e: any) =>
        alerts.queue([e]),
      );
    const failed = await runOnce(crashed('t1', 'host b unreachable'), 0);
    assert.equal(failed?.phase, 'open');
    const ok = { result: 'ok', line: 'OK: snapshot s1', snapshot: 's1', files: 1, bytes: 1, sent: 1 };
    box.stuck = true;
    await assert.rejects(runOnce(ok, 60), LockedError, 'the error is not swallowed');
    box.stuck = false;
    const again = await runOnce(ok, 120);
    assert.equal(again?.phase, 'resolve', 'the record still held the problem: the resolve is raised again');
    assert.deepEqual(
      (await box.list()).map((p) => p.event.phase),
      ['open', 'resolve'],
    );
  });

  test('memory: a problem the outbox could not take is raised again by the next sync-back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-raise-order-'));
    dirs.push(dir);
    // Both hosts on a closed local port: the sync-back fails at once (connection refused).
    const host = { address: '127.0.0.1', port: 1, user: 'claw', key: '/k', knownHosts: '/kh' };
    const cfg = await config({
      stateDir: dir,
      hosts: { pc1: host, pc2: host },
      memory: { enabled: true, root: '.openclaw', include: ['workspace/**'] },
    });
    const out = new Reporter({} as any);
    // The outbox cannot be written (its lock path is taken by a directory): the event cannot be queued.
    mkdirSync(join(dir, 'outbox.json.lock'));
    const first = await runMemoryStep(cfg, { op: 'sync-back' } as any, out);
    assert.equal(first.ok, false);
    assert.match(first.detail, /alert not queued, memory record not updated/, 'said, not swallowed');
    assert.equal(existsSync(join(dir, 'memory.json')), false, 'the record is not written without its event');
    rmSync(join(dir, 'outbox.json.lock'), { recursive: true });
    await runMemoryStep(cfg, { op: 'sync-back' } as any, out);
    const box = JSON.parse(readFileSync(join(dir, 'outbox.json'), 'utf8'));
    assert.deepEqual(
      box.pending.map((p: any) => `${p.event.kind}/${p.event.phase}`),
      ['memory-problem/open'],
    );
  });
});
