// Side-by-side timing for the benchmarks: candidate and reference run interleaved
// (A B A B ...), so a load spike from other work on the machine hits both alike;
// medians and their ratio are reported. Timings live here, never in tests.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';

export interface Series {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function stats(xs: number[]): Series {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median: mid, min: s[0]!, max: s.at(-1)!, runs: xs };
}

/** Milliseconds one synchronous call takes. */
export function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** Runs a command, throws when it exits other than `ok` (default 0). */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}, ok = [0]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status === null || !ok.includes(r.status))
    throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${String(r.stdout)}${String(r.stderr)}`);
}

/** Interleaves the cases, `warm` unrecorded rounds first; returns a Series per case. */
export function interleave(cases: Record<string, () => void>, runs: number, warm = 2): Record<string, Series> {
  const names = Object.keys(cases);
  const out: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < warm + runs; i++) {
    // Alternate which case goes first, so neither always follows the other.
    const order = i % 2 ? [...names].reverse() : names;
    for (const n of order) {
      const ms = time(cases[n]!);
      if (i >= warm) out[n]!.push(ms);
    }
  }
  return Object.fromEntries(names.map((n) => [n, stats(out[n]!)]));
}

export const ms = (x: number) => `${x.toFixed(0)} ms`;
export const ratio = (a: Series, b: Series) => a.median / b.median;
export const row = (name: string, s: Series) => `| ${name} | ${ms(s.median)} | ${ms(s.min)}-${ms(s.max)} |`;

/**
 * Interleaves cases that each return [CPU ms, wall ms], `warm` unrecorded rounds first (alternating
 * which goes first); returns every recorded run per case.
 */
export function interleavePairs(
  cases: Record<string, () => [number, number]>,
  runs: number,
  warm = 2,
): { cpu: Record<string, number[]>; wall: Record<string, number[]> } {
  const names = Object.keys(cases);
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const wall: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < runs + warm; i++)
    for (const n of i % 2 ? [...names].reverse() : names) {
      const [c, w] = cases[n]!();
      if (i < warm) continue;
      cpu[n]!.push(c);
      wall[n]!.push(w);
    }
  return { cpu, wall };
}
