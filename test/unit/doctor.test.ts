// hactl doctor, the pure parts as tables: file modes, known_hosts lines (plain, hashed,
// patterns, @revoked, @cert-authority), program words, skew, rsync's ssh argv, the exit code.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  commandResults,
  commandWords,
  keyFileResult,
  knownHostsResult,
  neededWords,
  reachResult,
  rsyncSshResult,
  skewResult,
  stateDirResults,
  summarizeDoctor,
} from '../../dist/operator/doctor-checks.js';
import { knownLinesFor } from '../../dist/adapters/knownhosts.js';
import { sshArgv } from '../../dist/adapters/rsync.js';

const gateway = {
  start: [
    {
      name: 'systemd-user',
      run: 'export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"; systemctl --user start x',
    },
    { name: 'openclaw-cli', run: 'openclaw gateway start' },
    { name: 'detached', detached: 'FOO=1 openclaw gateway run' },
  ],
  probe: { http: { url: 'u', status: 200 } },
};
const H: any = {
  name: 'pc2',
  address: '192.0.2.2',
  port: 2222,
  user: 'claw',
  key: '/k/id',
  knownHosts: '/k/kh',
  gateway,
};

describe('fix hints quote the paths they paste (one quoting helper)', () => {
  test('a key and known_hosts with a space and a quote: each hint pastes into a shell as one word', () => {
    const odd = { ...H, key: "/home/o'neil/my key", knownHosts: '/home/x/Application Support/kh' };
    assert.equal(keyFileResult(odd, { mode: 0o100644 }).fix, `chmod 600 '/home/o'\\''neil/my key'`);
    assert.match(keyFileResult(odd, null).fix!, /^ssh-keygen -t ed25519 -N '' -f '\/home\/o'\\''neil\/my key',/);
    assert.match(
      reachResult(odd, { kind: 'auth-failure', message: 'denied' }, 1).fix!,
      /ssh-copy-id -i '\/home\/o'\\''neil\/my key\.pub' /,
    );
    const hk = reachResult(odd, { kind: 'hostkey-failure', message: 'changed' }, 1).fix!;
    assert.match(
      hk,
      /-f '\/home\/x\/Application Support\/kh'; ssh-keyscan .* >> '\/home\/x\/Application Support\/kh'$/,
    );
    const rs = stateDirResults('/s d', { mode: 0o40755 }, [['state.json', { mode: 0o100644 }]]);
    assert.deepEqual(
      rs.map((x) => x.fix),
      ["chmod 700 '/s d'", "chmod 600 '/s d/state.json'"],
    );
  });
});

describe('key file and state directory modes', () => {
  const rows: Array<[string, number | null, string, RegExp]> = [
    ['0600', 0o100600, 'pass', /mode 0600/],
    ['0400', 0o100400, 'pass', /mode 0400/],
    ['0644: OpenSSH refuses it', 0o100644, 'fail', /mode 0644/],
    ['0640', 0o100640, 'fail', /mode 0640/],
    ['missing', null, 'fail', /missing/],
  ];
  for (const [name, mode, level, msg] of rows) {
    test(`key ${name}`, () => {
      const r = keyFileResult(H, mode === null ? null : { mode });
      assert.equal(r.level, level);
      assert.match(r.message, msg);
      if (level === 'fail') assert.ok(r.fix, 'a problem always carries its fix');
      if (mode === 0o100644) assert.equal(r.fix, "chmod 600 '/k/id'");
    });
  }
  test('state directory 0755 and a state file 0644 are warnings with their chmod', () => {
    const rs = stateDirResults('/s', { mode: 0o40755 }, [
      ['state.json', { mode: 0o100644 }],
      ['a', { mode: 0o100600 }],
    ]);
    assert.deepEqual(
      rs.map((r: any) => [r.level, r.fix]),
      [
        ['warn', "chmod 700 '/s'"],
        ['warn', "chmod 600 '/s/state.json'"],
      ],
    );
    assert.deepEqual(
      stateDirResults('/s', { mode: 0o40700 }, []).map((r: any) => r.level),
      ['pass'],
    );
    assert.deepEqual(
      stateDirResults('/s', { mode: 0o40750 }, []).map((r: any) => r.level),
      ['warn'],
    );
    assert.deepEqual(
      stateDirResults('/s', null, []).map((r: any) => r.level),
      ['pass'],
    );
  });
});

describe('known_hosts lines for a host', () => {
  const salt = Buffer.from('0123456789abcdefghij');
  const hmac = createHmac('sha1', salt).update('[192.0.2.2]:2222').digest('base64');
  const hashed = `|1|${salt.toString('base64')}|${hmac}`;
  const text = [
    '# comment',
    '[192.0.2.2]:2222 ssh-ed25519 AAAAplain',
    `${hashed} ssh-ed25519 AAAAhashed`,
    '@cert-authority [192.0.2.*]:2222 ssh-ed25519 AAAAca',
    '@revoked [192.0.2.2]:2222 ssh-rsa AAAAold',
    '@unknown-marker [192.0.2.2]:2222 ssh-ed25519 AAAAx',
    '192.0.2.2 ssh-ed25519 AAAAport22',
    '[192.0.2.*]:2222,![192.0.2.2]:2222 ssh-ed25519 AAAAnegated',
    'broken-line',
  ].join('\n');
  test('plain, hashed, @cert-authority and @revoked lines, in file order; others not', () => {
    assert.deepEqual(
      knownLinesFor(text, '192.0.2.2', 2222).map((l: any) => [l.line, l.marker, l.hashed, l.blob]),
      [
        [2, null, false, 'AAAAplain'],
        [3, null, true, 'AAAAhashed'],
        [4, 'cert-authority', false, 'AAAAca'],
        [5, 'revoked', false, 'AAAAold'],
      ],
    );
  });
  const rows: Array<[string, any, string, RegExp]> = [
    ['a plain key', [{ marker: null, hashed: false, line: 2 }], 'pass', /1 key\(s\).*\(line 2\)$/],
    [
      'hashed + CA',
      [
        { marker: null, hashed: true, line: 2 },
        { marker: 'cert-authority', hashed: false, line: 4 },
      ],
      'pass',
      /hashed line 2\); @cert-authority at line 4 read/,
    ],
    ['only a CA line', [{ marker: 'cert-authority', hashed: false, line: 4 }], 'fail', /only a @cert-authority/],
    ['only a revoked key', [{ marker: 'revoked', hashed: false, line: 5 }], 'fail', /no key for .*@revoked at line 5/],
    ['nothing', [], 'fail', /no key for 192.0.2.2:2222 in \/k\/kh$/],
    ['unreadable', 'ENOENT', 'fail', /cannot read \/k\/kh: ENOENT/],
  ];
  for (const [name, lines, level, msg] of rows) {
    test(name, () => {
      const r = knownHostsResult(H, lines);
      assert.equal(r.level, level);
      assert.match(r.message, msg);
      if (level === 'fail') assert.match(r.fix, /ssh-keyscan -p 2222 -t ed25519 192.0.2.2 >> '\/k\/kh'/);
    });
  }
});

