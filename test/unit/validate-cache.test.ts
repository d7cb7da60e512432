// The warm cache of `hactl validate` (src/validate/cache.ts): what it may skip and what it
// must never skip. Each run opens the cache, asks about every file, and saves, as validateTree does.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache } from '../../dist/validate/cache.js';
import { compileRules } from '../../dist/validate/rules.js';
import { validateTree } from '../../dist/validate/tree.js';

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
function lab() {
  const d = mkdtempSync(join(tmpdir(), 'hactl-vcache-'));
  made.push(d);
  mkdirSync(join(d, 'tree', 'sub'), { recursive: true });
  writeFileSync(join(d, 'tree', 'a.json'), '{"a": 1}');
  writeFileSync(join(d, 'tree', 'sub', 'b.yaml'), 'b: 1\n');
  writeFileSync(join(d, 'tree', 'sub', 'c.md'), '# c\n');
  return { tree: join(d, 'tree'), state: join(d, 'state') };
}
const FILES = ['a.json', 'sub/b.yaml', 'sub/c.md'];
const compiled = await compileRules({ rules: [], ignore: [] });

/** One run: which files were fresh (skipped), then save with `notValid`. */
function run(l: { tree: string; state: string }, files = FILES, notValid: string[] = []): string[] {
  const c = openCache(l.state, l.tree, compiled, 5);
  const fresh = files.filter((f) => c.fresh(f));
  c.save(new Set(notValid));
  return fresh;
}
const cacheFiles = (state: string) => readdirSync(join(state, 'validate-cache'));

