// The failover loop end to end: the built hactl against real sshd hosts on
// 127.0.0.2 / 127.0.0.3, stand-in gateways with real HTTP listeners, and a
// local Bot API server. Each test starts from "primary serving, standby idle".
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync, chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, TOKEN } from '../lab/lab.ts';

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
  // Some memory on the primary, as on a real install: failover's last-chance sync
  // and failback's sync-back run for real (issue 3 tests them in depth).
  mkdirSync(join(P().home, '.openclaw', 'workspace'), { recursive: true });
  writeFileSync(
    join(P().home, '.openclaw', 'workspace', 'MEMORY.md'),
    '# Memory\n\n- the user prefers short answers\n',
  );
  await P().startGateway();
});

function noSecret(...texts: string[]): void {
  for (const t of texts) assert.ok(!t.includes(TOKEN), 'the bot token leaked into output');
}

describe('check', () => {
  test('healthy: exit 0, state and history recorded, no alert', async () => {
    const r = await lab.hactl(['check']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^check: OK: primary serving, standby ready/);
    assert.equal(r.stdout.trim().split('\n').length, 1, 'one summary line under cron');
    const st = lab.state();
    assert.equal(st.serving, 'primary');
    assert.equal(st.lastCheck.hosts.primary.status, 'healthy');
    assert.equal(st.lastCheck.hosts.standby.status, 'gateway-down');
    assert.equal(st.streaks.primary.healthy, 1);
    const h = lab.history();
    assert.equal(h.length, 1);
    assert.equal(h[0].command, 'check');
    assert.equal(h[0].exitCode, 0);
    assert.deepEqual(lab.telegram.texts(), []);
  });

  test('--json gives one parseable object', async () => {
    const r = await lab.hactl(['check', '--json']);
    assert.equal(r.code, 0);
    const j = JSON.parse(r.stdout);
    assert.equal(j.command, 'check');
    assert.equal(j.exitCode, 0);
    assert.equal(j.hosts.primary.status, 'healthy');
  });

  test('a probe of / would lie: the stand-in answers / with 200 while not ready, and check says down', async () => {
    P().crashGateway();
    P().setFake({ neverReady: true });
    await P()
      .startGateway()
      .catch(() => undefined); // /readyz never 200: startGateway times out
    const res = await fetch(`http://127.0.0.1:${P().gatewayPort}/`);
    assert.equal(res.status, 200);
    const r = await lab.hactl(['check']);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(lab.state().lastCheck.hosts.primary.status, 'gateway-down');
  });

  test('a single transient failure is retried and does not fail over', async () => {
    // The gateway fails its first probe and passes the retry (the stand-in's flaky counter, no timing).
    writeFileSync(join(P().openclawDir, 'fake-flaky'), '1');
    const r = await lab.hactl(['check']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = lab.state();
    assert.equal(st.lastCheck.hosts.primary.status, 'healthy');
    assert.equal(st.lastCheck.hosts.primary.transient, true);
    assert.equal(st.streaks.primary.failures, 0);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0);
    assert.match(f.stdout, /nothing done/);
    assert.equal(lab.state().serving, 'primary');
    assert.equal(S().gatewayPid(), 0, 'the standby was not started');
  });

  test('SSH hang: classified ssh-timeout', async () => {
    // How long it takes is measured in bench/, not asserted here.
    await P().hangSsh();
    const r = await lab.hactl(['check']);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(lab.state().lastCheck.hosts.primary.status, 'ssh-timeout');
  });

  test('both down: exit 2 and one critical alert, not repeated', async () => {
    await P().kill();
    await S().kill();
    const r = await lab.hactl(['check']);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /CRITICAL/);
    await lab.hactl(['check']);
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(texts[0]!, /both down/);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 2);
    assert.match(f.stdout, /not failing over/);
    assert.equal(lab.telegram.texts().length, 1, 'no FAILOVER FAILED alert on top of the critical one');
  });
});

