// Webhook alerts: the transport against a real HTTP receiver on 127.0.0.1: delivered as JSON,
// one try only, a deadline, no redirect followed, the URL's token never shown.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { discordPayload, slackPayload } from '../../dist/alerts/render.js';
import { event } from '../../dist/alerts/events.js';
import { postWebhook } from '../../dist/adapters/webhook.js';
import { redact } from '../../dist/output.js';

// The payloads themselves are tested in alert-render.test.ts; here, their transport.
const EV = event(
  'failover-done',
  'high',
  'open',
  'pc-a OFFLINE (unreachable) — pc-b takes over',
  '2026-11-22T14:00:00.000Z',
  {
    key: 'service',
  },
);
const ALERT_D = discordPayload(EV, '[t]', 'hactl check on witness');
const ALERT_S = slackPayload(EV, '[t]', 'hactl check on witness');

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
    assert.deepEqual(await postWebhook(`${base}/api/webhooks/1/${TOKEN}`, ALERT_D, 5), {
      ok: true,
      status: 204,
    });
    assert.deepEqual(await postWebhook(`${base}/services/T1/B2/${TOKEN}`, ALERT_S, 5), {
      ok: true,
      status: 204,
    });
    assert.equal(hits.length, 2);
    assert.equal(hits[0]!.type, 'application/json');
    assert.deepEqual(hits[0]!.body, JSON.parse(JSON.stringify(ALERT_D)));
    assert.deepEqual(hits[1]!.body, JSON.parse(JSON.stringify(ALERT_S)));
  });

  test('HTTP 500: one try, not retried; the token is in neither the error nor anything redacted', async () => {
    hits.length = 0;
    const r = await postWebhook(`${base}/fail/${TOKEN}`, ALERT_S, 5);
    assert.equal(r.ok, false);
    assert.equal(r.status, 500);
    assert.equal(hits.length, 1);
    assert.match(r.error!, /^webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\*: HTTP 500: bad token \*\*\*$/);
    assert.ok(!redact(`see ${base}/fail/${TOKEN}`).includes(TOKEN));
  });

  test('a receiver that never answers ends at the deadline; a redirect is not followed', async () => {
    const hang = await postWebhook(`${base}/hang/${TOKEN}`, ALERT_D, 0.3);
    assert.equal(hang.ok, false);
    assert.match(hang.error!, /no answer within 0.3 s/);
    hits.length = 0;
    const moved = await postWebhook(`${base}/moved/${TOKEN}`, ALERT_D, 5);
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
