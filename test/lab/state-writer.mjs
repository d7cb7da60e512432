#!/usr/bin/env node
// A hactl run reduced to its writes, through the real state modules (dist/):
// for the fault suite to kill -9 at random points, or to run 50 at once.
//   state-writer.mjs crash DIR          loop: lock, state.json, history line, outbox add/decide/record, unlock
//   state-writer.mjs alert DIR API N    one alert through Alerts (outbox + Telegram), then one history line
// Prints "ready" once its modules are loaded (the test kills after that).
import { join } from 'node:path';
const root = new URL('../..', import.meta.url).pathname;
const files = await import(join(root, 'dist/state/files.js'));
const { acquireLock } = await import(join(root, 'dist/state/lock.js'));
const { Outbox } = await import(join(root, 'dist/state/outbox.js'));
const { initialState } = await import(join(root, 'dist/core/model.js'));
const { appendHistory } = await import(join(root, 'dist/state/history.js'));
const [mode, dir, api, n] = process.argv.slice(2);

if (mode === 'crash') {
  const outbox = new Outbox(dir);
  console.log('ready');
  for (let i = 0; ; i++) {
    const lock = acquireLock(dir, 'cluster', 'hactl check (writer)', 60);
    const st = initialState(new Date());
    st.level = ['ok', 'degraded', 'critical'][i % 3];
    files.writeJson(join(dir, 'state.json'), st);
    const pad = 'x'.repeat(Math.floor(Math.random() * 3000));
    await appendHistory(join(dir, 'history.jsonl'), { pid: process.pid, i, pad });
    const { event } = await import(join(root, 'dist/alerts/events.js'));
    await outbox.add(event('test', 'low', 'notice', `alert ${process.pid}.${i}`, new Date()));
    await outbox.prepare([], { policy: { repeatEvery: 3600, maxRepeats: 3, resolveAfter: 0 }, now: new Date() });
    const m = await outbox.nextFor('lab');
    if (m) await outbox.record(m.id, 'lab', { ok: false, permanent: false, message: 'lab: no channel' }, ['lab']);
    lock.release();
  }
} else if (mode === 'alert') {
  const { Alerts } = await import(join(root, 'dist/adapters/telegram.js'));
  const telegram = { chatId: 4242, apiRoot: api, timeout: 10, tokenEnv: 'HACTL_TELEGRAM_TOKEN' };
  const config = { stateDir: dir, alerts: { prefix: '[lab]', telegram } };
  console.log('ready');
  const { event } = await import(join(root, 'dist/alerts/events.js'));
  const r = await new Alerts(config).send(event('test', 'low', 'notice', `alert ${n}`, new Date()));
  await appendHistory(join(dir, 'history.jsonl'), { run: Number(n), sent: r.sent, pending: r.pending });
  console.log(JSON.stringify(r));
} else {
  console.error(`usage: state-writer.mjs crash DIR | alert DIR API N`);
  process.exit(64);
}
