// Alerts through node-telegram-bot-api against a local Bot API server:
// kept when undelivered, delivered in order later, capped, token redacted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Alerts } from '../../dist/adapters/telegram.js';
import { FakeTelegram } from '../lab/telegram.ts';
import { config } from './helpers.ts';

const TOKEN = '999:unit-secret';
let tg: FakeTelegram;
before(async () => {
  tg = await new FakeTelegram().start();
  process.env.HACTL_TELEGRAM_TOKEN = TOKEN;
});
after(async () => {
  await tg.stop();
});

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
async function alerts() {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-alerts-'));
  dirs.push(dir);
  const c = await config({
    stateDir: dir,
    alerts: { prefix: '[t]', telegram: { chatId: 7, apiRoot: tg.url, timeout: 1 } },
  });
  return { a: new Alerts(c), outbox: join(c.stateDir, 'outbox.json') };
}

describe('alerts', () => {
  test('delivered at once when the API answers', async () => {
    tg.mode = 'ok';
    tg.sent.length = 0;
    const { a } = await alerts();
    const r = await a.send('hello');
    assert.equal(r.sent, 1);
    assert.equal(tg.sent[0]!.text, 'hello');
    assert.equal(tg.sent[0]!.chatId, '7');
  });

  test('a hanging API is given up; the alert is kept, then delivered in order', async () => {
    tg.mode = 'hang';
    tg.sent.length = 0;
    const { a, outbox } = await alerts();
    const r = await a.send('first');
    assert.equal(r.sent, 0);
    assert.equal(r.pending, 1);
    assert.match(r.errors[0]!, /kept for the next run/);
    await a.send('second');
    const box = JSON.parse(readFileSync(outbox, 'utf8'));
    assert.deepEqual(
      box.pending.map((p: any) => p.text),
      ['first', 'second'],
    );
    assert.ok(!readFileSync(outbox, 'utf8').includes(TOKEN));
    tg.mode = 'ok';
    const f = await a.flush();
    assert.equal(f.sent, 2);
    assert.deepEqual(
      tg.sent.map((s) => s.text),
      ['first', 'second'],
    );
  });

  test('an undeliverable outbox is capped, keeping the newest, and says how many were dropped', async () => {
    tg.mode = 'unauthorized';
    tg.sent.length = 0;
    const { a, outbox } = await alerts();
    for (let i = 1; i <= 25; i++) await a.send(`alert ${i}`);
    const box = JSON.parse(readFileSync(outbox, 'utf8'));
    assert.equal(box.pending.length, 20);
    assert.equal(box.pending[0].text, '(5 older undelivered alert(s) dropped) alert 6');
    assert.equal(box.pending[19].text, 'alert 25');
    assert.match(box.pending[19].lastError, /401|Unauthorized/);
    assert.ok(!box.pending[19].lastError.includes(TOKEN), 'the token (part of the API URL) is redacted from errors');
  });

  test('runs that queue alerts at the same time lose none of them', async () => {
    tg.mode = 'fail';
    const { a, outbox } = await alerts();
    const { Alerts: A2 } = await import('../../dist/adapters/telegram.js');
    const b = new A2((a as any).config);
    await Promise.all([...Array(8)].flatMap((_, i) => [a.send(`a${i}`), b.send(`b${i}`)]));
    const texts = JSON.parse(readFileSync(outbox, 'utf8'))
      .pending.map((p: any) => p.text)
      .sort();
    assert.equal(texts.length, 16, texts.join(' '));
  });
});

describe('incident lifecycle (src/alerts/incident.ts)', async () => {
  const { stepIncident, duration } = await import('../../dist/alerts/incident.js');
  const T0 = new Date('2026-11-22T12:00:00Z');
  const t = (s: number) => new Date(T0.getTime() + s * 1000);
  const policy = { repeatEvery: 3600, maxRepeats: 2 };
  const texts = {
    open: 'down',
    repeat: (s: number, n: number) => `still down after ${duration(s)} (${n})`,
    resolved: (s: number) => `back after ${duration(s)}`,
  };
  // Each row: seconds, active -> transition, alert.
  const rows: Array<[number, boolean, string, string | undefined]> = [
    [0, false, 'none', undefined],
    [10, true, 'opened', 'down'],
    [20, true, 'ongoing', undefined],
    [3610, true, 'repeated', 'still down after 60 min (1)'],
    [7210, true, 'repeated', 'still down after 2.0 h (2)'],
    [10810, true, 'ongoing', undefined], // capped: two repeats at most
    [10900, false, 'resolved', 'back after 3.0 h'],
    [11000, false, 'none', undefined],
  ];
  test('open -> repeat (capped) -> resolved, as a table', () => {
    let incidents = {};
    for (const [s, active, transition, alert] of rows) {
      const r = stepIncident(incidents, 'k', active, t(s), policy, texts);
      assert.equal(r.transition, transition, `at ${s} s`);
      assert.equal(r.alert, alert, `at ${s} s`);
      incidents = r.incidents;
    }
    assert.deepEqual(incidents, {});
  });
  test('without a repeat text an open incident stays quiet; other keys are untouched', () => {
    const other = { x: { openedAt: T0.toISOString(), lastSentAt: T0.toISOString(), sent: 1 } };
    const r1 = stepIncident(other, 'k', true, t(0), policy, { open: 'o', resolved: () => 'r' });
    const r2 = stepIncident(r1.incidents, 'k', true, t(99999), policy, { open: 'o', resolved: () => 'r' });
    assert.equal(r2.transition, 'ongoing');
    assert.deepEqual(Object.keys(r2.incidents).sort(), ['k', 'x']);
    assert.equal(duration(42), '42 s');
  });
});
