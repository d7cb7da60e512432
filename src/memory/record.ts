// memory.json: the memory sync's own record (not state.json, so a sync and a
// check never overwrite each other's). Written atomically by state/files.
// A corrupt one is set aside (memory.json.corrupt-<time>, kept for inspection)
// and started afresh, with one alert, as state.json is (src/state/recover.ts):
// only by the runs that hold the memory lock (sync-memory, failover's and
// failback's memory steps), so a concurrent sync's good record is never moved.
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { readJson, writeAtomic } from '../state/files.js';
import { readOrSetAside, type SetAside } from '../state/recover.js';
import { setAsideEvent } from '../alerts/protection.js';
import { onlyTimesMoved, type MemoryRecord } from './fold.js';

export const memoryRecordPath = (config: Config) => join(config.stateDir, 'memory.json');

/** What hactl does after setting a corrupt memory.json aside (the alert's last words). */
export const MEMORY_RECORD_REBUILT =
  'memory sync record started afresh: this sync checks every file and pushes in full; memory sync goes on';

/** Reads memory.json; a corrupt one throws (CorruptFileError). For readers that must not move it (check, status). */
export async function readMemoryRecord(config: Config): Promise<MemoryRecord | undefined> {
  return readJson<MemoryRecord>(memoryRecordPath(config), 'memory-state');
}

/**
 * memory.json for a run holding the memory lock: a corrupt one is set aside (unless dryRun), its alert
 * queued once in the outbox, and the run goes on as after no record at all (every file validated).
 */
export async function loadMemoryRecord(
  config: Config,
  now: Date,
  dryRun = false,
): Promise<{ rec?: MemoryRecord; setAside?: SetAside }> {
  const file = memoryRecordPath(config);
  const r = await readOrSetAside<MemoryRecord>(file, 'memory-state', now, dryRun);
  if (r.setAside?.to) {
    const { Outbox } = await import('../state/outbox.js');
    const why = r.setAside.why;
    await new Outbox(config.stateDir).add(setAsideEvent(file, why, r.setAside.to, MEMORY_RECORD_REBUILT, now));
  }
  return { rec: r.data, setAside: r.setAside };
}

/** `prev`: the record this run read; a record that only moves its times skips the directory's fsync. */
export function writeMemoryRecord(config: Config, rec: MemoryRecord, prev?: MemoryRecord): void {
  const text = JSON.stringify(rec, null, 2) + '\n';
  writeAtomic(memoryRecordPath(config), text, 0o600, false, undefined, !onlyTimesMoved(prev, rec));
}
