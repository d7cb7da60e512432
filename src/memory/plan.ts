// Pure parts of memory sync: rsync filter rules from the config, reading
// rsync's --itemize-changes and --stats output, the mass-deletion guard, and
// the sync-back plan (what goes back, what is a conflict). No I/O here.
import type { MemoryConfig } from '../config/types.js';

/** Live SQLite files (and their journals) are never copied, whatever the config says. */
export const SQLITE_EXCLUDES = ['*.sqlite', '*.sqlite-wal', '*.sqlite-shm', '*.sqlite-journal'];
/** rsync's --delay-updates holding directory: never part of the memory. */
export const HOLDING_DIR = '.~tmp~';

/**
 * rsync --filter rules, in order: excludes first (they win), then every parent
 * directory of each include (rsync must be allowed into a directory to see what
 * is inside), then the includes themselves, then everything else excluded.
 * Includes are anchored at the transfer root. Each rule becomes one argv entry.
 */
export function filterRules(m: Pick<MemoryConfig, 'include' | 'exclude'>): string[] {
  const rules: string[] = [`- ${HOLDING_DIR}/`];
  for (const p of [...SQLITE_EXCLUDES, ...m.exclude]) if (!rules.includes(`- ${p}`)) rules.push(`- ${p}`);
  const dirs: string[] = [];
  const incs: string[] = [];
  for (const raw of m.include) {
    const clean = raw.replace(/^\/+/, '');
    const parts = clean.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const d = `+ /${parts.slice(0, i).join('/')}/`;
      if (!dirs.includes(d)) dirs.push(d);
    }
    const inc = `+ /${clean}`;
    if (!incs.includes(inc)) incs.push(inc);
  }
  return [...rules, ...dirs, ...incs, '- *'];
}

export interface DeleteVerdict {
  ok: boolean;
  deleted: number;
  live: number;
  limit: number;
  reason?: string;
}

/** Deletions above max(allowance, share x live files) are refused. */
export function deletionVerdict(
  deleted: number,
  live: number,
  m: Pick<MemoryConfig, 'maxDeleteShare' | 'deleteAllowance'>,
): DeleteVerdict {
  const limit = Math.max(m.deleteAllowance, Math.floor(m.maxDeleteShare * live));
  if (deleted <= limit) return { ok: true, deleted, live, limit };
  return {
    ok: false,
    deleted,
    live,
    limit,
    reason:
      `would delete ${deleted} of ${live} memory files ` +
      `(limit ${limit}: ${Math.round(m.maxDeleteShare * 100)}% or ${m.deleteAllowance} files)`,
  };
}

/** Size and modification time (whole seconds: rsync -t keeps them across hosts). */
export interface FileStat {
  size: number;
  mtime: number;
}
export type Manifest = Record<string, FileStat>;

const same = (a: FileStat, b: FileStat) => a.size === b.size && a.mtime === b.mtime;

export interface SyncBackPlan {
  send: string[]; // standby's version replaces (or creates) the primary's
  conflicts: string[]; // changed on both sides: the standby's version goes beside the primary's
  unchanged: number;
}

/**
 * What goes back to the primary on failback. `base` is what both hosts held
 * after the last good sync (null: unknown). A file the standby did not change
 * stays as the primary has it; one only the standby changed goes back; one
 * changed on both sides is a conflict and both versions are kept. Nothing is
 * ever deleted on the primary. `identical` settles equal content with
 * different times, and checks equal stats on both sides.
 */
export function planSyncBack(
  base: Manifest | null,
  standby: Manifest,
  primary: Manifest,
  identical: (f: string) => boolean = () => false,
): SyncBackPlan {
  const plan: SyncBackPlan = { send: [], conflicts: [], unchanged: 0 };
  for (const f of Object.keys(standby).sort()) {
    const s = standby[f]!;
    const p = primary[f];
    const b = base?.[f];
    const standbyChanged = !b || !same(s, b);
    if (!standbyChanged) {
      plan.unchanged++;
      continue;
    }
    // Equal size and second are not equal content (two edits in one second): compare the bytes.
    if (p && same(s, p) && identical(f)) {
      plan.unchanged++;
      continue;
    }
    // Gone from the primary (or never there): the standby's copy is the only one; send it.
    if (!p) {
      plan.send.push(f);
      continue;
    }
    const primaryChanged = !b || !same(p, b);
    if (!primaryChanged) {
      plan.send.push(f);
      continue;
    }
    if (identical(f)) {
      plan.unchanged++;
      continue;
    }
    plan.conflicts.push(f);
  }
  return plan;
}

/** `memory/2026-09-10.md` -> `memory/2026-09-10.conflict-<host>-20260910T101500Z.md` */
export function conflictName(rel: string, host: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const slash = rel.lastIndexOf('/');
  const dot = rel.lastIndexOf('.');
  const safeHost = host.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (dot > slash + 1) return `${rel.slice(0, dot)}.conflict-${safeHost}-${stamp}${rel.slice(dot)}`;
  return `${rel}.conflict-${safeHost}-${stamp}`;
}

/** hactl check's view: a warning when the last good sync is older than three intervals. */
export function memoryStaleness(
  rec: { lastGoodAt: string | null; lastResult: string; lastRunAt: string } | undefined,
  interval: number,
  now: Date,
): string | null {
  if (!rec) return null; // never run: memory sync is not in use
  if (!rec.lastGoodAt) return `memory sync has not succeeded yet (last run ${rec.lastRunAt}: ${rec.lastResult})`;
  const age = (now.getTime() - new Date(rec.lastGoodAt).getTime()) / 1000;
  if (age <= 3 * interval) return null;
  const every = Math.round(interval / 60);
  const ago = Math.round(age / 60);
  return `last good memory sync ${ago} min ago (more than 3 intervals of ${every} min; last run: ${rec.lastResult})`;
}
