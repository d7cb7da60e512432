// The bundle bin/hactl runs (scripts/bundle.mjs, dist/bundle/): one CommonJS file per command holding that
// command only, a status run that loads no SSH, etcd, alert or config-parser code, a V8 code cache that is
// private, written by a run that did not parse its config, and never trusted blindly; the validate worker
// is an entry of its own that really checks files; --debug stack traces name the sources.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ROOT } from '../lab/lab.ts';

const BUNDLE = join(ROOT, 'dist', 'bundle');
const text = (f: string) => readFileSync(join(BUNDLE, f), 'utf8');
const COMMANDS = [
  ...readFileSync(join(ROOT, 'src/cli.ts'), 'utf8').matchAll(/import\('\.\/commands\/([a-z-]+)\.js'\)/g),
].map((m) => m[1]!);
/** The stub a command's file holds in place of command `c` (scripts/bundle.mjs). */
const stub = (c: string) => `./commands/${c}.js is not in the bundle of`;

const work = mkdtempSync(join(tmpdir(), 'hactl-bundle-'));
const cfg = join(work, 'hactl.yaml');
writeFileSync(
  cfg,
  [
    `stateDir: ${work}/state`,
    'pair: {primary: a, standby: b}',
    'hosts:',
    '  a: {address: 127.0.0.1, user: x, key: /nonexistent, knownHosts: /nonexistent}',
    '  b: {address: 127.0.0.2, user: x, key: /nonexistent, knownHosts: /nonexistent}',
    '',
  ].join('\n'),
);
// Records what a run loads: the packages and files it requires, node's own modules (moduleLoadList), and
// whether the YAML library (bundled, so never required) was initialized: its first module registers
// Symbol.for('yaml.alias') and its kin as it runs.
const SPY = join(work, 'spy.cjs');
writeFileSync(
  SPY,
  `const M = require('node:module'); const seen = []; const load = M._load;
M._load = function (req, ...rest) { seen.push(req); return load.call(this, req, ...rest); };
const symbols = []; const symbolFor = Symbol.for;
Symbol.for = function (key) { if (/^yaml\\./.test(key)) symbols.push(key); return symbolFor.call(this, key); };
process.on('exit', () => require('node:fs').writeFileSync(process.env.SPY_OUT,
  JSON.stringify({ required: seen, builtins: process.moduleLoadList, yaml: symbols })));`,
);

/** Runs bin/hactl with the cache in `cache`; its exit code, output, and what it loaded when spied on. */
function hactl(args: string[], cache: string, spy = false, extra: NodeJS.ProcessEnv = {}) {
  const out = join(work, 'spy.json');
  rmSync(out, { force: true });
  const r = spawnSync(process.execPath, [...(spy ? ['-r', SPY] : []), join(ROOT, 'bin/hactl'), ...args], {
    encoding: 'utf8',
    // One fixed time (HACTL_NOW): runs compared with each other must not differ by a pause's "59m left".
    env: {
      ...process.env,
      HACTL_CONFIG: cfg,
      XDG_CACHE_HOME: cache,
      SPY_OUT: out,
      HACTL_NOW: '2026-12-07T06:00:00Z',
      ...extra,
    },
  });
  const loaded = spy
    ? (JSON.parse(readFileSync(out, 'utf8')) as { required: string[]; builtins: string[]; yaml: string[] })
    : undefined;
  return { ...r, loaded };
}
const codeCaches = (cache: string) => {
  try {
    return readdirSync(join(cache, 'hactl')).filter((f) => f.startsWith('code-'));
  } catch {
    return [];
  }
};

after(() => rmSync(work, { recursive: true, force: true }));

