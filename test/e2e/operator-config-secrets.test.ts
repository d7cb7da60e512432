// Issue 22 item 5: a config error on a webhook URL names the key and never prints the URL,
// in any place it goes: stderr (what cron logs), --json, the last-good channel's alert, and
// the files hactl keeps in its state dir. The built hactl against the lab's Bot API stand-in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab.ts';

let lab: Lab;
before(async () => {
  lab = await Lab.start();
  await lab.reset();
  await lab.host('primary').startGateway();
});
after(async () => {
  await lab?.stop();
});

const SECRET = 'T0AAAA/B0BBBB/s3cretT0kenValue';
const URL = `https://hooks.slack.com/services/${SECRET} x`;

describe('a config error on a webhook URL (#22.5)', () => {
  test('names the key; the URL is in no output, alert, log or state file', async () => {
    assert.equal((await lab.hactl(['check'])).code, 0, 'a good load first: the last-good copy');
    lab.writeConfig({ alerts: { webhooks: [{ url: URL, format: 'slack' }] } });
    const plain = await lab.hactl(['check']);
    const json = await lab.hactl(['check', '--json']);
    const doctor = await lab.hactl(['doctor']);
    for (const r of [plain, json]) {
      assert.equal(r.code, 78, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /\/alerts\/webhooks\/0\/url/);
    }
    JSON.parse(json.stdout);
    const texts = lab.telegram.texts();
    assert.ok(
      texts.some((t) => /stopped loading: .*\/alerts\/webhooks\/0\/url/.test(t)),
      texts.join('\n'),
    );
    const state = join(lab.dir, 'state');
    const kept = readdirSync(state)
      .filter((n) => n !== 'config-last-good.json') // the config's own copy: the file holds the URL itself
      .map((n) => {
        try {
          return readFileSync(join(state, n), 'utf8');
        } catch {
          return '';
        }
      });
    const all = [plain.stdout, plain.stderr, json.stdout, json.stderr, doctor.stdout, doctor.stderr, ...texts, ...kept];
    for (const t of all) {
      assert.ok(!t.includes('s3cretT0ken'), `the webhook token leaked:\n${t}`);
      assert.ok(!t.includes('hooks.slack.com'), `the webhook URL leaked:\n${t}`);
    }
  });
});
