// Config fuzzer (issue 11, "Also"): hundreds of generated bad configs. Each must be refused
// with a ConfigError (exit 78): one line per problem, each naming file:line:col (or the file,
// when it cannot be read at all), never a stack, never a hang. Most cases drive loadConfig
// in-process (the function the CLI calls); a representative subset runs the built CLI under
// a per-spawn deadline that fails the test. Generated from a fixed seed: a failure is
// reproducible, and its case name says what was done.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { ConfigError } from '../../dist/errors.js';
import { loadConfig } from '../../dist/config/load.js';

const ROOT = new URL('../..', import.meta.url).pathname;

const BASE = {
  stateDir: '/var/lib/hactl',
  hosts: {
    pca: { address: '192.0.2.10', port: 22, user: 'claw', key: '/etc/hactl/id', knownHosts: '/etc/hactl/kh' },
    pcb: {
      address: '192.0.2.11',
      user: 'claw',
      key: '/etc/hactl/id',
      knownHosts: '/etc/hactl/kh',
      gateway: { port: 19789 },
    },
  },
  pair: { primary: 'pca', standby: 'pcb' },
  gateway: {
    port: 18789,
    probe: { http: { url: 'http://127.0.0.1:{port}/readyz', status: 200 } },
    start: [{ name: 'cli', run: 'openclaw gateway start', env: { PATH: '/usr/bin' } }],
    stop: [{ name: 'detached', pidfile: true }],
    runDir: '.openclaw/hactl',
    env: { NODE_ENV: 'production' },
  },
  thresholds: {
    connectTimeout: '10s',
    commandTimeout: 20,
    retryDelay: '10s',
    failuresBeforeFailover: 1,
    verifyDeadline: '1m',
    cooldown: '5m',
    maxAttempts: 3,
  },
  failback: { policy: 'auto' },
  alerts: {
    prefix: '[hactl]',
    telegram: { chatId: -100123, tokenEnv: 'HACTL_TELEGRAM_TOKEN', apiRoot: 'https://api.telegram.org', timeout: '5s' },
  },
  memory: {
    enabled: true,
    root: '.openclaw',
    include: ['workspace/**'],
    interval: '5m',
    maxDeleteShare: 0.2,
    deleteAllowance: 5,
    bwlimit: 0,
  },
  validate: { rules: [{ glob: '**/*.json', schema: { type: 'object' } }], ignore: ['.~tmp~/**'] },
  backup: {
    deadline: '1h',
    tiers: [
      {
        name: 't1',
        source: 'pca:.openclaw',
        destination: '/srv/backups',
        interval: '1h',
        retention: { hourly: 24, daily: 7, weekly: 4 },
        minFreeMB: 1024,
        deepVerifyEvery: 24,
      },
    ],
  },
};

interface Case {
  name: string;
  kind: string;
  /** Writes the config and returns its path. */
  make: (dir: string) => string;
  /** A key (JSON pointer) or word one of the problem lines must name. */
  names?: string;
  /** Read failures name only the file: there is no line to point at. */
  fileOnly?: boolean;
}

// A small seeded PRNG (mulberry32): the same cases on every run.
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20261201);

let written = 0;
const clone = (): any => structuredClone(BASE);
const text = (name: string, kind: string, body: string | Buffer, names?: string): Case => ({
  name,
  kind,
  names,
  make: (dir) => {
    const f = join(dir, `${kind}-${++written}.yaml`);
    writeFileSync(f, body);
    return f;
  },
});
const mutated = (name: string, kind: string, edit: (c: any) => void, names?: string): Case => {
  const c = clone();
  edit(c);
  return text(name, kind, stringify(c), names);
};

