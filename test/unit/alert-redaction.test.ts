// Redaction never touches state (issue 22 #6): a secret equal to a state word ("primary")
// turned "serving": "primary" into "***", and state.json was set aside and rebuilt.
// Redaction applies to text that leaves hactl: the history's string values, alert text.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addSecret } from '../../dist/output.js';
import { appendLine, readJson } from '../../dist/state/files.js';
import { saveState, loadState } from '../../dist/context.js';
import { initialState } from '../../dist/core/model.js';
import { Alerts } from '../../dist/adapters/telegram.js';
import { event } from '../../dist/alerts/events.js';
import { Outbox } from '../../dist/state/outbox.js';
import { FakeTelegram } from '../lab/telegram.ts';
import { Receiver } from '../lab/receiver.ts';
import { config } from './helpers.ts';

let tg: FakeTelegram;
let rx: Receiver;
const dirs: string[] = [];
before(async () => {
  tg = await new FakeTelegram().start();
  rx = await new Receiver().start();
  process.env.HACTL_TELEGRAM_TOKEN = '999:redaction-secret';
});
after(async () => {
  await tg.stop();
  await rx.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'hactl-redact-'));
  dirs.push(d);
  return d;
};

describe('a secret equal to "primary"', () => {
  test('state.json still parses, passes its schema and says "primary"', async () => {
    addSecret('primary');
    const c = await config({ stateDir: fresh() });
    const st = { ...initialState(new Date()), serving: 'primary' as const };
    saveState(c, st);
    const raw = JSON.parse(readFileSync(join(c.stateDir, 'state.json'), 'utf8'));
    assert.equal(raw.serving, 'primary');
    const back = await readJson(join(c.stateDir, 'state.json'), 'state');
    assert.equal(back.serving, 'primary');
    const loaded = await loadState(c, new Date());
    assert.equal(loaded.serving, 'primary');
    assert.equal(loaded.rebuiltAt, undefined, 'not set aside and rebuilt');
  });

  test('a history line redacts string values only, and always parses', () => {
    addSecret('primary');
    addSecret('"a":1,');
    const f = join(fresh(), 'history.jsonl');
    appendLine(f, { serving: 'primary', note: 'x"a":1,y', primary: 1 });
    const line = JSON.parse(readFileSync(f, 'utf8').trim());
    assert.deepEqual(line, { serving: '***', note: 'x***y', primary: 1 });
  });

  test('the alert text that leaves hactl is redacted', async () => {
    addSecret('hunter2-webhook-secret');
    const c = await config({
      stateDir: fresh(),
      alerts: { prefix: '[t]', telegram: { chatId: 7, apiRoot: tg.url, timeout: 2 } },
    });
    tg.sent.length = 0;
    await new Alerts(c).send(event('test', 'low', 'notice', 'leaked hunter2-webhook-secret here', new Date()));
    assert.deepEqual(tg.texts(), ['[t] ℹ️ leaked *** here']);
  });
});

