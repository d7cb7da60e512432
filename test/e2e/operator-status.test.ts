// hactl status and hactl history end to end: the built CLI against the lab's real sshd hosts
// and stand-in gateways. Status reads files only; the stale witness is reached by moving the
// one clock (HACTL_NOW), never by editing state. History's stats are checked over a scripted
// sequence of real incidents across forced rotations, and order: learned is seen to put the
// method that worked first on the next failover.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab.ts';

let lab: Lab;
const P = () => lab.host('primary');
const S = () => lab.host('standby');
const stateDir = () => join(lab.dir, 'state');
const json = (r: { stdout: string }) => JSON.parse(r.stdout);
const later = (iso: string, s: number) => new Date(Date.parse(iso) + s * 1000).toISOString();

before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});
beforeEach(async () => {
  await lab.reset();
  for (const h of [P(), S()]) rmSync(join(h.openclawDir, 'fake-flaky'), { force: true });
  await P().startGateway();
});

describe('hactl status', () => {
  test('no check yet: unknown (3); after a check: OK, hosts, ages, counts; stale witness by the clock', async () => {
    const none = await lab.hactl(['status']);
    assert.equal(none.code, 3, none.stdout + none.stderr);
    assert.match(none.stdout, /^status: UNKNOWN: .*no check has run yet/);

    assert.equal((await lab.hactl(['check'])).code, 0);
    const r = await lab.hactl(['status', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const s = json(r);
    assert.equal(s.command, 'status');
    assert.equal(s.exitCode, 0);
    assert.equal(s.serving, 'primary');
    assert.deepEqual(
      s.hosts.map((h: any) => [h.role, h.status, h.healthy, h.failures]),
      [
        ['primary', 'healthy', 1, 0],
        ['standby', 'gateway-down', 0, 1],
      ],
    );
    assert.equal(s.witness.stale, false);
    assert.equal(s.witness.staleAfterSeconds, 360, '3 x status.checkEvery (2m by default)');
    assert.deepEqual(s.locks, []);
    assert.equal(s.pause.paused, false);
    const checkedAt = lab.state().lastCheck.at;
    const before = readdirSync(stateDir()).sort();

    // Cron stopped: 5 minutes later still fine, 7 minutes later a stale witness (exit 1).
    const fresh = await lab.hactl(['status'], { HACTL_NOW: later(checkedAt, 300) });
    assert.equal(fresh.code, 0, fresh.stdout);
    const stale = await lab.hactl(['status'], { HACTL_NOW: later(checkedAt, 420) });
    assert.equal(stale.code, 1, stale.stdout);
    assert.match(stale.stdout, /^status: WARNING: .*stale witness: the last check ran 7m ago/);
    assert.equal(stale.stdout.trim().split('\n').length, 1, 'one line under cron');
    // A check brings it back; status itself wrote nothing.
    assert.deepEqual(readdirSync(stateDir()).sort(), before, 'status writes no file');
    assert.equal(lab.history().length, 1, 'status adds no history line');

    // A pause shows with its end, and is a warning.
    assert.equal((await lab.hactl(['pause', '--for', '2h', '--reason', 'disk swap'])).code, 0);
    const paused = json(await lab.hactl(['status', '--json']));
    assert.equal(paused.exitCode, 1);
    assert.equal(paused.pause.paused, true);
    assert.match(paused.pause.until, /^\d{4}-/);
    assert.match(paused.summary, /paused by .* until .*disk swap/);
  });

  test('after a failover: the standby serves, the last failover is shown, degraded (1)', async () => {
    P().crashGateway();
    assert.equal((await lab.hactl(['check'])).code, 2);
    const crit = await lab.hactl(['status']);
    assert.equal(crit.code, 2, 'nothing serving at the last check');
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal((await lab.hactl(['check'])).code, 1);
    const r = await lab.hactl(['status', '--json']);
    assert.equal(r.code, 1, r.stdout);
    const s = json(r);
    assert.equal(s.serving, 'standby');
    assert.equal(s.lastFailover.ok, true);
    assert.equal(s.lastFailover.kind, 'failover');
    assert.equal(s.lastFailback, null);
    // Degraded; the lab has no memory to sync, so the failover's last-chance sync was refused: said too.
    assert.deepEqual(
      s.findings.map((x: any) => x.text.replace(/\(last run .*/, '')),
      ['degraded at the last check', 'memory sync has not succeeded yet '],
    );
    assert.ok(s.findings.every((x: any) => x.severity === 'warning'));
    assert.equal(s.history.failovers, 1);
  });
});

describe('hactl history', () => {
  test('stats over real incidents across rotations; order: learned tries the working method first', async () => {
    // A tiny size limit rotates at nearly every failover line; only one rotated file is kept.
    lab.writeConfig({ history: { maxSizeMB: 0.004, keep: 1 }, gateway: { order: 'learned' } });
    let runs = 0;
    const run = async (args: string[], code?: number) => {
      const r = await lab.hactl(args);
      runs++;
      if (code !== undefined) assert.equal(r.code, code, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return r;
    };
    const flakyCheck = async () => {
      writeFileSync(join(P().openclawDir, 'fake-flaky'), '1'); // fails the first probe, passes the retry
      await run(['check'], 0);
    };
    const incident = async () => {
      P().crashGateway();
      await run(['check'], 2);
      await run(['failover', '--auto'], 0);
      await run(['check'], 1);
    };
    await run(['check'], 0);
    await flakyCheck();
    await incident(); // standby: systemd-user and openclaw-cli fail (no service in the lab), detached works
    await run(['failback', '--yes'], 0);
    await run(['check'], 0);
    await flakyCheck();
    await incident(); // learned: detached first on the standby

    const moves = onDiskLines().filter((e) => e.command === 'failover' && e.acted);
    const last = moves.at(-1);
    assert.ok(last, 'the last failover line is on disk');
    const tried = last.steps.find((s: any) => s.op === 'start').methods.map((m: any) => m.name);
    assert.deepEqual(tried, ['detached'], 'the method that worked on the standby is tried first');

    assert.ok(existsSync(join(stateDir(), 'history-stats.json')), 'rotation folded lines into the stats file');
    const rotated = readdirSync(stateDir()).filter((n) => /^history\.\d+\.jsonl$/.test(n));
    assert.equal(rotated.length, 1, 'keep: 1');
    const onDisk = onDiskLines().length;
    assert.ok(onDisk < runs, `some lines were rotated away (${onDisk} of ${runs} on disk)`);

    const h = await lab.hactl(['history', '--json']);
    assert.equal(h.code, 0, h.stdout + h.stderr);
    const all = json(h).stats.allTime;
    assert.equal(all.entries, runs, 'every run counted once across the rotations');
    assert.deepEqual(all.failovers, { ok: 2, failed: 0 });
    assert.deepEqual(all.failbacks, { ok: 1, failed: 0 });
    assert.equal(all.falseAlarmsAvoided, 2);
    assert.equal(all.recoveries, 2);
    assert.ok(all.meanRecoverySeconds > 0);
    assert.equal(all.incidentOpenSince, null);
    const rate = (host: string, m: string) => {
      const r = all.methods.find((x: any) => x.host === host && x.method === m);
      return r && `${r.ok}/${r.tried}${r.absent ? ` absent ${r.absent}` : ''}`;
    };
    // The lab has no systemd unit and no openclaw CLI: those methods were absent, not tried (issue 24.6).
    assert.deepEqual(
      ['systemd-user', 'openclaw-cli', 'detached'].map((m) => rate('standby', m)),
      ['0/0 absent 1', '0/0 absent 1', '2/2'],
    );
    assert.equal(rate('primary', 'detached'), '1/1');

    const fo = json(await lab.hactl(['history', '--json', '--kind', 'failover,failback']));
    assert.ok(fo.entries.every((e: any) => e.command === 'failover' || e.command === 'failback'));
    const text = await lab.hactl(['history', '--since', '1h', '--kind', 'check']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /all time: \d+ runs/);
    assert.match(text.stdout, /start method detached on standby: 2\/2 \(100%\)/);
    assert.match(text.stdout, /start method systemd-user on standby: not on the host \(1 run\(s\)\)/);
    assert.doesNotMatch(text.stdout, /0\/1 \(0%\)/);
    assert.equal((await lab.hactl(['history', '--kind', 'nope'])).code, 64);
    assert.equal((await lab.hactl(['history', '--since', 'yesterday'])).code, 64);
  });
});

/** The lines of the kept rotated files and the current one, oldest first. */
function onDiskLines(): any[] {
  const files = readdirSync(stateDir())
    .filter((n) => /^history\.\d+\.jsonl$/.test(n))
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  const rotated = files.flatMap((n) =>
    readFileSync(join(stateDir(), n), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  );
  return [...rotated, ...lab.history()];
}
