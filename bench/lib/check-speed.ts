// Section 4 of bench/speed.mts: a healthy two-host `hactl check`, warm and cold, interleaved (each case's
// setup runs before it, untimed). Warm: right after a sync-memory, as under the default crontab, with a
// master per host (sync's rsync leaves the primary's; a check that found none leaves its own, which a
// no-change sync never refreshes for the standby). Cold: no master at all (each ended with `ssh -O exit`,
// after the one the previous cold check left in the background came up).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Lab } from '../../test/lab/lab.ts';
import { masterPid, sockets } from '../../test/lab/masters.ts';
import { stats, time, type Series } from './measure.ts';

/** Waits (bounded: 5 s) until both hosts' masters answer. */
function bothMasters(lab: Lab): void {
  for (let i = 0; i < 50 && sockets(lab).map(masterPid).filter(Boolean).length < 2; i++) spawnSync('sleep', ['0.1']);
}

function endMasters(lab: Lab): void {
  for (const s of sockets(lab)) {
    spawnSync('ssh', ['-F', 'none', '-o', `ControlPath=${s}`, '-O', 'exit', 'x'], { timeout: 5000 });
    rmSync(s, { force: true });
  }
}

export function checkWarmCold(lab: Lab, hactl: (...a: string[]) => void, runs: number): Record<string, Series> {
  const cases: Record<string, [() => void, () => void]> = {
    warm: [
      () => {
        hactl('sync-memory');
        bothMasters(lab);
      },
      () => hactl('check'),
    ],
    cold: [
      () => {
        bothMasters(lab);
        endMasters(lab);
      },
      () => hactl('check'),
    ],
  };
  const out: Record<string, number[]> = { warm: [], cold: [] };
  const names = Object.keys(cases);
  for (let i = 0; i < runs + 2; i++) {
    for (const n of i % 2 ? [...names].reverse() : names) {
      const [setup, fn] = cases[n]!;
      setup();
      const ms = time(fn);
      if (i >= 2) out[n]!.push(ms);
    }
  }
  return { warm: stats(out.warm!), cold: stats(out.cold!) };
}
