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
import { FakeTelegram } from '../lab/telegram.ts';
import { config } from './helpers.ts';

let tg: FakeTelegram;
const dirs: string[] = [];
before(async () => {
  tg = await new FakeTelegram().start();
  process.env.HACTL_TELEGRAM_TOKEN = '999:redaction-secret';
});
after(async () => {
  await tg.stop();
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

  test('the alert text that leaves hactl is redacted at the channel; the outbox keeps the event', async () => {
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
