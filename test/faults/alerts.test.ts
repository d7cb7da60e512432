// Alerts under concurrency and Telegram faults: 50 runs at once, under CPU stress, deliver
// each alert exactly once and lose no history line; each Bot API fault keeps the
// alert, which a later run delivers exactly once.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeTelegram } from '../lab/telegram.ts';
import { TOKEN } from '../lab/lab.ts';
import { writer } from '../lab/writers.ts';
import { Alerts } from '../../dist/adapters/telegram.js';
import { event } from '../../dist/alerts/events.js';

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

/** Busy loops at 4x the cores, started here and stopped by the test itself. */
function stress(): ChildProcess[] {
  return [...Array(4 * cpus().length)].map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}
const stop = (loops: ChildProcess[]) => loops.forEach((l) => l.kill('SIGKILL'));

// Issue 21 #8 / 22: under CPU stress, 50 runs raising one alert each at the same time, with a Bot
// API answering in 300 ms: every alert delivered exactly once, none dropped, in every round.
// CI runs 3 rounds (about 26 s each on 2 cores: 50 node starts under the busy loops, then 50
// deliveries of 300 ms in one channel's order); HACTL_STRESS_ROUNDS=10 is the long run, last seen
// passing all 10 (docs/reliability.md).
const ROUNDS = Number(process.env.HACTL_STRESS_ROUNDS ?? 3);
describe('50 runs delivering alerts at once, under CPU stress', () => {
  let loops: ChildProcess[] = [];
  before(() => {
    loops = stress();
  });
  after(() => stop(loops));

  test(
    `exactly 50 deliveries, 0 dropped, in ${ROUNDS} rounds (Bot API answering in 300 ms, busy loops at 4x the cores)`,
    { timeout: ROUNDS * 240_000 },
    async () => {
      tg.delayMs = 300;
      for (let round = 0; round < ROUNDS; round++) {
        tg.sent.length = 0;
        const dir = fresh();
        const run = (i: number) => writer(['alert', dir, tg.url, String(i)], { HACTL_TELEGRAM_TOKEN: TOKEN });
        const outs = await Promise.all([...Array(50)].map((_, i) => run(i).done));
        assert.deepEqual(
          outs.filter((o) => o.code !== 0).map((o) => o.out),
          [],
          `round ${round}`,
        );
        // The alert's number, whatever words and emoji the renderer put around it.
        const got = tg.texts().map((t) => Number(/alert (\d+)/.exec(t)?.[1] ?? -1));
        got.sort((a, b) => a - b);
        assert.deepEqual(got, [...Array(50).keys()], `round ${round}: ${got.length} deliveries for 50 alerts`);
        assert.deepEqual(pending(dir), [], `round ${round}: nothing left (nothing dropped)`);
        assert.ok(
          !readFileSync(join(dir, 'outbox.json'), 'utf8').includes('dropped'),
          `round ${round}: nothing dropped`,
        );
        const lines = readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n').filter(Boolean);
        const history = lines.map((l) => JSON.parse(l).run).sort((a, b) => a - b);
        assert.deepEqual(history, [...Array(50).keys()], `round ${round}: no history line lost`);
      }
    },
  );
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
      const r = await new Alerts(config(dir)).send(
        event('failover-done', 'high', 'open', 'primary OFFLINE', new Date(), { key: 'service' }),
      );
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
      assert.deepEqual(tg.texts(), ['[t] 🟠 primary OFFLINE']);
      assert.deepEqual(pending(dir), []);
    });
  }
});
