// Config errors an operator can act on (issue 24 item 7) and that never print a secret
// (issue 22 item 5): a typo gets "did you mean", a mistyped required key is one line, and a
// value under a secret-bearing key (a webhook URL holds its token) is named, never shown.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { ConfigError } from '../../dist/errors.js';
import { BASE, parse } from './helpers.ts';

async function problems(overrides: Record<string, unknown>): Promise<string[]> {
  try {
    await parse(stringify({ ...BASE, ...overrides }));
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return (e as any).problems;
  }
  assert.fail('no ConfigError');
}

const URL = 'https://hooks.slack.com/services/T0AAAA/B0BBBB/s3cretT0kenValue with a space';

describe('config errors', () => {
  test("a typo gets: did you mean 'cooldown'?", async () => {
    const ps = await problems({ thresholds: { cooldwon: 300 } });
    assert.equal(ps.length, 1, ps.join('\n'));
    assert.match(ps[0]!, /\/thresholds must NOT have additional property 'cooldwon': did you mean 'cooldown'\?/);
  });

  test('a key with nothing near it gets no guess', async () => {
    const ps = await problems({ thresholds: { zzzzzzzz: 1 } });
    assert.equal(ps.length, 1);
    assert.doesNotMatch(ps[0]!, /did you mean/);
  });

  test('chatID for the required chatId: one line, not two unlinked errors', async () => {
    const ps = await problems({ alerts: { telegram: { chatID: 42 } } });
    assert.equal(ps.length, 1, ps.join('\n'));
    assert.match(ps[0]!, /\/alerts\/telegram .*'chatID': did you mean 'chatId'\? \(a required key, missing\)/);
  });

  test('typos inside a host and a webhook are found through $ref and arrays', async () => {
    const hosts = { ...BASE.hosts, pc1: { ...BASE.hosts.pc1, knownhosts: '/kh' } };
    const ps = await problems({ hosts });
    assert.ok(
      ps.some((p) => /'knownhosts': did you mean 'knownHosts'\?/.test(p)),
      ps.join('\n'),
    );
  });

  test('a bad webhook URL is named by its key; the URL (with its token) is never printed', async () => {
    const ps = await problems({ alerts: { webhooks: [{ url: URL, format: 'slack' }] } });
    const text = ps.join('\n');
    assert.match(text, /\/alerts\/webhooks\/0\/url/);
    assert.ok(!text.includes('s3cretT0ken'), text);
    assert.ok(!text.includes('hooks.slack.com'), text);
  });

  test('a URL put under a key that is not secret-named is not printed either', async () => {
    const ps = await problems({ thresholds: { cooldown: URL }, gateway: { port: URL } });
    assert.equal(ps.length, 2, ps.join('\n'));
    const text = ps.join('\n');
    assert.ok(!text.includes('s3cretT0ken'), text);
  });

  test('a value under an env map (gateway.env OPENAI_KEY) is never printed, whatever its name', async () => {
    const gateway = { ...(BASE as any).gateway, env: { OPENAI_KEY: 987654321012, OTHER: `sk${'Q'.repeat(5000)}` } };
    const ps = await problems({ gateway });
    const text = ps.join('\n');
    assert.match(text, /\/gateway\/env\/OPENAI_KEY/);
    assert.match(text, /\/gateway\/env\/OTHER/);
    assert.ok(!text.includes('987654321012') && !text.includes('QQQQ'), text);
  });

  test('a plain value is still shown (found 70000)', async () => {
    const hosts = { ...BASE.hosts, pc1: { ...BASE.hosts.pc1, port: 70000 } };
    const ps = await problems({ hosts });
    assert.match(ps.join('\n'), /\/hosts\/pc1\/port must be <= 65535 \(found 70000\)/);
  });
});
