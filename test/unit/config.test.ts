// Config: defaults, every problem at once with file:line:col, and paths.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../dist/errors.js';
import { findConfigPath } from '../../dist/config/load.js';
import { decodeConfig, readConfigBytes } from '../../dist/config/read.js';
import { BASE, config } from './helpers.ts';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return (e as any).problems;
  }
  assert.fail('no ConfigError');
}

describe('config', () => {
  test('defaults are right for OpenClaw 2026.9.6', async () => {
    const c = await config();
    const gw = c.hosts.pc1.gateway;
    assert.equal(gw.port, 18789);
    assert.equal(gw.probe.http.url, 'http://127.0.0.1:{port}/readyz');
    assert.deepEqual(gw.probe.http.json, { ready: true });
    assert.deepEqual(gw.started.json, { status: 'started' });
    assert.deepEqual(
      gw.start.map((m: any) => m.name),
      ['systemd-user', 'openclaw-cli', 'detached'],
    );
    assert.match(gw.start[0].run, /XDG_RUNTIME_DIR.*DBUS_SESSION_BUS_ADDRESS.*systemctl --user start openclaw-gateway/);
    assert.equal(c.hosts.pc1.port, 22);
    assert.equal(c.thresholds.retryDelay, 5);
    assert.equal(c.thresholds.watchInterval, 10);
    assert.equal(c.thresholds.watchWindow, 110);
    assert.equal(c.thresholds.cooldown, 300);
    assert.equal(c.thresholds.maxAttempts, 3);
    assert.ok(c.thresholds.verifyDeadline >= 30, 'verify deadline covers a 10-15 s cold start with margin');
  });

  test('a per-host gateway override keeps the other defaults', async () => {
    const c = await config({
      hosts: {
        pc1: { address: 'a', user: 'u', key: '/k', knownHosts: '/kh' },
        pc2: { address: 'b', user: 'u', key: '/k', knownHosts: '/kh', gateway: { port: 19789 } },
      },
    });
    assert.equal(c.hosts.pc2.gateway.port, 19789);
    assert.equal(c.hosts.pc1.gateway.port, 18789);
    assert.equal(c.hosts.pc2.gateway.start.length, 3);
  });

  test('relative key paths resolve against the config file directory', async () => {
    const c = await config({
      hosts: {
        pc1: { address: 'a', user: 'u', key: 'keys/id', knownHosts: 'kh' },
        pc2: { address: 'b', user: 'u', key: '/k', knownHosts: '/kh' },
      },
    });
    assert.equal(c.hosts.pc1.key, '/etc/hactl/keys/id');
  });

  test('every problem at once, each with file:line:col, key and value', async () => {
    const text = [
      'stateDir: 5',
      'hosts:',
      '  pc1:',
      '    address: a',
      '    user: u',
      '    key: /k',
      '    knownHosts: /kh',
      '    port: 70000',
      'pair:',
      '  primary: pc1',
      '  standby: pc1',
      'failback:',
      '  policy: sometimes',
      '',
    ].join('\n');
    const { loadValidator } = await import('../../dist/validators.js');
    const { parseConfig } = await import('../../dist/config/parse.js');
    const v = await loadValidator('hactl');
    const ps = problems(() => parseConfig(text, 'x.yaml', v));
    assert.ok(
      ps.some((l) => /^x\.yaml:1:11: \/stateDir must be string/.test(l)),
      ps.join('\n'),
    );
    assert.ok(
      ps.some((l) => /^x\.yaml:8:11: \/hosts\/pc1\/port must be <= 65535 \(found 70000\)/.test(l)),
      ps.join('\n'),
    );
    assert.ok(
      ps.some((l) => /^x\.yaml:11:12: \/pair\/standby must differ/.test(l)),
      ps.join('\n'),
    );
    assert.ok(
      ps.some((l) => /^x\.yaml:13:11: \/failback\/policy must be one of/.test(l) && /sometimes/.test(l)),
      ps.join('\n'),
    );
  });

  test('backup tiers are checked with the rest: hosts, via, upstream, unique names', async () => {
    const { loadValidator } = await import('../../dist/validators.js');
    const { parseConfig } = await import('../../dist/config/parse.js');
    const text = [
      'hosts:',
      '  a: {address: x, user: u, key: /k, knownHosts: /kh}',
      '  b: {address: y, user: u, key: /k, knownHosts: /kh}',
      'pair: {primary: a, standby: b}',
      'backup:',
      '  tiers:',
      '    - name: t1',
      '      source: a:data',
      '      destination: b:backups',
      '    - name: t1',
      '      source: c:data',
      '      destination: /srv/backups',
      '      upstream: nope',
      '',
    ].join('\n');
    const v = await loadValidator('hactl');
    const e = problems(() => parseConfig(text, 'b.yaml', v));
    assert.ok(
      e.some((l) => /^b\.yaml:7:7: \/backup\/tiers\/0 copies between two hosts \(a -> b\) and needs 'via/.test(l)),
      e.join('\n'),
    );
    assert.ok(
      e.some((l) => /^b\.yaml:10:13: \/backup\/tiers\/1\/name repeats the tier name 't1'/.test(l)),
      e.join('\n'),
    );
    assert.ok(
      e.some((l) => /^b\.yaml:11:15: \/backup\/tiers\/1\/source names host 'c'/.test(l)),
      e.join('\n'),
    );
    assert.ok(
      e.some((l) => /^b\.yaml:13:17: \/backup\/tiers\/1\/upstream names no tier 'nope'/.test(l)),
      e.join('\n'),
    );
  });

  test('YAML syntax errors name the line', async () => {
    const { loadValidator } = await import('../../dist/validators.js');
    const { parseConfig } = await import('../../dist/config/parse.js');
    const v = await loadValidator('hactl');
    const e = problems(() => parseConfig('hosts:\n  a: [1, 2\nb: 3\n', 'y.yaml', v));
    assert.match(e[0]!, /^y\.yaml:\d+:\d+: /);
  });

  test('lookup order: --config, HACTL_CONFIG, then the defaults', () => {
    assert.equal(findConfigPath('/a.yaml', { HACTL_CONFIG: '/b.yaml' }), '/a.yaml');
    assert.equal(findConfigPath(undefined, { HACTL_CONFIG: '/b.yaml' }), '/b.yaml');
  });
});

describe('hactl.example.yaml', () => {
  test('the annotated example is valid and its values are the defaults it claims', async () => {
    const { readFileSync } = await import('node:fs');
    const { loadValidator } = await import('../../dist/validators.js');
    const { parseConfig } = await import('../../dist/config/parse.js');
    const text = readFileSync(new URL('../../hactl.example.yaml', import.meta.url), 'utf8');
    const warnings: string[] = [];
    const c = parseConfig(text, 'hactl.example.yaml', await loadValidator('hactl'), {
      warn: (l: string) => warnings.push(l),
    });
    assert.deepEqual(warnings, [], 'the example uses no deprecated form');
    const d = parseConfig(
      'hosts: {a: {address: x, user: u, key: /k, knownHosts: /kh}, ' +
        'b: {address: y, user: u, key: /k, knownHosts: /kh}}\npair: {primary: a, standby: b}\n',
      'min.yaml',
      await loadValidator('hactl'),
    );
    assert.deepEqual(c.thresholds, d.thresholds);
    for (const k of [
      'root',
      'include',
      'exclude',
      'interval',
      'maxDeleteShare',
      'deleteAllowance',
      'deadline',
      'lastChanceDeadline',
      'ioTimeout',
      'fullPushEvery',
    ])
      assert.deepEqual(c.memory[k], d.memory[k], `memory.${k}`);
    assert.equal(c.backup.deadline, d.backup.deadline);
    assert.equal(c.backup.ioTimeout, d.backup.ioTimeout);
    assert.equal(c.alerts.telegram.timeout, 5);
    // Every duration in the example is written with its unit: the one convention it teaches.
    const { DURATIONS } = await import('../../dist/config/durations.js');
    const { parse } = await import('yaml');
    const raw = parse(text);
    const bare: string[] = [];
    for (const { path } of DURATIONS) {
      const v = path
        .split('/')
        .slice(1)
        .reduce((o: any, k: string) => (o && k !== '*' ? o[k] : undefined), raw);
      if (v !== undefined && typeof v !== 'string') bare.push(path);
      // The postgres and guard sections are optional and shown commented out: a copied example must not
      // switch them on.
      const optional = path.startsWith('/postgres/') || path.startsWith('/guard/');
      if (v === undefined && !path.includes('*') && !optional) bare.push(`${path} (missing)`);
    }
    assert.deepEqual(bare, []);
    assert.deepEqual(c.hosts['pc-a'].gateway.probe, d.hosts.a.gateway.probe);
    assert.deepEqual(
      c.hosts['pc-a'].gateway.stop.map((m: any) => m.name),
      d.hosts.a.gateway.stop.map((m: any) => m.name),
    );
    assert.deepEqual(
      c.hosts['pc-a'].gateway.start.map((m: any) => m.name),
      d.hosts.a.gateway.start.map((m: any) => m.name),
    );
  });
});

// The config source itself: regular files only, bounded, never blocking (issue 11 #12).
// Each case runs the built CLI with a deadline that fails the test (never a timing assertion).
describe('config source', () => {
  const ROOT = new URL('../..', import.meta.url).pathname;
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hactl-cfgsrc-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function check(file: string) {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), 'check', '--config', file], {
      encoding: 'utf8',
      timeout: 20_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, HACTL_CONFIG: undefined },
    });
    assert.equal(r.error, undefined, `hactl did not finish in 20 s on ${file}`);
    return { code: r.status, lines: r.stderr.trim().split('\n'), stderr: r.stderr };
  }
  function refused(file: string, reason: RegExp) {
    const r = check(file);
    assert.equal(r.code, 78, r.stderr);
    assert.match(
      r.lines[0]!,
      new RegExp(`^hactl: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read the config: `),
    );
    assert.match(r.lines[0]!, reason);
    assert.ok(r.lines.length <= 2 && (r.lines.length === 1 || /^hactl: hint: /.test(r.lines[1]!)), r.stderr);
  }

  test('a FIFO is refused at once, not waited on', () => {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    refused(fifo, /FIFO/);
  });
  test('/dev/zero is refused, not read without end', () => refused('/dev/zero', /character device/));
  test('/dev/null is refused, not read as an empty config', () => refused('/dev/null', /character device/));
  test('a directory is refused', () => refused(dir, /a directory/));
  test('a dangling symlink is named as one', () => {
    const link = join(dir, 'dangling.yaml');
    symlinkSync(join(dir, 'nothing-here'), link);
    refused(link, /symbolic link to nothing/);
  });
  test('a file over 1 MiB is refused with its size', () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, '# ' + 'x'.repeat(2 * 1024 * 1024) + '\n');
    refused(big, /2097155 bytes; at most 1048576 bytes \(1 MiB\) are read/);
  });
  test('a symlink to a good file is followed', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      'hosts: {a: {address: x, user: u, key: /k, knownHosts: /kh}, ' +
        'b: {address: y, user: u, key: /k, knownHosts: /kh}}\npair: {primary: a, standby: b}\n',
    );
    symlinkSync(good, join(dir, 'link.yaml'));
    const c = decodeConfig(readConfigBytes(join(dir, 'link.yaml')), 'link.yaml');
    assert.match(c, /^hosts:/);
  });
  test('binary and UTF-16 bytes are named at their first bad character', () => {
    const ps = problems(() => decodeConfig(Buffer.from('hosts:\n  a: \u0000\n'), 'n.yaml'));
    assert.deepEqual(ps, [
      'n.yaml:2:6: the config holds a control character (U+0000); YAML allows only tab, CR and LF',
    ]);
    const utf16 = Buffer.from('\uFEFFhosts: {}\n', 'utf16le');
    assert.match(problems(() => decodeConfig(utf16, 'u.yaml'))[0]!, /^u\.yaml:1:1: the config is not UTF-8 text/);
    assert.equal(decodeConfig(Buffer.from('\uFEFFa: 1\n'), 'bom.yaml'), 'a: 1\n');
  });
});