describe('the bundle', () => {
  test('files sit flat in dist/bundle (src/paths.ts finds the package root from there), as CommonJS', () => {
    assert.deepEqual(
      readdirSync(BUNDLE, { withFileTypes: true }).filter((e) => e.isDirectory()),
      [],
    );
    assert.ok(readdirSync(BUNDLE).includes('worker.js'), 'the validate worker is an entry of its own');
    assert.equal(JSON.parse(text('package.json')).type, 'commonjs');
  });

  test("each command's file holds that command and no other", () => {
    assert.ok(COMMANDS.length >= 15, COMMANDS.join());
    for (const c of COMMANDS) {
      const t = text(`cmd-${c}.js`);
      for (const other of COMMANDS)
        assert.equal(t.includes(stub(other)), other !== c, `cmd-${c}.js and ./commands/${other}.js`);
    }
    for (const c of COMMANDS) assert.ok(!text('cli.js').includes(stub(c)), `cli.js holds ${c}`);
    // The YAML library: in its own file for the config (read only when it is parsed), inside the file of a
    // command that may validate memory files (check and failover sync the memory too).
    const validating = ['validate', 'sync-memory', 'check', 'failover', 'failback'];
    for (const c of COMMANDS) assert.equal(text(`cmd-${c}.js`).includes('yaml.alias'), validating.includes(c), c);
    assert.ok(text('yaml.js').includes('yaml.alias'));
    // The rsync argv builder is inside (code-cached), not required from node_modules on every sync.
    for (const f of ['cli.js', 'cmd-sync-memory.js', 'cmd-failover.js'])
      assert.doesNotMatch(text(f), /require\("rsync"\)/, f);
  });

  test('status and history load no SSH, etcd, alert, config-parser or child_process code (config kept)', () => {
    const cache = join(work, 'cache-status');
    assert.equal(hactl(['status'], cache).status, 3); // parses and keeps the config
    // A pause: status then reads pause.json and outbox.json, whose validators are in the bundle (code-cached).
    assert.equal(hactl(['pause', '--for', '1h'], cache).status, 0);
    const history = hactl(['history'], cache, true);
    for (const spy of [hactl(['status'], cache, true), hactl(['--json', 'status'], cache, true), history]) {
      assert.equal(spy.status, spy === history ? 0 : 3, spy.stderr);
      assert.match(spy.stdout, /paus/);
      const required = spy.loaded!.required.join(' ');
      // Nothing of ajv from node_modules: not its compiler, and not the precompiled validators' runtime
      // helpers (ajv-formats' date-time, ucs2length), which are inside the bundle (code-cached).
      assert.doesNotMatch(required, /ssh2|etcd3|grpc|telegram|validators|yaml|rsync|ajv/);
      // Nor the bundled YAML library's start (config/durations.ts once reached it through locate.ts).
      assert.deepEqual(spy.loaded!.yaml, []);
      // (net is there: stdout is a pipe here.) commander's child_process is required only when used.
      const builtins = spy.loaded!.builtins.filter((m) => /NativeModule (child_process|dgram|crypto)$/.test(m));
      assert.deepEqual(builtins, []);
    }
  });

  test('cron with no crontab program to ask loads no child_process (issue 25)', () => {
    const cache = join(work, 'cache-cron');
    assert.equal(hactl(['status'], cache).status, 3); // parses and keeps the config
    const spy = hactl(['cron'], cache, true, { PATH: join(work, 'no-such-dir') });
    assert.equal(spy.status, 0, spy.stderr);
    assert.match(spy.stdout, /^# BEGIN hactl/m);
    const builtins = spy.loaded!.builtins.filter((m) => /NativeModule (child_process|net)$/.test(m));
    assert.deepEqual(builtins, []);
  });

  test("pause and resume write state and queue an alert without node's crypto modules (issue 25)", () => {
    const cache = join(work, 'cache-pause');
    assert.equal(hactl(['status'], cache).status, 3); // parses and keeps the config
    for (const args of [['pause', '--for', '1h'], ['resume']]) {
      const spy = hactl(args, cache, true);
      assert.equal(spy.status, 0, spy.stderr);
      // Temp names and outbox ids are random from /dev/urandom; node:crypto (or the global Web Crypto,
      // which loads internal/crypto/*) would cost each run a few ms of CPU to load.
      const crypto = spy.loaded!.builtins.filter((m) => /NativeModule (internal\/)?crypto/.test(m));
      assert.deepEqual(crypto, [], args[0]);
      assert.deepEqual(spy.loaded!.yaml, [], `${args[0]} started the YAML library`);
    }
  });

  test('the code cache: private, one per command, written by a run that read its config from the cache', () => {
    const cache = join(work, 'cache-code');
    const first = hactl(['status'], cache);
    assert.deepEqual(codeCaches(cache), [], 'a run that parsed its config writes no code cache');
    const second = hactl(['status'], cache);
    const [name, ...more] = codeCaches(cache);
    assert.match(name ?? '', /^code-cmd-status-[0-9a-f]{16}-[0-9a-z]+\.bin$/);
    assert.deepEqual(more, []);
    const at = join(cache, 'hactl', name!);
    assert.equal(statSync(at).mode & 0o777, 0o600);
    assert.equal(statSync(join(cache, 'hactl')).mode & 0o777, 0o700);
    const written = statSync(at).mtimeMs;
    const third = hactl(['status'], cache);
    assert.equal(statSync(at).mtimeMs, written, 'a cache V8 took is not written again');
    for (const r of [second, third]) {
      assert.equal(r.status, first.status);
      assert.equal(r.stdout, first.stdout);
    }
    // Damaged: V8 refuses it, the run is the same, and the cache is written afresh.
    writeFileSync(at, readFileSync(at).subarray(0, 1000));
    const damaged = hactl(['status'], cache);
    assert.equal(damaged.status, first.status);
    assert.equal(damaged.stdout, first.stdout);
    assert.ok(statSync(at).size > 1000, 'a damaged cache is written again');
    // A good cache that others could have written is not used: a run replaces it with its own, 0600.
    chmodSync(at, 0o646);
    const open = hactl(['status'], cache);
    assert.equal(open.status, first.status);
    assert.equal(open.stdout, first.stdout);
    assert.equal(statSync(at).mode & 0o777, 0o600, 'a cache others may write is not read');
    // The bundle file changed without a build (same build id): another cache, not the old one.
    const bundleFile = join(BUNDLE, 'cmd-status.js');
    const { atime, mtime } = statSync(bundleFile);
    try {
      utimesSync(bundleFile, atime, new Date(mtime.getTime() - 60_000));
      assert.equal(hactl(['status'], cache).status, first.status);
      assert.equal(codeCaches(cache).length, 2, 'a cache of its own for the changed file');
    } finally {
      utimesSync(bundleFile, atime, mtime);
    }
    chmodSync(join(cache, 'hactl'), 0o755);
    for (const f of codeCaches(cache)) rmSync(join(cache, 'hactl', f));

    assert.equal(hactl(['status'], cache).status, first.status);
    assert.deepEqual(codeCaches(cache), [], 'no cache in a directory others may read');
    chmodSync(join(cache, 'hactl'), 0o700);
  });

  test('hactl picks the file by the command word, and the full CLI for anything else', () => {
    const cache = join(work, 'cache-words');
    const help = hactl(['help', 'status'], cache);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Usage: hactl status/);
    const unknown = hactl(['--json', 'bogus'], cache);
    assert.equal(unknown.status, 64);
    assert.equal(JSON.parse(unknown.stdout).exitCode, 64);
    const viaConfig = hactl(['-c', cfg, 'cron'], cache);
    assert.equal(viaConfig.status, 0, viaConfig.stderr);
    assert.match(viaConfig.stdout, /BEGIN hactl/);
  });

  test('the bundled validate worker checks its share of the files', async () => {
    const dir = mkdtempSync(join(work, 'worker-'));
    try {
      writeFileSync(join(dir, 'good.json'), '{"a": 1}');
      writeFileSync(join(dir, 'bad.yaml'), 'a: [');
      const job = {
        root: dir,
        files: ['bad.yaml', 'good.json'],
        rules: { cfg: { rules: [], ignore: [] }, fingerprint: '' },
        maxBytes: 1 << 20,
      };
      const r = await new Promise<{ problems: { file: string }[]; bytes: number }>((resolve, reject) => {
        const w = new Worker(join(BUNDLE, 'worker.js'), { workerData: job });
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
      });
      assert.deepEqual(
        r.problems.map((p) => p.file),
        ['bad.yaml'],
      );
      assert.equal(r.bytes, 12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--debug: the stack trace names the source files (linked source maps)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), '--debug', 'validate', '/nonexistent/x'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 66, r.stderr);
    assert.match(r.stderr, /at .*src\/commands\/validate\.ts:\d+:\d+/);
    const quiet = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), 'validate', '/nonexistent/x'], {
      encoding: 'utf8',
    });
    assert.doesNotMatch(quiet.stderr, /\bat /, 'no stack trace without --debug');
  });
});
