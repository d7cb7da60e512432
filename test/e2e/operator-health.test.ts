// Heartbeats, resource warnings and hactl doctor (issue 13, items 4, 5 and 8) in the lab:
// real sshd hosts on 127.0.0.x. A host's clock is skewed through its own `date` (first in
// the PATH its sshd gives); heartbeats are written by hactl's own `heartbeat` command run
// on that host with that clock; the standby's disk is a tiny tmpfs, filled.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, ROOT } from '../lab/lab.ts';
import { mountTmpfs, onHost, pathWithout, setPath, skewClock, unmount } from '../lab/health.ts';

const HOUR = 3600;
let lab: Lab;
let full = '';

/** hactl heartbeat, run on the host through its sshd, at the host's own (skewed) time. */
function heartbeatOn(name: string): string {
  const host = lab.host(name);
  const cmd = `HACTL_NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ) ${process.execPath} ${join(ROOT, 'bin/hactl')} heartbeat`;
  return onHost(lab, host, cmd);
}

async function check(): Promise<{ code: number; json: any }> {
  const r = await lab.hactl(['check', '--json']);
  assert.ok(r.stdout.trim().startsWith('{'), r.stdout + r.stderr);
  return { code: r.code, json: JSON.parse(r.stdout) };
}
const heartbeatOf = (json: any, host: string) =>
  json.health.findings.find((f: any) => f.host === host && f.check === 'heartbeat');

before(async () => {
  lab = await Lab.start();
  await lab.host('primary').startGateway();
});
after(async () => {
  if (full) unmount(full);
  await lab?.stop();
});

