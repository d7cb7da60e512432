// The failover domain under faults (issue 15): each test is a scenario that went
// wrong before its fix, driven only through hactl and the lab's own faults.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Lab, type LabHost } from '../lab/lab.ts';

let lab: Lab;
const P = () => lab.host('primary');
const S = () => lab.host('standby');

before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});
beforeEach(async () => {
  await lab.reset();
  for (const h of [P(), S()])
    for (const f of ['fake-hang', 'fake-flaky']) rmSync(join(h.openclawDir, f), { force: true });
  mkdirSync(join(P().home, '.openclaw', 'workspace'), { recursive: true });
  writeFileSync(
    join(P().home, '.openclaw', 'workspace', 'MEMORY.md'),
    '# Memory\n\n- the user prefers short answers\n',
  );
  await P().startGateway();
});

/** Processes of the stand-in gateway (`openclaw gateway run`) whose HOME is this host's. */
function gatewayProcesses(h: LabHost): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      const env = readFileSync(`/proc/${p}/environ`, 'utf8').split('\0');
      if (
        cmd.some((c) => c.endsWith('openclaw') || c.endsWith('fake-openclaw.mjs')) &&
        cmd.includes('run') &&
        env.includes(`HOME=${h.home}`)
      ) {
        pids.push(Number(p));
      }
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** Raw call log of a host's stand-in: [time in ms, call]. */
function callTimes(h: LabHost): Array<[number, string]> {
  const text = readFileSync(join(h.openclawDir, 'fake-calls.log'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => [Date.parse(l.slice(0, l.indexOf(' '))), l.slice(l.indexOf(' ') + 1)]);
}

async function failedOver(): Promise<void> {
  P().crashGateway();
  assert.equal((await lab.hactl(['check'])).code, 2);
  const f = await lab.hactl(['failover', '--auto']);
  assert.equal(f.code, 0, f.stdout + f.stderr);
  assert.equal(lab.state().serving, 'standby');
  lab.telegram.sent.length = 0;
}

describe('act first, alert after (#12)', () => {
  test('pending alerts are delivered after the action: a hanging channel never delays it', async () => {
    // A Bot API that accepts and never answers, recording when each request arrives.
    const arrivals: number[] = [];
    const hang: Server = createServer(() => arrivals.push(Date.now()));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    try {
      lab.writeConfig({
        alerts: { telegram: { apiRoot: `http://127.0.0.1:${(hang.address() as AddressInfo).port}` } },
      });
      await P().kill();
      await S().kill();
      assert.equal((await lab.hactl(['check'])).code, 2); // both down: an alert that waits in the outbox
      await S().startSshd();
      await lab.hactl(['check']); // primary still dead, the standby back
      const pending = JSON.parse(readFileSync(join(lab.dir, 'state', 'outbox.json'), 'utf8')).pending.length;
      assert.ok(pending >= 1, 'alerts wait in the outbox');
      const since = Date.now();
      const f = await lab.hactl(['failover', '--auto']);
      assert.equal(f.code, 0, f.stdout + f.stderr);
      const started = callTimes(S())
        .filter(([, c]) => c === 'gateway run')
        .at(-1)![0];
      const during = arrivals.filter((t) => t >= since);
      assert.ok(during.length > 0, 'the run tried to deliver');
      assert.ok(
        during.every((t) => t >= started),
        'no delivery attempt before the standby was started',
      );
    } finally {
      hang.closeAllConnections();
      await new Promise((r) => hang.close(r));
    }
  });
});

describe('the serving standby dies (#7, #8)', () => {
  test('its host dies while the primary answers: back to the primary, the lost memory alerted', async () => {
    await failedOver();
    await S().kill();
    assert.equal((await lab.hactl(['check'])).code, 2);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(lab.state().serving, 'primary');
    assert.ok(P().gatewayPid() > 0, 'the primary serves again');
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(texts[0]!, /standby UNREACHABLE while serving — back to primary/);
    assert.match(texts[0]!, /could not be synced back/);
    assert.equal((await lab.hactl(['check'])).code, 1, 'primary serving, standby not ready');
  });

  test('its host dies, failback by hand: the stop accepts a host that does not answer', async () => {
    await failedOver();
    await S().kill();
    const b = await lab.hactl(['failback', '--yes']);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.equal(lab.state().serving, 'primary');
    assert.ok(P().gatewayPid() > 0);
    assert.match(
      lab.telegram.texts()[0]!,
      /primary ONLINE — standby stopped — WARNING: memory the standby wrote could not be synced back/,
    );
  });

  test('its gateway dies while the primary answers: alerted, and back to the primary', async () => {
    await failedOver();
    S().crashGateway();
    assert.equal((await lab.hactl(['check'])).code, 2);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(lab.state().serving, 'primary');
    assert.match(lab.telegram.texts()[0]!, /standby GATEWAY-DOWN while serving — back to primary/);
  });
});

describe('alerts say what happened and who asked (#11)', () => {
  test('a manual failover of a healthy primary is not "OFFLINE (healthy)"', async () => {
    assert.equal((await lab.hactl(['check'])).code, 0);
    const f = await lab.hactl(['failover', '--yes']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    const t = lab.telegram.texts()[0]!;
    assert.doesNotMatch(t, /OFFLINE/);
    assert.match(t, /failover by hand: primary stopped, standby takes over \(by hand: \S+@\S+\)/);
  });

  test('split brain heals: one alert for the failover, one for the 2nd gateway, no "no longer both down"', async () => {
    // The witness loses the primary's SSH while its gateway lives on.
    await P().stopSshd();
    await lab.hactl(['check']);
    assert.equal((await lab.hactl(['failover', '--auto'])).code, 0);
    await P().startSshd();
    assert.equal((await lab.hactl(['check'])).code, 1);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(P().gatewayPid(), 0, 'the primary was fenced: one gateway');
    assert.ok(S().gatewayPid() > 0);
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 2, texts.join('\n'));
    assert.match(texts[0]!, /primary OFFLINE \(unreachable\) — standby takes over \(automatic: /);
    assert.match(texts[1]!, /primary runs a gateway while standby serves/);
  });
});

describe('standby configuration problems are unknown, exit 3 (#14)', () => {
  test('a changed host key on the standby: check 3, failover --auto 3 and nothing acts', async () => {
    await S().changeHostKey();
    const c = await lab.hactl(['check']);
    assert.equal(c.code, 3, c.stdout);
    P().crashGateway();
    await lab.hactl(['check']);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 3, f.stdout);
    assert.equal(P().gatewayPid(), 0);
    assert.deepEqual(S().calls(), []);
  });
});

describe('manual failover (#6)', () => {
  test('the standby is preflighted before the fence: unreachable, the primary is untouched', async () => {
    const pid = P().gatewayPid();
    await S().kill();
    const f = await lab.hactl(['failover', '--yes']);
    assert.equal(f.code, 2, f.stdout);
    assert.equal(P().gatewayPid(), pid, 'the primary still serves, same process');
    assert.equal(lab.state().serving, 'primary');
    assert.match(
      lab.telegram.texts()[0]!,
      /FAILOVER FAILED — standby did not take over, standby failed its preflight, no gateway was touched/,
    );
  });

  test('no start method verifies after the fence: the primary is restarted, and alerted', async () => {
    S().setFake({ failRun: true });
    const f = await lab.hactl(['failover', '--yes']);
    assert.equal(f.code, 2, f.stdout);
    assert.ok(P().gatewayPid() > 0, 'the primary serves again');
    assert.equal(lab.state().serving, 'primary');
    assert.match(lab.telegram.texts()[0]!, /FAILOVER FAILED .* primary restarted, serving again/);
    assert.equal((await lab.hactl(['check'])).code, 0);
  });
});

describe('failback (#9)', () => {
  test("the primary must pass its preflight before the standby's gateway is touched", async () => {
    lab.writeConfig({
      hosts: { primary: { gateway: { start: [{ name: 'detached', detached: 'openclaw-missing gateway run' }] } } },
    });
    await failedOver();
    const pid = S().gatewayPid();
    const b = await lab.hactl(['failback', '--yes']);
    assert.equal(b.code, 2, b.stdout);
    assert.equal(S().gatewayPid(), pid, 'the standby kept serving, same process');
    assert.match(
      lab.telegram.texts()[0]!,
      /FAILBACK FAILED — primary failed its preflight, no gateway was touched: .*openclaw-missing/,
    );
  });

  test('a failing failback rolls back in the run, and stops at maxAttempts with one escalation', async () => {
    lab.writeConfig({ thresholds: { successesBeforeFailback: 1, maxAttempts: 2 } });
    await failedOver();
    P().setFake({ failRun: true });
    const runs = () =>
      P()
        .calls()
        .filter((c) => c === 'gateway run').length;
    const before = runs();
    for (let i = 0; i < 4; i++) {
      await lab.hactl(['check']);
      const b = await lab.hactl(['failback', '--auto']);
      assert.equal(b.code, 2, b.stdout);
      assert.equal(lab.state().serving, 'standby');
      assert.ok(S().gatewayPid() > 0, `the standby serves after round ${i + 1}`);
    }
    assert.equal(runs() - before, 2, 'two attempts, no storm');
    const texts = lab.telegram.texts();
    assert.equal(texts.filter((t) => /FAILBACK FAILED/.test(t)).length, 2, texts.join('\n'));
    assert.equal(texts.filter((t) => /ESCALATION: 2 failback attempts/.test(t)).length, 1);
  });
});

describe('start methods (#10)', () => {
  test('a method that started but missed verifyDeadline is stopped, verified gone, before the next', async () => {
    const start = [
      { name: 'slow', detached: 'openclaw gateway run', env: { FAKE_STARTUP_MS: '600000' } },
      { name: 'detached', detached: 'openclaw gateway run' },
    ];
    lab.writeConfig({ thresholds: { verifyDeadline: 2 }, hosts: { standby: { gateway: { start } } } });
    P().crashGateway();
    await lab.hactl(['check']);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    const step = lab
      .history()
      .at(-1)
      .steps.find((s: any) => s.op === 'start');
    assert.match(step.detail, /started by detached/);
    assert.match(step.detail, /stopped after slow: stopped by detached, verified gone/);
    assert.equal(gatewayProcesses(S()).length, 1, 'exactly one gateway on the standby');
  });
});

describe('the fence (#5)', () => {
  test('a gateway that accepts and never answers is stopped and verified gone', async () => {
    writeFileSync(join(P().openclawDir, 'fake-hang'), '');
    assert.equal((await lab.hactl(['check'])).code, 2);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(gatewayProcesses(P()).length, 0, 'the hung gateway process is gone');
    assert.ok(S().gatewayPid() > 0);
    const fence = lab
      .history()
      .at(-1)
      .steps.find((s: any) => s.op === 'fence');
    assert.match(fence.detail, /stopped by port-owner, verified gone/);
  });
});

describe('nothing is injected through the gateway config (issue 11 #2)', () => {
  const markerDir = () => join(lab.dir, 'markers');
  const markers = () => readdirSync(markerDir());
  const payloads = (tag: string) => {
    const m = (n: string) => join(markerDir(), `${tag}${n}`);
    return [
      `$(touch ${m('1')})`,
      `\`touch ${m('2')}\``,
      `;touch ${m('3')};`,
      `"$(touch ${m('4')})"`,
      `&& touch ${m('5')} #`,
    ];
  };

  test('payloads in runDir, env values, probe URL and method names: no marker file appears', async () => {
    mkdirSync(markerDir(), { recursive: true });
    const [r1, r2, r3, r4, r5] = payloads('runDir');
    const env = Object.fromEntries(payloads('env').map((p, i) => [`HACTL_T${i}`, p]));
    const name = `detached${payloads('name')[0]}`;
    lab.writeConfig({
      gateway: {
        runDir: `.openclaw/h${r1}${r2}${r3}${r4}${r5}`,
        env,
        start: [{ name, detached: 'openclaw gateway run', env }],
        stop: [
          { name, pidfile: true, env },
          { name: `port${payloads('stop')[2]}`, portOwner: true },
        ],
        // The URL schema allows no spaces or quotes: ${IFS} stands in for the space.
        alive: { url: `http://127.0.0.1:{port}/healthz?$(touch\${IFS}${join(markerDir(), 'url1')})`, status: 200 },
      },
    });
    assert.equal((await lab.hactl(['check'])).code, 0);
    // A detached run that exits: hactl reads its log back (the path of the first injection found).
    S().setFake({ failRun: true });
    const bad = await lab.hactl(['failover', '--yes']);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /the detached run exited/);
    S().setFake({});
    const f = await lab.hactl(['failover', '--yes']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.ok(S().gatewayPid() > 0, 'the standby was started through the detached method');
    const b = await lab.hactl(['failback', '--yes']);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.deepEqual(markers(), [], 'no payload ran');
  });

  test('an env key that is not a shell name is refused (exit 78, naming it) before anything runs', async () => {
    mkdirSync(markerDir(), { recursive: true });
    const key = `A=1;touch ${join(markerDir(), 'key1')};B`;
    lab.writeConfig({ gateway: { env: { [key]: 'x' } } });
    for (const args of [['check'], ['failover', '--yes']]) {
      const r = await lab.hactl(args);
      assert.equal(r.code, 78, r.stdout + r.stderr);
      // The schema refuses it when the config loads (the gateway adapter would refuse it too).
      assert.match(
        r.stderr,
        /hactl\.yaml:\d+:\d+: \/gateway\/env has the key 'A=1;touch .*', which is not a shell identifier/,
      );
    }
    assert.ok(P().gatewayPid() > 0, 'the primary was not touched');
    assert.deepEqual(markers(), []);
  });
});
