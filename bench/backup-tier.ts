// Issue 4 / issue 12 #7: a no-change snapshot of 10,000 files (~200 MB)
// against the raw `rsync --link-dest` command doing the same copy.
// Witness-local source to a remote destination (rsync runs on the witness),
// on the lab's real sshd. Then where hactl's own time goes: a few more runs
// with a logging stand-in rsync on PATH split each run into before the copy,
// the copy, and after it (those runs are not in the ratio).
// Run: bash scripts/bench backup-tier
// A/B: BENCH_COMPARE_ROOT=/path/to/another/built/checkout adds that build's
// hactl to the same alternating runs, under the same load.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TOKEN } from '../test/lab/lab.ts';
import { startBackupLab } from './lib/backup-lab.ts';
import { sshArgv } from '../src/adapters/rsync.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const { lab, src, bytes } = await startBackupLab();
try {
  const env = { ...process.env, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: join(lab.dir, 'hactl.yaml') };
  let clock = Date.parse('2026-11-22T00:00:00Z');
  const hactl = (extra: Record<string, string> = {}, root = ROOT) => {
    clock += 3600e3;
    const t = process.hrtime.bigint();
    const now = new Date(clock).toISOString();
    const r = spawnSync(process.execPath, [join(root, 'bin/hactl'), 'backup-tier', 'bench'], {
      env: { ...env, HACTL_NOW: now, ...extra },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stdout + r.stderr);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  hactl(); // the first, full snapshot
  const pcb = lab.host('pcb');
  const host = { ...lab.config().hosts.pcb, name: 'pcb' };
  const raw = () => {
    const dir = join(pcb.home, 'bench');
    const prev = readdirSync(dir)
      .filter((e) => /^\d{4}-/.test(e))
      .sort()
      .at(-1)!;
    const name = `raw-${Date.now()}`;
    const t = process.hrtime.bigint();
    const r = spawnSync('rsync', [
      '-a',
      '--delete',
      '--stats',
      `--link-dest=../${prev}`,
      '--protect-args',
      `--rsh=${sshArgv(host, 10).join(' ')}`,
      '--rsync-path=cd "$HOME" && rsync',
      '--',
      `${src}/`,
      `${pcb.address}:bench/${name}/`,
    ]);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(String(r.stderr));
    execFileSync('rm', ['-rf', join(dir, name)]);
    return ms;
  };
  const h: number[] = [];
  const w: number[] = [];
  const other = process.env.BENCH_COMPARE_ROOT;
  const o: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    w.push(raw());
    h.push(hactl());
    if (other) o.push(hactl({}, other));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // The phases: a stand-in rsync that logs when the real one starts and ends (wall clock, ns).
  const real = execFileSync('sh', ['-c', 'command -v rsync'], { encoding: 'utf8' }).trim();
  const bin = join(lab.dir, 'phase-bin');
  const log = join(lab.dir, 'phase.log');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'rsync'),
    `#!/bin/sh\ns=$(date +%s%N)\n'${real}' "$@"\nrc=$?\necho "$s $(date +%s%N)" > '${log}'\nexit $rc\n`,
    { mode: 0o755 },
  );
  const before: number[] = [];
  const copy: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rmSync(log, { force: true });
    const t0 = Date.now();
    const total = hactl({ PATH: `${bin}:${process.env.PATH}` });
    const [s0, s1] = readFileSync(log, 'utf8')
      .trim()
      .split(' ')
      .map((x) => Number(BigInt(x) / 1000000n));
    before.push(s0! - t0);
    copy.push(s1! - s0!);
    after.push(total - (s1! - t0));
  }
  const span = (a: number[]) => `${Math.min(...a).toFixed(0)}-${Math.max(...a).toFixed(0)}`;
  const lines = [
    `Tree: 10,000 files, ${(bytes / 1e6).toFixed(0)} MB, witness-local source, ` +
      `destination on the lab host pcb over SSH. ${RUNS} alternating runs, median (min-max):`,
    '',
    '| case | median | min-max |',
    '|---|---|---|',
    '| raw `rsync -a --delete --stats --link-dest=../PREV` into a new folder | ' +
      `${med(w).toFixed(0)} ms | ${span(w)} ms |`,
    `| \`hactl backup-tier\`, no change | ${med(h).toFixed(0)} ms | ${span(h)} ms |`,
    ...(other ? [`| the same, build at ${other} | ${med(o).toFixed(0)} ms | ${span(o)} ms |`] : []),
    '',
    `ratio: **${(med(h) / med(w)).toFixed(2)}x** (target: at most 1.2x)` +
      `${other ? `; the other build: ${(med(o) / med(w)).toFixed(2)}x` : ''}.`,
    '',
    `Where hactl's time goes (${RUNS} more runs, medians): ` +
      `${med(before).toFixed(0)} ms before the copy (Node, config, lock, ` +
      `source guard), ${med(copy).toFixed(0)} ms the copy (rsync with the destination's guards in its connection), ` +
      `${med(after).toFixed(0)} ms after it (count, commit, record, exit).`,
  ];
  console.log(lines.join('\n'));
} finally {
  await lab.stop();
}
