// hactl history [--since 7d|ISO] [--kind failover,failback] [--limit N]: past runs and their
// stats. Read-only: no lock, no history line of its own. Stats over all time come from
// history-stats.json plus the lines on disk (exact across rotations); stats of a selection
// (--since/--kind) can only cover the lines still on disk, and say so.
import type { Command } from 'commander';
import { join } from 'node:path';
import type { GlobalOptions } from '../context.js';
import { Reporter } from '../output.js';
import { systemClock } from '../adapters/clock.js';
import { UsageError } from '../errors.js';
import { parseDuration } from '../config/durations.js';
import {
  emptyStats,
  foldEntries,
  KINDS,
  kindOf,
  meanRecoverySeconds,
  methodRates,
  selectEntries,
  type HistoryStats,
  type Kind,
} from '../operator/history-stats.js';

interface HistoryOptions extends GlobalOptions {
  since?: string;
  kind?: string;
  limit?: string;
}

/** --since: a duration back from now, or an ISO time. */
export function parseSince(text: string, now: Date): Date | { error: string } {
  const d = parseDuration(text);
  if (d !== undefined && d > 0) return new Date(now.getTime() - d);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text))) return new Date(text);
  return { error: `--since '${text}' is neither a duration (7d, 12h, 30m) nor an ISO time (2026-11-22T14:00:00Z)` };
}

function statsView(s: HistoryStats) {
  return {
    entries: s.entries,
    first: s.first,
    last: s.last,
    checks: s.checks,
    failovers: s.failovers,
    failbacks: s.failbacks,
    recoveries: s.recoveries,
    meanRecoverySeconds: meanRecoverySeconds(s),
    falseAlarmsAvoided: s.falseAlarms,
    methods: methodRates(s).map((r) => ({ ...r, rate: r.tried ? Math.round((r.ok / r.tried) * 1000) / 1000 : null })),
    incidentOpenSince: s.openFailureAt,
  };
}

function statsLines(title: string, s: ReturnType<typeof statsView>): string[] {
  const mttr = s.meanRecoverySeconds === null ? 'n/a' : `${s.meanRecoverySeconds} s over ${s.recoveries}`;
  const out = [
    `${title}: ${s.entries} runs${s.first ? ` from ${s.first} to ${s.last}` : ''}`,
    `  failovers ${s.failovers.ok} ok, ${s.failovers.failed} failed; failbacks ${s.failbacks.ok} ok, ` +
      `${s.failbacks.failed} failed`,
    `  mean time to recover ${mttr}; ${s.falseAlarmsAvoided} single failures not confirmed (false alarms avoided)`,
  ];
  for (const m of s.methods) {
    const none = m.absent ? `not on the host (${m.absent} run(s))` : '';
    const rate = m.tried ? `${m.ok}/${m.tried} (${Math.round((m.rate ?? 0) * 100)}%)` : '';
    out.push(`  start method ${m.method} on ${m.host}: ${[rate, none].filter(Boolean).join('; ')}`);
  }
  if (s.incidentOpenSince) out.push(`  an incident is open since ${s.incidentOpenSince}`);
  return out;
}

export default async function history(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as HistoryOptions;
  const now = systemClock().now();
  const since = opts.since ? parseSince(opts.since, now) : null;
  if (since && !(since instanceof Date)) throw new UsageError(since.error);
  let kinds: Kind[] | null = null;
  if (opts.kind) {
    kinds = opts.kind.split(',').map((k) => k.trim()) as Kind[];
    const bad = kinds.filter((k) => !KINDS.includes(k));
    if (bad.length) throw new UsageError(`--kind ${bad.join(',')}: use one or more of ${KINDS.join(', ')}`);
  }
  const limit = opts.limit === undefined ? 50 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit '${opts.limit}' is not a whole number`);
  const out = new Reporter(opts);
  const { loadConfig } = await import('../config/load.js');
  const config = await loadConfig(opts.config);
  const { allTimeStats, keptEntries } = await import('../state/history.js');
  const file = join(config.stateDir, 'history.jsonl');
  const all = await allTimeStats(file, config.pair);
  const kept = keptEntries(file);
  const selected = selectEntries(kept, since, kinds);
  const sel = statsView(foldEntries(emptyStats(), selected, config.pair));
  const allTime = statsView(all.stats);
  const oldestKept = kept[0]?.at ?? null;
  const partial = all.seq > 0 && (!since || (oldestKept && since.toISOString() < oldestKept));
  const note = partial
    ? `lines before ${oldestKept ?? 'now'} were rotated away: the selection's stats cover the kept lines only`
    : null;
  const shown = limit ? selected.slice(-limit) : [];
  const lines = shown.map(
    (e) =>
      `${e.at}  ${kindOf(e).padEnd(8)} ${String(e.command).padEnd(11)} exit ${e.exitCode ?? '?'}  ` +
      `${String(e.summary ?? e.error ?? '').slice(0, 160)}`,
  );
  const filtered = !!(since || kinds);
  const text = [
    ...lines,
    ...(filtered ? statsLines('selected', sel) : []),
    ...statsLines('all time', allTime),
    ...(filtered && note ? [`note: ${note}`] : []),
  ].join('\n');
  out.summary(text || 'history: no runs recorded yet', {
    command: 'history',
    exitCode: 0,
    summary: `history: ${selected.length} runs selected, ${allTime.entries} over all time`,
    since: since?.toISOString() ?? null,
    kinds,
    entries: shown,
    selectedCount: selected.length,
    stats: { selected: sel, allTime },
    note,
  });
  return 0;
}
