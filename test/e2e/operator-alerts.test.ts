// Issue 13, item 3: alerts, one per incident. The built hactl against the lab's sshd hosts,
// the Bot API stand-in and a local webhook / dead-man receiver on 127.0.0.1. Time moves by
// HACTL_NOW (the one clock), one cron minute per chain (check; failover --auto; failback --auto).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, TOKEN, type HactlResult } from '../lab/lab.ts';
import { Receiver } from '../lab/receiver.ts';
import { writeMem } from '../lab/memory.ts';

let lab: Lab;
let rx: Receiver;
const P = () => lab.host('primary');
const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
const DISCORD = '/api/webhooks/1234/DISCORD-token-0123456789abcdef';
const SLACK = '/services/T0001/B0002/SLACKtoken0123456789xyz';
const DEADMAN = '/ping/5f2c-DEADMAN-token-9a8b7c6d5e4f';
const runs: HactlResult[] = [];

before(async () => {
  lab = await Lab.start();
  rx = await new Receiver().start();
});
after(async () => {
  await lab?.stop();
  await rx?.stop();
});
beforeEach(async () => {
  await lab.reset();
  rx.got.length = 0;
  rx.mode = 'ok';
  rx.failing.clear();
  // The agents' memory on the primary: a sync has something to copy (an empty tree is refused, and alerted).
  writeMem(P(), { 'workspace/MEMORY.md': 'the agents remember' });
  await P().startGateway();
});

/** One cron minute: the cluster chain, at HACTL_NOW = minute `min`. */
async function chain(min: number, env: Record<string, string> = {}): Promise<HactlResult[]> {
  const out: HactlResult[] = [];
  for (const args of [['check'], ['failover', '--auto'], ['failback', '--auto']]) {
    const r = await lab.hactl(args, { HACTL_NOW: at(min), ...env });
    runs.push(r);
    out.push(r);
  }
  return out;
}

/** Every file hactl wrote in its state dir, but the copy of the config (config-last-good.json). */
function stateFiles(): string[] {
  const dir = join(lab.dir, 'state');
  return readdirSync(dir)
    .filter((n) => n !== 'config-last-good.json' && statSync(join(dir, n)).isFile())
    .map((n) => readFileSync(join(dir, n), 'utf8'));
}

const SECRETS = [TOKEN, 'DISCORD-token-0123456789abcdef', 'SLACKtoken0123456789xyz', 'DEADMAN-token-9a8b7c6d5e4f'];
const HOOK_SECRET = 'generic-bearer-secret-42';
/** No secret in any output of this file's runs, nor in a state file (the config's own copy aside). */
function noSecret(): void {
  for (const text of [...runs.flatMap((r) => [r.stdout, r.stderr]), ...stateFiles()]) {
    for (const s of [...SECRETS, HOOK_SECRET]) assert.ok(!text.includes(s), `a secret leaked: ${s}\n${text}`);
  }
}