describe('programs a host needs', () => {
  const rows: Array<[string, string[]]> = [
    ['openclaw gateway start', ['openclaw']],
    ['export A="${B:-/run/user/$(id -u)}" C=d; systemctl --user start x', ['systemctl']],
    ['FOO=1 BAR=2 openclaw run && logger done', ['openclaw', 'logger']],
    ['nohup openclaw run', ['openclaw']],
    ['exec setsid /usr/bin/openclaw x', ['/usr/bin/openclaw']],
    ['exec setsid /usr/bin/openclaw x', ['/usr/bin/openclaw']],
    ['/opt/oc/bin/openclaw gateway run | tee log', ['/opt/oc/bin/openclaw', 'tee']],
  ];
  for (const [text, words] of rows) test(text, () => assert.deepEqual(commandWords(text), words));
  test("needed: timeout, rsync, curl, node and the start methods' programs", () => {
    assert.deepEqual(neededWords(H), ['timeout', 'rsync', 'curl', 'node', 'systemctl', 'openclaw']);
  });
  const all = ['timeout', 'rsync', 'curl', 'node', 'systemctl', 'openclaw'];
  const without = (...w: string[]) => new Set(all.filter((x) => !w.includes(x)));
  const table: Array<[string, any, Array<[string, RegExp]>]> = [
    ['everything', without(), [['pass', /^found curl, node, openclaw, rsync, systemctl, timeout$/]]],
    ['no systemctl: a later method works', without('systemctl'), [['pass', /skipped there: systemd-user lacks/]]],
    ['no rsync', without('rsync'), [['fail', /`rsync` is not in the PATH/]]],
    ['no curl but node', without('curl'), [['pass', /found/]]],
    ['neither curl nor node', without('curl', 'node'), [['fail', /neither `curl` nor `node`/]]],
    ['no openclaw, no systemctl', without('openclaw', 'systemctl'), [['fail', /no start method can run/]]],
    ['no timeout (the wrapper failed)', 'no-timeout', [['fail', /every remote command hactl runs/]]],
  ];
  for (const [name, found, want] of table) {
    test(name, () => {
      const rs = commandResults(H, found);
      assert.deepEqual(
        rs.map((r: any) => r.level),
        want.map((w) => w[0]),
      );
      rs.forEach((r: any, i: number) => assert.match(r.message, want[i]![1]));
      for (const r of rs) if (r.level === 'fail') assert.ok(r.fix);
    });
  }
});

