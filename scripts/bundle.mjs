// Bundles what bin/hactl runs into dist/bundle/ (issue 12: start-up). A run of tsc's
// per-module dist/ resolves and links ~40 files and, for each CommonJS package imported
// from ESM (commander, yaml, picomatch), runs Node's CJS export lexer over it; one bundle
// loads in one read. Code splitting keeps every subcommand's code (and the validate
// parsers) in lazy chunks, loaded only when that command runs. tsc's dist/ stays as
// it is: the tests and scripts import its modules one by one.
// Chunks sit flat in dist/bundle/: src/paths.ts finds the package root from there, and
// the validate worker is a sibling entry (src/validate/pool.ts: './worker.js').
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

const root = fileURLToPath(new URL('..', import.meta.url));
// Bundled: pure JavaScript on the start-up path. Every other package stays a plain import
// from node_modules: ssh2 (optional native parts), etcd3 (grpc loads .proto files from its
// own directory), ajv (the precompiled validators require its runtime from node_modules).
const BUNDLED = new Set(['commander', 'yaml', 'js-yaml', 'picomatch']);
const external = Object.keys((await import(`${root}package.json`, { with: { type: 'json' } })).default.dependencies)
  .filter((d) => !BUNDLED.has(d))
  .flatMap((d) => [d, `${d}/*`]);

const BANNER = [
  "import { createRequire as __hactlRequire } from 'node:module';",
  'const require = __hactlRequire(import.meta.url);',
].join('\n');
const out = `${root}dist/bundle`;
rmSync(out, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts', worker: 'src/validate/worker.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  chunkNames: '[name]-[hash]',
  // Read by node only under --debug (bin/hactl): stack traces name src/ files and lines.
  sourcemap: 'linked',
  sourcesContent: false,
  // The bundled CommonJS packages require node's built-ins; ESM has no `require` of its own.
  banner: { js: BANNER },
  logLevel: 'warning',
});
const nested = readdirSync(out, { withFileTypes: true }).filter((e) => e.isDirectory());
if (nested.length)
  throw new Error(`bundle: chunks must sit flat in dist/bundle (src/paths.ts), found ${nested[0].name}/`);

// This build's id (src/config/cache.ts keys its kept configs with it): a hash of everything a run's config
// code is made of, the bundle's every chunk and the compiled schema, so any change to the config code (or
// anything else) parses configs afresh, as the size and time of two files did not.
{
  const { createHash } = await import('node:crypto');
  const { readFileSync, writeFileSync } = await import('node:fs');
  const h = createHash('sha256');
  const version = (await import(`${root}package.json`, { with: { type: 'json' } })).default.version;
  h.update(`${version}\0`);
  const files = [
    ...readdirSync(out)
      .filter((f) => f.endsWith('.js'))
      .sort()
      .map((f) => `dist/bundle/${f}`),
    'dist/validators/hactl.cjs',
  ];
  for (const f of files)
    h.update(`${f}\0`)
      .update(readFileSync(`${root}${f}`))
      .update('\0');
  writeFileSync(`${root}dist/build-id`, `${h.digest('hex')}\n`);
}
