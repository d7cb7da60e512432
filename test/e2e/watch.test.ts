// Issue 12 end to end, in the lab (real sshd hosts, the stand-in gateway): check --watch turns a
// confirmed failure into a failover inside its window; overlapping watchers and cron's own
// failover --auto act once; an absent start method is reported absent and the next one tried;
// settle ends when the stopped side's gateway is seen gone. No assertion on time.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../lab/lab.ts';

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
  await P().startGateway();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How many times the standby's gateway was started (the stand-in logs every call). */
const standbyStarts = () =>
  S()
    .calls()
    .filter((c) => c === 'gateway run' || c === 'gateway start').length;
const acted = () => lab.history().filter((h) => h.command === 'failover' && h.acted === true);
const startStep = (h: any) => h.steps.find((s: any) => s.op === 'start');

describe('check --watch', () => {
  test('one watch run turns a failure that happens inside its window into a failover', async () => {
    const run = lab.hactl(['check', '--watch', '--interval', '0.3s', '--window', '10s']);
    // Bounded: the watch's first probe is recorded, then the primary's gateway crashes.
    for (let i = 0; i < 200 && !lab.history().some((h) => h.command === 'check'); i++) await sleep(50);
    const first = lab.history().find((h) => h.command === 'check');
    assert.ok(first, 'the watch recorded a first probe');
    assert.equal(first.exitCode, 0, 'the first probe saw a healthy primary');
    P().crashGateway();
    const r = await run;
    assert.equal(lab.state().serving, 'standby', r.stdout + r.stderr);
    const [move] = acted();
    assert.ok(move, 'a failover ran');
    assert.equal(acted().length, 1);
    assert.equal(move.auto, true, 'through failover --auto');
    assert.equal(move.pid, first.pid, 'by the watch itself, not by another run');
    assert.equal(standbyStarts(), 1);
    const checks = lab.history().filter((h) => h.command === 'check');
    assert.ok(checks.length >= 3, 'it kept probing after the failover');
    assert.equal(new Set(checks.map((h) => h.pid)).size, 1, 'every probe by the one watch');
    // Under cron: one summary line, saying what it did; exit 1 (serving from the standby).
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.match(
      lines[0]!,
      /^check --watch: \d+ probe\(s\) in \d+ s; failover: failover done .*; last check: DEGRADED/,
    );
    assert.equal(r.code, 1);
  });

  test('two watchers and cron failover --auto at once act once: one start on the standby', async () => {
    P().crashGateway();
    const watch = () => lab.hactl(['check', '--watch', '--interval', '0.2s', '--window', '4s']);
    const cron = async () => {
      for (let i = 0; i < 8; i++) {
        await lab.hactl(['failover', '--auto']);
        await sleep(200);
      }
    };
    const [a, b] = await Promise.all([watch(), watch(), cron()]);
    assert.equal(lab.state().serving, 'standby', a.stdout + b.stdout);
    assert.equal(standbyStarts(), 1, S().calls().join('\n'));
    assert.equal(acted().length, 1, JSON.stringify(acted().map((h) => h.summary)));
    assert.ok(S().gatewayPid() > 0);
    // Both watchers made observations; lock turn-aways are counted, not errors.
    for (const r of [a, b]) assert.match(r.stdout, /^check --watch: \d+ probe\(s\)/, r.stdout + r.stderr);
  });
});

describe('fast start and settle', () => {
  test('absent start methods are reported absent, not run, and the next method is tried', async () => {
    // The lab has systemctl but no openclaw-gateway.service unit: systemd-user and openclaw-cli are absent.
    lab.writeConfig({ thresholds: { settle: 30 } });
    P().crashGateway();
    await lab.hactl(['check']);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    const h = lab.history().at(-1);
    const start = startStep(h);
    assert.deepEqual(
      start.methods.map((m: any) => [m.name, m.ok, !!m.absent]),
      [
        ['systemd-user', false, true],
        ['openclaw-cli', false, true],
        ['detached', true, false],
      ],
    );
    assert.match(start.detail, /started by detached/);
    assert.match(start.detail, /systemd-user: absent \(no openclaw-gateway\.service unit/);
    assert.match(start.detail, /openclaw-cli: absent \(/);
    assert.deepEqual(
      S()
        .calls()
        .filter((c) => c.startsWith('gateway')),
      ['gateway run'],
      'openclaw gateway start was never run',
    );
    // Settle (bound 30 s) ended when the primary's gateway was seen gone and its port free.
    const settle = h.steps.find((s: any) => s.op === 'settle');
    assert.match(
      settle.detail,
      new RegExp(`primary's gateway gone and port ${P().gatewayPort} free after .* \\(bound 30 s\\)`),
    );
  });

  test('a program not on PATH is absent; settle for a dead host waits its whole bound', async () => {
    lab.writeConfig({
      thresholds: { settle: 0.5 },
      gateway: {
        start: [
          { name: 'vendor-cli', run: 'no-such-gateway-cli start' },
          { name: 'detached', detached: 'openclaw gateway run' },
        ],
      },
    });
    await P().kill();
    await lab.hactl(['check']);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    const h = lab.history().at(-1);
    const start = startStep(h);
    assert.deepEqual(start.methods[0], { ...start.methods[0], name: 'vendor-cli', ok: false, absent: true });
    assert.match(start.detail, /vendor-cli: absent \(no-such-gateway-cli not found on PATH\)/);
    const settle = h.steps.find((s: any) => s.op === 'settle');
    assert.match(settle.detail, /^waited the whole 0\.5 s: primary cannot be observed/);
  });
});
