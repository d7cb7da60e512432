// Writes the metrics textfile (metrics.textfile) after a run: reads what hactl
// recorded, renders it (metrics.ts), replaces the file atomically so
// node_exporter never scrapes half a file. Mode 0644 whatever the umask (cron's
// line sets umask 077): node_exporter runs as another user, and the file holds
// no secret (names, counts and times). The mode is set on the temp file before
// the rename (state/files.ts writeAtomic, exact), so the file is never seen
// with another mode; a missing directory is created 0755 (doctor checks the
// directories above it).
// A metrics problem never fails a run: the caller gets a line to print.
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import type { ClusterState } from '../core/model.js';
import { readJson, writeAtomic } from '../state/files.js';
import { readMemoryRecord } from '../memory/record.js';
import { readBackupRecord } from '../backup/record.js';
import { allTimeStats } from '../state/history.js';
import type { Pending } from '../state/outbox.js';
import { ALERT_RESULTS, totalOf, type AlertTotals } from '../alerts/totals.js';
import { renderMetrics, type AlertCounts } from './metrics.js';
import { readPause } from './pause-file.js';
import { pauseVerdict } from './pause.js';

export interface MetricsWriteResult {
  file?: string;
  problem?: string;
}

/** Pending now, and the outbox's all-time counts per configured channel (0 where none yet: rate() needs the series). */
export function alertCounts(
  box: { pending?: Pending[]; counts?: AlertTotals } | undefined,
  channels: string[],
): AlertCounts {
  const byChannel: AlertCounts['byChannel'] = [];
  for (const channel of channels)
    for (const result of ALERT_RESULTS) byChannel.push({ channel, result, n: totalOf(box?.counts, channel, result) });
  return { pending: Array.isArray(box?.pending) ? box.pending.length : 0, byChannel };
}

async function readAlerts(config: Config): Promise<AlertCounts> {
  const box = await readJson<{ pending: Pending[]; counts?: AlertTotals }>(
    join(config.stateDir, 'outbox.json'),
    'outbox',
  ).catch(
    () => undefined, // a corrupt outbox is set aside by the next run that sends
  );
  const { channelsOf } = await import('../adapters/alerts.js');
  const channels = channelsOf(config, '').map((c) => c.id);
  return alertCounts(box, channels);
}

/** Reads what hactl recorded (state, memory, backup, history, pause, outbox); renders; writes. Unset: nothing. */
export async function writeMetrics(config: Config, now: Date): Promise<MetricsWriteResult> {
  const file = config.metrics?.textfile;
  if (!file) return {};
  try {
    const state = await readJson<ClusterState>(join(config.stateDir, 'state.json'), 'state');
    const memory = await readMemoryRecord(config);
    const backup = config.backup.tiers.length ? await readBackupRecord(config) : undefined;
    const { stats } = await allTimeStats(join(config.stateDir, 'history.jsonl'), config.pair);
    const paused = pauseVerdict(await readPause(config), now).paused;
    const alerts = await readAlerts(config);
    const text = renderMetrics({ config, state, memory, backup, stats, paused, alerts, now });
    // The project's atomic write (temp, fsync, rename, directory fsync), 0644 exactly; a missing
    // textfile directory is created 0755: node_exporter must list it as well as read the file.
    writeAtomic(file, text, 0o644, true, 0o755);
    return { file };
  } catch (e) {
    return { file, problem: `metrics not written to ${file}: ${(e as Error).message}` };
  }
}