describe('validate cache', () => {
  test('an unchanged file is skipped; one not valid is never cached', () => {
    const l = lab();
    assert.deepEqual(run(l, FILES, ['sub/c.md']), [], 'cold: nothing is fresh');
    assert.deepEqual(run(l, FILES, ['sub/c.md']), ['a.json', 'sub/b.yaml']);
  });

  test('a write misses even with size and mtime put back (ctime); a replaced file misses (inode)', () => {
    const l = lab();
    run(l);
    const a = join(l.tree, 'a.json');
    const before = statSync(a, { bigint: true });
    writeFileSync(a, '{"a": 2}');
    const ns = before.mtimeNs;
    spawnSync('touch', ['-m', '-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, a]);
    assert.equal(statSync(a, { bigint: true }).mtimeNs, ns);
    assert.deepEqual(run(l), ['sub/b.yaml', 'sub/c.md']);
    const b = join(l.tree, 'sub', 'b.yaml');
    writeFileSync(b + '.new', 'b: 1\n');
    spawnSync('mv', [b + '.new', b]);
    assert.deepEqual(run(l), ['a.json', 'sub/c.md']);
  });

  test('after a change elsewhere is saved, unchanged files stay cached (their keys are carried over)', () => {
    const l = lab();
    run(l);
    writeFileSync(join(l.tree, 'sub', 'c.md'), '# c, longer\n');
    assert.deepEqual(run(l), ['a.json', 'sub/b.yaml']);
    assert.deepEqual(run(l), FILES, 'the rewritten cache still knows a.json and sub/b.yaml');
  });

  test('a file that is gone is dropped; one put back at the same path is read again', () => {
    const l = lab();
    run(l);
    rmSync(join(l.tree, 'a.json'));
    assert.deepEqual(run(l), ['sub/b.yaml', 'sub/c.md']);
    const [name] = cacheFiles(l.state);
    assert.doesNotMatch(readFileSync(join(l.state, 'validate-cache', name!), 'utf8'), /"a\.json"/);
    writeFileSync(join(l.tree, 'a.json'), '{"a": 1}');
    assert.deepEqual(run(l), ['sub/b.yaml', 'sub/c.md']);
  });

  test('a directory listing is reused only while the directory is unchanged', () => {
    const l = lab();
    const c1 = openCache(l.state, l.tree, compiled, 5);
    assert.equal(c1.dirs.get('sub'), undefined);
    c1.dirs.put('sub', { files: ['b.yaml', 'c.md'], dirs: [] });
    c1.save(new Set());
    assert.deepEqual(openCache(l.state, l.tree, compiled, 5).dirs.get('sub'), { files: ['b.yaml', 'c.md'], dirs: [] });
    writeFileSync(join(l.tree, 'sub', 'd.json'), '{}');
    assert.equal(openCache(l.state, l.tree, compiled, 5).dirs.get('sub'), undefined, 'an added file: read again');
  });

  test('the cache file is 0600, written whole (no temp file left), not rewritten for an unchanged tree', () => {
    const l = lab();
    run(l);
    const [name] = cacheFiles(l.state);
    const file = join(l.state, 'validate-cache', name!);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const ino = statSync(file).ino;
    run(l);
    assert.deepEqual(cacheFiles(l.state), [name]);
    assert.equal(statSync(file).ino, ino, 'unchanged tree: the same file, not a new one renamed over it');
  });

  test('a corrupt or foreign cache file only costs time: everything is checked', () => {
    const l = lab();
    run(l);
    const [name] = cacheFiles(l.state);
    const file = join(l.state, 'validate-cache', name!);
    const junk = ['{"version": 3, "files": {"": ["a.json", "x"]', '[]', '{"version":3,"files":{"":[1,2,3,4,5]}}'];
    junk.push('{"version":3,"files":{"":["a.json","8","1","1","1"]},"dirs":{"sub":{"key":[],"files":[]}}}');
    for (const j of junk) {
      writeFileSync(file, j);
      assert.deepEqual(run(l), [], j);
    }
  });

  test('through validateTree: an invalid file is reported on every run, a fixed one is then cached', async () => {
    const l = lab();
    writeFileSync(join(l.tree, 'sub', 'b.yaml'), 'b: [');
    for (let i = 0; i < 2; i++) {
      const r = await validateTree(l.tree, compiled, { cacheDir: l.state });
      assert.deepEqual(r.invalid, ['sub/b.yaml'], `run ${i + 1}`);
      assert.equal(r.files, 3);
    }
    writeFileSync(join(l.tree, 'sub', 'b.yaml'), 'b: []\n');
    assert.deepEqual((await validateTree(l.tree, compiled, { cacheDir: l.state })).invalid, []);
    assert.deepEqual(run(l), FILES);
  });
});

describe('validate cache: names that are also Object.prototype keys', () => {
  // A directory named `constructor` or `__proto__` once made save() throw (a lookup found the
  // prototype's member instead of nothing), so `hactl validate` crashed on such a tree.
  const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
  function protoLab() {
    const d = mkdtempSync(join(tmpdir(), 'hactl-vcache-'));
    made.push(d);
    const files: string[] = [];
    for (const n of NAMES) {
      mkdirSync(join(d, 'tree', n, n), { recursive: true });
      writeFileSync(join(d, 'tree', n, `${n}.md`), `# ${n}\n`);
      writeFileSync(join(d, 'tree', n, n, 'x.json'), '{"x": 1}');
      files.push(`${n}/${n}.md`, `${n}/${n}/x.json`);
    }
    return { l: { tree: join(d, 'tree'), state: join(d, 'state') }, files };
  }

  test('they are cached and found like any name', () => {
    const { l, files } = protoLab();
    assert.deepEqual(run(l, files), [], 'cold: nothing is fresh');
    assert.deepEqual(run(l, files), files, 'warm: every file is fresh');
  });

  test('a whole tree of them validates cold and warm', async () => {
    const { l, files } = protoLab();
    for (const pass of ['cold', 'warm']) {
      const r = await validateTree(l.tree, compiled, { cacheDir: l.state });
      assert.equal(r.files, files.length, pass);
      assert.deepEqual(r.problems, [], pass);
    }
  });
});
