// The bundle bin/hactl runs (scripts/bundle.mjs, dist/bundle/): lazy code stays lazy, the validate
// worker is an entry of its own that really checks files, and --debug stack traces name the sources.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ROOT } from '../lab/lab.ts';

const BUNDLE = join(ROOT, 'dist', 'bundle');
const text = (f: string) => readFileSync(join(BUNDLE, f), 'utf8');

/** The files a chunk loads with it (static imports, followed), itself included. */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    // `import {...} from "./x.js";` and `import "./x.js";` (not `import("./x.js")`, which is lazy).
    for (const m of text(f).matchAll(/(?:\bfrom\s*|^import\s+)"\.\/([^"]+\.js)"/gm)) todo.push(m[1]!);
  }
  return seen;
}
/** The sources (src/... and node_modules/...) bundled into these files, from esbuild's path comments. */
const sources = (files: Set<string>) =>
  [...files].flatMap((f) => [...text(f).matchAll(/^\/\/ ((?:src|node_modules)\/\S+)$/gm)].map((m) => m[1]!));
const chunkOf = (src: string) => readdirSync(BUNDLE).find((f) => f.endsWith('.js') && text(f).includes(`// ${src}\n`))!;

describe('the bundle', () => {
  test('chunks sit flat in dist/bundle (src/paths.ts finds the package root from there)', () => {
    assert.deepEqual(
      readdirSync(BUNDLE, { withFileTypes: true }).filter((e) => e.isDirectory()),
      [],
    );
    assert.ok(readdirSync(BUNDLE).includes('worker.js'), 'the validate worker is an entry of its own');
  });

  test('the CLI loads no command, no config parser and no SSH until a command runs', () => {
    const eager = sources(staticClosure('cli.js'));
    assert.ok(
      eager.some((s) => s.startsWith('node_modules/commander/')),
      'commander is in the CLI',
    );
    const lazy = eager.filter((s) =>
      /^src\/(commands|config|validate|failover|adapters)\/|node_modules\/yaml\//.test(s),
    );
    assert.deepEqual(lazy, []);
  });

  test('validate loads its modules at once, but the parsers only when a file must be read', () => {
    const eager = sources(staticClosure(chunkOf('src/commands/validate.ts')));
    for (const s of ['src/config/load.ts', 'src/validate/tree.ts', 'src/validate/cache.ts'])
      assert.ok(eager.includes(s), s);
    const parsers = eager.filter((s) => /^src\/validate\/check\.ts|node_modules\/js-yaml\/|ssh2/.test(s));
    assert.deepEqual(parsers, []);
  });

  test('the bundled validate worker checks its share of the files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-bundle-'));
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
