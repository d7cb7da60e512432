// Writes the metrics textfile (metrics.textfile) after a run: reads what hactl
// recorded, renders it (metrics.ts), replaces the file atomically so
// node_exporter never scrapes half a file. Mode 0644: node_exporter runs as
// another user, and the file holds no secret (names, counts and times).
// A metrics problem never fails a run: the caller gets a line to print.
import type { Config } from '../config/types.js';
import type { ClusterState } from '../core/model.js';
import { readJson, writeAtomic } from '../state/files.js';
import { readMemoryRecord } from '../memory/record.js';
import { readBackupRecord } from '../backup/record.js';
import { renderMetrics } from './metrics.js';
import { join } from 'node:path';

export interface MetricsWriteResult {
  file?: string;
  problem?: string;
}

/** Read state, memory.json and backup.json; render; write. Nothing when metrics.textfile is unset. */
export async function writeMetrics(config: Config, now: Date): Promise<MetricsWriteResult> {
  const file = config.metrics?.textfile;
  if (!file) return {};
  try {
    const state = await readJson<ClusterState>(join(config.stateDir, 'state.json'), 'state');
    const memory = await readMemoryRecord(config);
    const backup = config.backup.tiers.length ? await readBackupRecord(config) : undefined;
    writeAtomic(file, renderMetrics({ config, state, memory, backup, now }), 0o644);
    return { file };
  } catch (e) {
    return { file, problem: `metrics not written to ${file}: ${(e as Error).message}` };
  }
}
