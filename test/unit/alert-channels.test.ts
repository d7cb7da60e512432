// Delivery to several channels through the outbox (src/adapters/alerts.ts): each alert
// reaches each channel exactly once, even from runs sending at the same time; a channel
// that fails is retried later and holds back no other; old outbox entries still go out.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Alerts } from '../../dist/adapters/telegram.js';
import { FakeTelegram } from '../lab/telegram.ts';
import { Receiver } from '../lab/receiver.ts';
import { config } from './helpers.ts';

const TOKEN = '999:unit-channels-secret';
let tg: FakeTelegram;
let rx: Receiver;
const dirs: string[] = [];
before(async () => {
  tg = await new FakeTelegram().start();
  rx = await new Receiver().start();
  process.env.HACTL_TELEGRAM_TOKEN = TOKEN;
});
after(async () => {
  await tg.stop();
  await rx.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(() => {
  tg.sent.length = 0;
  tg.mode = 'ok';
  rx.got.length = 0;
  rx.failing.clear();
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-channels-'));
  dirs.push(dir);
  const c = await config({
    stateDir: dir,
    alerts: {
      prefix: '[t]',
      telegram: { chatId: 7, apiRoot: tg.url, timeout: 2 },
      webhooks: [
        { url: `${rx.url}/discord/hook-token-abcdefghijklmnop`, format: 'discord' },
        { url: `${rx.url}/slack/hook-token-qrstuvwxyz012345`, format: 'slack' },
      ],
    },
  });
  return { c, outbox: join(dir, 'outbox.json') };
}
const D = '/discord/hook-token-abcdefghijklmnop';
const S = '/slack/hook-token-qrstuvwxyz012345';

describe('channels', () => {
  test('runs sending at the same time: every alert reaches every channel exactly once', async () => {
    const { c, outbox } = await setup();
    const a = new Alerts(c);
    const b = new Alerts(c);
    await Promise.all([...Array(6)].flatMap((_, i) => [a.send(`a${i}`), b.send(`b${i}`)]));
    const want = [...Array(6)].flatMap((_, i) => [`a${i}`, `b${i}`]).sort();
    assert.deepEqual(tg.texts().sort(), want);
    assert.deepEqual(
      rx
        .at(D)
        .map((r) => r.body.embeds[0].description)
        .sort(),
      want,
    );
    assert.deepEqual(
      rx
        .at(S)
        .map((r) => r.body.blocks[0].text.text.replace(/^.*: /, ''))
        .sort(),
      want,
    );
    assert.deepEqual(JSON.parse(readFileSync(outbox, 'utf8')).pending, []);
  });

  test('a failing channel holds back no other, and gets its alerts once when it answers again', async () => {
    const { c, outbox } = await setup();
    rx.failing.add(S);
    const r = await new Alerts(c).send('one');
    await new Alerts(c).send('two');
    assert.match(r.errors[0]!, /kept for the next run.*webhook-[0-9a-f]{8}: webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\*/);
    assert.deepEqual(tg.texts(), ['one', 'two']);
    assert.equal(rx.at(D).length, 2);
    const box = JSON.parse(readFileSync(outbox, 'utf8'));
    assert.equal(box.pending.length, 2, 'kept for the Slack hook');
    assert.ok(!readFileSync(outbox, 'utf8').includes('hook-token'), 'the URL token is not in the outbox');
    rx.failing.delete(S);
    const f = await new Alerts(c).flush();
    assert.equal(f.sent, 2);
    assert.equal(rx.at(S).length, 2);
    assert.deepEqual(tg.texts(), ['one', 'two'], 'not again to Telegram');
    assert.equal(rx.at(D).length, 2, 'not again to Discord');
    assert.deepEqual(JSON.parse(readFileSync(outbox, 'utf8')).pending, []);
  });

  test('an outbox written before channels and lifecycle (text only) is delivered everywhere', async () => {
    const { c, outbox } = await setup();
    const old = {
      version: 1,
      pending: [{ id: 'x1', at: '2026-11-30T00:00:00.000Z', text: '[t] 🔴 FAILOVER FAILED — x', tries: 1 }],
    };
    writeFileSync(outbox, JSON.stringify(old));
    await new Alerts(c).flush();
    assert.deepEqual(tg.texts(), ['[t] 🔴 FAILOVER FAILED — x']);
    assert.match(rx.at(D)[0]!.body.content, /^🔴 \*\*CRITICAL\*\*: FAILOVER FAILED — x/);
    assert.equal(rx.at(S).length, 1);
  });
});
