// hactl guard [--host NAME] [--watch]: run on each gateway host from its own cron (every minute) or
// a systemd timer. Keeps the local gateway only while this host holds a live serving permit
// (src/fencing/rule.ts); without one, stops it and says why (exit 2). With --watch the cron line's
// run repeats every guard.interval until its minute is over, so that "permit expired -> gateway
// stopped" is bounded by guard.interval plus one run, not by the cron minute (docs/partitions.md).
import type { Command } from 'commander';
import { runCommand, type GlobalOptions, type RunContext, type RunRecord } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { Reporter, TickReporter } from '../output.js';
import { sleep, systemClock } from '../adapters/clock.js';
import { parseDuration } from '../config/durations.js';

interface GuardOptions extends GlobalOptions {
  host?: string;
  watch?: boolean;
  window?: string;
}

const body = (host: string | undefined) => async (ctx: RunContext) =>
  (await import('../guard/index.js')).guardHost(ctx, host);

/** The watch's cadence: one run every guard.interval, starting while less than `window` has passed. */
export function guardTicks(interval: number, window: number | undefined): { everyMs: number; windowMs: number } {
  const everyMs = Math.max(1, interval) * 1000;
  return { everyMs, windowMs: window ?? Math.max(0, 60_000 - everyMs) };
}

async function watchGuard(opts: GuardOptions): Promise<number> {
  const clock = systemClock();
  let windowMs: number | undefined;
  if (opts.window !== undefined) {
    windowMs = /^\d+(\.\d+)?$/.test(opts.window) ? Number(opts.window) * 1000 : parseDuration(opts.window);
    if (windowMs === undefined || !(windowMs >= 0) || windowMs > 3_600_000)
      throw new UsageError(`--window ${opts.window}: not a duration of at most 1h (e.g. 50s)`);
  }
  const t0 = clock.ms();
  const runs: Array<{ code: number; summary: string }> = [];
  let ticks: { everyMs: number; windowMs: number } | undefined;
  for (let n = 1; ; n++) {
    const at = clock.ms();
    const tag = `run ${n} at +${Math.round((at - t0) / 1000)} s: `;
    let rec: RunRecord | undefined;
    const run = async (ctx: RunContext) => {
      ticks ??= guardTicks(ctx.config.guard?.interval ?? 60, windowMs);
      rec = await body(opts.host)(ctx);
      return rec;
    };
    try {
      await runCommand('guard', opts, 'guard', run, clock, new TickReporter(opts, tag));
      runs.push({ code: rec!.exitCode, summary: rec!.summary });
    } catch (e) {
      // Another guard run holds the lock (the previous minute's watch): it guards; go on.
      if ((e as { exitCode?: number }).exitCode !== EXIT.LOCKED) throw e;
      runs.push({ code: EXIT.LOCKED, summary: (e as Error).message });
      ticks ??= guardTicks(
        (await (await import('../config/load.js')).loadConfig(opts.config)).guard?.interval ?? 60,
        windowMs,
      );
    }
    const next = at + ticks!.everyMs;
    if (next - t0 > ticks!.windowMs) break;
    await sleep(Math.max(0, next - clock.ms()));
  }
  const done = runs.filter((r) => r.code !== EXIT.LOCKED);
  const worst = done.length ? Math.max(...done.map((r) => r.code)) : EXIT.LOCKED;
  const last = done.at(-1)?.summary ?? runs.at(-1)!.summary;
  const secs = Math.round((clock.ms() - t0) / 1000);
  const summary = `guard --watch: ${runs.length} run(s) in ${secs} s; last ${last}`;
  new Reporter(opts).summary(summary, { command: 'guard', watch: true, exitCode: worst, summary, runs });
  return worst;
}

export default function guard(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GuardOptions;
  if (opts.watch && !opts.dryRun) return watchGuard(opts);
  return runCommand('guard', opts, 'guard', body(opts.host));
}
