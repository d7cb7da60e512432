// Configs that loaded are kept between runs (src/config/cache.ts, issue 25): the same config gives the
// same Config without parsing it again; anything parseConfig depends on that changed parses afresh, a
// broken config is never kept, warnings are said on every run, and the copies are private.
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedConfig } from '../../src/config/cache.ts';
import { ConfigError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'hactl-config-cache-'));
const cache = join(dir, 'cache');
const file = join(dir, 'hactl.yaml');
const schema = join(dir, 'note.schema.json');
const HEAD = [
  `stateDir: ${dir}/state`,
  'pair: {primary: a, standby: b}',
  'hosts:',
  '  a: {address: 127.0.0.1, user: x, key: /k, knownHosts: /kh}',
  '  b: {address: 127.0.0.2, user: x, key: /k, knownHosts: /kh}',
  `validate: {rules: [{glob: '**/*.json', schema: ${schema}}]}`,
];
const write = (...more: string[]) => writeFileSync(file, [...HEAD, ...more, ''].join('\n'));

/** loadConfig with the cache in this test's directory; whether it parsed, and what it warned. */
async function load(): Promise<{ config: any; parsed: boolean; warnings: string[] }> {
  const { decodeConfig, readConfigBytes } = await import('../../src/config/read.ts');
  const text = decodeConfig(readConfigBytes(file), file);
  const warnings: string[] = [];
  let parsed = false;
  const { config } = await cachedConfig(
    file,
    text,
    async () => {
      parsed = true;
      const { loadValidator } = await import('../../src/validators.ts');
      const { parseConfig } = await import('../../src/config/parse.ts');
      const w: string[] = [];
      const schemas: Array<[string, string]> = [];
      const { readSchemaFile } = await import('../../src/config/rules.ts');
      const readSchema = (p: string) => {
        const b = readSchemaFile(p);
        schemas.push([p, b.toString('utf8')]);
        return b;
      };
      const config = parseConfig(text, file, await loadValidator('hactl'), { warn: (l) => w.push(l), readSchema });
      return { config, warnings: w, schemas };
    },
    (l) => warnings.push(l),
    cache,
    'test-build',
  );
  return { config, parsed, warnings };
}

beforeEach(() => {
  rmSync(cache, { recursive: true, force: true });
  writeFileSync(schema, '{"type": "object"}');
  write('thresholds: {connectTimeout: 7s}');
});

test('the same config: the kept Config, not parsed again, equal to a fresh parse', async () => {
  const first = await load();
  assert.equal(first.parsed, true);
  const second = await load();
  assert.equal(second.parsed, false);
  assert.equal(second.config.thresholds.connectTimeout, 7);
  // What a run sees is what parsing gives (an undefined member may come back absent: same reads).
  assert.deepEqual(JSON.parse(JSON.stringify(second.config)), JSON.parse(JSON.stringify(first.config)));
  assert.equal(second.config.hosts.a.gateway.port, first.config.hosts.a.gateway.port);
});

test('a changed config text or rule schema file parses afresh', async () => {
  await load();
  write('thresholds: {connectTimeout: 9s}');
  const changed = await load();
  assert.equal(changed.parsed, true);
  assert.equal(changed.config.thresholds.connectTimeout, 9);
  assert.equal((await load()).parsed, false);
  // The schema file is not in the config's text: a broken one must still be found.
  writeFileSync(schema, '{"type": "no-such-type"}');
  await assert.rejects(load(), (e: unknown) => e instanceof ConfigError && /not a valid JSON Schema/.test(String(e)));
});

test('a broken config is never kept: every run reports it', async () => {
  write('thresholds: {connectTimeout: soon}');
  for (let i = 0; i < 2; i++) await assert.rejects(load(), ConfigError);
  assert.equal(existsSync(cache) ? readdirSync(cache).length : 0, 0);
});

test('warnings are said on every run, the kept copy is private, a damaged copy is parsed around', async () => {
  write('backup: {tiers: [{name: t, source: /a, destination: /b, interval: 90}]}');
  const a = await load();
  const b = await load();
  assert.equal(b.parsed, false);
  assert.equal(a.warnings.length, 1);
  assert.deepEqual(b.warnings, a.warnings);
  assert.equal(statSync(cache).mode & 0o777, 0o700);
  const [kept] = readdirSync(cache);
  assert.equal(statSync(join(cache, kept!)).mode & 0o777, 0o600);
  writeFileSync(join(cache, kept!), readFileSync(join(cache, kept!), 'utf8').slice(0, 50));
  const c = await load();
  assert.equal(c.parsed, true);
  assert.deepEqual(c.config.backup, a.config.backup);
});