describe('secrets are redacted before an event is rendered, cut, escaped or queued (review #3, #8)', () => {
  const D = '/discord/redact-hook-abcdefghijklmnop';
  const S = '/slack/redact-hook-qrstuvwxyz012345';
  const G = '/generic/redact-hook-0123456789abcdef';
  async function setup() {
    tg.sent.length = 0;
    tg.mode = 'ok';
    rx.got.length = 0;
    rx.failing.clear();
    return config({
      stateDir: fresh(),
      alerts: {
        prefix: '[t]',
        telegram: { chatId: 7, apiRoot: tg.url, timeout: 2 },
        webhooks: [
          { url: `${rx.url}${D}`, format: 'discord' },
          { url: `${rx.url}${S}`, format: 'slack' },
          { url: `${rx.url}${G}`, format: 'generic' },
        ],
      },
    });
  }
  /** Everything that left hactl: the Telegram texts and the webhook bodies. */
  const wire = () => [...tg.texts(), ...rx.got.map((r: any) => JSON.stringify(r.body))].join('\n');

  test('a secret across the cut point: no part of it leaves', async () => {
    const secret = 'Qx7cutsecret-' + 'k'.repeat(40);
    const c = await setup();
    // Each channel cuts near its limit (Telegram 4,096, Discord 2,000, Slack 3,000): a secret at
    // each cut point, so without redaction first its first part would be sent. Queued before the
    // secret is known (an older run): the channel's own redaction is what is tested here.
    const at = (n: number) => 'w'.repeat(n) + secret;
    await new Outbox(c.stateDir).add(
      ...[4080, 1985, 2985].map((n) => event('test', 'low', 'notice', at(n), new Date())),
    );
    addSecret(secret);
    await new Alerts(c).flush();
    assert.ok(rx.got.length >= 9 && tg.texts().length === 3, 'every channel got every alert');
    assert.doesNotMatch(wire(), /Qx7cut/);
  });

  test("a secret with & < > (a URL's query, a password): not sent, escaped or not", async () => {
    const secret = 'pw&x<y>z-ampersand-secret';
    const c = await setup();
    const e = event('test', 'high', 'notice', `login failed with ${secret}`, new Date(), {
      facts: { stderr: `curl https://h/?token=${secret}` },
      list: [`item ${secret}`],
    });
    await new Outbox(c.stateDir).add(e); // queued before the secret is known: the channel redacts
    addSecret(secret);
    await new Alerts(c).flush();
    assert.equal(rx.at(S).length, 1);
    const out = wire();
    for (const part of ['ampersand-secret', 'pw&amp;x', 'x&lt;y']) assert.ok(!out.includes(part), part);
  });

  test('an event from host stderr carries no secret into outbox.json', async () => {
    const secret = 'stderr-secret-9f8e7d';
    addSecret(secret);
    const c = await setup();
    tg.mode = 'fail';
    rx.mode = 'fail';
    try {
      const e = event('memory-problem', 'high', 'open', `rsync: ${secret}`, new Date(), {
        key: 'memory',
        facts: { stderr: secret },
      });
      await new Alerts(c).send(e);
    } finally {
      rx.mode = 'ok';
    }
    const box = readFileSync(join(c.stateDir, 'outbox.json'), 'utf8');
    assert.match(box, /memory-problem/, 'kept for the next run');
    assert.ok(!box.includes(secret), box);
  });
});

describe('every webhook payload names the alert (review #6: delivery is at least once)', () => {
  test('generic, Discord and Slack carry the outbox id, the same on every channel and run', async () => {
    tg.sent.length = 0;
    rx.got.length = 0;
    rx.failing.clear();
    const G = '/generic/id-hook-0123456789abcdef';
    const D = '/discord/id-hook-abcdefghijklmnop';
    const S = '/slack/id-hook-qrstuvwxyz012345';
    const c = await config({
      stateDir: fresh(),
      alerts: {
        prefix: '[t]',
        webhooks: [
          { url: `${rx.url}${G}`, format: 'generic' },
          { url: `${rx.url}${D}`, format: 'discord' },
          { url: `${rx.url}${S}`, format: 'slack' },
        ],
      },
    });
    rx.failing.add(G);
    await new Alerts(c).send(event('test', 'low', 'notice', 'hello', new Date()));
    rx.failing.clear();
    await new Alerts(c).flush();
    // The generic receiver failed the first run (a failed post is not kept); the next run sent it.
    const ids = rx.at(G).map((r: any) => r.body.id);
    assert.equal(ids.length, 1);
    assert.match(ids[0], /^[0-9a-f]{12}$/);
    assert.match(rx.at(D)[0]!.body.embeds[0].footer.text, new RegExp(`alert ${ids[0]}$`));
    assert.match(JSON.stringify(rx.at(S)[0]!.body.blocks.at(-1)), new RegExp(`alert ${ids[0]}`));
  });
});
