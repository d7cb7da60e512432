// What the commands without SSH cost, as CPU time (task-clock: user + system of every thread, from
// `perf stat`), side by side with `node -e 0` and with another build of hactl (issue 25: status, history,
// pause, resume, cron <= 1.3x node -e 0). CPU time, not wall: the machine this runs on is shared, and
// wall-clock figures there say more about the neighbours than about hactl. Cases run interleaved
// (A B C ... then reversed), medians reported with the ratio to `node -e 0`.
//   node --import tsx bench/startup-cpu.mts [runs] [other-package-root]
// Without perf (or without permission for it) it falls back to wall time, and says so.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stats, time } from './lib/measure.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 15);
const builds: Record<string, string> = { 'this build': ROOT };
if (process.argv[3]) builds['other build'] = process.argv[3];

const dir = mkdtempSync(join(tmpdir(), 'hactl-bench-cpu-'));
/** Each build has a config and a state directory of its own: one build's runs never change what the other reads. */
function configFor(name: string): string {
  const file = join(dir, `hactl-${name.replace(/\W/g, '-')}.yaml`);
  writeFileSync(
    file,
    [
      `stateDir: ${dir}/state-${name.replace(/\W/g, '-')}`,
      'pair: {primary: a, standby: b}',
      'hosts:',
      '  a: {address: 127.0.0.1, user: x, key: /nonexistent, knownHosts: /nonexistent}',
      '  b: {address: 127.0.0.2, user: x, key: /nonexistent, knownHosts: /nonexistent}',
    ].join('\n') + '\n',
  );
  return file;
}
// Each build keeps its parsed config in a cache of its own (src/config/cache.ts), as a deployed one would.
const env = (name: string) => ({
  ...process.env,
  HACTL_CONFIG: configFor(name),
  XDG_CACHE_HOME: join(dir, `cache-${name.replace(/\W/g, '-')}`),
});
/**
 * With no alert channel in this config, each pause and resume leaves its alert in the outbox, which would grow
 * with every run (up to 500 alerts), and each run reads and writes all of it: the bench empties it before each
 * run, as a deployment whose channels deliver has it.
 */
const emptyOutbox = (name: string) =>
  rmSync(join(dir, `state-${name.replace(/\W/g, '-')}`, 'outbox.json'), { force: true });

const perf = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', 'true'], { encoding: 'utf8' });
const usePerf = perf.status === 0 && /task-clock/.test(perf.stderr);

/** The page faults of the last perf run (a count: the same from run to run, whatever the machine's load). */
const faults: Record<string, number[]> = {};

/**
 * Milliseconds of CPU (or of wall, without perf) one run of argv takes; throws on an exit code not in ok.
 * stdout and stderr are pipes, as under cron (which mails what a run prints).
 */
function measure(argv: string[], e: NodeJS.ProcessEnv, ok = [0, 1, 3], name = ''): number {
  if (!usePerf) {
    let status: number | null = 0;
    const ms = time(() => (status = spawnSync(argv[0]!, argv.slice(1), { env: e, stdio: 'pipe' }).status));
    if (!ok.includes(status!)) throw new Error(`${argv.join(' ')}: exit ${status}`);
    return ms;
  }
  const out = join(dir, 'perf.txt');
  const r = spawnSync('perf', ['stat', '-x,', '-o', out, '-e', 'task-clock,page-faults', '--', ...argv], {
    env: e,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!ok.includes(r.status!)) throw new Error(`${argv.join(' ')}: exit ${r.status}`);
  const lines = readFileSync(out, 'utf8').split('\n');
  const value = (what: string) => Number(lines.find((l) => l.includes(what))!.split(',')[0]);
  (faults[name] ??= []).push(value('page-faults'));
  return value('task-clock');
}

const node = process.execPath;
const cases: Record<string, () => number> = {
  'node -e 0': () => measure([node, '-e', '0'], process.env, [0], 'node -e 0'),
};
const commands: string[][] = [
  ['status'],
  ['history'],
  ['pause', '--for', '1h', '--reason', 'bench'],
  ['resume'],
  ['cron'],
];
for (const [name, root] of Object.entries(builds))
  for (const c of commands) {
    const k = `${name}: ${c[0]}`;
    const e = env(name);
    cases[k] = () => {
      emptyOutbox(name);
      return measure([node, join(root, 'bin/hactl'), ...c], e, [0, 1, 3], k);
    };
  }
// `cron` reads the installed crontab for hactl's block. The case above runs with this machine's PATH: with no
// crontab program nothing is forked, and with Debian's cron (as root) this build reads cron's spool file. The
// next case puts another crontab program first on PATH (/bin/true, an empty crontab, a small C program like
// a real one): `crontab -l` is forked and exec'd, as for a user other than root, or another cron.
const withCron = join(dir, 'bin');
mkdirSync(withCron);
symlinkSync('/bin/true', join(withCron, 'crontab'));
const crontabProgram = spawnSync('sh', ['-c', 'command -v crontab'], { encoding: 'utf8' }).stdout.trim();
for (const [name, root] of Object.entries(builds)) {
  const k = `${name}: cron, crontab -l forked`;
  const e = { ...env(name), PATH: `${withCron}:${process.env.PATH}` };
  cases[k] = () => measure([node, join(root, 'bin/hactl'), 'cron'], e, [0], k);
}

const seen: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const names = Object.keys(cases);
const load0 = loadavg();
for (let i = 0; i < runs + 2; i++) {
  for (const n of i % 2 ? [...names].reverse() : names) {
    const ms = cases[n]!();
    if (i >= 2) seen[n]!.push(ms); // two warm-up rounds (page cache, the config cache filled)
  }
}
const load1 = loadavg();
const base = stats(seen['node -e 0']!);
const baseFaults = usePerf ? stats(faults['node -e 0']!.slice(2)).median : NaN;
const what = usePerf ? 'CPU ms (perf task-clock)' : 'wall ms (no perf here)';
console.log(`${runs} runs each, interleaved; node ${process.version}; ${what}; stdout and stderr are pipes`);
console.log(`cron: this machine's crontab program: ${crontabProgram || 'none on PATH'}`);
console.log(`load average (1 min) ${load0[0]!.toFixed(1)} at the start, ${load1[0]!.toFixed(1)} at the end`);
// The minimum is the run the neighbours disturbed least (noise only adds); page faults do not vary with load.
console.log(`| case | median | range | / node -e 0 (median) | / node -e 0 (min) | page faults | / node -e 0 |`);
console.log('|---|---|---|---|---|---|---|');
for (const n of names) {
  const s = stats(seen[n]!);
  const f = usePerf ? stats(faults[n]!.slice(2)).median : NaN;
  console.log(
    `| ${n} | ${s.median.toFixed(0)} | ${s.min.toFixed(0)}-${s.max.toFixed(0)} ` +
      `| ${(s.median / base.median).toFixed(2)}x ` +
      `| ${(s.min / base.min).toFixed(2)}x | ${f} | ${(f / baseFaults).toFixed(2)}x |`,
  );
}
rmSync(dir, { recursive: true, force: true });