/** loadConfig (from `from`) with XDG_CACHE_HOME in this test's directory. */
async function viaXdg(from: string, xdg: string): Promise<any[]> {
  const old = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = xdg;
  try {
    const { loadConfig: load } = (await import(from)) as typeof import('../../src/config/load.ts');
    return [await load(file), await load(file)];
  } finally {
    if (old === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = old;
  }
}

test('the built loadConfig goes through the cache (XDG_CACHE_HOME), keyed by the build id', async () => {
  const xdg = join(dir, 'xdg');
  const [a, b] = await viaXdg('../../dist/config/load.js', xdg);
  assert.equal(a.thresholds.connectTimeout, 7);
  assert.equal(readdirSync(join(xdg, 'hactl')).length, 1);
  assert.deepEqual(b, a);
  const [kept] = readdirSync(join(xdg, 'hactl'));
  const id = readFileSync(new URL('../../dist/build-id', import.meta.url), 'utf8').trim();
  assert.match(JSON.parse(readFileSync(join(xdg, 'hactl', kept!), 'utf8')).key.build, new RegExp(`:${id}$`));
});

test('run from the sources (tsx): no build id, no cache (a changed parse.ts or rules.ts is never stale)', async () => {
  const xdg = join(dir, 'xdg-src');
  const [a] = await viaXdg('../../src/config/load.ts', xdg);
  assert.equal(a.thresholds.connectTimeout, 7);
  assert.equal(existsSync(join(xdg, 'hactl')) ? readdirSync(join(xdg, 'hactl')).length : 0, 0);
});

test('another build id parses afresh', async () => {
  await load();
  const { cachedConfig: cc } = await import('../../src/config/cache.ts');
  let parsed = false;
  const parse = async () => ((parsed = true), { config: {} as any, warnings: [], schemas: [] });
  const text = readFileSync(file, 'utf8');
  await cc(file, text, parse, () => undefined, cache, 'another-build');
  assert.equal(parsed, true);
});

describe('a cache that is not ours alone is neither read nor written', () => {
  /** A kept copy whose Config someone changed: the bot's apiRoot elsewhere. */
  const forge = (at: string) => {
    const e = JSON.parse(readFileSync(at, 'utf8'));
    e.config.forged = true;
    return JSON.stringify(e);
  };
  const kept = () =>
    join(
      cache,
      readdirSync(cache).find((f) => f.endsWith('.json'))!,
    );

  test('a cache directory others may write (0777)', async () => {
    await load();
    writeFileSync(kept(), forge(kept()));
    chmodSync(cache, 0o777);
    const r = await load();
    assert.equal(r.parsed, true);
    assert.equal(r.config.forged, undefined);
    const before = readFileSync(kept(), 'utf8');
    await load();
    assert.equal(readFileSync(kept(), 'utf8'), before, 'nothing written there either');
  });

  test('a kept copy others may read or write (0644)', async () => {
    await load();
    writeFileSync(kept(), forge(kept()));
    chmodSync(kept(), 0o644);
    const r = await load();
    assert.equal(r.parsed, true);
    assert.equal(r.config.forged, undefined);
  });

  test('a cache directory or a copy owned by another user', async (t) => {
    if (process.geteuid?.() !== 0) return t.skip('needs root to chown');
    await load();
    writeFileSync(kept(), forge(kept()));
    chownSync(kept(), 65534, 65534);
    assert.equal((await load()).config.forged, undefined);
    rmSync(cache, { recursive: true, force: true });
    await load();
    writeFileSync(kept(), forge(kept()));
    chownSync(cache, 65534, 65534);
    const r = await load();
    assert.equal(r.parsed, true);
    assert.equal(r.config.forged, undefined);
  });

  test('a kept copy that is a symlink (to a forged copy elsewhere)', async () => {
    await load();
    const elsewhere = join(dir, 'elsewhere.json');
    writeFileSync(elsewhere, forge(kept()), { mode: 0o600 });
    const name = kept();
    rmSync(name);
    symlinkSync(elsewhere, name);
    const r = await load();
    assert.equal(r.parsed, true);
    assert.equal(r.config.forged, undefined);
  });

  test('a cache directory that is a symlink', async () => {
    await load();
    writeFileSync(kept(), forge(kept()));
    const real = join(dir, 'real-cache');
    rmSync(real, { recursive: true, force: true });
    renameSync(cache, real);
    symlinkSync(real, cache);
    const r = await load();
    assert.equal(r.parsed, true);
    assert.equal(r.config.forged, undefined);
    rmSync(cache);
    mkdirSync(cache, { mode: 0o700 });
  });
});

test('a temp copy left by a killed run goes once it is an hour old', async () => {
  await load();
  const [kept] = readdirSync(cache);
  const old = join(cache, `${kept}.1-2.tmp`); // as earlier versions named them
  const oldHex = join(cache, `${kept}.0a9f3c2e7b5d1e48.tmp`); // as this one does (random hex)
  const fresh = join(cache, `${kept}.3-4.tmp`);
  for (const f of [old, oldHex, fresh]) writeFileSync(f, '{', { mode: 0o600 });
  const ago = new Date(Date.now() - 2 * 3600_000);
  for (const f of [old, oldHex]) utimesSync(f, ago, ago);
  write('thresholds: {connectTimeout: 8s}');
  await load();
  assert.equal(existsSync(old), false);
  assert.equal(existsSync(oldHex), false);
  assert.equal(existsSync(fresh), true);
});
