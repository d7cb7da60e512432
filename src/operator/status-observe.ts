// hactl status, observe: reads the state directory's files, nothing else. No SSH, no network,
// no lock taken, nothing written: status must answer at once even while a failover holds the
// cluster lock or a host hangs. Each file is read on its own; one that cannot be read is a
// finding, never a crash.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import type { ClusterState } from '../core/model.js';
import { readJson } from '../state/files.js';
import { isHeld, readHolder } from '../state/lock.js';
import { allTimeStats } from '../state/history.js';
import { readPause } from './pause-file.js';
import { readMemoryRecord } from '../memory/record.js';
import { readBackupRecord } from '../backup/record.js';
import type { LockView, PendingView, StatusInput } from './status.js';

async function attempt<T>(fn: () => Promise<T> | T): Promise<{ ok: T } | { error: string }> {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * Command locks (cluster.lock, memory.lock, backup-*.lock) held now, by the kernel's word (flock,
 * /proc/locks), named by their record; a file's short section lock (x.json.lock) is not one.
 * A record left by a killed run is no lock: the kernel released it with the run.
 */
function readLocks(stateDir: string): LockView[] {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return [];
  }
  const out: LockView[] = [];
  for (const n of names.filter((x) => x.endsWith('.lock') && !/\.jsonl?\.lock$/.test(x)).sort()) {
    const f = join(stateDir, n);
    // The record first: a released lock has none (the release empties it), and only a record is shown, so
    // the kernel's list (/proc/locks, ~1 ms to read here) is asked only about a file that names a holder.
    const h = readHolder(f);
    if (h && isHeld(f)) out.push({ name: n.slice(0, -5), ...h, stale: false });
  }
  return out;
}

export async function observeStatus(config: Config, now: Date): Promise<StatusInput> {
  const dir = config.stateDir;
  return {
    now,
    state: await attempt(() => readJson<ClusterState>(join(dir, 'state.json'), 'state')),
    pause: await attempt(() => readPause(config)),
    outbox: await attempt(async () => {
      type Stored = PendingView & { event?: { kind: string; severity: string; message: string }; text?: string };
      const box = await readJson<{ pending: Stored[] }>(join(dir, 'outbox.json'), 'outbox');
      return (box?.pending ?? []).map((p) => ({
        at: p.at,
        tries: p.tries,
        ...(p.lastError ? { lastError: p.lastError } : {}),
        ...(p.id ? { id: p.id } : {}),
        kind: p.event?.kind ?? 'alert',
        severity: p.event?.severity ?? 'medium',
        message: p.event?.message ?? p.text ?? '',
        done: p.done ?? [],
      }));
    }),
    locks: readLocks(dir),
    memory: await attempt(() => readMemoryRecord(config)),
    backup: await attempt(() => readBackupRecord(config)),
    history: await attempt(async () => (await allTimeStats(join(dir, 'history.jsonl'), config.pair)).stats),
  };
}
