// A webhook's answer is read up to a cap and no further (issue 25): a server that answers an error with
// 50 MiB gets its connection cancelled after the first few KiB, and the error names the cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook } from '../../src/adapters/webhook.ts';

test('a 50 MiB error answer: the error names the cap, and the rest is not read', async () => {
  const total = 50 * 1024 * 1024;
  const chunk = Buffer.from('é'.repeat(32 * 1024)); // 64 KiB of 2-byte characters
  let written = 0;
  let closed!: () => void;
  const gone = new Promise<void>((r) => (closed = r));
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(502, { 'content-type': 'text/plain' });
    const more = () => {
      while (written < total) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    res.on('close', closed);
    more();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-token-part-0123456789`;
    const r = await postWebhook(url, { text: 'x' }, 10);
    assert.equal(r.ok, false);
    assert.equal(r.status, 502);
    assert.match(r.error!, /HTTP 502: é+… \(answer over 4 KiB cap, the rest not read\)$/);
    assert.ok(!r.error!.includes('\uFFFD'), 'whole characters only');
    await gone;
    assert.ok(written < total, `the server was cut off (${written} of ${total} bytes written)`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
