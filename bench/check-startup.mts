// What module loading costs a healthy two-host `check` in the lab (issue 12 #8), measured inside
// node with --cpu-prof: every sample under Node's module loaders (resolve, read, compile, evaluate,
// CommonJS export lexer), interleaved with another build of hactl for comparison.
//   node --import tsx bench/check-startup.mts [runs] [other-package-root]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, ROOT, TOKEN } from '../test/lab/lab.ts';
import { interleave, run, stats } from './lib/measure.ts';

const RUNS = Number(process.argv[2] ?? 7);
const builds: Record<string, string> = { 'this build': ROOT };
if (process.argv[3]) builds['other build'] = process.argv[3];

interface Profile {
  nodes: { id: number; callFrame: { url: string; functionName: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}
const LOADER = /^node:internal\/(modules\/|deps\/cjs-module-lexer)/;
/** Milliseconds of samples under a module loader, and of the whole profile. */
function loading(file: string): { load: number; all: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const parent = new Map<number, number>();
  const url = new Map<number, string>();
  for (const n of p.nodes) {
    url.set(n.id, n.callFrame.url);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  let load = 0;
  let all = 0;
  p.samples.forEach((s, i) => {
    const d = p.timeDeltas[i]! / 1000;
    all += d;
    for (let id: number | undefined = s; id !== undefined; id = parent.get(id))
      if (LOADER.test(url.get(id)!)) {
        load += d;
        break;
      }
  });
  return { load, all };
}

const lab = await Lab.start();
try {
  lab.writeConfig();
  await lab.host('primary').startGateway();
  const env = { ...process.env, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: join(lab.dir, 'hactl.yaml') };
  const seen: Record<string, { load: number[]; all: number[] }> = {};
  const cases = Object.fromEntries(
    Object.entries(builds).map(([name, root]) => {
      seen[name] = { load: [], all: [] };
      return [
        name,
        () => {
          const dir = mkdtempSync(join(tmpdir(), 'hactl-prof-'));
          run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, join(root, 'bin/hactl'), 'check'], {
            env,
            cwd: lab.dir,
          });
          const r = loading(join(dir, readdirSync(dir)[0]!));
          seen[name]!.load.push(r.load);
          seen[name]!.all.push(r.all);
          rmSync(dir, { recursive: true, force: true });
        },
      ];
    }),
  );
  const wall = interleave(cases, RUNS, 1);
  console.log(`healthy two-host check, ${RUNS} runs each, interleaved; node ${process.version}`);
  console.log('| build | module loading (in node) | profiled run (in node) | wall, profiled |');
  console.log('|---|---|---|---|');
  for (const name of Object.keys(builds)) {
    const s = seen[name]!;
    const m = (xs: number[]) => `${stats(xs.slice(-RUNS)).median.toFixed(0)} ms`;
    console.log(`| ${name} | ${m(s.load)} | ${m(s.all)} | ${wall[name]!.median.toFixed(0)} ms |`);
  }
} finally {
  await lab.stop();
}