// Bounds on every value (issue 11 #13): a duration past Node's timer limit (2^31-1 ms)
// turns into a 1 ms deadline, so no value may come near it.
describe('config bounds', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schema/hactl.schema.json', import.meta.url), 'utf8'));
  function walk(node: any, path: string, visit: (n: any, p: string) => void) {
    if (!node || typeof node !== 'object') return;
    visit(node, path);
    for (const [k, v] of Object.entries(node)) if (k !== 'default' && k !== 'examples') walk(v, `${path}/${k}`, visit);
  }
  const types = (n: any): string[] => [n.type ?? []].flat();

  test('every number in the schema has a maximum, every string a maxLength, every list a maxItems', () => {
    const missing: string[] = [];
    walk(schema, '#', (n, p) => {
      if (types(n).some((t) => t === 'number' || t === 'integer') && n.maximum === undefined)
        missing.push(`${p}: no maximum`);
      if (types(n).includes('string') && n.maxLength === undefined && !n.enum && !n.const)
        missing.push(`${p}: no maxLength`);
      if (types(n).includes('array') && n.maxItems === undefined) missing.push(`${p}: no maxItems`);
    });
    assert.deepEqual(missing, []);
  });

  test('every duration has a unit and stays under the timer limit of 2^31-1 ms', () => {
    const durations: string[] = [];
    walk(schema, '#', (n, p) => {
      if (n['x-unit'] === undefined) return;
      durations.push(p.replace(/.*\//, ''));
      const ms = { s: 1000, m: 60_000 }[n['x-unit'] as string];
      assert.ok(ms && n.maximum * ms <= 2 ** 31 - 1, `${p}: ${n.maximum} ${n['x-unit']}`);
    });
    assert.ok(durations.length >= 18, durations.join(' '));
  });

  test('huge durations and counts are refused with the key and the limit', async () => {
    for (const [over, key] of [
      [{ thresholds: { cooldown: 1e12 } }, '/thresholds/cooldown must be <= '],
      [{ thresholds: { verifyDeadline: 2 ** 31 } }, '/thresholds/verifyDeadline must be <= '],
      [{ thresholds: { maxAttempts: 1e9 } }, '/thresholds/maxAttempts must be <= '],
      [{ memory: { deadline: 1e10 } }, '/memory/deadline must be <= '],
      [
        { backup: { deadline: 1e10, tiers: [{ name: 't', source: '/a', destination: '/b', interval: 1e9 }] } },
        '/backup/tiers/0/interval must be <= ',
      ],
      [{ alerts: { telegram: { chatId: 1, timeout: 1e6 } } }, '/alerts/telegram/timeout must be <= '],
    ] as const) {
      const ps = await rejected(over);
      assert.ok(
        ps.some((l) => l.includes(key)),
        `${key}\n${ps.join('\n')}`,
      );
    }
  });

  test('env names are shell identifiers, in every env map', async () => {
    const bad = 'A=1;touch /tmp/X;B';
    const gw = { start: [{ name: 's', run: 'true', env: { [bad]: 'v' } }] };
    for (const [over, path] of [
      [{ gateway: { env: { [bad]: 'v' } } }, '/gateway/env'],
      [{ gateway: gw }, '/gateway/start/0/env'],
      [
        { hosts: { ...BASE.hosts, pc1: { ...BASE.hosts.pc1, gateway: { env: { '1X': 'v' } } } } },
        '/hosts/pc1/gateway/env',
      ],
    ] as const) {
      const ps = await rejected(over);
      assert.ok(
        ps.some((l) => l.includes(`${path} has the key`) && /not a shell identifier/.test(l)),
        `${path}\n${ps.join('\n')}`,
      );
    }
    const ok = await config({ gateway: { env: { PATH: '/usr/bin', _X1: 'y' } } });
    assert.equal(ok.hosts.pc1.gateway.env.PATH, '/usr/bin');
  });

  test('telegram.apiRoot is an http(s) URL', async () => {
    for (const apiRoot of [
      'ftp://x',
      'http://',
      'https://a b',
      'api.telegram.org',
      'https://x/?q=$(id)',
      'http://x\n',
    ]) {
      const ps = await rejected({ alerts: { telegram: { chatId: 1, apiRoot } } });
      assert.ok(
        ps.some((l) => l.includes('/alerts/telegram/apiRoot')),
        `${JSON.stringify(apiRoot)}\n${ps.join('\n')}`,
      );
    }
    for (const apiRoot of ['https://api.telegram.org', 'http://127.0.0.1:8081', 'http://[::1]:9/bot-proxy/']) {
      assert.equal((await config({ alerts: { telegram: { chatId: 1, apiRoot } } })).alerts.telegram.apiRoot, apiRoot);
    }
  });
});

async function rejected(over: Record<string, unknown>): Promise<string[]> {
  try {
    await config(over);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail(`accepted: ${JSON.stringify(over)}`);
}

// A bad JSON Schema in the validate rules is a config error at load (issue 11 #14),
// not an "unexpected error" (exit 3) in the middle of sync-memory.
describe('config validate rules', () => {
  const HEAD =
    'hosts: {a: {address: 127.0.0.1, port: 1, user: u, key: /k, knownHosts: /kh}, ' +
    'b: {address: 127.0.0.1, port: 1, user: u, key: /k, knownHosts: /kh}}\npair: {primary: a, standby: b}\n';
  const files: Record<string, string> = {
    '/s/ok.json': '{"type": "object", "required": ["id"]}',
    '/s/bad.json': '{"type": "objekt"}',
    '/s/broken.json': '{"type": ',
    '/s/list.json': '[1]',
  };
  const read = (p: string) => {
    if (!(p in files)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return Buffer.from(files[p]!);
  };
  async function parseRules(rules: string): Promise<string[]> {
    const { loadValidator } = await import('../../dist/validators.js');
    const { parseConfig } = await import('../../dist/config/parse.js');
    const v = await loadValidator('hactl');
    try {
      parseConfig(HEAD + rules, '/etc/hactl/r.yaml', v, { readSchema: read });
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.problems;
    }
    return [];
  }

  test('good rules load, inline and from a file', async () => {
    assert.deepEqual(
      await parseRules(
        'validate:\n  rules:\n    - {glob: "*.json", schema: /s/ok.json}\n' +
          '    - {glob: "*.yaml", schema: {type: object}}\n',
      ),
      [],
    );
  });

  test('each bad rule is named by file:line:col and key', async () => {
    const ps = await parseRules(
      [
        'validate:',
        '  rules:',
        '    - glob: "a/*.json"',
        '      schema: {type: object, required: 5}',
        '    - {glob: "b", schema: /s/bad.json}',
        '    - {glob: "c", schema: /s/broken.json}',
        '    - {glob: "d", schema: missing.json}',
        '    - {glob: "e", schema: /s/list.json}',
        '    - {glob: "f", schema: {$ref: "https://example.com/x.json"}}',
        '',
      ].join('\n'),
    );
    assert.equal(ps.length, 6, ps.join('\n'));
    assert.match(
      ps[0]!,
      new RegExp(
        String.raw`^/etc/hactl/r\.yaml:6:15: /validate/rules/0/schema: ` +
          String.raw`the inline schema is not a valid JSON Schema: .*required`,
      ),
    );
    assert.match(
      ps[1]!,
      new RegExp(
        String.raw`^/etc/hactl/r\.yaml:7:27: /validate/rules/1/schema: ` +
          String.raw`the schema file /s/bad\.json is not a valid JSON Schema`,
      ),
    );
    assert.match(
      ps[2]!,
      /^\/etc\/hactl\/r\.yaml:8:27: \/validate\/rules\/2\/schema: the schema file \/s\/broken\.json is not JSON/,
    );
    assert.match(
      ps[3]!,
      new RegExp(
        String.raw`^/etc/hactl/r\.yaml:9:27: /validate/rules/3/schema: ` +
          String.raw`cannot read the schema file /etc/hactl/missing\.json: `,
      ),
    );
    assert.match(
      ps[4]!,
      new RegExp(
        String.raw`^/etc/hactl/r\.yaml:10:27: /validate/rules/4/schema: ` +
          String.raw`the schema file /s/list\.json must hold a JSON object`,
      ),
    );
    assert.match(
      ps[5]!,
      new RegExp(
        String.raw`^/etc/hactl/r\.yaml:11:27: /validate/rules/5/schema: ` +
          String.raw`the inline schema is not a valid JSON Schema: .*resolve reference`,
      ),
    );
    for (const p of ps) assert.ok(!p.includes('\n'), p);
  });

  test('sync-memory with a bad rule exits 78 before it reaches any host', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-rules-'));
    try {
      const file = join(dir, 'hactl.yaml');
      writeFileSync(
        file,
        `stateDir: ${dir}/state\n${HEAD}validate:\n  rules:\n    - {glob: "*.json", schema: {type: 7}}\n`,
      );
      const r = spawnSync(
        process.execPath,
        [new URL('../../bin/hactl', import.meta.url).pathname, 'sync-memory', '--config', file],
        { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' },
      );
      assert.equal(r.error, undefined, 'hactl did not finish in 60 s');
      assert.equal(r.status, 78, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^hactl: ${file}:6:32: /validate/rules/0/schema: the inline schema is not a valid JSON Schema`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// One unit convention for durations (issue 10): strings with a unit everywhere; bare numbers
// keep the key's old unit, and the one key whose old unit was minutes warns.
describe('config durations', () => {
  async function load(text: string) {
    const { loadValidator } = await import('../../dist/validators.js');
    const { parseConfig } = await import('../../dist/config/parse.js');
    const warnings: string[] = [];
    const head =
      'hosts: {a: {address: x, user: u, key: /k, knownHosts: /kh}, ' +
      'b: {address: y, user: u, key: /k, knownHosts: /kh}}\npair: {primary: a, standby: b}\n';
    const c = parseConfig(head + text, 'd.yaml', await loadValidator('hactl'), {
      warn: (l: string) => warnings.push(l),
    });
    return { c, warnings };
  }

  test('duration strings become the numbers the code has always used', async () => {
    const { c, warnings } = await load(
      [
        'thresholds: {connectTimeout: 10s, retryDelay: 500ms, cooldown: 5m, ' +
          'stateMaxAge: 1h30m, lockLease: 1d, settle: 1.5s}',
        'memory: {interval: 5m, fullPushEvery: 1w}',
        'alerts: {telegram: {chatId: 1, timeout: 5s}}',
        'backup: {deadline: 2h, tiers: [{name: t, source: /a, destination: /b, interval: 2h}, ' +
          '{name: u, source: /a, destination: /c, interval: 90s}]}',
        '',
      ].join('\n'),
    );
    assert.deepEqual(warnings, []);
    assert.equal(c.thresholds.connectTimeout, 10);
    assert.equal(c.thresholds.retryDelay, 0.5);
    assert.equal(c.thresholds.cooldown, 300);
    assert.equal(c.thresholds.stateMaxAge, 5400);
    assert.equal(c.thresholds.lockLease, 86400);
    assert.equal(c.thresholds.settle, 1.5);
    assert.equal(c.memory.interval, 300);
    assert.equal(c.memory.fullPushEvery, 604800);
    assert.equal(c.alerts.telegram.timeout, 5);
    assert.equal(c.backup.deadline, 7200);
    assert.equal(c.backup.tiers[0].interval, 120, 'a tier interval stays in minutes inside');
    assert.equal(c.backup.tiers[1].interval, 1.5);
  });

  test('bare numbers keep their old unit; a tier interval in bare minutes is deprecated with a warning', async () => {
    const { c, warnings } = await load(
      'thresholds: {cooldown: 300}\nbackup: {tiers: [{name: t, source: /a, destination: /b, interval: 60}]}\n',
    );
    assert.equal(c.thresholds.cooldown, 300);
    assert.equal(c.backup.tiers[0].interval, 60);
    assert.deepEqual(warnings, [
      'd.yaml:4:67: /backup/tiers/0/interval a bare number here means minutes, ' +
        'unlike every other duration (seconds); this is deprecated: write "1h"',
    ]);
  });

  test('the loader knows every duration key the schema marks with x-unit, in the same unit', async () => {
    const { DURATIONS } = await import('../../dist/config/durations.js');
    const schema = JSON.parse(readFileSync(new URL('../../schema/hactl.schema.json', import.meta.url), 'utf8'));
    const found: string[] = [];
    const deref = (n: any): any =>
      n?.$ref
        ? deref(
            n.$ref
              .slice(2)
              .split('/')
              .reduce((o: any, k: string) => o[k], schema),
          )
        : n;
    const walk = (n: any, at: string, depth: number) => {
      n = deref(n);
      if (!n || typeof n !== 'object' || depth > 12) return;
      if (n['x-unit']) found.push(`${at} ${n['x-unit']}`);
      for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, `${at}/${k}`, depth + 1);
      if (n.items) walk(n.items, `${at}/*`, depth + 1);
      if (n.additionalProperties && typeof n.additionalProperties === 'object')
        walk(n.additionalProperties, `${at}/*`, depth + 1);
    };
    walk(schema, '', 0);
    assert.deepEqual(found.sort(), DURATIONS.map((d: any) => `${d.path} ${d.unit}`).sort());
  });

  test('duration strings, table', async () => {
    const { parseDuration, formatDuration } = await import('../../dist/config/durations.js');
    const rows: Array<[string, number | undefined]> = [
      ['30s', 30_000],
      ['5m', 300_000],
      ['2h', 7_200_000],
      ['1d', 86_400_000],
      ['1w', 604_800_000],
      ['500ms', 500],
      ['1h30m', 5_400_000],
      ['1.5s', 1500],
      [' 10s ', 10_000],
      ['10', undefined],
      ['', undefined],
      ['5 m', undefined],
      ['s', undefined],
      ['1x', undefined],
      ['-5s', undefined],
      ['1e3s', undefined],
      ['5minutes', undefined],
      ['9'.repeat(40) + 's', undefined],
    ];
    for (const [text, ms] of rows) assert.equal(parseDuration(text), ms, text);
    for (const [ms, text] of [
      [5_400_000, '1h30m'],
      [1500, '1.5s'],
      [300_000, '5m'],
      [604_800_000, '1w'],
      [500, '500ms'],
    ] as const)
      assert.equal(formatDuration(ms), text);
  });

  test('bad durations are named with the key, the value and what is allowed', async () => {
    let ps: string[] = [];
    try {
      await load(
        'thresholds: {cooldown: 5 minutes, retryDelay: true, verifyDeadline: 30d, pollInterval: 0s}\n' +
          'memory: {interval: "300"}\n',
      );
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      ps = e.problems;
    }
    const MUST = 'must be a duration such as 30s, 5m, 2h or 1d, or a number of seconds';
    assert.deepEqual(ps, [
      'd.yaml:3:24: /thresholds/cooldown ' + MUST + ' (found "5 minutes")',
      'd.yaml:3:47: /thresholds/retryDelay ' + MUST + ' (found true)',
      'd.yaml:3:69: /thresholds/verifyDeadline must be <= 3600 seconds (1h) (found "30d")',
      'd.yaml:3:88: /thresholds/pollInterval must be > 0 seconds (found "0s")',
      'd.yaml:4:20: /memory/interval ' + MUST + ' (found "300")',
    ]);
  });
});
