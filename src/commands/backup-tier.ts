// hactl backup-tier NAME: one hop of the backup chain (src/backup/run.ts).
// hactl backup-tier --list [NAME]: the snapshots per tier, with age, size, files.
// Runs under a lock of its own per tier, so a long backup never blocks check or
// failover. The time comes from the one clock (HACTL_NOW for tests and replays),
// read once when the run starts: it names the snapshot and dates the record.
import type { Command } from 'commander';
import { runCommand, type GlobalOptions, type RunContext, type RunRecord } from '../context.js';
import { Reporter } from '../output.js';
import { EXIT, UsageError } from '../errors.js';
import { systemClock, type Clock } from '../adapters/clock.js';
import { findTier } from '../backup/tiers.js';
import { runTier } from '../backup/run.js';
import { crashed } from '../backup/plan.js';
import { recordRun } from '../backup/record.js';
import { listingLines, listSnapshots } from '../backup/list.js';
import type { Outcome, TierResult } from '../backup/types.js';

const EXIT_FOR: Record<TierResult, number> = {
  ok: EXIT.OK,
  warning: EXIT.WARNING,
  refused: EXIT.CRITICAL,
  failed: EXIT.CRITICAL,
};

/**
 * --list: the snapshots of each tier, then the summary line. The list is what a script reads, so it is
 * printed with or without a terminal (a read-only command: no lock, no history line). --json: the
 * summary line and every snapshot in data.tiers.
 */
async function list(opts: GlobalOptions, now: Date, only: string[]): Promise<number> {
  const out = new Reporter(opts);
  const { loadConfig } = await import('../config/load.js');
  const config = await loadConfig(opts.config);
  const names = only.length ? only : config.backup.tiers.map((tier) => tier.name);
  const tiers = await listSnapshots(config, names, now);
  const lines: string[] = [];
  for (const name of names) {
    const destination = config.backup.tiers.find((tier) => tier.name === name)!.destination;
    lines.push(...listingLines(name, destination, tiers[name]!));
  }
  const summary = `backup-tier --list: ${names
    .map((name) => {
      const snaps = tiers[name]!;
      const latest = snaps.length ? `, latest ${snaps.find((snap) => snap.latest)?.name ?? 'none'}` : '';
      return `${name}: ${snaps.length} snapshot(s)${latest}`;
    })
    .join('; ')}`;
  const text = out.json ? summary : [...lines, summary].join('\n');
  out.summary(text, { command: 'backup-tier', exitCode: EXIT.OK, summary, dryRun: !!opts.dryRun, tiers });
  return EXIT.OK;
}

async function backup(
  ctx: RunContext,
  clock: Clock,
  startedAt: Date,
  name: string,
  dryRun: boolean,
): Promise<RunRecord> {
  const { config, alerts, out } = ctx;
  const hop = findTier(config, name);
  const began = clock.ms();
  let outcome: Outcome;
  try {
    outcome = await runTier({ config, out, startedAt }, hop, dryRun);
  } catch (error) {
    outcome = crashed(name, (error as Error).message);
  }
  const ms = Math.round(clock.ms() - began);
  let alertError: string | null = null;
  if (!dryRun) {
    // The fold raises an event only when the tier's record changes: it is queued before the record
    // is written, so a run that dies between the two never loses it (a queue that fails throws,
    // the record stays as it was, and the next run raises it again).
    const at = { tier: name, prefix: config.alerts.prefix, now: startedAt, ms };
    const raised = await recordRun(config, outcome, at, (e) => alerts.queue([e]));
    if (raised) {
      const sent = await alerts.send([]); // queued above: delivers it and anything pending
      if (sent.errors.length) {
        alertError = sent.errors.join('; ');
        out.error(`hactl: warning: ${alertError}`);
      }
    }
  }
  const { result, line, snapshot, files, bytes, sent, pruned } = outcome;
  return {
    exitCode: EXIT_FOR[result],
    summary: `backup-tier ${name}: ${line}`,
    data: {
      tier: name,
      result,
      snapshot: snapshot ?? null,
      files: files ?? null,
      bytes: bytes ?? null,
      sent: sent ?? null,
      pruned: pruned ?? [],
      durationMs: ms,
      alertError,
    },
  };
}

export default async function backupTier(_program: Command, cmd: Command, args: unknown[]): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions & { list?: boolean };
  const name = args[0] as string | undefined;
  const clock = systemClock();
  const startedAt = clock.now();
  if (opts.list) return list(opts, startedAt, name ? [name] : []);
  if (!name) {
    throw new UsageError('backup-tier needs a tier name (or --list); the tiers are under backup.tiers in the config');
  }
  return runCommand('backup-tier', opts, `backup-${name}`, (ctx) => backup(ctx, clock, startedAt, name, !!opts.dryRun));
}