function leaves(node: any, path: string[] = [], out: Array<{ path: string[]; value: unknown }> = []) {
  if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (path.at(-1) === 'json' || k === 'schema') continue; // free-form by design
      leaves(v, [...path, k], out);
    }
  } else out.push({ path, value: node });
  return out;
}
function objects(node: any, path: string[] = [], out: string[][] = []) {
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    if (!['env', 'hosts', 'json', 'schema'].includes(path.at(-1) ?? '')) out.push(path);
    for (const [k, v] of Object.entries(node)) if (k !== 'schema') objects(v, [...path, k], out);
  } else if (Array.isArray(node)) node.forEach((v, i) => objects(v, [...path, String(i)], out));
  return out;
}
const setIn = (c: any, path: string[], v: unknown) => {
  const parent = path.slice(0, -1).reduce((o, k) => o[k], c);
  parent[path.at(-1)!] = v;
};
const ptr = (path: string[]) => '/' + path.join('/');

const cases: Case[] = [];
const leafList = leaves(BASE);
const numeric = leafList.filter((l) => typeof l.value === 'number' && l.path.at(-1) !== 'chatId');
const durationKeys = leafList.filter((l) => typeof l.value === 'string' && /^[0-9.]+(ms|s|m|h|d|w)$/.test(l.value));

// 1. Wrong types: every leaf, two values of a type it does not take.
for (const { path, value } of leafList) {
  const wrong: unknown[] =
    typeof value === 'number'
      ? ['many', true, [1]]
      : typeof value === 'boolean'
        ? ['yes', 1, {}]
        : [true, [], { a: 1 }];
  if (path.at(-1) === 'chatId') wrong.splice(0, 3, true, 1.5, []);
  for (const w of wrong.slice(0, 2 + (rand() < 0.5 ? 1 : 0))) {
    cases.push(mutated(`${ptr(path)} = ${JSON.stringify(w)}`, 'wrong-type', (c) => setIn(c, path, w), ptr(path)));
  }
}
// 2. Missing required keys.
for (const p of [
  '/hosts',
  '/pair',
  '/pair/primary',
  '/pair/standby',
  '/hosts/pca/address',
  '/hosts/pca/user',
  '/hosts/pca/key',
  '/hosts/pcb/knownHosts',
  '/backup/tiers/0/name',
  '/backup/tiers/0/source',
  '/backup/tiers/0/destination',
  '/alerts/telegram/chatId',
  '/validate/rules/0/glob',
  '/validate/rules/0/schema',
  '/gateway/start/0/name',
  '/gateway/start/0/run',
  '/gateway/probe/http/url',
  '/gateway/stop/0/pidfile',
]) {
  const path = p.split('/').slice(1);
  cases.push(
    mutated(
      `without ${p}`,
      'missing',
      (c) => {
        delete path.slice(0, -1).reduce((o: any, k) => o[k], c)[path.at(-1)!];
      },
      path.at(-1),
    ),
  );
}
// 3. Unknown keys and typos, at every level that is not a free-form map.
for (const path of objects(BASE)) {
  cases.push(
    mutated(
      `${ptr(path)}/bogus`,
      'unknown',
      (c) => {
        path.reduce((o: any, k) => o[k], c).bogus = 1;
      },
      'bogus',
    ),
  );
  const keys = Object.keys(path.reduce((o: any, k) => o[k], BASE));
  const k = keys[Math.floor(rand() * keys.length)]!;
  const typo = k.length > 2 ? k.slice(0, 1) + k.slice(2, 3) + k.slice(1, 2) + k.slice(3) : `${k}x`;
  if (typo !== k)
    cases.push(
      mutated(
        `${ptr(path)}/${typo} for ${k}`,
        'unknown',
        (c) => {
          const o = path.reduce((x: any, y) => x[y], c);
          o[typo] = o[k];
          delete o[k];
        },
        typo,
      ),
    );
}
// 4. Out of range: every number and duration, too big, negative, not finite.
for (const { path } of [...numeric, ...durationKeys]) {
  for (const v of [1e12, -1, 2 ** 53, '99999w', '0.5.5s', '-5s'])
    cases.push(mutated(`${ptr(path)} = ${v}`, 'range', (c) => setIn(c, path, v), ptr(path)));
}
for (const { path } of numeric.slice(0, 6))
  for (const v of ['.inf', '-.inf', '.nan']) {
    const c = clone();
    setIn(c, path, 987654321);
    cases.push(text(`${ptr(path)} = ${v}`, 'range', stringify(c).replace('987654321', v), ptr(path)));
  }