describe('failover', () => {
  test('gateway crash, confirmed, then failover with fence, start, verify, record, alert', async () => {
    P().crashGateway();
    const c = await lab.hactl(['check']);
    assert.equal(c.code, 2, c.stdout);
    assert.equal(lab.state().lastCheck.hosts.primary.status, 'gateway-down');
    assert.equal(lab.state().streaks.primary.failures, 1);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(lab.state().serving, 'standby');
    assert.ok(S().gatewayPid() > 0, 'standby gateway runs');
    assert.equal(P().gatewayPid(), 0);
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(texts[0]!, /primary OFFLINE \(gateway-down\) — standby takes over/);
    assert.match(
      readFileSync(join(S().home, '.openclaw', 'workspace', 'MEMORY.md'), 'utf8'),
      /short answers/,
      'last-chance sync copied the memory',
    );
    const h = lab.history().at(-1);
    assert.equal(h.command, 'failover');
    assert.equal(h.kind, 'failover');
    assert.equal(typeof h.timing.gapMs, 'number', 'the gap between stop and start is recorded');
    const after = await lab.hactl(['check']);
    assert.equal(after.code, 1, 'serving from the standby is degraded');
    assert.match(after.stdout, /standby serving|serving from the standby/);
  });

  // With a guard the witness restarts it (test/partitions/partitions.test.ts case 4): permits say the other
  // side is not serving. Without one nothing does, so nothing starts: it could make two pollers.
  test('the gateway down where it serves, the other host dead, no guard: no restart, exit 2', async () => {
    await S().kill();
    P().crashGateway();
    assert.equal((await lab.hactl(['check'])).code, 2);
    assert.equal(lab.state().lastCheck.hosts.primary.status, 'gateway-down');
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 2, f.stdout + f.stderr);
    assert.match(f.stdout, /standby is unreachable too: not failing over/);
    assert.equal(P().gatewayPid(), 0, 'nothing started');
    assert.ok(!lab.history().some((h) => h.kind === 'restart'));
  });

  test('host death: failover without fencing the unreachable primary', async () => {
    await P().kill();
    assert.equal((await lab.hactl(['check'])).code, 2);
    assert.equal(lab.state().lastCheck.hosts.primary.status, 'unreachable');
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(lab.state().serving, 'standby');
    assert.match(lab.telegram.texts()[0]!, /OFFLINE \(unreachable\)/);
  });

  test('--auto acts only on confirmed state: no check, no action', async () => {
    P().crashGateway();
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0);
    assert.match(f.stdout, /no check recorded/);
    assert.equal(S().gatewayPid(), 0);
  });

  test('failuresBeforeFailover 2 waits for the second confirmed check', async () => {
    lab.writeConfig({ thresholds: { failuresBeforeFailover: 2 } });
    P().crashGateway();
    await lab.hactl(['check']);
    const f1 = await lab.hactl(['failover', '--auto']);
    assert.match(f1.stdout, /not confirmed yet \(1\/2/);
    await lab.hactl(['check']);
    const f2 = await lab.hactl(['failover', '--auto']);
    assert.equal(f2.code, 0);
    assert.equal(lab.state().serving, 'standby');
  });

  test('start method 1 failing and method 2 working', async (t) => {
    S().setFake({ service: true }); // systemctl --user fails in the lab; `openclaw gateway start` works
    // A service is installed: its unit file is there (without one, both methods are absent at once).
    const units = join(S().home, '.config', 'systemd', 'user');
    mkdirSync(units, { recursive: true });
    writeFileSync(join(units, 'openclaw-gateway.service'), '[Service]\nExecStart=openclaw gateway run\n');
    t.after(() => rmSync(join(S().home, '.config'), { recursive: true, force: true }));
    P().crashGateway();
    await lab.hactl(['check']);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    const start = lab
      .history()
      .at(-1)
      .steps.find((s: any) => s.op === 'start');
    assert.match(start.detail, /started by openclaw-cli/);
    assert.match(start.detail, /systemd-user: exit/);
    assert.deepEqual(
      S()
        .calls()
        .filter((c) => c.startsWith('gateway s')),
      ['gateway start'],
    );
  });

  test('every method failing: FAILOVER FAILED, exit 2, and no loop past max attempts', async () => {
    S().setFake({ failRun: true });
    lab.writeConfig({ thresholds: { maxAttempts: 2 } });
    P().crashGateway();
    for (let i = 1; i <= 2; i++) {
      await lab.hactl(['check']);
      const f = await lab.hactl(['failover', '--auto']);
      assert.equal(f.code, 2, f.stdout);
      assert.equal(lab.state().failover.attempts, i);
    }
    await lab.hactl(['check']);
    const esc = await lab.hactl(['failover', '--auto']);
    assert.equal(esc.code, 2);
    assert.match(esc.stdout, /escalating/);
    await lab.hactl(['check']);
    const again = await lab.hactl(['failover', '--auto']);
    assert.equal(again.code, 2);
    assert.match(again.stdout, /gave up/);
    const texts = lab.telegram.texts();
    assert.equal(texts.filter((t) => /FAILOVER FAILED/.test(t)).length, 2, texts.join('\n'));
    assert.equal(texts.filter((t) => /ESCALATION/.test(t)).length, 1);
    assert.equal(lab.state().serving, 'primary');
    // Only two rounds of start attempts reached the standby.
    assert.equal(
      S()
        .calls()
        .filter((c) => c === 'gateway run').length,
      2,
    );
  });

  test('cooldown holds back a second attempt', async () => {
    S().setFake({ failRun: true });
    lab.writeConfig({ thresholds: { cooldown: 300 } });
    P().crashGateway();
    await lab.hactl(['check']);
    assert.equal((await lab.hactl(['failover', '--auto'])).code, 2);
    await lab.hactl(['check']);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0);
    assert.match(f.stdout, /cooldown/);
  });

  test('by hand, with --dry-run first: the plan, then the act', async () => {
    const d = await lab.hactl(['failover', '--dry-run']);
    assert.equal(d.code, 0);
    assert.match(d.stdout, /would failover/);
    assert.equal(S().gatewayPid(), 0, 'dry run did nothing');
    assert.equal(existsSync(join(lab.dir, 'state', 'state.json')), false);
    const f = await lab.hactl(['failover', '--yes']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(lab.state().serving, 'standby');
    assert.equal(P().gatewayPid(), 0, 'the healthy primary was fenced');
    assert.ok(S().gatewayPid() > 0);
  });

  test('a failed alert delivery never fails the failover and is sent on the next run', async () => {
    lab.telegram.mode = 'hang';
    P().crashGateway();
    await lab.hactl(['check']);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(lab.state().serving, 'standby');
    lab.telegram.mode = 'ok';
    await lab.hactl(['check']);
    assert.ok(
      lab.telegram.texts().some((t) => /OFFLINE/.test(t)),
      'kept alert delivered later',
    );
    noSecret(f.stdout, f.stderr, readFileSync(join(lab.dir, 'state', 'history.jsonl'), 'utf8'));
  });
});

