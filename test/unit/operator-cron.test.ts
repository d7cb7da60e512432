// hactl cron, the pure parts: when each job runs, the crontab block merge, the
// systemd calendar expressions (checked by systemd-analyze itself).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cronFields, onCalendar, planJobs, tierOffsets, whenEvery } from '../../dist/operator/schedule.js';
import { BEGIN, END, mergeCrontab, rememberedOptions } from '../../dist/operator/crontab-block.js';
import { crontabLines, envFileValue, jobCommand, logrotateSnippet, systemdUnits } from '../../dist/operator/cron.js';

const PATHS = {
  hactl: '/opt/hactl/bin/hactl',
  path: ['/opt/node/bin', '/usr/bin', '/bin'],
  config: '/etc/hactl/hactl.yaml',
  logDir: '/var/log/hactl',
  user: 'claw',
  group: 'claw',
  lease: 900,
};

describe('whenEvery: interval (min) + offset -> cron fields and OnCalendar', () => {
  const rows: Array<[number, number, string, string, boolean]> = [
    // interval, offset, cron fields, OnCalendar, has a note
    [2, 0, '*/2 * * * *', '*-*-* *:00/2:00', false],
    [5, 1, '1-59/5 * * * *', '*-*-* *:01/5:00', false],
    [5, 7, '2-59/5 * * * *', '*-*-* *:02/5:00', false],
    [1, 3, '* * * * *', '*-*-* *:00/1:00', false],
    [0.5, 3, '* * * * *', '*-*-* *:00/1:00', true],
    [7, 1, '1-59/6 * * * *', '*-*-* *:01/6:00', true],
    [60, 3, '3 * * * *', '*-*-* *:03:00', false],
    [120, 33, '33 */2 * * *', '*-*-* 00/2:33:00', false],
    [300, 3, '3 */4 * * *', '*-*-* 00/4:03:00', true],
    [1440, 3, '3 3 * * *', '*-*-* 03:03:00', false],
    [2880, 3, '3 3 * * *', '*-*-* 03:03:00', true],
  ];
  for (const [iv, off, fields, cal, note] of rows) {
    test(`every ${iv} min, offset ${off}`, () => {
      const w = whenEvery(iv, off);
      assert.equal(cronFields(w), fields);
      assert.equal(onCalendar(w), cal);
      assert.equal(!!w.note, note, w.note);
    });
  }
  test(
    'systemd-analyze accepts every OnCalendar expression above',
    { skip: spawnSync('systemd-analyze', ['--version']).status !== 0 },
    () => {
      for (const [iv, off] of rows) {
        const expr = onCalendar(whenEvery(iv, off));
        const r = spawnSync('systemd-analyze', ['calendar', expr], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${expr}: ${r.stderr}`);
      }
    },
  );
});

describe('planJobs staggers the jobs', () => {
  test('tier offsets are odd (the cluster chain owns the even minutes) and spread over the hour', () => {
    assert.deepEqual(tierOffsets(1), [3]);
    assert.deepEqual(tierOffsets(2), [3, 33]);
    assert.deepEqual(tierOffsets(3), [3, 23, 43]);
    assert.deepEqual(tierOffsets(4), [3, 19, 33, 49]);
  });
  test('no two jobs start at the same first minute; memory off means no memory job', () => {
    const jobs = planJobs({
      memory: { enabled: true, intervalMinutes: 5 },
      tiers: [
        { name: 'a', intervalMinutes: 60 },
        { name: 'b', intervalMinutes: 60 },
      ],
    });
    assert.deepEqual(
      jobs.map((j) => j.id),
      ['cluster', 'sync-memory', 'backup-a', 'backup-b'],
    );
    assert.deepEqual(
      jobs.map((j) => cronFields(j.when)),
      ['*/2 * * * *', '1-59/5 * * * *', '3 * * * *', '33 * * * *'],
    );
    assert.deepEqual(jobs[0]!.runs, [
      ['check', '--watch'],
      ['failover', '--auto'],
      ['failback', '--auto'],
    ]);
    const off = planJobs({ memory: { enabled: false, intervalMinutes: 5 }, tiers: [] });
    assert.deepEqual(
      off.map((j) => j.id),
      ['cluster'],
    );
  });
});

describe('crontab lines', () => {
  const jobs = planJobs({
    memory: { enabled: true, intervalMinutes: 5 },
    tiers: [{ name: "it's", intervalMinutes: 60 }],
  });
  test('full paths, PATH and the config inside each line; every % escaped for cron', () => {
    const lines = crontabLines(jobs, PATHS).filter((l) => !l.startsWith('#'));
    assert.equal(lines.length, 3);
    for (const l of lines) {
      assert.match(l, /export PATH='\/opt\/node\/bin:\/usr\/bin:\/bin' HACTL_CONFIG='\/etc\/hactl\/hactl.yaml'/);
      assert.ok(!/(^|[^\\])%/.test(l), `unescaped % in ${l}`);
    }
    assert.ok(lines[2]!.includes(`'/opt/hactl/bin/hactl' backup-tier 'it'\\''s'`), lines[2]);
  });
  test('a relative path or a line break is refused', () => {
    assert.throws(() => jobCommand(jobs[0]!, { ...PATHS, config: 'hactl.yaml' }), /absolute/);
    assert.throws(() => jobCommand(jobs[0]!, { ...PATHS, logDir: '/var/log/x\n* * * * * rm -rf /' }), /line break/);
  });
  test('logrotate rotates the log directory as the hactl user', () => {
    const s = logrotateSnippet(PATHS);
    assert.match(s, /^\/var\/log\/hactl\/\*\.log \{$/m);
    assert.match(s, /^ {4}su claw claw$/m);
    assert.match(s, /^ {4}create 0600 claw claw$/m);
  });
  test('systemd: a oneshot service per job, the chain goes on past a non-zero exit, % and $ escaped', () => {
    const units = systemdUnits(jobs, { ...PATHS, config: '/etc/hactl/50%$.yaml' });
    assert.deepEqual(
      units.map((u) => u.name),
      [
        'hactl-cluster.service',
        'hactl-cluster.timer',
        'hactl-sync-memory.service',
        'hactl-sync-memory.timer',
        "hactl-backup-it's.service",
        "hactl-backup-it's.timer",
      ],
    );
    const svc = units[0]!.text;
    assert.match(svc, /^ExecStart=-\/opt\/hactl\/bin\/hactl check --watch$/m);
    assert.match(svc, /^ExecStart=-\/opt\/hactl\/bin\/hactl failover --auto$/m);
    assert.match(svc, /^ExecStart=\/opt\/hactl\/bin\/hactl failback --auto$/m);
    // Environment= does not expand $ (systemd.exec(5)): written as itself, only % doubled.
    assert.match(svc, /HACTL_CONFIG=\/etc\/hactl\/50%%\$\.yaml$/m);
    assert.match(units[1]!.text, /^OnCalendar=\*-\*-\* \*:00\/2:00$/m);
  });
});

describe("each job's own deadline and the env file (issue 24.5, 22)", () => {
  const jobs = planJobs({
    memory: { enabled: true, intervalMinutes: 5 },
    tiers: [{ name: 'nightly', intervalMinutes: 1440 }],
    deadlines: { lockLease: 900, memory: 600, backup: 3600 },
  });
  const units = systemdUnits(jobs, { ...PATHS, envFile: '/etc/hactl/secrets env' });
  const timeout = (name: string) =>
    Number(/^TimeoutStartSec=(\d+)$/m.exec(units.find((u) => u.name === name)!.text)?.[1]);

  test("TimeoutStartSec is the job's own: a backup's covers its 1 h deadline, not the 900 s lease", () => {
    assert.ok(timeout('hactl-backup-nightly.service') >= 3600, String(timeout('hactl-backup-nightly.service')));
    assert.equal(timeout('hactl-cluster.service'), 900);
    assert.ok(timeout('hactl-sync-memory.service') >= 4 * 600, 'four rsync runs of memory.deadline');
  });

  test('EnvironmentFile= in every service; the crontab line sources the file in POSIX sh', () => {
    for (const u of units.filter((x) => x.name.endsWith('.service')))
      // Unquoted: systemd does not unquote EnvironmentFile= ("path is not absolute, ignoring").
      assert.match(u.text, /^EnvironmentFile=\/etc\/hactl\/secrets env$/m, u.name);
    const line = jobCommand(jobs[0]!, { ...PATHS, envFile: '/etc/hactl/secrets' });
    assert.match(line, /\{ set -a; \. '\/etc\/hactl\/secrets'; set \+a; /);
    assert.doesNotMatch(line, /<<<|source /, 'sh, not bash');
  });

  test('EnvironmentFile= doubles only %; what systemd would glob or strip is refused naming --env-file', () => {
    assert.equal(envFileValue('/etc/h a"b\'c;d$e/50%.env'), '/etc/h a"b\'c;d$e/50%%.env');
    for (const bad of ['/etc/a*.env', '/etc/a?.env', '/etc/[a].env', '/etc/a\\b.env', '/etc/a.env ', '/etc/a\nb'])
      assert.throws(() => envFileValue(bad), /--env-file .*EnvironmentFile=/, JSON.stringify(bad));
    assert.throws(() => systemdUnits(jobs, { ...PATHS, envFile: '/etc/x*' }), /--env-file/);
  });

  test('Environment= writes $ as itself (no expansion there); ExecStart= doubles it', () => {
    const u = systemdUnits(jobs, { ...PATHS, config: '/etc/h$x/hactl.yaml', hactl: '/opt/h$x/hactl' })[0]!.text;
    assert.match(u, /^Environment=\S+ HACTL_CONFIG=\/etc\/h\$x\/hactl\.yaml$/m);
    assert.match(u, /^ExecStart=-?\/opt\/h\$\$x\/hactl /m);
  });

  test('the block keeps the options it was installed with', () => {
    const remember = { logDir: '/srv/log', bin: '/opt/h', envFile: '/etc/hactl/env' };
    const lines = crontabLines(jobs, { ...PATHS, remember });
    assert.deepEqual(rememberedOptions([BEGIN, ...lines, END].join('\n')), remember);
    assert.deepEqual(rememberedOptions('MAILTO=x\n'), {});
  });
});

describe('mergeCrontab', () => {
  const block = ['# hactl job', '*/2 * * * * hactl check'];
  const ours = [BEGIN, ...block, END].join('\n');
  const rows: Array<[string, string, string | null, string | RegExp]> = [
    ['no crontab', '', ours + '\n', ''],
    [
      'other lines stay, block after a blank line',
      'MAILTO=me\n0 1 * * * backup.sh\n',
      `MAILTO=me\n0 1 * * * backup.sh\n\n${ours}\n`,
      '',
    ],
    ['a last line without newline', '0 1 * * * a.sh', `0 1 * * * a.sh\n\n${ours}\n`, ''],
    ['an old block is replaced in place', `A\n${BEGIN}\nold line\n${END}\nB\n`, `A\n${ours}\nB\n`, ''],
    ['an old block with another BEGIN text', 'A\n# BEGIN hactl\nold\n# END hactl\n', `A\n${ours}\n`, ''],
    ['two old blocks: one left', `${BEGIN}\nx\n${END}\nA\n${BEGIN}\ny\n${END}\n`, `${ours}\nA\n`, ''],
    [
      'CRLF: markers found, user lines keep their CR',
      `A\r\n${BEGIN}\r\nold\r\n${END}\r\nB\r\n`,
      `A\r\n${ours}\nB\r\n`,
      '',
    ],
  ];
  for (const [name, before, after] of rows) {
    test(name, () => {
      const r = mergeCrontab(before, block);
      assert.ok(r.ok, !r.ok ? r.error : '');
      assert.equal(r.text, after);
      const again = mergeCrontab(r.text, block);
      assert.ok(again.ok && again.text === after && !again.changed, 'installing twice leaves one block, unchanged');
    });
  }
  test('a BEGIN without END is refused, nothing guessed', () => {
    const r = mergeCrontab(`A\n${BEGIN}\nold\nB\n`, block);
    assert.ok(!r.ok && /line 2 has '# BEGIN hactl' but no '# END hactl'/.test(r.error), JSON.stringify(r));
    assert.ok(!mergeCrontab(`A\n${END}\n`, block).ok);
    assert.ok(!mergeCrontab(`${BEGIN}\n${BEGIN}\n${END}\n`, null).ok);
  });
  test('remove: the block and the blank line install added go; the rest is byte-identical', () => {
    const mine = 'MAILTO=me\n0 1 * * * backup.sh\n';
    const installed = mergeCrontab(mine, block);
    assert.ok(installed.ok);
    const removed = mergeCrontab(installed.text, null);
    assert.ok(removed.ok && removed.changed);
    assert.equal(removed.text, mine);
    assert.deepEqual(mergeCrontab(ours + '\n', null), { ok: true, text: '', changed: true, notes: [] });
    const none = mergeCrontab(mine, null);
    assert.ok(none.ok && !none.changed && none.text === mine);
  });
  test('CRLF is noted', () => {
    const r = mergeCrontab('A\r\n', block);
    assert.ok(r.ok && r.notes.some((n) => /CRLF/.test(n)));
  });
});
