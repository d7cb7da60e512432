// The PostgreSQL domain's files in the witness's state dir:
// - postgres-base.tsv: the standby's rows at the fence (one line per row:
//   table index, md5, key, as rowDigestsSql prints them), streamed there by
//   failover's pause step; failback compares each side with it to tell
//   "changed only on the standby" from "changed on both sides";
// - postgres-conflicts.txt: one line per conflicting key (capped), rewritten by
//   each sync-back; history holds only a summary.
// Files are 0600, written to a temporary name and renamed (atomic).
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import type { Digests } from './model.js';
import { digestReader } from './observe.js';
import type { Psql } from './psql.js';
import { rowDigestsSql } from './sql.js';
import type { SyncPlan } from './plan.js';

export const basePath = (config: Config): string => join(config.stateDir, 'postgres-base.tsv');
export const conflictsPath = (config: Config): string => join(config.stateDir, 'postgres-conflicts.txt');
/** Lines kept in the conflicts file; the count of the others is its last line. */
export const MAX_CONFLICT_LINES = 10_000;

/** Streams the standby's digests into the base file. Returns the rows recorded. */
export async function takeBase(config: Config, standby: Psql): Promise<number> {
  const path = basePath(config);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  let rows = 0;
  try {
    await standby.bytes(rowDigestsSql(config.postgres!), (b) => {
      writeSync(fd, b);
      for (const x of b) if (x === 10) rows++;
    });
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return rows;
}

/** The base of the last failover, or undefined when there is none. Read in chunks, line by line. */
export function readBase(config: Config): Digests | undefined {
  let fd: number;
  try {
    fd = openSync(basePath(config), 'r');
  } catch {
    return undefined;
  }
  const d = digestReader(config.postgres!.tables.length);
  try {
    const chunk = Buffer.alloc(1 << 20);
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) d.reader.push(chunk.subarray(0, n));
    d.reader.end();
  } finally {
    closeSync(fd);
  }
  return d.digests;
}

/** A failover without a base must not be compared with an older one. */
export function dropBase(config: Config): void {
  rmSync(basePath(config), { force: true });
}

/** Writes the conflicts file (or removes it when there are none). Returns its path when written. */
export function writeConflicts(config: Config, plan: SyncPlan): string | undefined {
  const path = conflictsPath(config);
  if (!plan.conflicts) {
    rmSync(path, { force: true });
    return undefined;
  }
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    let n = 0;
    for (const t of plan.tables)
      for (const k of t.conflicts) {
        if (n++ >= MAX_CONFLICT_LINES) break;
        writeSync(fd, `${t.table}\t${k}\n`);
      }
    if (plan.conflicts > MAX_CONFLICT_LINES)
      writeSync(fd, `… ${plan.conflicts - MAX_CONFLICT_LINES} more conflicting key(s) not listed\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return path;
}
