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
import { event } from '../../dist/alerts/events.js';
import { foldCheck, foldHold, foldMove } from '../../dist/failover/fold.js';
import { foldGuard } from '../../dist/guard/fold.js';
import { initialState } from '../../dist/core/model.js';

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

const note = (m: string) => event('test', 'low', 'notice', m, new Date());
const discordText = (r: any) => r.body.embeds[0].description;
const slackText = (r: any) => r.body.blocks[0].text.text.replace(/^.*?: /, '');

describe('channels', () => {
  test('runs sending at the same time: every alert reaches every channel exactly once', async () => {
    const { c, outbox } = await setup();
    const a = new Alerts(c);
    const b = new Alerts(c);
    await Promise.all([...Array(6)].flatMap((_, i) => [a.send(note(`a${i}`)), b.send(note(`b${i}`))]));
    // A run that found a channel's sender busy left its event to the holder; a later run sends what is left.
    await new Alerts(c).flush();
    const want = [...Array(6)].flatMap((_, i) => [`a${i}`, `b${i}`]).sort();
    assert.deepEqual(
      tg
        .texts()
        .map((t) => t.replace('[t] ℹ️ ', ''))
        .sort(),
      want,
    );
    assert.deepEqual(rx.at(D).map(discordText).sort(), want);
    assert.deepEqual(rx.at(S).map(slackText).sort(), want);
    assert.deepEqual(JSON.parse(readFileSync(outbox, 'utf8')).pending, []);
  });

  test('a failing channel holds back no other, and gets its alerts once when it answers again', async () => {
    const { c, outbox } = await setup();
    rx.failing.add(S);
    const r = await new Alerts(c).send(note('one'));
    await new Alerts(c).send(note('two'));
    assert.match(r.errors[0]!, /kept for the next run.*webhook-[0-9a-f]{8}: webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\*/);
    assert.deepEqual(tg.texts(), ['[t] ℹ️ one', '[t] ℹ️ two']);
    assert.equal(rx.at(D).length, 2);
    const box = JSON.parse(readFileSync(outbox, 'utf8'));
    assert.equal(box.pending.length, 2, 'kept for the Slack hook');
    assert.ok(!readFileSync(outbox, 'utf8').includes('hook-token'), 'the URL token is not in the outbox');
    rx.failing.delete(S);
    const f = await new Alerts(c).flush();
    assert.equal(f.sent, 2);
    assert.equal(rx.at(S).length, 2);
    assert.equal(tg.texts().length, 2, 'not again to Telegram');
    assert.equal(rx.at(D).length, 2, 'not again to Discord');
    assert.deepEqual(JSON.parse(readFileSync(outbox, 'utf8')).pending, []);
  });

  test('an outbox written before typed events (text only) is delivered everywhere as it was', async () => {
    const { c, outbox } = await setup();
    const old = {
      version: 1,
      pending: [{ id: 'x1', at: '2026-11-30T00:00:00.000Z', text: '[t] 🔴 FAILOVER FAILED — x', tries: 1 }],
    };
    writeFileSync(outbox, JSON.stringify(old));
    await new Alerts(c).flush();
    assert.deepEqual(tg.texts(), ['[t] 🔴 FAILOVER FAILED — x']);
    assert.equal(discordText(rx.at(D)[0]), '[t] 🔴 FAILOVER FAILED — x');
    assert.equal(rx.at(S).length, 1);
  });
});

describe('issue 22 acceptance, through the folds and every channel', () => {
  const ob = (status: string) => ({ status, detail: `${status} detail`, confirmed: true });
  const obs = (p: string, s: string) => ({ primary: ob(p), standby: ob(s) }) as any;

  test('escalation, the primary back by itself ("resolved" sent), a power loss: OFFLINE on every channel', async () => {
    const { c } = await setup();
    const t0 = Date.now();
    const at = (s: number) => new Date(t0 + s * 1000);
    // Three failed automatic failovers, recorded as hactl records them (foldMove), reach the escalation.
    const failing: any = {
      kind: 'failover',
      cause: 'unreachable',
      by: { auto: true, who: 'hactl --auto on w' },
      steps: [{ op: 'record', serving: 'standby' }],
      rollback: [],
      reason: 'pc1 unreachable',
    };
    const failed: any = { ok: false, outcomes: [], failed: { op: 'start', detail: 'pc2: start timed out' } };
    let state: any = initialState(at(0));
    for (let i = 0; i < 3; i++) state = foldMove(c, state, failing, failed, at(0), at(0)).state;
    assert.equal(state.failover.attempts, 3);
    const hold = foldHold(
      c,
      state,
      { act: false, exitCode: 2, reason: 'x', escalate: { what: 'failover', alert: '' } } as any,
      at(0),
    );
    await new Alerts(c).send(hold.alerts);
    const back = foldCheck(c, hold.state, obs('healthy', 'gateway-down'), at(600));
    await new Alerts(c).send(back.alerts);
    const plan: any = {
      kind: 'failover',
      cause: 'unreachable',
      by: { auto: true, who: 'hactl --auto on w' },
      steps: [],
      rollback: [],
      reason: 'x',
    };
    const moved = foldMove(c, back.state, plan, { ok: true, outcomes: [] } as any, at(1560), at(1570));
    await new Alerts(c).send(moved.alerts);
    const want = [
      /ESCALATION: 3 failover attempts/,
      /pc1 serves again/,
      /pc1 OFFLINE \(unreachable\) — pc2 takes over/,
    ];
    for (const [name, texts] of [
      ['telegram', tg.texts()],
      ['discord', rx.at(D).map(discordText)],
      ['slack', rx.at(S).map(slackText)],
    ] as const) {
      assert.equal(texts.length, 3, `${name}: ${texts.join(' | ')}`);
      want.forEach((re, i) => assert.match(texts[i]!, re, name));
    }
    assert.match(tg.texts()[0]!, /^\[t\] 🔴 ESCALATION/);
    assert.match(tg.texts()[1]!, /^\[t\] ✅ pc1 serves again: .*\(lasted \d+ min\)$/);
    assert.match(tg.texts()[2]!, /^\[t\] 🟠 pc1 OFFLINE/);
  });

  test("the guard's stop failure is critical (🔴) on every channel", async () => {
    const { c } = await setup();
    const o: any = { self: 'pc1', peer: 'pc2', peerAnswers: false, permit: { left: -90 } };
    const plan: any = { contact: 'nobody', action: 'stop', reason: 'lease expired', exitCode: 2 };
    const f = foldGuard(undefined, o, plan, { ok: false, detail: 'systemctl timed out' }, new Date(), '[t]');
    await new Alerts(c).send(f.alert!);
    assert.match(tg.texts()[0]!, /^\[t\] 🔴 pc1 holds no live serving permit and its guard could NOT stop its gateway/);
    assert.match(rx.at(D)[0]!.body.content, /^\[t\] 🔴 \*\*CRITICAL\*\*: pc1 holds no live serving permit/);
    assert.match(rx.at(S)[0]!.body.blocks[0].text.text, /^\[t\] 🔴 \*CRITICAL\*: pc1 holds no live serving permit/);
  });
});