describe('failback', () => {
  async function failedOver(): Promise<void> {
    P().crashGateway();
    await lab.hactl(['check']);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    lab.telegram.sent.length = 0;
  }

  test('the primary returning: failback after N checks', async () => {
    await failedOver();
    // The machine is back (its gateway stays down until hactl hands back).
    for (let i = 1; i <= 3; i++) {
      const c = await lab.hactl(['check']);
      assert.equal(c.code, 1, c.stdout);
      const b = await lab.hactl(['failback', '--auto']);
      if (i < 3) {
        assert.match(b.stdout, new RegExp(`gateway idle, for ${i}/3`));
        assert.equal(lab.state().serving, 'standby');
      } else {
        assert.equal(b.code, 0, b.stdout + b.stderr);
      }
    }
    assert.equal(lab.state().serving, 'primary');
    assert.ok(P().gatewayPid() > 0);
    assert.equal(S().gatewayPid(), 0, 'standby stopped');
    assert.match(lab.telegram.texts()[0]!, /primary ONLINE — memory synced, standby stopped/);
    assert.equal((await lab.hactl(['check'])).code, 0);
  });

  test('the old primary comes back on its own while the standby serves: it is fenced, one poller stays', async () => {
    await failedOver();
    await P().startGateway(); // e.g. a boot-time service brought it back
    const c = await lab.hactl(['check']);
    assert.equal(c.code, 1, c.stdout);
    assert.match(c.stdout, /two gateways running/);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.match(f.stdout, /fence-idle/);
    assert.equal(P().gatewayPid(), 0, 'the returning primary was stopped');
    assert.ok(S().gatewayPid() > 0, 'the standby still serves');
    assert.equal(lab.state().serving, 'standby');
    assert.match(lab.telegram.texts()[0]!, /runs a gateway while standby serves/);
  });

  test('manual policy: never automatic, by hand works', async () => {
    lab.writeConfig({ failback: { policy: 'manual' } });
    await failedOver();
    for (let i = 0; i < 4; i++) await lab.hactl(['check']);
    const b = await lab.hactl(['failback', '--auto']);
    assert.equal(b.code, 0);
    assert.match(b.stdout, /policy is manual/);
    assert.equal(lab.state().serving, 'standby');
    const m = await lab.hactl(['failback', '--yes']);
    assert.equal(m.code, 0, m.stdout + m.stderr);
    assert.equal(lab.state().serving, 'primary');
    assert.equal(S().gatewayPid(), 0);
  });

  test('failback failing puts the standby back and says so', async () => {
    await failedOver();
    P().setFake({ failRun: true });
    const b = await lab.hactl(['failback', '--yes']);
    assert.equal(b.code, 2, b.stdout);
    assert.ok(
      lab.telegram.texts().some((t) => /FAILBACK FAILED/.test(t)),
      lab.telegram.texts().join('\n'),
    );
    assert.equal(lab.state().serving, 'standby');
    assert.ok(S().gatewayPid() > 0, 'standby serves again after the rollback');
  });
});

