#!/usr/bin/env node
// A history appender for the rotation crash test: appends N lines through the real appendHistory
// with a tiny rotation size, so that a kill -9 lands inside a rotation often.
// argv: stateDir count tag
import { join } from 'node:path';
const { appendHistory } = await import(new URL('../../dist/state/history.js', import.meta.url).href);
const [dir, n, tag] = process.argv.slice(2);
process.stdout.write('ready\n'); // loaded: a kill from now on lands among the appends
const policy = { maxBytes: 1500, maxAgeSeconds: 86400 * 30, keep: 1000, pair: { primary: 'p', standby: 's' } };
for (let i = 0; i < Number(n); i++) {
  await appendHistory(
    join(dir, 'history.jsonl'),
    { at: new Date().toISOString(), command: 'check', id: `${tag}-${i}` },
    policy,
  );
}