describe("heartbeats, by each host's own clock", () => {
  test('ages cross 3 and 5 minutes on a host an hour ahead of the witness; never a failover', async () => {
    lab.writeConfig();
    const primary = lab.host('primary');
    try {
      skewClock(primary, HOUR);
      skewClock(lab.host('standby'), -HOUR);
      assert.match(heartbeatOn('primary'), /^heartbeat: \S+\/\.openclaw\/hactl\/heartbeat at /);
      const wrote = Date.now() / 1000;
      heartbeatOn('standby');
      // The primary's clock moves on so that its heartbeat is `age` old now, whatever the test's own pace.
      const aged = (age: number) => skewClock(primary, HOUR + age - (Date.now() / 1000 - wrote));
      // Just written, by each host's clock: fresh, though the witness sees one an hour ahead, one behind.
      let r = await check();
      assert.equal(r.code, 0, JSON.stringify(r.json.health));
      assert.equal(heartbeatOf(r.json, 'primary').level, 'ok');
      assert.equal(heartbeatOf(r.json, 'standby').level, 'ok');
      aged(200);
      r = await check();
      assert.equal(r.code, 1, r.json.summary);
      assert.match(r.json.summary, /WARNING: primary: heartbeat [34]m\d*s? old by the host's own clock/);
      assert.equal(heartbeatOf(r.json, 'standby').level, 'ok');
      aged(330);
      r = await check();
      assert.equal(r.code, 2, r.json.summary);
      assert.match(r.json.summary, /CRITICAL: primary: heartbeat \d+m\d*s? old by the host's own clock/);
      // The gateway probe alone decides failover: the primary still serves, failover --auto does nothing.
      assert.equal(r.json.hosts.primary.status, 'healthy');
      assert.equal(lab.state().serving, 'primary');
      const f = await lab.hactl(['failover', '--auto', '--json']);
      assert.equal(JSON.parse(f.stdout).acted, false, f.stdout);
      assert.equal(lab.host('standby').gatewayPid(), 0);
      // A new heartbeat, written by that host's clock, ends it.
      heartbeatOn('primary');
      r = await check();
      assert.equal(r.code, 0, r.json.summary);
    } finally {
      skewClock(primary, 0);
      skewClock(lab.host('standby'), 0);
      for (const h of ['primary', 'standby'])
        rmSync(join(lab.host(h).home, '.openclaw/hactl/heartbeat'), { force: true });
    }
  });
});

describe('resource warnings', () => {
  test('a standby with a full disk is warned about (exit 1) and is no reason to fail over', async () => {
    full = join(lab.host('standby').home, 'memory');
    mkdirSync(join(lab.host('primary').home, 'memory'), { recursive: true });
    mountTmpfs(full, '512k');
    try {
      writeFileSync(join(full, 'fill'), Buffer.alloc(1024 * 1024));
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    // Load and memory thresholds out of reach: the lab shares a busy machine.
    lab.writeConfig({
      memory: { root: 'memory' },
      resources: { enabled: true, diskFreePercent: 1, memoryPercent: 100, loadPercent: 10000 },
    });
    const r = await check();
    assert.equal(r.code, 1, r.json.summary);
    assert.match(r.json.summary, /WARNING: standby: disk of the memory root 100% full, 0 MB free/);
    assert.doesNotMatch(r.json.summary, /primary: disk/);
    const disks = r.json.health.findings.filter((x: any) => x.check === 'disk').map((x: any) => x.host);
    assert.deepEqual(disks.sort(), ['primary', 'primary', 'standby', 'standby', 'witness']);
    assert.ok(r.json.health.findings.some((x: any) => x.check === 'load' && x.host === 'standby'));
    // Statuses come from the probe only; nothing moves.
    assert.equal(r.json.hosts.primary.status, 'healthy');
    assert.equal(r.json.hosts.standby.status, 'gateway-down');
    const f = await lab.hactl(['failover', '--auto', '--json']);
    assert.equal(JSON.parse(f.stdout).acted, false, f.stdout);
    assert.equal(lab.state().serving, 'primary');
    unmount(full);
    full = '';
  });
});

describe('hactl doctor', () => {
  const doctor = async (...args: string[]) => {
    const r = await lab.hactl(['doctor', ...args]);
    return { ...r, lines: r.stdout.trim().split('\n') };
  };
  /** The one line about host/check at a level, with its fix. */
  const line = (r: { lines: string[] }, level: string, host: string, check: string) =>
    r.lines.find((l) => l.startsWith(`${level} ${host.padEnd(10)} ${check.padEnd(11)} `)) ?? '';
  const key = () => join(lab.dir, 'client_ed25519');
  const kh = () => join(lab.dir, 'known_hosts');
  beforeEach(() => lab.writeConfig());

  test("all pass on a sound lab, and it says rsync's ssh runs with -F none", async () => {
    lab.writeConfig();
    const r = await doctor();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.lines.at(-1)!, /^doctor: all \d+ checks passed$/);
    assert.match(line(r, 'ok  ', 'standby', 'rsync-ssh'), /runs with -F none: neither it nor hactl's ssh2 reads/);
    assert.match(line(r, 'ok  ', 'standby', 'commands'), /found .*openclaw.*rsync.*timeout/);
    const j = JSON.parse((await doctor('--json')).stdout);
    assert.deepEqual([j.command, j.exitCode, j.counts.fail, j.counts.warn], ['doctor', 0, 0, 0]);
  });

  test('a private key others can read: both ssh checks say so, with chmod 600', async () => {
    chmodSync(key(), 0o644);
    try {
      const r = await doctor();
      assert.equal(r.code, 2, r.stdout);
      assert.match(line(r, 'FAIL', 'primary', 'key'), new RegExp(`mode 0644.* -- fix: chmod 600 '${key()}'$`));
      assert.match(line(r, 'FAIL', 'standby', 'rsync-ssh'), /UNPROTECTED|bad permissions|-- fix: chmod 600/);
    } finally {
      chmodSync(key(), 0o600);
    }
  });

  test('known_hosts: a missing entry, a hashed one, and @cert-authority lines', async () => {
    const sb = lab.host('standby');
    const [first, second] = readFileSync(kh(), 'utf8').trim().split('\n');
    const own = second!.includes(sb.address) ? second! : first!;
    const other = own === first ? second! : first!;
    writeFileSync(kh(), other + '\n');
    let r = await doctor();
    assert.equal(r.code, 2);
    const fix = `-- fix: ssh-keyscan -p ${sb.sshPort} -t ed25519 ${sb.address} >> '${kh()}'`;
    assert.ok(line(r, 'FAIL', 'standby', 'known_hosts').includes(fix), r.stdout);
    assert.match(line(r, 'FAIL', 'standby', 'ssh'), /not in known_hosts.* -- fix: /);
    // The standby's entry hashed (ssh-keygen -H), and a @cert-authority line for it: accepted.
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(lab.dir, 'ca')]);
    const ca = readFileSync(join(lab.dir, 'ca.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const caLine = `@cert-authority [${sb.address}]:${sb.sshPort} ${ca}`;
    writeFileSync(kh(), `${other}\n${own}\n${caLine}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', kh()], { stdio: 'ignore' });
    rmSync(`${kh()}.old`, { force: true });
    r = await doctor();
    assert.equal(r.code, 0, r.stdout);
    assert.match(line(r, 'ok  ', 'standby', 'known_hosts'), /\(hashed line 2\); @cert-authority at line 3 read/);
    // The @cert-authority line alone: hactl's ssh2 cannot check certificates, and doctor says what to add.
    writeFileSync(kh(), `${other}\n${caLine}\n`);
    r = await doctor();
    assert.equal(r.code, 2);
    assert.ok(line(r, 'FAIL', 'standby', 'known_hosts').includes('only a @cert-authority line'), r.stdout);
    const own2 = `-- fix: add the host's own key too: ${fix.slice('-- fix: '.length)}`;
    assert.ok(line(r, 'FAIL', 'standby', 'known_hosts').includes(own2), r.stdout);
    lab.writeKnownHosts();
  });

  test('programs missing from the PATH of an SSH login: rsync, then timeout', async () => {
    const sb = lab.host('standby');
    try {
      await setPath(sb, pathWithout(sb, ['rsync']));
      let r = await doctor();
      assert.equal(r.code, 2, r.stdout);
      assert.match(line(r, 'FAIL', 'standby', 'commands'), /`rsync` is not in the PATH .* -- fix: install rsync/);
      assert.equal(line(r, 'FAIL', 'primary', 'commands'), '');
      await setPath(sb, pathWithout(sb, ['timeout']));
      r = await doctor();
      assert.equal(r.code, 2, r.stdout);
      assert.match(
        line(r, 'FAIL', 'standby', 'commands'),
        /`timeout` is not .*every remote command hactl runs.*-- fix: install coreutils/,
      );
    } finally {
      await setPath(sb, undefined);
    }
  });

  test('an unreachable host, a skewed clock, a loose state directory, a broken config', async () => {
    const sb = lab.host('standby');
    await sb.stopSshd();
    try {
      const r = await doctor();
      assert.equal(r.code, 2);
      assert.match(line(r, 'FAIL', 'standby', 'ssh'), /econnrefused.* -- fix: check hosts.standby.address and port/);
      assert.match(line(r, 'FAIL', 'standby', 'rsync-ssh'), /cannot reach/);
    } finally {
      await sb.startSshd();
    }
    skewClock(lab.host('primary'), 120);
    mkdirSync(join(lab.dir, 'state'), { recursive: true, mode: 0o755 });
    chmodSync(join(lab.dir, 'state'), 0o755);
    try {
      const r = await doctor('--quiet');
      assert.equal(r.code, 1, r.stdout);
      const skew = /clock (\d+) s ahead of the witness's.* -- fix: enable NTP/.exec(
        line(r, 'WARN', 'primary', 'clock'),
      );
      assert.ok(skew && Math.abs(Number(skew[1]) - 120) <= 10, r.stdout); // measured over a real round trip
      assert.match(line(r, 'WARN', '-', 'state'), / -- fix: chmod 700 /);
      assert.equal(r.lines.length, 3, 'quiet: the problems and the summary');
    } finally {
      skewClock(lab.host('primary'), 0);
      chmodSync(join(lab.dir, 'state'), 0o700);
    }
    writeFileSync(join(lab.dir, 'hactl.yaml'), 'hosts: 3\n');
    assert.equal((await doctor()).code, 78);
    lab.writeConfig();
  });
});
