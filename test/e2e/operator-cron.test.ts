// hactl cron through the built CLI: the printed line really runs under /bin/sh
// and timestamps each line; --install twice leaves one block and the user's
// own lines untouched; --remove gives the user's crontab back byte for byte.
//
// The crontab program is a stand-in script on PATH (it keeps the crontab in a
// file of the test): the real one writes the machine's spool for root, which
// is shared by everyone on this machine, and cron is not installed here.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../lab/lab.ts';

const dir = mkdtempSync(join(tmpdir(), 'hactl-cron-'));
const store = join(dir, 'crontab.store');
const cfg = join(dir, 'hactl.yaml');

function hactl(args: string[], path = `${join(dir, 'bin')}:${process.env.PATH}`) {
  const env = {
    ...process.env,
    HACTL_CONFIG: undefined,
    PATH: path,
    CRONTAB_STORE: store,
  };
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), '-c', cfg, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  spawnSync('mkdir', ['-p', join(dir, 'bin'), join(dir, 'log')]);
  writeFileSync(
    join(dir, 'bin/crontab'),
    [
      '#!/bin/sh',
      'if [ "$1" = -l ]; then',
      '  [ -f "$CRONTAB_STORE" ] || { echo "no crontab for $(id -un)" >&2; exit 1; }',
      '  exec cat "$CRONTAB_STORE"',
      'fi',
      'exec cp "$1" "$CRONTAB_STORE"',
      '',
    ].join('\n'),
  );
  chmodSync(join(dir, 'bin/crontab'), 0o755);
  // Stands in for hactl in the printed line: says what it was asked, check exits 2.
  writeFileSync(
    join(dir, 'bin/fake-hactl'),
    '#!/bin/sh\necho "ran $* config=$HACTL_CONFIG"\n[ "$1" = check ] && exit 2\nexit 0\n',
  );
  chmodSync(join(dir, 'bin/fake-hactl'), 0o755);
  writeFileSync(
    cfg,
    [
      `stateDir: ${join(dir, 'state')}`,
      'hosts:',
      '  pc1: { address: 192.0.2.1, user: claw, key: /k, knownHosts: /kh }',
      '  pc2: { address: 192.0.2.2, user: claw, key: /k, knownHosts: /kh }',
      'pair: { primary: pc1, standby: pc2 }',
      'backup:',
      '  tiers:',
      '    - { name: server-to-pca, source: "pc1:.openclaw", destination: /tmp/b1 }',
      '',
    ].join('\n'),
  );
});

