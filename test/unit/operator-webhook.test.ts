// Webhook alerts: Discord- and Slack-shaped payloads (pure, as a table), and
// the transport against a real HTTP receiver on 127.0.0.1: delivered as JSON,
// one try only, a deadline, no redirect followed, the URL's token never shown.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cut, discordPayload, emojiFor, slackEscape, slackPayload } from '../../dist/alerts/webhook.js';
import { postWebhook } from '../../dist/adapters/webhook.js';
import { redact } from '../../dist/output.js';

const ALERT = {
  severity: 'critical' as const,
  source: 'hactl check on witness',
  message: 'pc-a OFFLINE (unreachable) — pc-b takes over <@everyone> & co',
  at: '2026-11-22T14:00:00.000Z',
  context: { host: 'pc-a', status: 'unreachable', failures: 2, escalated: false, detail: null },
  event: 'failover' as const,
};

describe('payloads', () => {
  const emojis: Array<[string, string | undefined, string]> = [
    ['critical', undefined, '🔴'],
    ['high', undefined, '🟠'],
    ['medium', undefined, '🟡'],
    ['low', undefined, 'ℹ️'],
    ['critical', 'failover', '⚠️'],
    ['low', 'failback', '✅'],
    ['high', 'failed', '🔴'],
    ['critical', 'both-down', '🔴'],
    ['low', 'resolved', '✅'],
    ['medium', 'problem', '⚠️'],
  ];
  for (const [severity, event, emoji] of emojis) {
    test(`${severity}${event ? ` / ${event}` : ''} -> ${emoji}`, () =>
      assert.equal(emojiFor({ severity, event } as never), emoji));
  }

  test('Discord: content, one embed with severity colour, time, source and context fields; mentions off', () => {
    const p = discordPayload(ALERT);
    assert.equal(p.content, `⚠️ **CRITICAL**: ${ALERT.message}`);
    assert.deepEqual(p.allowed_mentions, { parse: [] });
    const e = p.embeds[0]!;
    assert.equal(e.color, 0xd0021b);
    assert.equal(e.timestamp, ALERT.at);
    assert.equal(e.footer.text, ALERT.source);
    assert.deepEqual(
      e.fields.map((f) => [f.name, f.value]),
      [
        ['host', 'pc-a'],
        ['status', 'unreachable'],
        ['failures', '2'],
        ['escalated', 'false'],
        ['detail', '—'],
      ],
    );
  });

  test('Slack: fallback text, escaped mrkdwn, context fields, source and time', () => {
    const p = slackPayload(ALERT);
    assert.equal(p.text, `⚠️ CRITICAL: ${ALERT.message}`);
    const first = p.blocks[0] as { text: { text: string } };
    assert.equal(
      first.text.text,
      '⚠️ *CRITICAL*: pc-a OFFLINE (unreachable) — pc-b takes over &lt;@everyone&gt; &amp; co',
    );
    assert.equal((p.blocks[1] as { fields: unknown[] }).fields.length, 5);
    assert.deepEqual(p.blocks[2], {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${ALERT.source} · ${ALERT.at}` }],
    });
    assert.equal(slackEscape('a<b>&c'), 'a&lt;b&gt;&amp;c');
  });

  test("limits: a long message is cut to each service's maximum, never inside an emoji", () => {
    const long = {
      ...ALERT,
      message: '🔴'.repeat(5000),
      context: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(3000)])),
    };
    const d = discordPayload(long);
    assert.ok([...d.content].length <= 2000 && [...d.embeds[0]!.description].length <= 4096);
    assert.equal(d.embeds[0]!.fields.length, 25);
    assert.ok(d.embeds[0]!.fields.every((f) => f.value.length <= 1024));
    const s = slackPayload(long);
    assert.ok([...(s.blocks[0] as { text: { text: string } }).text.text].length <= 3000);
    assert.equal((s.blocks[1] as { fields: unknown[] }).fields.length, 10);
    assert.equal(cut('ab🔴cd', 4), 'ab🔴…');
  });
});

describe('postWebhook against a receiver on 127.0.0.1', () => {
  let server: Server;
  let base = '';
  const hits: Array<{ path: string; type?: string; body: unknown }> = [];
  const TOKEN = 'wh-token-3f9a8b7c6d5e4f3a2b1c';
  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let data = '';
      req.on('data', (d) => (data += d));
      req.on('end', () => {
        hits.push({ path: req.url ?? '', type: req.headers['content-type'], body: data ? JSON.parse(data) : null });
        if (req.url?.includes('/hang')) return; // never answers
        if (req.url?.includes('/fail')) {
          res.writeHead(500).end(`bad token ${TOKEN}`);
          return;
        }
        if (req.url?.includes('/moved')) {
          res.writeHead(302, { location: `${base}/api/webhooks/1/${TOKEN}` }).end();
          return;
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test('Discord- and Slack-shaped payloads arrive as JSON', async () => {
    hits.length = 0;
    assert.deepEqual(await postWebhook(`${base}/api/webhooks/1/${TOKEN}`, discordPayload(ALERT), 5), {
      ok: true,
      status: 204,
    });
    assert.deepEqual(await postWebhook(`${base}/services/T1/B2/${TOKEN}`, slackPayload(ALERT), 5), {
      ok: true,
      status: 204,
    });
    assert.equal(hits.length, 2);
    assert.equal(hits[0]!.type, 'application/json');
    assert.deepEqual(hits[0]!.body, JSON.parse(JSON.stringify(discordPayload(ALERT))));
    assert.deepEqual(hits[1]!.body, JSON.parse(JSON.stringify(slackPayload(ALERT))));
  });

  test('HTTP 500: one try, not retried; the token is in neither the error nor anything redacted', async () => {
    hits.length = 0;
    const r = await postWebhook(`${base}/fail/${TOKEN}`, slackPayload(ALERT), 5);
    assert.equal(r.ok, false);
    assert.equal(r.status, 500);
    assert.equal(hits.length, 1);
    assert.match(r.error!, /^webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\*: HTTP 500: bad token \*\*\*$/);
    assert.ok(!redact(`see ${base}/fail/${TOKEN}`).includes(TOKEN));
  });

  test('a receiver that never answers ends at the deadline; a redirect is not followed', async () => {
    const hang = await postWebhook(`${base}/hang/${TOKEN}`, discordPayload(ALERT), 0.3);
    assert.equal(hang.ok, false);
    assert.match(hang.error!, /no answer within 0.3 s/);
    hits.length = 0;
    const moved = await postWebhook(`${base}/moved/${TOKEN}`, discordPayload(ALERT), 5);
    assert.equal(moved.ok, false);
    assert.equal(moved.status, 302);
    assert.match(moved.error!, /redirects are not followed/);
    assert.equal(hits.length, 1);
  });

  test('nothing listening: refused, said in one line', async () => {
    const port = (server.address() as AddressInfo).port;
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freed = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    assert.notEqual(freed, port);
    const r = await postWebhook(`http://127.0.0.1:${freed}/x/${TOKEN}`, {}, 5);
    assert.equal(r.ok, false);
    assert.match(r.error!, /ECONNREFUSED/);
    assert.ok(!r.error!.includes(TOKEN));
  });
});