for (const [p, v] of [
  ['/hosts/pca/port', 70000],
  ['/hosts/pca/port', 0],
  ['/memory/maxDeleteShare', 1.5],
  ['/gateway/probe/http/status', 99],
  ['/thresholds/maxAttempts', 0],
  ['/gateway/env', { 'A=1;touch /tmp/X;B': 'v' }],
  ['/gateway/start/0/env', { '1X': 'v' }],
  ['/hosts/pcb/gateway/env', { 'A B': 'v' }],
  ['/alerts/telegram/apiRoot', 'ftp://x'],
  ['/alerts/telegram/apiRoot', 'https://a b'],
  ['/alerts/telegram/tokenEnv', 'A-B'],
  ['/gateway/runDir', "x'y"],
  ['/hosts/pca/address', 'a;b'],
  ['/hosts/pca/user', '-oProxyCommand=x'],
  ['/stateDir', 'x'.repeat(5000)],
  ['/validate/rules/0/schema', { type: 'objekt' }],
  ['/validate/rules/0/schema', '/nonexistent/schema.json'],
  ['/pair/standby', 'pca'],
  ['/pair/primary', 'nobody'],
  ['/backup/tiers/0/source', 'nohost:x'],
  ['/backup/tiers/0/upstream', 'nope'],
  ['/failback/policy', 'sometimes'],
] as const) {
  const path = p.split('/').slice(1);
  cases.push(mutated(`${p} = ${JSON.stringify(v).slice(0, 40)}`, 'range', (c) => setIn(c, path, v), p));
}
// 5. Broken YAML: fixed snippets, then the base text corrupted line by line.
const GOOD = stringify(BASE);
for (const [n, body] of [
  ['unclosed flow', 'hosts: [a, b\n'],
  ['unclosed map', 'hosts: {a: 1\n'],
  ['unterminated quote', 'stateDir: "abc\n'],
  ['tab indent', 'hosts:\n\ta: 1\n'],
  ['bad indent', 'hosts:\n  a: 1\n b: 2\n'],
  ['key value value', 'a: b: c\n'],
  ['seq in map', 'a: 1\n- b\n'],
  ['lone colon', ': :\n'],
  ['reserved @', '@foo\n'],
  ['reserved `', '`x\n'],
  ['directive only', '%YAML 1.2\n'],
  ['bad directive', '%FOO\n---\na: 1\n'],
  ['two documents', 'hosts: {}\n---\npair: {}\n'],
  ['empty anchor', 'a: &\n'],
  ['unknown tag', 'hosts: !custom {}\n'],
  ['js tag', 'stateDir: !!js/function "f"\n'],
  ['binary tag', 'stateDir: !!binary aGVsbG8=\n'],
  ['undefined alias', 'hosts: *nope\n'],
  ['flow garbage', '{]\n'],
  ['closing only', ']\n'],
  ['question', '? [a, b]\n: c\n'],
  ['block scalar bad', 'a: |\n b\nc\n  d: e\n'],
  ['comment only', '# nothing\n'],
  ['empty', ''],
  ['whitespace', '   \n\n'],
  ['top-level list', '- a\n- b\n'],
  ['top-level scalar', 'just text\n'],
  ['top-level number', '42\n'],
  ['null doc', '~\n'],
  ['proto key', '__proto__: {hosts: 1}\n'],
  [
    'proto host',
    'hosts: {__proto__: {address: x, user: u, key: /k, knownHosts: /kh}}\npair: {primary: __proto__, standby: b}\n',
  ],
  ['yaml 1.1 booleans', '%YAML 1.1\n---\nhosts: yes\npair: no\n'],
  ['huge int', 'thresholds: {cooldown: 1' + '0'.repeat(400) + '}\n'],
] as const) {
  cases.push(text(n, 'broken-yaml', body));
}
const lines = GOOD.split('\n');
for (let i = 0, made = 0; made < 60 && i < 400; i++) {
  const at = Math.floor(rand() * (lines.length - 1));
  const how = Math.floor(rand() * 4);
  const copy = [...lines];
  if (how === 0) copy[at] = copy[at]!.replace(/: (.*)$/, ': "$1');
  else if (how === 1) copy[at] = '\t' + copy[at];
  else if (how === 2) copy.splice(at, 0, copy[at]!.replace(/^(\s*)/, '$1[') + ' {');
  else copy[at] = copy[at]!.replace(/^(\s*)(\S)/, '$1- $2') + '\n' + ' '.repeat(40) + 'x: y: z';
  const body = copy.join('\n');
  if (!parseDocument(body).errors.length) continue; // only texts that really are broken YAML
  cases.push(text(`line ${at + 1} corrupted (${['quote', 'tab', 'bracket', 'nesting'][how]})`, 'broken-yaml', body));
  made++;
}
// 6. Duplicate keys, at every level of the block text.
const keyLines = lines
  .map((l, i) => [l, i] as const)
  .filter(([l]) => /^\s*[A-Za-z_]+:( |$)/.test(l) && !/^\s*-/.test(l));
