// backup.json: the last run of each tier, and what hactl check says about it.
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { readJson, writeJson } from '../state/files.js';
import { withFileLock } from '../state/lock.js';

export interface TierRecord {
  lastRunAt: string;
  lastOkAt?: string | null;
  lastResult: 'ok' | 'warning' | 'refused' | 'failed';
  detail?: string;
  snapshot?: string | null;
  files?: number;
  bytes?: number;
  sent?: number;
  ms?: number;
  runs: number;
  problem?: string | null;
}
interface BackupRecord { version: 1; tiers: Record<string, TierRecord> }

const file = (config: Config) => join(config.stateDir, 'backup.json');

export async function readBackupRecord(config: Config): Promise<Record<string, TierRecord>> {
  return ((await readJson<BackupRecord>(file(config), 'backup-state')) ?? { version: 1, tiers: {} }).tiers;
}

/** Tiers run under their own locks, possibly at once: each update is a short critical section. */
export async function updateTierRecord(config: Config, name: string, fn: (prev: TierRecord | undefined) => TierRecord): Promise<TierRecord> {
  return withFileLock(file(config), async () => {
    const rec = (await readJson<BackupRecord>(file(config), 'backup-state')) ?? { version: 1, tiers: {} };
    const next = fn(rec.tiers[name]);
    rec.tiers[name] = next;
    writeJson(file(config), rec);
    return next;
  });
}

/** A tier that has run at least once and has no good snapshot within twice its interval. */
export function overdue(config: Config, rec: Record<string, TierRecord>, now: Date): string[] {
  const out: string[] = [];
  for (const t of config.backup.tiers) {
    const r = rec[t.name];
    if (!r) continue;
    const since = r.lastOkAt ? (now.getTime() - new Date(r.lastOkAt).getTime()) / 60000 : Infinity;
    if (since > 2 * t.interval) out.push(`backup tier ${t.name} overdue: ${r.lastOkAt ? `last good snapshot ${Math.round(since)} min ago` : 'no good snapshot yet'} (every ${t.interval} min; last run ${r.lastResult}${r.detail ? `: ${r.detail}` : ''})`);
  }
  return out;
}

export async function backupWarnings(config: Config, now: Date): Promise<string[]> {
  if (!config.backup.tiers.length) return [];
  try {
    return overdue(config, await readBackupRecord(config), now);
  } catch (e) {
    return [`cannot read the backup record: ${(e as Error).message}`];
  }
}