describe('a flapping primary', () => {
  test('10 minutes failing and recovering: one incident message, capped reminders, one resolved', async () => {
    lab.writeConfig({ alerts: { repeatEvery: '4m', maxRepeats: 2, resolveAfter: '3m' } });
    const t0 = Date.now();
    // A check every 2 minutes for 10 minutes; the primary's gateway dies whenever it serves at a 4th minute.
    for (let m = 0; m < 10; m += 2) {
      // Down at one check, back at the next: hactl's failback starts it again (the lab never starts a
      // second gateway beside a serving standby; that fence is an action, always said).
      if (m % 4 === 0 && P().gatewayPid()) P().crashGateway();
      await chain(m);
    }
    const during = lab.telegram.texts();
    let m = 10;
    // Then steady: cron goes on until the end was said (once the primary serves, only check has work).
    for (; m < 30 && !lab.telegram.texts().some((t) => t.includes('✅')); m += 2) {
      if (lab.state().serving === 'standby') await chain(m);
      else runs.push(await lab.hactl(['check'], { HACTL_NOW: at(m) }));
    }
    const texts = lab.telegram.texts();
    console.log(`# flapping: ${texts.length} messages, ${runs.length} runs, ${Date.now() - t0} ms, until minute ${m}`);
    console.log(texts.map((t) => `#   ${t}`).join('\n'));
    const acted = lab.history().filter((h) => h.acted && h.ok);
    assert.ok(acted.length >= 3, `the primary flapped hactl into action: ${acted.length} actions`);
    assert.match(texts[0]!, /primary OFFLINE \(gateway-down\) — standby takes over/, 'the first message opens it');
    const reminders = texts.filter((t) => t.includes('still open after'));
    assert.ok(reminders.length <= 2, `reminders capped at maxRepeats: ${reminders.length}`);
    const resolved = texts.filter((t) => t.includes('✅'));
    assert.equal(resolved.length, 1, texts.join('\n'));
    assert.match(resolved[0]!, /primary ONLINE .*\(lasted \d+ min; automatic: /);
    assert.equal(texts.at(-1), resolved[0], 'resolved comes last');
    assert.equal(texts.length, 1 + reminders.length + 1, texts.join('\n'));
    assert.ok(during.length <= 3, `during the flapping: ${during.join('\n')}`);
    assert.equal(lab.telegram.texts().length, texts.length);
    noSecret();
  });
});

describe('channels', () => {
  test('Discord-, Slack- and generic-shaped webhooks get each alert once; a failing one blocks no other', async () => {
    lab.writeConfig({
      alerts: {
        webhooks: [
          { url: rx.url + DISCORD, format: 'discord' },
          { urlEnv: 'HACTL_SLACK_URL', format: 'slack', timeout: '2s' },
          { url: `${rx.url}/generic`, format: 'generic', secretEnv: 'HACTL_HOOK_SECRET' },
        ],
      },
    });
    const env = { HACTL_SLACK_URL: rx.url + SLACK, HACTL_HOOK_SECRET: HOOK_SECRET };
    rx.failing.add(SLACK);
    P().crashGateway();
    const [check, failover] = await chain(0, env);
    assert.equal(check!.code, 2, check!.stdout + check!.stderr);
    assert.equal(failover!.code, 0, failover!.stdout + failover!.stderr);
    assert.match(failover!.stderr, /webhook-[0-9a-f]{8}: webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\*: HTTP 500/);
    // Discord: {content, embeds}, the seed's fields in the embed.
    const [d, ...moreD] = rx.at(DISCORD);
    assert.equal(moreD.length, 0, 'once');
    assert.equal(d!.method, 'POST');
    assert.match(d!.body.content, /^\[lab\] 🟠 \*\*HIGH\*\*: primary OFFLINE \(gateway-down\) — standby takes over/);
    const e = d!.body.embeds[0];
    assert.equal(e.title, '🟠 HIGH · failover-done');
    assert.match(e.description, /^primary OFFLINE/);
    assert.ok(e.timestamp.startsWith('2026-12-01T10:00:'), e.timestamp);
    assert.match(e.footer.text, /^hactl failover on /);
    const fields = Object.fromEntries(e.fields.map((f: any) => [f.name, f.value]));
    assert.equal(fields.incident, 'service');
    assert.equal(fields.step, 'opened');
    assert.deepEqual(d!.body.allowed_mentions, { parse: [] });
    // Generic: the typed event (the seed's fields and more), and the bearer secret.
    const [g, ...moreG] = rx.at('/generic');
    assert.equal(moreG.length, 0);
    assert.equal(g!.headers.authorization, `Bearer ${HOOK_SECRET}`);
    assert.match(g!.body.id, /^[0-9a-f]{12}$/, 'the outbox id: a receiver drops a repeat by it');
    assert.deepEqual(Object.keys(g!.body).sort(), [
      'by',
      'context',
      'emoji',
      'hosts',
      'id',
      'kind',
      'list',
      'message',
      'resolved',
      'severity',
      'source',
      'text',
      'timestamp',
    ]);
    assert.equal(g!.body.severity, 'high');
    assert.equal(g!.body.kind, 'failover-done');
    assert.equal(g!.body.emoji, '🟠', 'the same emoji as Telegram, Discord and Slack');
    assert.equal(g!.body.context.incident, 'service');
    assert.equal(rx.at(SLACK).length, 0, 'the failing Slack hook');
    const box = JSON.parse(readFileSync(join(lab.dir, 'state', 'outbox.json'), 'utf8'));
    assert.match(
      box.pending[0].lastError,
      /webhook-[0-9a-f]{8}: webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\*: HTTP 500: no such hook/,
    );
    noSecret(); // the receiver's answer echoed the URL: redacted in the output and in the outbox
    assert.equal(lab.telegram.texts().length, 1, 'Telegram was not blocked by it');
    // The next run delivers Slack's missed alert, once, and sends nothing twice elsewhere.
    rx.failing.delete(SLACK);
    const r = await lab.hactl(['check'], { HACTL_NOW: at(1), ...env });
    runs.push(r);
    const [s, ...moreS] = rx.at(SLACK);
    assert.equal(moreS.length, 0);
    assert.match(s!.body.text, /^\[lab\] 🟠 \*HIGH\*: primary OFFLINE/);
    assert.equal(s!.body.blocks[0].type, 'section');
    assert.match(
      s!.body.blocks[0].text.text,
      /^\[lab\] 🟠 \*HIGH\*: primary OFFLINE \(gateway-down\) — standby takes over/,
    );
    assert.match(s!.body.blocks.at(-1).elements[0].text, /hactl failover on .* · 2026-12-01T10:00:/);
    assert.equal(rx.at(DISCORD).length, 1);
    assert.equal(rx.at('/generic').length, 1);
    assert.equal(lab.telegram.texts().length, 1);
    assert.deepEqual(JSON.parse(readFileSync(join(lab.dir, 'state', 'outbox.json'), 'utf8')).pending, []);
    noSecret();
  });
});

describe('lost protection (issue 22 #3)', () => {
  test('the standby unreachable for 3 checks: one alert, one "resolved" when it returns', async () => {
    const check = async (min: number) => {
      const r = await lab.hactl(['check'], { HACTL_NOW: at(min) });
      runs.push(r);
      return r;
    };
    assert.equal((await check(0)).code, 0);
    await lab.host('standby').kill();
    for (let m = 1; m <= 5; m++) assert.equal((await check(m)).code, 1);
    let texts = lab.telegram.texts();
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(
      texts[0]!,
      /^\[lab\] 🟠 PROTECTION LOST: standby \(the standby, idle\) is not ready to take over for 3 checks/,
    );
    await lab.host('standby').startSshd();
    assert.equal((await check(6)).code, 0);
    assert.equal((await check(7)).code, 0);
    texts = lab.telegram.texts();
    assert.equal(texts.length, 2, texts.join('\n'));
    assert.match(texts[1]!, /^\[lab\] ✅ standby is ready to take over again: protection restored \(lasted 3 min\)$/);
    noSecret();
  });

  test('a standby host-key failure: one alert, however many checks', async () => {
    await lab.host('standby').changeHostKey();
    for (let m = 0; m < 3; m++) {
      const r = await lab.hactl(['check'], { HACTL_NOW: at(m) });
      runs.push(r);
      assert.equal(r.code, 3, r.stdout + r.stderr);
    }
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(texts[0]!, /^\[lab\] 🔴 CANNOT JUDGE standby \(the standby\): its host key does not match/);
  });
});

describe('hactl alert (issue 22 #7)', () => {
  test('--test sends one message per channel and says each result; exit 2 when one failed', async () => {
    const BAD = '/api/webhooks/9/BAD-token-0123456789abcdef';
    lab.writeConfig({
      alerts: {
        webhooks: [
          { url: rx.url + DISCORD, format: 'discord' },
          { url: rx.url + BAD, format: 'discord' },
        ],
      },
    });
    rx.failing.add(BAD);
    const all = await lab.hactl(['alert', '--test', '--json']);
    runs.push(all);
    assert.equal(all.code, 2, all.stdout + all.stderr);
    const res = JSON.parse(all.stdout).channels;
    assert.deepEqual(
      res.map((r: any) => [r.kind, r.ok]),
      [
        ['telegram', true],
        ['discord', true],
        ['discord', false],
      ],
    );
    assert.match(res[2].error, /HTTP 500/);
    assert.match(lab.telegram.texts()[0]!, /^\[lab\] ℹ️ test alert from hactl: telegram works \(by hand: /);
    assert.equal(rx.at(DISCORD).length, 1);
    const one = await lab.hactl(['alert', '--test', '--channel', 'telegram']);
    runs.push(one);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.equal(lab.telegram.texts().length, 2);
    assert.equal(rx.at(DISCORD).length, 1, 'only the channel asked for');
    assert.equal(
      JSON.parse(readFileSync(join(lab.dir, 'state', 'outbox.json'), 'utf8')).pending.length,
      0,
      'tests skip the outbox',
    );
    noSecret();
  });

  test('pending alerts: listed by alert and status, then retried or dropped by id', async () => {
    lab.writeConfig({ alerts: { webhooks: [{ url: rx.url + DISCORD, format: 'discord' }] } });
    rx.failing.add(DISCORD);
    await lab.host('standby').kill(); // protection lost after 3 checks: one alert, Discord refuses it
    for (let m = 0; m < 4; m++) runs.push(await lab.hactl(['check'], { HACTL_NOW: at(m) }));
    const list = await lab.hactl(['alert', '--json']);
    runs.push(list);
    const pending = JSON.parse(list.stdout).pending;
    assert.ok(pending.length >= 1, list.stdout);
    assert.deepEqual(pending[0].done, ['telegram'], 'Telegram has it; the Discord hook does not');
    const status = JSON.parse((await lab.hactl(['status', '--json'])).stdout);
    const listed = status.pendingAlerts.find((a: any) => a.id === pending[0].id);
    assert.equal(listed.kind, 'standby-lost');
    assert.deepEqual(listed.done, ['telegram']);
    rx.failing.delete(DISCORD);
    const retried = await lab.hactl(['alert', '--retry', pending[0].id]);
    runs.push(retried);
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
    assert.ok(rx.at(DISCORD).length >= 1);
    const gone = await lab.hactl(['alert', '--drop', pending[0].id]);
    assert.equal(gone.code, 1, 'delivered: nothing left to drop');
    noSecret();
  });
});

describe('the dead-man URL', () => {
  test('pinged after each good check (exit 0 or 1), not after a failed one; a dead monitor fails nothing', async () => {
    lab.writeConfig({ alerts: { deadman: { url: rx.url + DEADMAN, timeout: '1s' } } });
    const pings = () => rx.at(DEADMAN).length;
    const run = async (args: string[]) => {
      const r = await lab.hactl(args);
      runs.push(r);
      return r;
    };
    assert.equal((await run(['check'])).code, 0);
    assert.equal(pings(), 1, 'after exit 0');
    assert.equal(rx.at(DEADMAN)[0]!.method, 'GET');
    assert.equal((await run(['failover', '--auto'])).code, 0);
    assert.equal(pings(), 1, 'only the configured commands (check) ping');
    await lab.host('standby').kill();
    const warn = await run(['check']);
    assert.equal(warn.code, 1, warn.stdout);
    assert.equal(pings(), 2, 'after exit 1 (degraded: hactl ran and judged)');
    P().crashGateway();
    const bad = await run(['check']);
    assert.equal(bad.code, 2, bad.stdout);
    assert.equal(pings(), 2, 'not after exit 2');
    await P().startGateway();
    await lab.host('standby').startSshd();
    rx.mode = 'hang';
    const hung = await run(['check']);
    assert.equal(hung.code, 0, hung.stdout + hung.stderr);
    assert.match(hung.stderr, /warning: dead-man ping http:\/\/127\.0\.0\.1:\d+\/\*\*\* failed: no answer within 1 s/);
    rx.mode = 'ok';
    noSecret();
  });
});
