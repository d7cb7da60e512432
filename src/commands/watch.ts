// hactl check --watch: the cron line's check keeps probing inside its window (issue 12).
// Each probe is a whole `check` run (lock taken and released, state and history written);
// between probes nothing is held. A probe whose recorded state failover --auto would act on
// hands over to a whole `failover --auto` run, which takes the lock and decides again from
// the state it reads then: two watchers, or a watcher and cron's own failover --auto, cannot
// both act (the lock serializes them; the first one's record makes the second one's decision).
import type { Command } from 'commander';
import { machineStamp } from '../guard/local.js';
import { EXIT, UsageError } from '../errors.js';
import { Reporter, redact, sink } from '../output.js';
import { loadState, runCommand, type GlobalOptions, type RunContext, type RunRecord } from '../context.js';
import { sleep, systemClock, type Clock } from '../adapters/clock.js';
import { parseDuration } from '../config/durations.js';
import type { Config } from '../config/types.js';
import { checkPair, movePair } from '../failover/index.js';
import { requester } from '../failover/requester.js';
import { foldWatch, handOver, nextProbeAt, type ProbeRecord, type WatchWindow } from '../failover/watch-plan.js';

export interface WatchOptions extends GlobalOptions {
  interval?: string;
  window?: string;
}

/** A probe's reporter: its summary is one progress line in a terminal; nothing under cron or --json. */
class ProbeReporter extends Reporter {
  constructor(
    opts: GlobalOptions,
    private readonly tag: string,
    private readonly details: boolean,
  ) {
    super(opts);
  }
  override summary(line: string): void {
    if (this.interactive) sink(2).write(redact(`… ${this.tag}${line}`) + '\n');
  }
  override detail(msg: string): void {
    if (this.details) super.detail(msg);
  }
  override progress(msg: string): void {
    if (this.details) super.progress(msg);
  }
}

/** --interval / --window: a duration ("30s", "1m40s"), a bare number is seconds; milliseconds. */
function durationOpt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  if (ms === undefined || !(ms >= 0) || ms > 86_400_000)
    throw new UsageError(`--${name} ${text}: not a duration of at most 1d (e.g. 30s, 1m40s)`);
  return ms;
}

const lockedOut = (e: unknown): boolean => (e as { exitCode?: number }).exitCode === EXIT.LOCKED;

/** Probes every interval until the window is over; hands a confirmed failure to failover --auto at once. */
export async function watchPair(opts: WatchOptions, clock: Clock = systemClock()): Promise<number> {
  const cli = { intervalMs: durationOpt('interval', opts.interval), windowMs: durationOpt('window', opts.window) };
  if (cli.intervalMs === 0) throw new UsageError('--interval 0: the time between probes must be more than 0');
  const out = new Reporter(opts);
  const auto = { ...opts, auto: true };
  const probes: ProbeRecord[] = [];
  const t0 = clock.ms();
  let w: WatchWindow | undefined;
  for (let n = 1; ; n++) {
    const at = clock.ms();
    const tag = `probe ${n} at +${Math.round((at - t0) / 1000)} s: `;
    const rec: ProbeRecord = { atMs: Math.round(at - t0), exitCode: EXIT.OK, summary: '' };
    let config: Config | undefined;
    let go = { go: false, reason: '' };
    const probe = async (ctx: RunContext): Promise<RunRecord> => {
      config = ctx.config;
      const r = await checkPair(ctx);
      Object.assign(rec, { exitCode: r.exitCode, summary: r.summary });
      // What failover --auto would make of the state just recorded (read, never rebuilt, here).
      const state = await loadState(ctx.config, ctx.clock.now(), true);
      const pause = await (await import('../operator/pause-file.js')).readPause(ctx.config);
      go = handOver(ctx.config, state, requester(auto), ctx.clock.now(), pause, machineStamp());
      return r;
    };
    try {
      await runCommand('check', opts, 'cluster', probe, clock, new ProbeReporter(opts, tag, false));
    } catch (e) {
      if (!lockedOut(e)) throw e;
      Object.assign(rec, { busy: true, exitCode: EXIT.LOCKED, summary: (e as Error).message });
      out.progress(`${tag}turned away: ${(e as Error).message}`);
    }
    if (go.go) {
      out.progress(`${tag}handing over to failover --auto: ${go.reason}`);
      const act = async (ctx: RunContext): Promise<RunRecord> => {
        const r = await movePair(ctx, 'failover', requester(auto));
        rec.handover = { exitCode: r.exitCode, summary: r.summary };
        return r;
      };
      try {
        await runCommand('failover', auto, 'cluster', act, clock, new ProbeReporter(auto, tag, true));
      } catch (e) {
        // Another run holds the lock: it acts or decides not to; the next probe sees which.
        if (!lockedOut(e)) throw e;
        out.progress(`${tag}failover --auto turned away: ${(e as Error).message}`);
      }
    }
    probes.push(rec);
    if (!w) {
      config ??= await (await import('../config/load.js')).loadConfig(opts.config);
      const t = config.thresholds;
      w = { intervalMs: cli.intervalMs ?? t.watchInterval * 1000, windowMs: cli.windowMs ?? t.watchWindow * 1000 };
    }
    const next = nextProbeAt(w, t0, at, clock.ms());
    if (next === null) break;
    await sleep(Math.max(0, next - clock.ms()));
  }
  const elapsedMs = clock.ms() - t0;
  const v = foldWatch(probes, elapsedMs);
  out.summary(v.summary, { command: 'check', watch: true, exitCode: v.exitCode, summary: v.summary, probes });
  return v.exitCode;
}

export default function watch(_p: Command, cmd: Command): Promise<number> {
  return watchPair(cmd.optsWithGlobals() as WatchOptions);
}