describe('hactl cron', () => {
  test('the printed cluster line runs under /bin/sh: all three steps, timestamped, log 0600', () => {
    const r = hactl(['cron', '--bin', join(dir, 'bin/fake-hactl'), '--log-dir', join(dir, 'log')]);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.startsWith('*/2 '));
    assert.ok(line, r.stdout);
    // What cron does with the line: the command after five fields, \% turned into %.
    const command = line.split(' ').slice(5).join(' ').replace(/\\%/g, '%');
    const sh = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: dir } });
    assert.equal(sh.status, 0, sh.stderr);
    const log = join(dir, 'log/cluster.log');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const stamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /;
    assert.deepEqual(
      lines.map((l) => l.replace(stamp, '')),
      [`ran check --watch config=${cfg}`, `ran failover --auto config=${cfg}`, `ran failback --auto config=${cfg}`],
    );
    assert.ok(
      lines.every((l) => stamp.test(l)),
      lines.join('\n'),
    );
    assert.equal(statSync(log).mode & 0o777, 0o600);
  });

  test("--install twice: one block, the user's lines untouched; --remove gives them back", () => {
    const mine = 'MAILTO=ops@example.org\n# my backup\n15 3 * * * /usr/local/bin/my-backup.sh\n';
    writeFileSync(store, mine);
    for (let i = 0; i < 2; i++) {
      const r = hactl(['cron', '--install']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, i === 0 ? /block is in the crontab/ : /unchanged/);
    }
    const text = readFileSync(store, 'utf8');
    assert.equal(text.split('\n').filter((l) => l.startsWith('# BEGIN hactl')).length, 1);
    assert.equal(text.split('\n').filter((l) => l === '# END hactl').length, 1);
    assert.ok(text.startsWith(mine), text);
    assert.equal(text.split('\n').filter((l) => /hactl' backup-tier server-to-pca;/.test(l)).length, 1);
    const r = hactl(['cron', '--remove']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(store, 'utf8'), mine);
  });

  test('--install with no crontab yet, and a broken block is refused without writing', () => {
    spawnSync('rm', ['-f', store]);
    assert.equal(hactl(['cron', '--install']).code, 0);
    assert.ok(existsSync(store));
    const broken = 'A\n# BEGIN hactl (managed; hactl cron --remove to delete)\nold\n';
    writeFileSync(store, broken);
    const r = hactl(['cron', '--install']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no '# END hactl'/);
    assert.equal(readFileSync(store, 'utf8'), broken);
  });

  test('no crontab program on PATH: the lines are printed; --install says what to do and writes nothing', () => {
    spawnSync('rm', ['-f', store]);
    // Only things named crontab that are not programs: a file without x, a directory.
    const path = [join(dir, 'nocron1'), join(dir, 'nocron2')];
    spawnSync('mkdir', ['-p', path[0]!, join(path[1]!, 'crontab')]);
    writeFileSync(join(path[0]!, 'crontab'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const printed = hactl(['cron'], path.join(':'));
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^# BEGIN hactl/m);
    const r = hactl(['cron', '--install'], path.join(':'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /crontab -l: cannot run: no crontab program on PATH.*\n.*apt-get install cron/);
    assert.equal(existsSync(store), false);
    // The same PATH with the stand-in after them: found, as execvp would.
    const found = hactl(['cron', '--install'], `${path.join(':')}:${join(dir, 'bin')}:${process.env.PATH}`);
    assert.equal(found.code, 0, found.stderr);
  });

  test('--systemd: units that systemd-analyze verify accepts, with a space and a % in the paths', () => {
    const odd = join(dir, 'odd 50%');
    spawnSync('mkdir', ['-p', odd]);
    copyFileSync(cfg, join(odd, 'hactl.yaml'));
    symlinkSync(join(ROOT, 'bin/hactl'), join(odd, 'hactl'));
    const units = join(dir, 'units-odd');
    const env = { ...process.env, HACTL_CONFIG: undefined };
    const args = [
      join(ROOT, 'bin/hactl'),
      '-c',
      join(odd, 'hactl.yaml'),
      'cron',
      '--systemd',
      units,
      '--bin',
      join(odd, 'hactl'),
    ];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    const files = readdirSync(units).map((f) => join(units, f));
    assert.equal(files.length, 6);
    const v = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
    if (v.error) return; // no systemd-analyze on this machine: the unit test of the fields still ran
    assert.equal(v.status, 0, v.stderr);
    assert.match(
      readFileSync(join(units, 'hactl-cluster.service'), 'utf8'),
      /^ExecStart=-".*\/odd 50%%\/hactl" check --watch$/m,
    );
  });

  test('--json and --systemd', () => {
    const j = JSON.parse(hactl(['--json', 'cron']).stdout);
    assert.equal(j.command, 'cron');
    assert.deepEqual(j.jobs, ['cluster', 'sync-memory', 'backup-server-to-pca']);
    const r = hactl(['cron', '--systemd', join(dir, 'units')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      readFileSync(join(dir, 'units/hactl-backup-server-to-pca.timer'), 'utf8'),
      /^OnCalendar=\*-\*-\* \*:03:00$/m,
    );
  });

  test('--install creates a missing --log-dir 0700; one that cannot be made: exit 66 naming the fix', () => {
    spawnSync('rm', ['-f', store]);
    const logs = join(dir, 'new-logs', 'hactl');
    const r = hactl(['cron', '--install', '--log-dir', logs]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(logs).mode & 0o777, 0o700);
    writeFileSync(join(dir, 'a-file'), '');
    const bad = join(dir, 'a-file', 'logs');
    const before = readFileSync(store, 'utf8');
    const j = hactl(['--json', 'cron', '--install', '--log-dir', bad]);
    assert.equal(j.code, 66, j.stdout + j.stderr);
    const doc = JSON.parse(j.stdout);
    assert.equal(doc.error.code, 'input-missing');
    assert.match(j.stdout, /install -d -m 700 .*--log-dir/);
    assert.equal(readFileSync(store, 'utf8'), before, 'the crontab is untouched');
  });

  test('--install keeps --log-dir, --bin and --env-file: running it again without them changes nothing', () => {
    spawnSync('rm', ['-f', store]);
    const env = join(dir, 'keep.env');
    writeFileSync(env, "HACTL_TELEGRAM_TOKEN='1:x'\n", { mode: 0o600 });
    const logs = join(dir, 'kept-logs');
    const bin = join(dir, 'bin/fake-hactl');
    const first = hactl(['cron', '--install', '--log-dir', logs, '--bin', bin, '--env-file', env]);
    assert.equal(first.code, 0, first.stderr);
    const text = readFileSync(store, 'utf8');
    const again = hactl(['--json', 'cron', '--install']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).changed, false, again.stdout);
    assert.equal(readFileSync(store, 'utf8'), text);
    assert.ok(text.includes(`>>'${logs}/cluster.log'`), text);
    assert.ok(text.includes(`'${bin}' check --watch`), text);
    assert.ok(text.includes(`. '${env}'`), text);
    // A new --log-dir replaces the kept one; the others stay.
    const moved = join(dir, 'moved-logs');
    assert.equal(hactl(['cron', '--install', '--log-dir', moved]).code, 0);
    const now = readFileSync(store, 'utf8');
    assert.ok(now.includes(`>>'${moved}/cluster.log'`) && now.includes(`'${bin}' check --watch`), now);
    // --logrotate rotates the directory the block writes to.
    assert.match(hactl(['cron', '--logrotate']).stdout, new RegExp(`^${moved}/\\*\\.log \\{$`, 'm'));
  });

  test('--env-file: the printed line exports its secrets to hactl under /bin/sh; an open file is refused', () => {
    const env = join(dir, 'secrets.env');
    const url = 'https://hooks.example.org/services/T0/B0/abc?x=1&y=2';
    writeFileSync(env, `# secrets for hactl's jobs\nHACTL_TELEGRAM_TOKEN='123:abc'\nSLACK_URL='${url}'\n`, {
      mode: 0o600,
    });
    writeFileSync(join(dir, 'bin/env-hactl'), '#!/bin/sh\necho "token=$HACTL_TELEGRAM_TOKEN url=$SLACK_URL"\n');
    chmodSync(join(dir, 'bin/env-hactl'), 0o755);
    const r = hactl(['cron', '--bin', join(dir, 'bin/env-hactl'), '--log-dir', join(dir, 'log'), '--env-file', env]);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.startsWith('*/2 '))!;
    const command = line.split(' ').slice(5).join(' ').replace(/\\%/g, '%');
    spawnSync('rm', ['-f', join(dir, 'log/cluster.log')]);
    const sh = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: dir } });
    assert.equal(sh.status, 0, sh.stderr);
    const log = readFileSync(join(dir, 'log/cluster.log'), 'utf8');
    assert.equal(log.split('\n').filter((l) => l.endsWith(`token=123:abc url=${url}`)).length, 3, log);
    chmodSync(env, 0o644);
    const open = hactl(['cron', '--env-file', env]);
    assert.equal(open.code, 78, open.stderr);
    assert.ok(open.stderr.includes(`chmod 600 '${env}'`), open.stderr);
    // Node 20 reads a script's own --env-file argument as its option and exits 9 on a missing file
    // before hactl runs (nodejs/node#54232). Run as operators run it: bin/hactl itself, by its #! line
    // (`env -S node --`: after `--` node reads nothing more), with node found on PATH.
    const missing = spawnSync(join(ROOT, 'bin/hactl'), ['-c', cfg, 'cron', '--env-file', join(dir, 'nope.env')], {
      encoding: 'utf8',
      env: { ...process.env, HACTL_CONFIG: undefined, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
    });
    assert.equal(missing.status, 66, missing.stderr);
    assert.match(missing.stderr, /nope\.env does not exist/);
    chmodSync(env, 0o600);
  });

  const analyze = spawnSync('systemd-analyze', ['--version']);
  test(
    '--systemd --env-file: systemd-analyze verify passes; EnvironmentFile=; a backup unit gets its 1 h deadline',
    { skip: analyze.status !== 0 && 'systemd-analyze cannot run here (apt-get install systemd)' },
    () => {
      const env = join(dir, 'unit.env');
      writeFileSync(env, "HACTL_TELEGRAM_TOKEN='1:x'\n", { mode: 0o600 });
      const units = join(dir, 'units-env');
      const r = hactl(['cron', '--systemd', units, '--env-file', env]);
      assert.equal(r.code, 0, r.stderr);
      const files = readdirSync(units).map((f) => join(units, f));
      const v = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
      assert.equal(v.status, 0, v.stderr);
      for (const f of files.filter((x) => x.endsWith('.service')))
        assert.match(readFileSync(f, 'utf8'), new RegExp(`^EnvironmentFile=${env}$`, 'm'));
      assert.doesNotMatch(v.stderr, /ignoring/);
      const backup = readFileSync(join(units, 'hactl-backup-server-to-pca.service'), 'utf8');
      const sec = Number(/^TimeoutStartSec=(\d+)$/m.exec(backup)?.[1]);
      assert.ok(sec >= 3600, `backup TimeoutStartSec=${sec}`);
    },
  );

  test(
    '--systemd --env-file with a space in its path: systemd loads it (verify says nothing is ignored)',
    { skip: analyze.status !== 0 && 'systemd-analyze cannot run here (apt-get install systemd)' },
    () => {
      const sub = join(dir, 'my secrets');
      spawnSync('mkdir', ['-p', sub]);
      const env = join(sub, 'hactl.env');
      writeFileSync(env, "HACTL_TELEGRAM_TOKEN='1:x'\n", { mode: 0o600 });
      const units = join(dir, 'units-env-space');
      const r = hactl(['cron', '--systemd', units, '--env-file', env]);
      assert.equal(r.code, 0, r.stderr);
      const files = readdirSync(units).map((f) => join(units, f));
      const v = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
      assert.equal(v.status, 0, v.stderr);
      assert.doesNotMatch(v.stderr, /ignoring|not absolute/);
      assert.match(
        readFileSync(join(units, 'hactl-cluster.service'), 'utf8'),
        new RegExp(`^EnvironmentFile=${env}$`, 'm'),
      );
      // A path systemd would read as a wildcard: refused at `cron` time, naming the flag.
      const odd = join(dir, 'sec[1].env');
      writeFileSync(odd, "A='1'\n", { mode: 0o600 });
      const bad = hactl(['cron', '--systemd', join(dir, 'units-odd-env'), '--env-file', odd]);
      assert.equal(bad.code, 64, bad.stderr);
      assert.match(bad.stderr, /--env-file .*EnvironmentFile=/);
    },
  );
});
