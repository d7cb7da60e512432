// Benchmark for issue 12 #5: `hactl validate` on a YAML-heavy tree against a
// seed-style Python + libyaml validator (bench/validate_ref.py), side by side.
//   node --import tsx bench/validate.ts [runs] [profile]
// Profiles: yaml-heavy (10,000 files: 15% YAML ~6 MB, 15% JSON, 70% Markdown)
// and light (the 5% YAML tree of docs/benchmarks.md). Cold: a fresh state dir
// (no validate cache); warm: the same tree again, unchanged. Peak RSS by GNU time.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

const RUNS = Number(process.argv[2] ?? 5);
const PROFILE = process.argv[3] ?? 'yaml-heavy';
const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hactl-bench-validate-'));
const tree = join(dir, 'tree');
const filler = (n: number, i: number) => `note ${i} lorem ipsum dolor sit amet `.repeat(Math.ceil(n / 30)).slice(0, n);

function yamlDoc(i: number): string {
  const facts = Array.from({ length: 28 }, (_, k) => ({
    key: `k${k}`,
    value: filler(60, i + k),
    seen: `2026-09-${String((k % 28) + 1).padStart(2, '0')}`,
    weight: k / 7,
  }));
  return stringify({ id: i, agent: `a${i % 20}`, tags: ['memory', 'facts', `t${i % 9}`], facts });
}

let yamlBytes = 0;
let total = 0;
const yamlShare = PROFILE === 'light' ? 1 : 3; // of 20
for (let i = 0; i < 10_000; i++) {
  const sub = i % 2 ? `workspace/memory/d${i % 50}` : `agents/a${i % 20}/memory/d${i % 25}`;
  const k = i % 20;
  let rel: string;
  let text: string;
  if (k < yamlShare) {
    rel = `${sub}/n${i}.yaml`;
    text = yamlDoc(i);
    yamlBytes += text.length;
  } else if (k < 6) {
    rel = `${sub}/n${i}.json`;
    text = JSON.stringify({ id: i, mood: 'calm', note: filler(3800, i) }) + '\n';
  } else if (k < 13) {
    rel = `${sub}/n${i}.md`;
    text = `---\ntitle: note ${i}\ntags: [a, b]\n---\n${filler(3900, i)}\n`;
  } else {
    rel = `${sub}/n${i}.md`;
    text = `# note ${i}\n\n${filler(4000, i)}\n`;
  }
  mkdirSync(join(tree, rel, '..'), { recursive: true });
  writeFileSync(join(tree, rel), text);
  total += text.length;
}

const cfgFile = join(dir, 'hactl.yaml');
const state = join(dir, 'state');
const writeCfg = () =>
  writeFileSync(
    cfgFile,
    stringify({
      stateDir: state,
      pair: { primary: 'a', standby: 'b' },
      hosts: {
        a: { address: '127.0.0.1', user: 'x', key: '/nonexistent', knownHosts: '/nonexistent' },
        b: { address: '127.0.0.2', user: 'x', key: '/nonexistent', knownHosts: '/nonexistent' },
      },
    }),
  );
writeCfg();

function run(argv: string[]): { ms: number; kb: number } {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'PEAK=%M', ...argv], {
    encoding: 'utf8',
    env: { ...process.env, HACTL_CONFIG: cfgFile },
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0)
    throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stdout.slice(0, 2000)}${r.stderr.slice(0, 2000)}`);
  return { ms, kb: Number(/PEAK=(\d+)/.exec(r.stderr)?.[1] ?? 0) };
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const hactl = [process.execPath, join(ROOT, 'bin/hactl'), 'validate', tree];
const py = ['python3', join(ROOT, 'bench/validate_ref.py'), tree];
const ref: number[] = [],
  cold: number[] = [],
  warm: number[] = [];
let peak = 0,
  refPeak = 0;
run(py); // page cache warm for both
for (let i = 0; i < RUNS; i++) {
  const p = run(py);
  ref.push(p.ms);
  refPeak = Math.max(refPeak, p.kb);
  rmSync(state, { recursive: true, force: true });
  const c = run(hactl);
  cold.push(c.ms);
  peak = Math.max(peak, c.kb);
  const w = run(hactl);
  warm.push(w.ms);
  peak = Math.max(peak, w.kb);
}
const f = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
console.log(
  `validate bench, profile ${PROFILE}: 10,000 files, ${(total / 1e6).toFixed(1)} MB, ` +
    `YAML ${(yamlBytes / 1e6).toFixed(1)} MB; ${cpus().length} cores (${cpus()[0]?.model}), ` +
    `node ${process.version}, ${RUNS} runs`,
);
console.log('| | median | ratio to reference | goal |');
console.log('|---|---|---|---|');
console.log(`| Python + libyaml reference (seed style) | ${f(med(ref))} | 1.00x | |`);
console.log(`| hactl validate, cold (no cache) | ${f(med(cold))} | ${(med(cold) / med(ref)).toFixed(2)}x | <= 1.0x |`);
console.log(
  `| hactl validate, warm (unchanged tree) | ${f(med(warm))} | ${(med(warm) / med(ref)).toFixed(2)}x | < 0.2 s |`,
);
console.log(
  `| peak RSS hactl / reference | ${Math.round(peak / 1024)} MB / ${Math.round(refPeak / 1024)} MB | | < 150 MB |`,
);
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
else console.log(dir);
