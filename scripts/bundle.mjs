// Bundles what bin/hactl runs into dist/bundle/ (issues 12 and 25: start-up). One CommonJS file per
// subcommand, holding the CLI and that command's code only, so a run reads and compiles one file; and a
// full one (cli.js) for everything else (no command, --help, help, an unknown word). bin/hactl picks the
// file by the command word and runs it through a V8 code cache (bin/hactl says how).
// Why CommonJS and not ESM chunks (the layout before): Node 20 has no compile cache for ES modules (no
// module.enableCompileCache, vm.SourceTextModule is behind a flag), and its ESM loader costs ~15 ms of CPU
// to start, then resolves, reads and links each of ~30 chunks; a CommonJS file compiles through
// vm.Script with cachedData, which skips parsing and the lazy compiles a run did before.
// Inside a command's file, code it needs only sometimes (the YAML parser and schema on a config-cache
// miss, the PostgreSQL steps, ...) stays in esbuild's lazy module wrappers: it is read, never run.
// Every file sits flat in dist/bundle/: src/paths.ts finds the package root from there, and the validate
// worker is a sibling (src/validate/pool.ts: './worker.js'). dist/bundle/package.json says CommonJS (the
// package is "type": "module"). tsc's dist/ stays as it is: the tests and scripts import its modules one
// by one.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { builtinModules, createRequire } from 'node:module';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
// Bundled: pure JavaScript on the start-up path (rsync: the argv builder). Every other package stays a
// plain require from node_modules: ssh2 (optional native parts), etcd3 (grpc loads .proto files from its
// own directory), ajv (the precompiled validators require its runtime from node_modules).
const BUNDLED = new Set(['commander', 'yaml', 'js-yaml', 'picomatch', 'rsync']);
const external = Object.keys(pkg.dependencies)
  .filter((d) => !BUNDLED.has(d))
  .flatMap((d) => [d, `${d}/*`]);

// The commands: src/cli.ts's lazy `import('./commands/NAME.js')`, one file each.
const cliText = readFileSync(`${root}src/cli.ts`, 'utf8');
const commands = [...cliText.matchAll(/import\('\.\/commands\/([a-z-]+)\.js'\)/g)].map((m) => m[1]);
if (commands.length < 10) throw new Error(`bundle: found only ${commands.length} commands in src/cli.ts`);

/** In the file of command `only`, every other command's module is a stub: bin/hactl never runs it there. */
const onlyCommand = (only) => ({
  name: 'only-command',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[a-z-]+\.js$/ }, (a) => {
      if (!a.importer.endsWith('src/cli.ts') || a.path === `./commands/${only}.js`) return undefined;
      return { path: a.path, namespace: 'other-command' };
    });
    b.onLoad({ filter: /.*/, namespace: 'other-command' }, (a) => ({
      contents:
        'export default () => { throw new Error(' +
        JSON.stringify(`hactl: ${a.path} is not in the bundle of '${only}' (bin/hactl chose the wrong file)`) +
        '); };',
      loader: 'js',
    }));
  },
});

/**
 * esbuild keeps `import('pkg')` of a package it does not bundle, and an import() inside vm.Script needs the
 * ESM loader (and its ~15 ms). Such an import becomes a require of the package in a lazy wrapper, as Node's
 * own import() of CommonJS would give it: `default` is module.exports.
 */
const requireExternals = {
  name: 'require-externals',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (a) => {
      if (a.kind !== 'dynamic-import' || a.namespace === 'required') return undefined;
      const bare = a.path.replace(/^node:/, '');
      const pkgName = a.path
        .split('/')
        .slice(0, a.path.startsWith('@') ? 2 : 1)
        .join('/');
      const ext = a.path.startsWith('node:') || external.includes(pkgName) || builtinModules.includes(bare);
      return ext ? { path: a.path, namespace: 'required' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'required' }, (a) => ({
      contents: `module.exports = require(${JSON.stringify(a.path)});`,
      loader: 'js',
    }));
    b.onResolve({ filter: /.*/, namespace: 'required' }, (a) => ({ path: a.path, external: true }));
  },
};

/**
 * commander requires child_process at its top for executable subcommands, which hactl has none of; loading it
 * loads net, dgram and the streams (~5 ms of a `status`). Inside commander it is required when first used.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (a) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(a.importer) ? { path: a.path, namespace: 'lazy-cp' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-cp' }, () => ({
      contents: "module.exports = { get spawn() { return require('node:child_process').spawn; } };",
      loader: 'js',
    }));
    b.onResolve({ filter: /.*/, namespace: 'lazy-cp' }, (a) => ({ path: a.path, external: true }));
  },
};

/**
 * The precompiled state validators (dist/validators/NAME.cjs, src/validators.ts) go into the bundle, so that
 * they are code-cached with it: a plain require compiled state.cjs and outbox.cjs afresh on every check
 * (~6 ms of CPU). Not hactl.cjs (the config schema, 260 kB): needed only when a config is parsed.
 */
const LOADER = 'createRequire(import.meta.url)(fileURLToPath(packageFile(`dist/validators/${name}.cjs`)))';
const bundledValidators = {
  name: 'bundled-validators',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]validators\.ts$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      if (!text.includes(LOADER)) throw new Error(`bundle: src/validators.ts no longer loads with ${LOADER}`);
      const names = readdirSync(`${root}dist/validators`)
        .filter((f) => f.endsWith('.cjs') && f !== 'hactl.cjs')
        .map((f) => f.slice(0, -4));
      const cases = names.map((n) => `case ${JSON.stringify(n)}: return require('../dist/validators/${n}.cjs');`);
      const fn =
        'function bundledValidator(name: string): any { ' +
        `switch (name) { ${cases.join(' ')} default: return ${LOADER}; } }`;
      return { contents: `${text.replace(LOADER, 'bundledValidator(name)')}\n${fn}\n`, loader: 'ts' };
    });
  },
};

