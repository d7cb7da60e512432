// A healthy two-host `hactl check` through warm masters, as CPU time on the witness (perf task-clock of
// hactl and every process it starts: the ssh clients included; the hosts' sshd and scripts are not its
// children and are not counted), side by side with `node -e 0` and with another build (issue 25: healthy
// check <= 2.5x node -e 0). The lab's default config with resources on (the health read of every host).
// Wall time is printed too, for what it is worth on a shared machine.
//   node --import tsx bench/check-cpu.mts [runs] [other-package-root]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Lab, ROOT, TOKEN } from '../test/lab/lab.ts';
import { masterPid, sockets } from '../test/lab/masters.ts';
import { interleavePairs, stats, time } from './lib/measure.ts';

const runs = Number(process.argv[2] ?? 9);
const builds: Record<string, string> = { 'this build': ROOT };
if (process.argv[3]) builds['other build'] = process.argv[3];

const lab = await Lab.start();
try {
  lab.writeConfig({ resources: { enabled: true } });
  await lab.host('primary').startGateway();
  const env = { ...process.env, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: join(lab.dir, 'hactl.yaml') };
  const out = join(lab.dir, 'perf.txt');
  /** [CPU ms, wall ms] of one run; a check must exit 0 or 1 (a load warning on this machine is not a failure). */
  const measure = (argv: string[], ok = [0, 1], cache = 'node'): [number, number] => {
    let status: number | null = null;
    const wall = time(() => {
      status = spawnSync('perf', ['stat', '-x,', '-o', out, '-e', 'task-clock', '--', ...argv], {
        // Each build keeps its config and code caches apart, as a deployed one would: one directory
        // shared by two builds would have each parse the config again every run (the key has the build).
        env: { ...env, XDG_CACHE_HOME: join(lab.dir, `cache-${cache}`) },
        cwd: lab.dir,
        stdio: 'ignore',
      }).status;
    });
    if (!ok.includes(status!)) throw new Error(`${argv.join(' ')}: exit ${status}`);
    const line = readFileSync(out, 'utf8')
      .split('\n')
      .find((l) => l.includes('task-clock'))!;
    return [Number(line.split(',')[0]), wall];
  };
  const cases: Record<string, () => [number, number]> = {
    'node -e 0': () => measure([process.execPath, '-e', '0'], [0]),
  };
  for (const [name, root] of Object.entries(builds))
    cases[`${name}: check`] = () => measure([process.execPath, join(root, 'bin/hactl'), 'check'], [0, 1], name);
  // The first check leaves a master per host in the background (src/adapters/ssh-mux.ts leaveMaster).
  cases['this build: check']!();
  for (let i = 0; i < 50 && sockets(lab).map(masterPid).filter(Boolean).length < 2; i++) spawnSync('sleep', ['0.1']);
  const load0 = loadavg()[0]!;
  const names = Object.keys(cases);
  const { cpu, wall } = interleavePairs(cases, runs);
  const load1 = loadavg()[0]!;
  const base = stats(cpu['node -e 0']!).median;
  const wbase = stats(wall['node -e 0']!).median;
  console.log(`healthy two-host check through warm masters, resources on; ${runs} runs each, interleaved`);
  console.log(
    `node ${process.version}; load average (1 min) ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end`,
  );
  console.log('| case | CPU ms (median) | / node -e 0 | wall ms (median) | / node -e 0 |');
  console.log('|---|---|---|---|---|');
  for (const n of names) {
    const c = stats(cpu[n]!).median;
    const w = stats(wall[n]!).median;
    console.log(
      `| ${n} | ${c.toFixed(0)} | ${(c / base).toFixed(2)}x | ${w.toFixed(0)} | ${(w / wbase).toFixed(2)}x |`,
    );
  }
} finally {
  await lab.stop();
}