for (const [l, i] of keyLines.filter((_, j) => j % 2 === 0).slice(0, 40)) {
  const copy = [...lines];
  const indent = /^\s*/.exec(l)![0];
  const key = /^\s*([A-Za-z_]+):/.exec(l)![1]!;
  let end = i + 1;
  while (end < copy.length && copy[end]!.startsWith(indent + ' ')) end++;
  copy.splice(end, 0, `${indent}${key}: 1`);
  cases.push(text(`duplicate ${key} at line ${i + 1}`, 'duplicate', copy.join('\n'), key));
}
// 7. Alias bombs (billion laughs) and alias tricks.
const laughs = (levels: number, width: number) => {
  let out = 'lol0: &l0 "lol"\n';
  for (let i = 1; i <= levels; i++)
    out += `lol${i}: &l${i} [${Array(width)
      .fill(`*l${i - 1}`)
      .join(', ')}]\n`;
  return out;
};
cases.push(
  text('billion laughs 9x9', 'alias-bomb', laughs(9, 9)),
  text('billion laughs 30x2', 'alias-bomb', laughs(30, 2)),
  text('laughs beside a good config', 'alias-bomb', laughs(9, 9) + GOOD),
  text('self alias', 'alias-bomb', 'a: &a [*a]\n'),
  text(
    'merge bomb',
    'alias-bomb',
    'a: &a {x: 1}\n' + Array.from({ length: 300 }, (_, i) => `b${i}: *a`).join('\n') + '\n',
  ),
  text('alias before anchor', 'alias-bomb', 'a: *b\nb: &b 1\n'),
);
// 8. Size: 10 MB of comments, one 10 MB scalar, 30,000 unknown keys (under the cap), nesting.
cases.push(
  { ...text('10 MB of comments', 'huge', '# ' + 'x'.repeat(10 * 1024 * 1024) + '\n'), fileOnly: true },
  { ...text('10 MB scalar', 'huge', 'stateDir: ' + 'y'.repeat(10 * 1024 * 1024) + '\n'), fileOnly: true },
  text('30,000 unknown keys', 'huge', GOOD + Array.from({ length: 30000 }, (_, i) => `k${i}: 1`).join('\n')),
  text(
    '5,000 tiers',
    'huge',
    'backup: {tiers: [' + Array(5000).fill('{name: t, source: a:b, destination: /x}').join(',') + ']}\n',
  ),
  text('100,000 nested [', 'deep', '['.repeat(100000)),
  text('50,000 nested {', 'deep', 'a: ' + '{b: '.repeat(50000)),
  text(
    '1,000 nested block maps',
    'deep',
    Array.from({ length: 1000 }, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' 1\n',
  ),
  text(
    '200 nested sequences',
    'deep',
    Array.from({ length: 200 }, (_, i) => ' '.repeat(i * 2) + '-').join('\n') + ' 1\n',
  ),
  text('nested lists on one line', 'deep', '- '.repeat(20000) + 'x\n'),
);
// 9. Binary bytes.
for (let i = 0; i < 12; i++) {
  const n = 1 + Math.floor(rand() * 4096);
  cases.push(
    text(`${n} random bytes`, 'binary', Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)))),
  );
}
cases.push(
  text('NUL in a value', 'binary', GOOD.replace('claw', 'cl\u0000aw')),
  text('UTF-16LE with BOM', 'binary', Buffer.from('\uFEFF' + GOOD, 'utf16le')),
  text('UTF-16LE without BOM', 'binary', Buffer.from(GOOD, 'utf16le')),
  text(
    'Latin-1 byte',
    'binary',
    Buffer.concat([Buffer.from('stateDir: /caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
  ),
  text('PNG header', 'binary', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])),
  text('escape sequence', 'binary', 'stateDir: "\u001b[31mred"\n'),
  {
    name: 'a copy of the node binary head',
    kind: 'binary',
    make: (dir) => {
      const f = join(dir, 'elf.yaml');
      writeFileSync(f, execFileSync('head', ['-c', '65536', process.execPath]));
      return f;
    },
  },
);
// 10. Unreadable sources: no such file, directory, dangling symlink, loop, path through a file.
const file = (name: string, kind: string, make: (dir: string) => string): Case => ({
  name,
  kind,
  make,
  fileOnly: true,
});
cases.push(
  file('no such file', 'unreadable', (d) => join(d, 'absent.yaml')),
  file('a directory', 'unreadable', (d) => {
    const p = join(d, 'dir.yaml');
    mkdirSync(p);
    return p;
  }),
  file('dangling symlink', 'unreadable', (d) => {
    const p = join(d, 'dangling.yaml');
    symlinkSync(join(d, 'gone'), p);
    return p;
  }),
  file('symlink loop', 'unreadable', (d) => {
    const p = join(d, 'loop.yaml');
    symlinkSync(p, p);
    return p;
  }),
  file('path through a file', 'unreadable', (d) => {
    const p = join(d, 'plain');
    writeFileSync(p, 'x');
    return join(p, 'hactl.yaml');
  }),
  file('mode 000 directory', 'unreadable', (d) => {
    const p = join(d, 'closed');
    mkdirSync(p);
    chmodSync(p, 0);
    return p;
  }),
);
// 11. FIFOs, sockets and devices (in-process only where opening cannot block: see the spawned cases).
cases.push(
  file('/dev/null', 'device', () => '/dev/null'),
  file('/dev/zero', 'device', () => '/dev/zero'),
  file('/dev/urandom', 'device', () => '/dev/urandom'),
  // A FIFO is only tried through the CLI below: in-process, a loader that opens it would block
  // this very test runner, and the test could not fail, only hang.
  file('/dev/full', 'device', () => '/dev/full'),
  file('a unix socket', 'device', (d) => join(d, 'sock.yaml')),
  file('symlink to /dev/zero', 'device', (d) => {
    const p = join(d, 'zero.yaml');
    symlinkSync('/dev/zero', p);
    return p;
  }),
);

const SHAPE = (file: string, fileOnly: boolean) =>
  new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${fileOnly ? '' : ':\\d+:\\d+'}: \\S`);

describe('config fuzzer', () => {
  let dir: string;
  let sock: Server;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hactl-fuzz-'));
    sock = createServer();
    await new Promise<void>((ok) => sock.listen(join(dir, 'sock.yaml'), ok));
  });
  after(() => {
    sock.close();
    try {
      chmodSync(join(dir, 'closed'), 0o700);
    } catch {
      /* not made */
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test(`at least 400 generated bad configs, of every kind`, () => {
    assert.ok(cases.length >= 400, String(cases.length));
    const kinds = new Set(cases.map((c) => c.kind));
    for (const k of [
      'wrong-type',
      'missing',
      'unknown',
      'range',
      'broken-yaml',
      'duplicate',
      'alias-bomb',
      'huge',
      'deep',
      'binary',
      'unreadable',
      'device',
    ])
      assert.ok(kinds.has(k), k);
  });

  test('each is refused with one line per problem, naming file:line:col and the key', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const f = c.make(dir);
      try {
        await loadConfig(f);
        failures.push(`${c.kind} ${c.name}: accepted`);
        continue;
      } catch (e) {
        if (!(e instanceof ConfigError)) {
          failures.push(
            `${c.kind} ${c.name}: ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message).slice(0, 200)}`,
          );
          continue;
        }
        const ps = e.problems;
        const shape = SHAPE(f, !!c.fileOnly);
        const bad = ps.filter(
          (p: string, i: number) =>
            p.includes('\n') ||
            !(shape.test(p) || (i === ps.length - 1 && / more problems? \(fix these first\)$/.test(p))),
        );
        if (!ps.length || ps.length > 51) failures.push(`${c.kind} ${c.name}: ${ps.length} lines`);
        else if (bad.length)
          failures.push(`${c.kind} ${c.name}: malformed line ${JSON.stringify(bad[0]).slice(0, 300)}`);
        else if (c.names && !ps.some((p: string) => p.includes(c.names!)))
          failures.push(`${c.kind} ${c.name}: no line names ${c.names}: ${ps.join(' | ').slice(0, 300)}`);
        else if (e.hint && e.hint.includes('\n')) failures.push(`${c.kind} ${c.name}: hint of several lines`);
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} failed:\n${failures.join('\n')}`);
  });

  // The built CLI on the kinds that hung, ran away or crashed: exit 78, the problem lines
  // (each prefixed once by "hactl: "), one hint line, no stack, and no hang.
  const spawned: Array<[string, (d: string) => string]> = [
    [
      'a FIFO',
      (d) => {
        const p = join(d, 'cli-fifo.yaml');
        execFileSync('mkfifo', [p]);
        return p;
      },
    ],
    ['/dev/zero', () => '/dev/zero'],
    [
      '10 MB',
      (d) => {
        const p = join(d, 'cli-big.yaml');
        writeFileSync(p, '# ' + 'x'.repeat(10 * 1024 * 1024));
        return p;
      },
    ],
    [
      'alias bomb',
      (d) => {
        const p = join(d, 'cli-bomb.yaml');
        writeFileSync(p, laughs(9, 9));
        return p;
      },
    ],
    [
      'binary',
      (d) => {
        const p = join(d, 'cli-bin.yaml');
        copyFileSync(process.execPath, p);
        return p;
      },
    ],
    [
      'deep nesting',
      (d) => {
        const p = join(d, 'cli-deep.yaml');
        writeFileSync(p, '['.repeat(100000));
        return p;
      },
    ],
    [
      '30,000 unknown keys',
      (d) => {
        const p = join(d, 'cli-keys.yaml');
        writeFileSync(p, Array.from({ length: 30000 }, (_, i) => `k${i}: 1`).join('\n'));
        return p;
      },
    ],
    [
      'a directory',
      (d) => {
        const p = join(d, 'cli-dir');
        mkdirSync(p);
        return p;
      },
    ],
  ];
  for (const [name, make] of spawned) {
    test(`hactl check --config <${name}>: exit 78, one line per problem, no stack, no hang`, () => {
      const f = make(dir);
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), 'check', '--config', f], {
        encoding: 'utf8',
        timeout: 30_000,
        killSignal: 'SIGKILL',
        env: { ...process.env, HACTL_CONFIG: undefined },
      });
      assert.equal(r.error, undefined, `no answer within 30 s: ${r.error?.message}`);
      assert.equal(r.status, 78, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.match(lines[0]!, /^hactl: /);
      assert.match(lines.at(-1)!, /^hactl: hint: /);
      const problems = [lines[0]!.slice('hactl: '.length), ...lines.slice(1, -1)];
      assert.ok(problems.length >= 1 && problems.length <= 51, r.stderr.slice(0, 500));
      for (const p of problems) assert.ok(p.startsWith(`${f}:`) && !/^\s+at /.test(p), p);
    });
  }

  test('--json: the same refusal as one JSON document on stdout', () => {
    const f = join(dir, 'json-fifo.yaml');
    execFileSync('mkfifo', [f]);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), '--json', 'check', '--config', f], {
      encoding: 'utf8',
      timeout: 30_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, HACTL_CONFIG: undefined },
    });
    assert.equal(r.error, undefined, 'no answer within 30 s');
    assert.equal(r.status, 78);
    const j = JSON.parse(r.stdout);
    assert.equal(j.exitCode, 78);
    assert.match(j.error.message, /FIFO/);
  });
});
