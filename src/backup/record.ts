// backup.json: the last run of each tier, and what hactl check says about it.
// The decisions (what the record becomes, what is overdue) are pure, in fold.ts
// and plan.ts; this file only reads and writes.
import { join } from 'node:path';
import type { HactlEvent } from '../alerts/events.js';
import type { Config } from '../config/types.js';
import { readJson, writeJson } from '../state/files.js';
import { withFileLock } from '../state/lock.js';
import { foldTier, type FoldInput } from './fold.js';
import { overdue } from './plan.js';
import type { Outcome, TierRecord } from './types.js';

export type { TierRecord } from './types.js';

interface BackupRecord {
  version: 1;
  tiers: Record<string, TierRecord>;
}

const file = (config: Config) => join(config.stateDir, 'backup.json');

export async function readBackupRecord(config: Config): Promise<Record<string, TierRecord>> {
  return ((await readJson<BackupRecord>(file(config), 'backup-state')) ?? { version: 1, tiers: {} }).tiers;
}

/**
 * Folds one run into the tier's record and returns the alert to send, if any.
 * Tiers run under their own locks, possibly at once: each update is a short
 * critical section, and the fold sees the record as it is inside it.
 */
export async function recordRun(
  config: Config,
  o: Outcome,
  at: FoldInput,
  /** Queues the alert in the outbox before the record is written (a throw leaves the record as it was). */
  queue?: (alert: HactlEvent) => Promise<void>,
): Promise<HactlEvent | null> {
  return withFileLock(file(config), async () => {
    const rec = (await readJson<BackupRecord>(file(config), 'backup-state')) ?? { version: 1, tiers: {} };
    const { record, alert } = foldTier(rec.tiers[at.tier], o, at);
    if (alert && queue) await queue(alert);
    rec.tiers[at.tier] = record;
    writeJson(file(config), rec);
    return alert;
  });
}

export async function backupWarnings(config: Config, now: Date): Promise<string[]> {
  if (!config.backup.tiers.length) return [];
  try {
    return overdue(config.backup.tiers, await readBackupRecord(config), now);
  } catch (e) {
    return [`cannot read the backup record: ${(e as Error).message}`];
  }
}
