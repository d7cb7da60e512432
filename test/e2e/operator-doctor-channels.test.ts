// Issue 22: `hactl doctor` checks every configured alert channel: its secret is there (a
// webhook's secretEnv unset is named) and it answers a request that sends no message
// (Telegram getMe, a GET of the webhook URL). A stand-in service on 127.0.0.1; the built CLI.
// No URL path and no token is ever printed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ROOT } from '../lab/lab.ts';

const TOKEN = '123456:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ';
const HOOK = 's3cretHookPathToken0123456789';
const BAD_TOKEN = '654321:ZZyyXXwwVVuuTTssRRqqPPooNNmmLLkkJJ';
let server: Server;
let base = '';
const seen: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === `/bot${TOKEN}/getMe`) return send(200, { ok: true, result: { username: 'hactl_lab_bot' } });
    if (req.url === `/hooks/live/${HOOK}`) return send(400, { error: 'invalid_payload' }); // Slack answers a GET so
    if (req.url === `/bot${BAD_TOKEN}/getMe`)
      return send(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    if (req.url === `/hooks/busy/${HOOK}`) return send(503, { error: 'overloaded' });
    if (req.url === `/hooks/hang/${HOOK}`) return; // never answers: doctor's own timeout ends the wait
    return send(404, { error: 'no_service' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server?.closeAllConnections();
  server?.close();
});

function doctor(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-doctor-'));
  const host = (address: string) => ({ address, port: 1, user: 'u', key: join(dir, 'k'), knownHosts: join(dir, 'kh') });
  const cfg = join(dir, 'hactl.yaml');
  writeFileSync(
    cfg,
    stringify({
      stateDir: join(dir, 'state'),
      hosts: { pc1: host('127.0.0.1'), pc2: host('127.0.0.1') },
      pair: { primary: 'pc1', standby: 'pc2' },
      thresholds: { connectTimeout: 2, commandTimeout: 2 },
      alerts: {
        telegram: { chatId: 1, apiRoot: base, timeout: 3 },
        webhooks: [
          { urlEnv: 'HOOK_LIVE', format: 'slack', timeout: 3 },
          { urlEnv: 'HOOK_LIVE', format: 'generic', secretEnv: 'HOOK_BEARER', timeout: 3 },
          { urlEnv: 'HOOK_REVOKED', format: 'discord', timeout: 3 },
          { urlEnv: 'HOOK_UNSET', format: 'discord', timeout: 3 },
        ],
      },
    }),
  );
  // Not spawnSync: the stand-in answers from this process's event loop.
  const c = spawn(process.execPath, [join(ROOT, 'bin/hactl'), '--json', '-c', cfg, 'doctor'], {
    env: { ...process.env, HACTL_CONFIG: undefined, HOOK_BEARER: undefined, HOOK_UNSET: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  c.stdout.on('data', (d: Buffer) => out.push(d));
  c.stderr.on('data', (d: Buffer) => err.push(d));
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    c.on('close', (status) =>
      resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    ),
  );
}

describe('doctor checks each alert channel', () => {
  test('a missing secret is named; a live channel answers; a revoked URL fails; nothing secret printed', async () => {
    const r = await doctor({
      HACTL_TELEGRAM_TOKEN: TOKEN,
      HOOK_LIVE: `${base}/hooks/live/${HOOK}`,
      HOOK_REVOKED: `${base}/hooks/revoked/${HOOK}`,
    });
    assert.equal(r.status, 2, r.stderr);
    const alerts = JSON.parse(r.stdout).results.filter((x: any) => x.check === 'alerts');
    const line = (re: RegExp) => alerts.find((x: any) => re.test(x.message));
    assert.equal(alerts.length, 5, JSON.stringify(alerts, null, 1));
    assert.equal(line(/^alerts\.telegram answers .*bot @hactl_lab_bot/)?.level, 'pass');
    assert.equal(line(/^alerts\.webhooks\[0\] \(slack, http:\/\/127\.0\.0\.1:\d+\/\*\*\*\) answers/)?.level, 'pass');
    const bearer = line(/^alerts\.webhooks\[1\] .*HOOK_BEARER is not set/);
    assert.equal(bearer?.level, 'fail');
    assert.match(bearer.fix, /--env-file|EnvironmentFile=/);
    assert.equal(line(/^alerts\.webhooks\[2\] .*refuses \(HTTP 404\)/)?.level, 'fail');
    assert.equal(line(/^alerts\.webhooks\[3\] .*no URL: set HOOK_UNSET/)?.level, 'fail');
    for (const t of [r.stdout, r.stderr]) {
      assert.ok(!t.includes(HOOK), 'a webhook URL path leaked');
      assert.ok(!t.includes(TOKEN), 'the bot token leaked');
    }
    assert.ok(seen.includes(`GET /bot${TOKEN}/getMe`), seen.join('\n'));
    assert.ok(!seen.some((s) => s.startsWith('POST')), 'doctor sends no message');
  });

  test('a 5xx is a warning, a channel that never answers fails on its timeout, a Telegram 401 fails', async () => {
    const r = await doctor({
      HACTL_TELEGRAM_TOKEN: BAD_TOKEN,
      HOOK_LIVE: `${base}/hooks/busy/${HOOK}`,
      HOOK_BEARER: 'b',
      HOOK_REVOKED: `${base}/hooks/hang/${HOOK}`,
    });
    assert.equal(r.status, 2, r.stderr);
    const alerts = JSON.parse(r.stdout).results.filter((x: any) => x.check === 'alerts');
    const of = (name: string) => alerts.find((x: any) => x.message.startsWith(name));
    assert.equal(of('alerts.telegram')?.level, 'fail');
    assert.match(of('alerts.telegram').message, /refuses \(HTTP 401\)/);
    assert.match(of('alerts.telegram').fix, /make a new one/);
    for (const i of [0, 1]) {
      assert.equal(of(`alerts.webhooks[${i}]`)?.level, 'warn', JSON.stringify(alerts, null, 1));
      assert.match(of(`alerts.webhooks[${i}]`).message, /answers HTTP 503 \(a server error\)/);
    }
    assert.equal(of('alerts.webhooks[2]')?.level, 'fail');
    assert.match(of('alerts.webhooks[2]').message, /does not answer: no answer within 3 s/);
    for (const t of [r.stdout, r.stderr]) {
      assert.ok(!t.includes(HOOK), 'a webhook URL path leaked');
      assert.ok(!t.includes(BAD_TOKEN), 'the bot token leaked');
    }
  });

  test('no token: the Telegram channel names what is missing', async () => {
    const r = await doctor({ HACTL_TELEGRAM_TOKEN: '', HOOK_LIVE: `${base}/hooks/live/${HOOK}` });
    const alerts = JSON.parse(r.stdout).results.filter((x: any) => x.check === 'alerts');
    const tg = alerts.find((x: any) => x.message.startsWith('alerts.telegram'));
    assert.equal(tg?.level, 'fail');
    assert.match(tg.message, /HACTL_TELEGRAM_TOKEN/);
  });
});
