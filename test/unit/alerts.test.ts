// Alerts through node-telegram-bot-api against a local Bot API server: kept when
// undelivered, delivered in order later, token redacted; a text Telegram refuses for good
// (400) is shortened and never blocks the alerts behind it; a temporary failure is retried.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Alerts } from '../../dist/adapters/telegram.js';
import { event } from '../../dist/alerts/events.js';
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
beforeEach(() => {
  tg.mode = 'ok';
  tg.sent.length = 0;
  tg.maxLength = Infinity;
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
  return { a: new Alerts(c), c, outbox: join(c.stateDir, 'outbox.json') };
}
/** A notice: each one is its own event. */
const note = (m: string) => event('test', 'low', 'notice', m, new Date());
const pending = (file: string) => JSON.parse(readFileSync(file, 'utf8')).pending;

describe('alerts', () => {
  test('a run with nothing to say or send neither locks nor writes the outbox (issue 25)', async () => {
    const { a, c, outbox } = await alerts();
    assert.equal((await a.send(note('hello'))).sent, 1);
    const locks = () => readdirSync(c.stateDir).filter((f) => f.endsWith('.lock'));
    for (const f of locks()) rmSync(join(c.stateDir, f));
    const before = statSync(outbox).ino;
    const r = await a.flush([]);
    assert.deepEqual([r.sent, r.pending, r.errors], [0, 0, []]);
    assert.equal(statSync(outbox).ino, before, 'outbox.json not written again');
    assert.deepEqual(locks(), [], 'no lock file opened: no flock(1) taken');
    tg.mode = 'hang';
    assert.equal((await a.send(note('kept'))).pending, 1);
    tg.mode = 'ok';
    const later = await a.flush([]);
    assert.equal(later.sent, 1, 'a pending event is still sent by a run that raises nothing');
    assert.equal(tg.sent.at(-1)!.text, '[t] ℹ️ kept');
  });

  test('delivered at once when the API answers, rendered for Telegram', async () => {
    const { a } = await alerts();
    const r = await a.send(note('hello'));
    assert.equal(r.sent, 1);
    assert.equal(tg.sent[0]!.text, '[t] ℹ️ hello');
    assert.equal(tg.sent[0]!.chatId, '7');
  });

  test('a hanging API is given up; the event is kept (as an event), then delivered in order', async () => {
    tg.mode = 'hang';
    const { a, outbox } = await alerts();
    const r = await a.send(note('first'));
    assert.equal(r.sent, 0);
    assert.equal(r.pending, 1);
    assert.match(r.errors[0]!, /kept for the next run/);
    await a.send(note('second'));
    assert.deepEqual(
      pending(outbox).map((p: any) => [p.event.kind, p.event.message]),
      [
        ['test', 'first'],
        ['test', 'second'],
      ],
    );
    assert.ok(!readFileSync(outbox, 'utf8').includes(TOKEN));
    tg.mode = 'ok';
    const f = await a.flush();
    assert.equal(f.sent, 2);
    assert.deepEqual(tg.texts(), ['[t] ℹ️ first', '[t] ℹ️ second']);
    assert.deepEqual(pending(outbox), []);
  });

  test('issue 22 #2: a 13,000-character failure is delivered shortened and the next 5 are not delayed', async () => {
    tg.maxLength = 4096; // answers 400 "message is too long" above Telegram's limit, as Telegram does
    const { a, outbox } = await alerts();
    const detail = 'rsync: connection unexpectedly closed; '.repeat(340);
    const failed = event(
      'failover-failed',
      'critical',
      'open',
      `FAILOVER FAILED — pc2 did not take over, at start: ${detail}`,
      new Date(),
      {
        key: 'service',
        by: 'automatic: hactl --auto on w1',
      },
    );
    assert.ok(failed.message.length > 13_000);
    const r = await a.send(failed);
    assert.equal(r.sent, 1);
    for (let i = 0; i < 5; i++) assert.equal((await a.send(note(`next ${i}`))).sent, 1, `next ${i}`);
    const texts = tg.texts();
    assert.equal(texts.length, 6);
    assert.ok(texts[0]!.length <= 4096);
    assert.match(texts[0]!, /^\[t\] 🔴 FAILOVER FAILED — pc2 did not take over, at start: rsync/);
    assert.match(texts[0]!, /… \(automatic: hactl --auto on w1\)$/);
    assert.deepEqual(
      texts.slice(1),
      [0, 1, 2, 3, 4].map((i) => `[t] ℹ️ next ${i}`),
    );
    assert.deepEqual(pending(outbox), []);
  });

  test('a text refused for good (400) goes out as its short form, and the queue moves on', async () => {
    tg.maxLength = 700; // a stand-in stricter than Telegram: even the fitted text is refused
    const { a, outbox } = await alerts();
    const long = event('memory-problem', 'medium', 'open', 'x'.repeat(2000), new Date(), { key: 'memory' });
    const r = await a.send([long, note('after')]);
    assert.equal(r.sent, 2);
    const texts = tg.texts();
    assert.match(texts[0]!, /^\[t\] 🟡 x+… \[shortened: the full alert was refused \(TelegramApiError: .*too long/);
    assert.equal(texts[1], '[t] ℹ️ after');
    assert.deepEqual(pending(outbox), []);
  });

  test('a temporary failure (500) is retried within the run with backoff', async () => {
    const { a } = await alerts();
    tg.mode = 'server-error';
    const before = tg.requests;
    const r = await a.send(note('retried'));
    assert.equal(r.sent, 0);
    assert.equal(tg.requests - before, 3, 'one try and two retries');
    tg.mode = 'ok';
    assert.equal((await a.flush()).sent, 1);
    assert.deepEqual(tg.texts(), ['[t] ℹ️ retried']);
  });

  test('runs that queue alerts at the same time lose none of them', async () => {
    tg.mode = 'unauthorized';
    const { a, c, outbox } = await alerts();
    const b = new Alerts(c);
    await Promise.all([...Array(8)].flatMap((_, i) => [a.send(note(`a${i}`)), b.send(note(`b${i}`))]));
    const texts = pending(outbox)
      .map((p: any) => p.event.message)
      .sort();
    assert.equal(texts.length, 16, texts.join(' '));
    assert.ok(!readFileSync(outbox, 'utf8').includes(TOKEN), 'the token (part of the API URL) is redacted from errors');
  });
});
