// Start-up and warm-path timings (issue 12 #5, #6), side by side in one run:
//   node --import tsx bench/startup.mts [runs] [-- label=command ...]
// Without commands: `node -e 0`, `hactl --version`, `hactl --help`, and a warm `hactl validate`
// of an unchanged 10,000-file tree (built here, with its cache filled first).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleave, row } from './lib/measure.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'hactl-bench-startup-'));
const tree = join(dir, 'tree');
for (let i = 0; i < 10_000; i++) {
  const sub = i % 2 ? `workspace/memory/d${i % 50}` : `agents/a${i % 20}/memory/d${i % 25}`;
  const ext = i % 20 < 3 ? 'yaml' : i % 20 < 6 ? 'json' : 'md';
  const text = ext === 'yaml' ? `id: ${i}\nnote: hello\n` : ext === 'json' ? `{"id": ${i}}` : `# n ${i}\n`;
  mkdirSync(join(tree, sub), { recursive: true });
  writeFileSync(join(tree, sub, `n${i}.${ext}`), text);
}
const cfg = join(dir, 'hactl.yaml');
writeFileSync(
  cfg,
  [
    `stateDir: ${dir}/state`,
    'pair: {primary: a, standby: b}',
    'hosts:',
    '  a: {address: 127.0.0.1, user: x, key: /nonexistent, knownHosts: /nonexistent}',
    '  b: {address: 127.0.0.2, user: x, key: /nonexistent, knownHosts: /nonexistent}',
  ].join('\n') + '\n',
);
const env = { ...process.env, HACTL_CONFIG: cfg };
const sh = (cmd: string) => () => {
  const r = spawnSync('sh', ['-c', cmd], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status} ${r.stderr}`);
};
const hactl = `${process.execPath} ${join(ROOT, 'bin/hactl')}`;
const extra = process.argv.slice(process.argv.indexOf('--') + 1).filter(() => process.argv.includes('--'));
const cases: Record<string, () => void> = extra.length
  ? Object.fromEntries(extra.map((a) => [a.split('=')[0]!, sh(a.slice(a.indexOf('=') + 1).replaceAll('TREE', tree))]))
  : {
      'node -e 0': sh(`${process.execPath} -e 0`),
      'hactl --version': sh(`${hactl} --version`),
      'hactl --help': sh(`${hactl} --help`),
      'hactl validate, warm (10,000 files)': sh(`${hactl} validate ${tree}`),
    };
for (const c of Object.values(cases)) c(); // fills the validate cache
const s = interleave(cases, runs);
console.log(`${runs} runs each, interleaved; node ${process.version}`);
console.log('| | median | range |');
console.log('|---|---|---|');
for (const [name, series] of Object.entries(s)) console.log(row(name, series));
rmSync(dir, { recursive: true, force: true });