/**
 * The rsync npm package (a pure JavaScript argv builder) is bundled: required from node_modules it cost ~8 ms
 * of CPU per sync (resolving, reading and compiling it, no code cache). src/adapters/rsync.ts requires it
 * through createRequire (tsc's ESM dist/ has no require); here that line goes, so esbuild sees a plain
 * require and bundles it, in a lazy wrapper run only when a sync builds its first argv.
 */
const RSYNC_REQUIRE = 'const require = createRequire(import.meta.url);';
const bundledRsync = {
  name: 'bundled-rsync',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]adapters[\\/]rsync\.ts$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      if (!text.includes(RSYNC_REQUIRE))
        throw new Error(`bundle: src/adapters/rsync.ts no longer has ${RSYNC_REQUIRE}`);
      return { contents: text.replace(RSYNC_REQUIRE, ''), loader: 'ts' };
    });
  },
};

/**
 * The precompiled validators' two runtime helpers (pure JavaScript, no requires of their own) are bundled, so
 * the code cache covers them: required from node_modules, every run that read a state file resolved, read and
 * compiled ajv-formats' formats afresh (its date-time check: pause.json, outbox.json, memory.json). ajv's
 * compiler (validate, config) stays external.
 */
const RUNTIME_HELPERS = /^(ajv-formats\/dist\/formats|ajv\/dist\/runtime\/ucs2length)$/;
const bundledRuntime = {
  name: 'bundled-ajv-runtime',
  setup(b) {
    b.onResolve({ filter: RUNTIME_HELPERS }, (a) =>
      a.kind === 'require-call' ? { path: createRequire(`${root}package.json`).resolve(a.path) } : undefined,
    );
  },
};

/**
 * The YAML library (119 kB, a third of a command's file) is needed by the config only when it is parsed (a
 * config-cache miss: src/config/cache.ts), so the config's imports of it become a require of its own file,
 * dist/bundle/yaml.js, read only then. The memory validator (src/validate/) parses YAML on every run that
 * validates, so there it stays inside the file, code-cached. Every other run reads a file a third smaller.
 */
const configYamlApart = {
  name: 'config-yaml-apart',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, (a) =>
      /[\\/]src[\\/]config[\\/]/.test(a.importer) ? { path: './yaml.js', external: true } : undefined,
    );
  },
};

const out = `${root}dist/bundle`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(`${out}/package.json`, '{ "type": "commonjs" }\n');
const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  // The sources use import.meta.url (src/paths.ts, createRequire); a CommonJS file has its __filename.
  define: { 'import.meta.url': '__hactlUrl' },
  banner: { js: "var __hactlUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Read by node only under --debug (bin/hactl): stack traces name src/ files and lines.
  sourcemap: 'linked',
  sourcesContent: false,
  minify: true,
  keepNames: true,
  logLevel: 'warning',
  plugins: [requireExternals, lazyChildProcess, bundledValidators, bundledRuntime, bundledRsync, configYamlApart],
};
const builds = [
  build({ ...common, entryPoints: { cli: 'src/cli.ts' }, outdir: out }),
  build({ ...common, entryPoints: { worker: 'src/validate/worker.ts' }, outdir: out }),
  build({ ...common, entryPoints: { version: 'src/version.ts' }, outdir: out, sourcemap: false }),
  build({
    ...common,
    stdin: { contents: "module.exports = require('yaml');", resolveDir: root, loader: 'js' },
    outfile: `${out}/yaml.js`,
    sourcemap: false,
  }),
  ...commands.map((c) =>
    build({
      ...common,
      entryPoints: { [`cmd-${c}`]: 'src/cli.ts' },
      define: { ...common.define, 'globalThis.HACTL_ONLY_COMMAND': JSON.stringify(c) },
      outdir: out,
      plugins: [...common.plugins, onlyCommand(c)],
    }),
  ),
];
await Promise.all(builds);
const files = readdirSync(out, { withFileTypes: true });
const nested = files.filter((e) => e.isDirectory());
if (nested.length)
  throw new Error(`bundle: files must sit flat in dist/bundle (src/paths.ts), found ${nested[0].name}/`);
// A real import() left in a file would need the ESM loader inside a vm.Script (bin/hactl): none may be.
for (const f of files.filter((e) => e.name.endsWith('.js')))
  if (/\bimport\(/.test(readFileSync(`${out}/${f.name}`, 'utf8').replace(/\/\/.*$/gm, '')))
    throw new Error(`bundle: dist/bundle/${f.name} keeps an import(): bin/hactl runs it as CommonJS`);

// This build's id (src/config/cache.ts keys its kept configs with it, bin/hactl its code caches): a hash of
// everything a run's code is made of, the bundle's every file and the compiled schema, so any change to
// the code parses configs afresh and compiles afresh.
{
  const h = createHash('sha256');
  h.update(`${pkg.version}\0`);
  const inputs = [
    ...readdirSync(out)
      .filter((f) => f.endsWith('.js'))
      .sort()
      .map((f) => `dist/bundle/${f}`),
    'dist/validators/hactl.cjs',
  ];
  for (const f of inputs)
    h.update(`${f}\0`)
      .update(readFileSync(`${root}${f}`))
      .update('\0');
  writeFileSync(`${root}dist/build-id`, `${h.digest('hex')}\n`);
}