describe("clock skew, rsync's ssh, the exit code", () => {
  const rows: Array<[number, string, RegExp]> = [
    [0, 'pass', /0 s ahead/],
    [29.6, 'pass', /30 s ahead/],
    [-30, 'pass', /30 s behind/],
    [31, 'warn', /31 s ahead/],
    [-3600, 'warn', /3600 s behind/],
  ];
  for (const [skew, level, msg] of rows) {
    test(`skew ${skew} s`, () => {
      const r = skewResult(H, skew);
      assert.equal(r.level, level);
      assert.match(r.message, msg);
    });
  }
  test("rsync's ssh: -F none and the same key, port, user, known_hosts; anything else is a defect", () => {
    const argv = sshArgv(H, 10);
    assert.equal(rsyncSshResult(H, argv, { code: 0, stderr: '' }).level, 'pass');
    const noF = argv.filter((a: string, i: number) => !(a === '-F' || argv[i - 1] === '-F'));
    assert.match(rsyncSshResult(H, noF, { code: 0, stderr: '' }).message, /no longer runs with -F none/);
    const other = argv.map((a: string) =>
      a === '/k/kh' || a === 'UserKnownHostsFile=/k/kh' ? 'UserKnownHostsFile=/x' : a,
    );
    assert.equal(rsyncSshResult(H, other, { code: 0, stderr: '' }).level, 'fail');
  });
  const fixes: Array<[string, RegExp]> = [
    ['Load key "/k/id": bad permissions\nWARNING: UNPROTECTED PRIVATE KEY FILE!', /^chmod 600 '\/k\/id'$/],
    ['Host key verification failed.', /ssh-keygen -R/],
    ['claw@192.0.2.2: Permission denied (publickey).', /authorized_keys/],
    ['ssh: connect to host 192.0.2.2 port 2222: Connection refused', /check hosts.pc2.address and port/],
  ];
  for (const [stderr, fix] of fixes) {
    test(`OpenSSH says: ${stderr.split('\n').pop()}`, () => {
      const r = rsyncSshResult(H, sshArgv(H, 10), { code: 255, stderr });
      assert.equal(r.level, 'fail');
      assert.match(r.fix, fix);
    });
  }
  const r = (level: string) => ({ level, host: null, check: 'x', message: 'm' });
  const sums: Array<[string[], number, RegExp]> = [
    [['pass', 'pass'], 0, /all 2 checks passed/],
    [['pass', 'warn'], 1, /0 failure\(s\), 1 warning\(s\), 1 check\(s\) passed/],
    [['warn', 'fail', 'pass'], 2, /1 failure\(s\), 1 warning\(s\)/],
  ];
  for (const [levels, code, line] of sums) {
    test(`summary of ${levels.join(', ')}`, () => {
      const s = summarizeDoctor(levels.map(r));
      assert.equal(s.exitCode, code);
      assert.match(s.line, line);
    });
  }
});

describe('doctor: the metrics file (issue 24.4)', () => {
  test('a textfile node_exporter cannot read is a warning with its fix; 0644 passes', async () => {
    const { metricsFileResult } = await import('../../dist/operator/doctor-channels.js');
    const f = '/var/lib/node_exporter/textfile/hactl.prom';
    const closed = metricsFileResult(f, 0o100600);
    assert.equal(closed.level, 'warn');
    assert.match(closed.message, /mode 0600: node_exporter \(another user\) cannot read it/);
    assert.match(closed.fix!, /chmod 644/);
    assert.equal(metricsFileResult(f, 0o100644).level, 'pass');
    assert.equal(metricsFileResult(f, null).level, 'pass');
  });

  test('a directory above the textfile node_exporter cannot pass through (or list): a warning naming it', async () => {
    const { metricsFileResult } = await import('../../dist/operator/doctor-channels.js');
    const f = '/var/lib/my exporter/textfile/hactl.prom';
    const dirs = (inner: number | null, mid: number, top = 0o40755) => [
      { dir: '/var/lib/my exporter/textfile', mode: inner },
      { dir: '/var/lib/my exporter', mode: mid },
      { dir: '/var/lib', mode: top },
      { dir: '/var', mode: 0o40755 },
      { dir: '/', mode: 0o40755 },
    ];
    const mid = metricsFileResult(f, 0o100644, dirs(0o40755, 0o40750));
    assert.equal(mid.level, 'warn');
    assert.match(mid.message, /metrics directory \/var\/lib\/my exporter is mode 0750: .* cannot reach/);
    assert.equal(mid.fix!.split(' (')[0], "chmod o+x '/var/lib/my exporter'");
    const inner = metricsFileResult(f, 0o100644, dirs(0o40711, 0o40755));
    assert.equal(inner.level, 'warn');
    assert.match(inner.message, /textfile is mode 0711: .* cannot list it/);
    assert.equal(metricsFileResult(f, 0o100644, dirs(0o40755, 0o40711)).level, 'pass');
    assert.equal(metricsFileResult(f, null, dirs(null, 0o40755)).level, 'pass', 'missing: created 0755');
    assert.equal(metricsFileResult(f, null, dirs(null, 0o40700)).level, 'warn');
  });
});

describe('doctor: how locks are taken', () => {
  test('in process, or by flock(1) with the way to the faster build (never a failure: the same lock)', async () => {
    const { lockResult } = await import('../../dist/operator/doctor-channels.js');
    const fast = lockResult('flock(2) in process');
    assert.equal(fast.level, 'pass');
    assert.match(fast.message, /in process/);
    const slow = lockResult('flock(1)');
    assert.equal(slow.level, 'pass');
    assert.match(slow.message, /flock\(1\), a fork each.*apt-get install gcc/);
  });
});
