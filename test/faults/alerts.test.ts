// Alerts under concurrency and Telegram faults: 50 runs at once deliver each
// alert exactly once and lose no history line; each Bot API fault keeps the
// alert, which a later run delivers exactly once.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeTelegram } from '../lab/telegram.ts';
import { TOKEN } from '../lab/lab.ts';
import { writer } from '../lab/writers.ts';
import { Alerts } from '../../dist/adapters/telegram.js';

let tg: FakeTelegram;
const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'hactl-alerts-'));
  dirs.push(d);
  return d;
};
before(async () => {
  tg = await new FakeTelegram().start();
  process.env.HACTL_TELEGRAM_TOKEN = TOKEN;
});
after(async () => {
  await tg.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(() => {
  tg.sent.length = 0;
  tg.mode = 'ok';
  tg.delayMs = 0;
});

const config = (stateDir: string) =>
  ({
    stateDir,
    alerts: {
      prefix: '[t]',
      telegram: { chatId: 4242, apiRoot: tg.url, timeout: 2, tokenEnv: 'HACTL_TELEGRAM_TOKEN' },
    },
  }) as any;
const pending = (dir: string) => JSON.parse(readFileSync(join(dir, 'outbox.json'), 'utf8')).pending;

describe('50 runs delivering alerts at once', () => {
  for (const delayMs of [0, 300]) {
    test(
      `each alert exactly once, no history line lost (Bot API answering in ${delayMs} ms)`,
      { timeout: 120_000 },
      async () => {
        tg.delayMs = delayMs;
        const dir = fresh();
        const run = (i: number) => writer(['alert', dir, tg.url, String(i)], { HACTL_TELEGRAM_TOKEN: TOKEN });
        const runs = [...Array(50)].map((_, i) => run(i));
        const outs = await Promise.all(runs.map((r) => r.done));
        assert.deepEqual(
          outs.filter((o) => o.code !== 0).map((o) => o.out),
          [],
        );
        const texts = tg.texts().sort();
        const want = [...Array(50)].map((_, i) => `alert ${i}`).sort();
        assert.deepEqual(texts, want, `${texts.length} deliveries for 50 alerts`);
        assert.deepEqual(pending(dir), []);
        const lines = readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n').filter(Boolean);
        const history = lines.map((l) => JSON.parse(l).run).sort((a, b) => a - b);
        assert.deepEqual(history, [...Array(50).keys()]);
      },
    );
  }
});

describe('Telegram faults: the alert is kept, then delivered once by a later run', () => {
  const faults = [
    ['unauthorized', /401/],
    ['conflict', /409/],
    ['ratelimit', /429/],
    ['server-error', /500/],
    ['hang', /imeout|abort/i],
  ] as const;
  for (const [mode, says] of faults) {
    test(mode, { timeout: 60_000 }, async () => {
      const dir = fresh();
      tg.mode = mode;
      const r = await new Alerts(config(dir)).send('primary OFFLINE');
      assert.equal(r.sent, 0);
      assert.equal(r.pending, 1);
      assert.match(r.errors[0]!, says);
      assert.ok(!JSON.stringify(pending(dir)).includes(TOKEN), 'no token in the outbox');
      tg.mode = 'ok';
      if (mode === 'ratelimit') {
        // Told to wait: a run inside retry_after sends nothing (not even a request), one after it delivers.
        const before = tg.requests;
        assert.equal((await new Alerts(config(dir)).flush()).sent, 0);
        assert.equal(tg.requests, before);
        await new Promise((res) => setTimeout(res, tg.retryAfter * 1000 + 200));
      }
      const later = await new Alerts(config(dir)).flush();
      assert.equal(later.sent, 1);
      await new Alerts(config(dir)).flush();
      assert.deepEqual(tg.texts(), ['primary OFFLINE']);
      assert.deepEqual(pending(dir), []);
    });
  }
});
