// sync-memory --watch, the loop (the rules are in watch.ts): scan the serving host's memory every
// memory.watchEvery inside the cron cadence, run a whole sync-memory (its own lock, record, history
// line and alert) only on a run's first cycle or when the fingerprint moved.
import { UsageError } from '../errors.js';
import { Reporter, TickReporter } from '../output.js';
import { loadState, runCommand, type RunContext } from '../context.js';
import { sleep, systemClock, type Clock } from '../adapters/clock.js';
import { parseDuration } from '../config/durations.js';
import type { Config, Role } from '../config/types.js';
import type { RemoteSession } from '../adapters/ssh.js';
import { EXIT } from '../errors.js';
import { nextProbeAt } from '../failover/watch-plan.js';
import { syncBody, type SyncMemoryOptions } from '../commands/sync-memory.js';
import { scanKey } from './unchanged.js';
import type { SyncResultKind } from './fold.js';
import {
  cronCadence,
  foldCycles,
  needsSync,
  scan,
  settled,
  watchWindow,
  type CycleRecord,
  type Seen,
} from './watch.js';

/** --every / --window: a duration ("10s", "1m"), a bare number is seconds; seconds. */
function seconds(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  if (ms === undefined || !(ms >= 0) || ms > 86_400_000)
    throw new UsageError(`--${name} ${text}: not a duration of at most 1d (e.g. 10s, 1m)`);
  return ms / 1000;
}

export async function watchMemory(opts: SyncMemoryOptions, clock: Clock = systemClock()): Promise<number> {
  const cli = { every: seconds('every', opts.every), window: seconds('window', opts.window) };
  if (cli.every === 0) throw new UsageError('--every 0: the time between scans must be more than 0');
  const out = new Reporter(opts);
  const config: Config = await (await import('../config/load.js')).loadConfig(opts.config);
  const every = cli.every ?? config.memory.watchEvery;
  // memory.watchEvery: 0 turns the watch off: one plain sync-memory run.
  if (!config.memory.enabled || !(every > 0)) return runCommand('sync-memory', opts, 'memory', syncBody(opts));
  const windowSec = cli.window ?? watchWindow(cronCadence(config.memory.interval), every);
  const w = { intervalMs: every * 1000, windowMs: windowSec * 1000 };
  const { openProbeSession } = await import('../failover/observe.js');
  const cycles: CycleRecord[] = [];
  let seen: Seen | undefined;
  let lastKind: SyncResultKind | undefined;
  let session: { role: Role; s: RemoteSession } | undefined;
  const drop = async () => {
    await session?.s.close().catch(() => undefined);
    session = undefined;
  };
  const t0 = clock.ms();
  try {
    for (let n = 1; ; n++) {
      const at = clock.ms();
      const tag = `cycle ${n} at +${Math.round((at - t0) / 1000)} s: `;
      const rec: CycleRecord = { atMs: Math.round(at - t0), synced: false, exitCode: EXIT.OK, summary: '' };
      // The source: the side that serves as recorded (read only; the sync reads it again under its lock).
      const role = (await loadState(config, clock.now(), true)).serving;
      let print: string | undefined;
      try {
        if (session && session.role !== role) await drop();
        session ??= { role, s: await openProbeSession(config, config.hosts[config.pair[role]]!) };
        const r = await scan(session.s, config);
        print = r.print;
        if (r.problem) {
          rec.scan = r.problem;
          await drop(); // the next scan opens afresh (a master set aside, a dead link)
        }
      } catch (e) {
        rec.scan = (e as Error).message;
        await drop();
      }
      if (needsSync(n === 1, seen, role, print, lastKind)) {
        let kind: SyncResultKind | undefined;
        let from: Role = role;
        // The scan just taken is the sync's own: the first cycle of the minute ends there when the tree
        // is as the last good run found it (memory/gate.ts unchangedSince).
        // Keyed as this loop's config sees the source: a run that reads another config scans afresh.
        const key = scanKey(config, role === 'standby' ? 'pull-standby' : 'push');
        const scanned = print === undefined ? undefined : { role, key, print };
        const once = syncBody(
          opts,
          (k, r) => {
            kind = k;
            from = r;
          },
          () => Promise.resolve(scanned),
        );
        const body = async (ctx: RunContext) => {
          const r = await once(ctx);
          rec.summary = r.summary;
          return r;
        };
        try {
          rec.exitCode = await runCommand('sync-memory', opts, 'memory', body, clock, new TickReporter(opts, tag));
          rec.synced = true;
        } catch (e) {
          // Another run holds the memory lock (failover, failback, an overlapping minute): quiet, next cycle.
          if ((e as { exitCode?: number }).exitCode !== EXIT.LOCKED) throw e;
          Object.assign(rec, { busy: true, exitCode: EXIT.LOCKED, summary: (e as Error).message });
          out.progress(`${tag}turned away: ${(e as Error).message}`);
        }
        if (!rec.busy) {
          seen = settled(kind, from, from === role ? print : undefined);
          lastKind = kind;
        }
      } else {
        rec.summary = rec.scan ? `still failing, not retried: ${rec.scan}` : 'no change';
        out.progress(
          `${tag}${rec.scan ? `scan failed (${rec.scan}); the last copy failed too` : `no change on the ${role}`}`,
        );
      }
      cycles.push(rec);
      const next = nextProbeAt(w, t0, at, clock.ms());
      if (next === null) break;
      await sleep(Math.max(0, next - clock.ms()));
    }
  } finally {
    await drop();
  }
  const v = foldCycles(cycles, clock.ms() - t0);
  out.summary(v.summary, {
    command: 'sync-memory',
    watch: true,
    exitCode: v.exitCode,
    summary: v.summary,
    cycles,
  });
  return v.exitCode;
}
