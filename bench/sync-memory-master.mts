// Issue 25: a no-change `hactl sync-memory` of 10,000 files against the same rsync pull run raw through
// the same warm master (hactl's own ControlMaster socket for the primary, left by the sync before), side by
// side in one run (interleaved A B, then B A), with `node -e 0` for scale. Goal: <= 1.5x the raw rsync.
// Wall time (what the RPO waits for) and CPU time (perf task-clock of the process and its children: rsync
// and ssh; not the master, which neither started, nor the host's side) are both reported.
//   node --import tsx bench/sync-memory-master.mts [runs] [other-package-root]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Lab, ROOT, TOKEN } from '../test/lab/lab.ts';
import { rshValue, sshArgv } from '../src/adapters/rsync.ts';
import { CONTROL_PERSIST, controlPathFor } from '../src/adapters/ssh-master.ts';
import { interleavePairs, stats, time } from './lib/measure.ts';
import { fillMemory, rawPullArgv } from './lib/memory-lab.ts';

const runs = Number(process.argv[2] ?? 11);
const builds: Record<string, string> = { 'this build': ROOT };
if (process.argv[3]) builds['other build'] = process.argv[3];
const perf = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', 'true'], { encoding: 'utf8' });
const usePerf = perf.status === 0 && /task-clock/.test(perf.stderr);

const lab = await Lab.start();
try {
  lab.writeConfig();
  const P = lab.host('primary');
  const root = join(P.home, '.openclaw');
  fillMemory(root);
  const env = { ...process.env, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: join(lab.dir, 'hactl.yaml') };
  const out = join(lab.dir, 'perf.txt');
  /** [CPU ms, wall ms] of one run of argv (CPU: perf task-clock; without perf, wall twice). */
  let lastOut = '';
  const measure = (argv: string[], e: NodeJS.ProcessEnv = env): [number, number] => {
    let r: ReturnType<typeof spawnSync> | undefined;
    const full = usePerf ? ['perf', 'stat', '-x,', '-o', out, '-e', 'task-clock', '--', ...argv] : argv;
    const wall = time(() => (r = spawnSync(full[0]!, full.slice(1), { env: e, cwd: lab.dir, encoding: 'utf8' })));
    if (r!.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r!.status}: ${r!.stdout}${r!.stderr}`);
    lastOut = String(r!.stdout);
    if (!usePerf) return [wall, wall];
    const line = readFileSync(out, 'utf8')
      .split('\n')
      .find((l) => l.includes('task-clock'))!;
    return [Number(line.split(',')[0]), wall];
  };
  const hactl = (rootDir: string, name: string) => () =>
    measure([process.execPath, join(rootDir, 'bin/hactl'), 'sync-memory'], {
      ...env,
      XDG_CACHE_HOME: join(lab.dir, `cache-${name}`),
    });
  for (const [name, r] of Object.entries(builds)) hactl(r, name)(); // the first copy, and hactl's master
  const cfg = lab.config();
  const host = { ...cfg.hosts.primary, name: 'primary' };
  const controlPath = controlPathFor(join(lab.dir, 'state'), host as never);
  if (!controlPath) throw new Error('no control path for the primary');
  const rawDest = join(lab.dir, 'raw');
  mkdirSync(rawDest);
  const rawArgv = [
    'rsync',
    ...rawPullArgv(P.address, rawDest, rshValue(sshArgv(host as never, 10, { controlPath, persist: CONTROL_PERSIST }))),
  ];
  measure(rawArgv); // the raw copy's first (full) pull
  const cases: Record<string, () => [number, number]> = {
    'node -e 0': () => measure([process.execPath, '-e', '0']),
    'raw rsync through the warm master': () => measure(rawArgv),
  };
  // How many of hactl's measured runs ended at the change scan (issue 25), said beside the figures.
  const atScan: Record<string, number> = {};
  for (const [name, r] of Object.entries(builds))
    cases[`${name}: sync-memory, no change`] = () => {
      const m = hactl(r, name)();
      if (/\(its fingerprint\)/.test(lastOut)) atScan[name] = (atScan[name] ?? 0) + 1;
      return m;
    };
  const load0 = loadavg()[0]!;
  const names = Object.keys(cases);
  const { cpu, wall } = interleavePairs(cases, runs);
  const load1 = loadavg()[0]!;
  const ref = 'raw rsync through the warm master';
  const [cb, wb] = [stats(cpu[ref]!).median, stats(wall[ref]!).median];
  console.log(`no-change memory sync, 10,000 files, through hactl's warm master; ${runs} runs each, interleaved`);
  console.log(
    `node ${process.version}; load average (1 min) ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end`,
  );
  console.log(
    `| case | wall ms (median) | / raw rsync | ${usePerf ? 'CPU ms (median)' : 'CPU: no perf here'} | / raw rsync |`,
  );
  console.log('|---|---|---|---|---|');
  for (const n of names) {
    const [c, w] = [stats(cpu[n]!).median, stats(wall[n]!).median];
    console.log(`| ${n} | ${w.toFixed(0)} | ${(w / wb).toFixed(2)}x | ${c.toFixed(0)} | ${(c / cb).toFixed(2)}x |`);
  }

  for (const name of Object.keys(builds))
    console.log(`${name}: ${atScan[name] ?? 0} of its measured runs (warm-up included) ended at the change scan`);

  // sync-memory --watch (the default crontab line): one process, whose first cycle is a whole sync and every
  // later one a change scan only. A no-change tick's cost: (a watch of many cycles - a watch of one) / the
  // cycles between, with --every 1 ms so the cycles run back to back (wall per tick is then meaningful).
  const watchRuns = Math.max(3, Math.ceil(runs / 3));
  console.log(`\nsync-memory --watch, no change: per tick, ${watchRuns} pairs of runs each (medians)`);
  console.log('| case | CPU ms per tick | / raw rsync CPU | wall ms per tick | / raw rsync wall | ticks |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(builds)) {
    const watch = (window: string): [number, number, number] => {
      const [c, w] = measure(
        [
          process.execPath,
          join(r, 'bin/hactl'),
          '--json',
          'sync-memory',
          '--watch',
          '--every',
          '0.001',
          '--window',
          window,
        ],
        { ...env, XDG_CACHE_HOME: join(lab.dir, `cache-${name}`) },
      );
      return [c, w, (JSON.parse(lastOut) as { cycles: unknown[] }).cycles.length];
    };
    const perCpu: number[] = [];
    const perWall: number[] = [];
    let ticks = 0;
    for (let i = 0; i < watchRuns; i++) {
      const one = watch('0');
      const many = watch('3');
      ticks = many[2] - one[2];
      perCpu.push((many[0] - one[0]) / ticks);
      perWall.push((many[1] - one[1]) / ticks);
    }
    const [c, w] = [stats(perCpu).median, stats(perWall).median];
    console.log(
      `| ${name} | ${c.toFixed(1)} | ${(c / cb).toFixed(2)}x | ${w.toFixed(1)} | ${(w / wb).toFixed(2)}x | ${ticks} |`,
    );
  }
} finally {
  await lab.stop();
}
