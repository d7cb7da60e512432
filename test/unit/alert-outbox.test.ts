// The outbox (src/state/outbox.ts) over random sequences (fast-check): events raised, channels
// answering ok, refusing for good (400) or failing for now (5xx), runs draining in between.
// Property: every event the lifecycle let out reaches every channel exactly once (or is given
// up by that channel after a permanent refusal), none twice, none lost, whatever the order.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Outbox } from '../../dist/state/outbox.js';
import { event } from '../../dist/alerts/events.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const CHANNELS = ['telegram', 'webhook-1'];
const POLICY = { repeatEvery: 3600, maxRepeats: 2, resolveAfter: 0 };
const T0 = Date.parse('2026-12-01T10:00:00Z');

describe('outbox: exactly once per channel over random sequences', () => {
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
  });

  test('every event let out reaches every channel once, or is given up there for good', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(raise, drain), { minLength: 1, maxLength: 25 }), async (steps) => {
        const dir = mkdtempSync(join(tmpdir(), 'hactl-outbox-prop-'));
        dirs.push(dir);
        const box = new Outbox(dir);
        /** Per channel and event id: deliveries and give-ups seen. */
        const got = new Map<string, number>();
        const seen = new Set<string>();
        let t = 0;
        const note = async () => (await box.list()).filter((p) => !p.raw).forEach((p) => seen.add(p.id));
        const send = async (channel: string, answers: string[]) => {
          for (let i = 0; ; i++) {
            const m = await box.nextFor(channel);
            if (!m) return;
            const a = answers[i] ?? 'ok';
            if (a === 'temporary') {
              await box.record(m.id, channel, { ok: false, permanent: false, message: '502' }, CHANNELS);
              return; // the channel stops for this run
            }
            const k = `${channel}/${m.id}`;
            got.set(k, (got.get(k) ?? 0) + 1);
            const r =
              a === 'ok' ? { ok: true as const } : { ok: false as const, permanent: true as const, message: '400' };
            await box.record(m.id, channel, r, CHANNELS);
          }
        };
        for (const s of steps as any[]) {
          t += 60;
          if (s.op === 'raise') {
            const at = new Date(T0 + t * 1000);
            const e = event(s.kind, 'high', s.key ? s.phase : 'notice', `${s.kind} at ${t}`, at, {
              ...(s.key ? { key: s.key } : {}),
            });
            await box.prepare([e], { policy: POLICY, now: at });
            await note();
          } else await send(s.channel, s.answers);
        }
        for (const c of CHANNELS) await send(c, []);
        for (const id of seen) {
          for (const c of CHANNELS) assert.equal(got.get(`${c}/${id}`), 1, `${id} on ${c}`);
        }
        assert.deepEqual(await box.list(), [], 'nothing left, nothing lost');
        // The all-time counts (hactl_alerts_total) saw every delivery and give-up, once.
        const file = join(dir, 'outbox.json');
        const counts = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')).counts ?? {}) : {};
        for (const c of CHANNELS) {
          const n = [...got].filter(([k]) => k.startsWith(`${c}/`)).reduce((a, [, v]) => a + v, 0);
          assert.equal((counts[c]?.delivered ?? 0) + (counts[c]?.gave_up ?? 0), n, c);
        }
      }),
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