describe('safety', () => {
  test('two runs at once: the second exits 75 and names the holder', async () => {
    lab.writeConfig({ thresholds: { verifyDeadline: 30 } });
    P().crashGateway();
    await lab.hactl(['check']);
    // The standby's gateway answers nothing until released, so the first run is still in its start step,
    // holding the lock, whatever the machine's speed; the second starts once the lock names the first.
    const hang = join(S().openclawDir, 'fake-hang');
    writeFileSync(hang, '');
    const first = lab.hactl(['failover', '--auto']);
    const lock = join(lab.dir, 'state', 'cluster.lock');
    const held = () => existsSync(lock) && /hactl failover/.test(readFileSync(lock, 'utf8'));
    for (let i = 0; i < 300 && !held(); i++) await new Promise((r) => setTimeout(r, 100));
    const second = await lab.hactl(['failover', '--auto']);
    rmSync(hang, { force: true });
    const f = await first;
    assert.equal(second.code, 75, `${second.stdout}${second.stderr}\nfirst: ${f.stdout}${f.stderr}`);
    assert.match(second.stderr, /held by pid \d+ .*\(hactl failover/);
    assert.equal(f.code, 0, f.stdout + f.stderr);
  });

  test('a corrupt state file: set aside as it was, said in one line, no failover on a guess (#15)', async () => {
    mkdirSync(join(lab.dir, 'state'), { recursive: true });
    writeFileSync(join(lab.dir, 'state', 'state.json'), '{"version":1,"serving":"prim');
    P().crashGateway();
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 1, f.stdout + f.stderr);
    assert.match(f.stderr, /state\.json: not JSON: .*; set aside as .*state\.json\.corrupt-/);
    assert.doesNotMatch(f.stderr, /\n\s+at /, 'no stack trace');
    const aside = readdirSync(join(lab.dir, 'state')).filter((n) => n.startsWith('state.json.corrupt-'));
    assert.equal(readFileSync(join(lab.dir, 'state', aside[0]!), 'utf8'), '{"version":1,"serving":"prim');
    assert.equal(S().gatewayPid(), 0);
  });

  test('a state file of an unknown version is set aside, not read (#15)', async () => {
    mkdirSync(join(lab.dir, 'state'), { recursive: true });
    writeFileSync(join(lab.dir, 'state', 'state.json'), JSON.stringify({ version: 9, serving: 'primary' }));
    const c = await lab.hactl(['check']);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.match(c.stderr, /unknown version 9; set aside/);
    assert.equal(lab.state().version, 1);
  });

  test('a changed host key: refused, reported as a configuration problem, no failover', async () => {
    await P().changeHostKey();
    const c = await lab.hactl(['check']);
    assert.equal(c.code, 3, c.stdout + c.stderr);
    assert.equal(lab.state().lastCheck.hosts.primary.status, 'hostkey-failure');
    assert.match(c.stdout, /known_hosts|host key/i);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 3);
    assert.match(f.stdout, /configuration problem is never a reason to fail over/);
    assert.equal(S().gatewayPid(), 0);
  });

  test('an authentication failure is a configuration problem too', async () => {
    const other = join(lab.dir, 'other_key');
    const { execFileSync } = await import('node:child_process');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    lab.writeConfig({ hosts: { primary: { key: other } } });
    const c = await lab.hactl(['check']);
    assert.equal(c.code, 3, c.stdout);
    assert.equal(lab.state().lastCheck.hosts.primary.status, 'auth-failure');
    // And nothing acts on it: a refused login is never a reason to fail over.
    P().crashGateway();
    assert.equal((await lab.hactl(['check'])).code, 3);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 3, f.stdout + f.stderr);
    assert.match(f.stdout, /configuration problem is never a reason to fail over/);
    assert.equal(S().gatewayPid(), 0, 'the standby was not started');
    assert.deepEqual(S().calls(), [], 'nothing ran on the standby');
    assert.equal(lab.state().serving, 'primary');
  });

  test('a bad config: every problem at once with file:line:col, exit 78', async () => {
    const file = join(lab.dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'stateDir: /tmp/x',
        'hosts:',
        '  primary:',
        '    address: 127.0.0.2',
        '    port: seventy',
        '    user: root',
        '    key: /nonexistent',
        '    knownHosts: /nonexistent',
        'pair:',
        '  primary: primary',
        '  standby: nowhere',
        'thresholds:',
        '  retryDelay: -1',
        '  colldown: 5',
        '',
      ].join('\n'),
    );
    const r = await lab.hactl(['check', '--config', file]);
    assert.equal(r.code, 78, r.stdout + r.stderr);
    assert.match(r.stderr, /bad\.yaml:5:11: .*port/);
    assert.match(r.stderr, /bad\.yaml:11:12: .*nowhere/);
    assert.match(r.stderr, /bad\.yaml:13:15: .*retryDelay/);
    assert.match(r.stderr, /bad\.yaml:14:3: .*colldown/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test('the token comes from a 0600 file; a looser one is not used, said every run, never blocks the run', async () => {
    const tf = join(lab.dir, 'token');
    writeFileSync(tf, TOKEN + '\n');
    chmodSync(tf, 0o644);
    lab.writeConfig({ alerts: { telegram: { tokenFile: tf } } });
    await P().kill();
    await S().kill();
    const loose = await lab.hactl(['check'], { HACTL_TELEGRAM_TOKEN: undefined });
    assert.equal(loose.code, 2, 'the check itself still runs and says both are down');
    assert.match(loose.stderr, /warning: .*token file must not be readable by group or others .*chmod 600/);
    assert.equal(lab.telegram.sent.length, 0, 'nothing sent with a token from a loose file');
    assert.equal(
      JSON.parse(readFileSync(join(lab.dir, 'state', 'outbox.json'), 'utf8')).pending.length,
      1,
      'the alert waits',
    );
    chmodSync(tf, 0o600);
    const ok = await lab.hactl(['check'], { HACTL_TELEGRAM_TOKEN: undefined });
    assert.equal(ok.code, 2);
    assert.equal(ok.stderr, '');
    assert.equal(lab.telegram.sent.length, 1, 'the kept alert is delivered once the token is usable');
    assert.equal(lab.telegram.sent[0]!.token, TOKEN);
    assert.match(lab.telegram.sent[0]!.text, /both down/);
    noSecret(
      loose.stdout,
      loose.stderr,
      ok.stdout,
      ok.stderr,
      readFileSync(join(lab.dir, 'state', 'history.jsonl'), 'utf8'),
      readFileSync(join(lab.dir, 'state', 'state.json'), 'utf8'),
    );
  });

  test('no token at all: failover still happens; the alert waits in the outbox', async () => {
    P().crashGateway();
    await lab.hactl(['check'], { HACTL_TELEGRAM_TOKEN: undefined });
    const f = await lab.hactl(['failover', '--auto'], { HACTL_TELEGRAM_TOKEN: undefined });
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(lab.state().serving, 'standby');
    assert.match(f.stderr, /no bot token: set HACTL_TELEGRAM_TOKEN or alerts\.telegram\.tokenFile/);
    await lab.hactl(['check']);
    assert.ok(lab.telegram.texts().some((t) => /OFFLINE/.test(t)));
  });
});
