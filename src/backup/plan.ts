// Backup decisions, pure: functions of config, the record and what was observed,
// each returning what to do and the words that say why. No I/O, no clock: the
// time comes in as an argument. Tested as tables in test/unit/backup.test.ts.
import type { TierConfig } from '../config/types.js';
import { parseSnapshot, planRetention, snapshotName, snapshots } from './retention.js';
import type { Location, Outcome, Resolved, TierRecord, TreeCount } from './types.js';

/** rsync filter rules are patterns: a name's own [ ] * ? \ are escaped, so it matches only itself. */
export const rsyncLiteral = (s: string): string => s.replace(/[[\]*?\\]/g, (c) => `\\${c}`);

export const where = (p: Location): string => (p.host ? `${p.host.name}:${p.path}` : p.path);

const minutesSince = (iso: string | null | undefined, now: Date): number =>
  iso ? (now.getTime() - new Date(iso).getTime()) / 60000 : Infinity;

/** The upstream tier feeds this one: without a fresh snapshot there, this one copies old data. */
export function planUpstream(up: TierConfig | undefined, rec: TierRecord | undefined, now: Date): string | null {
  if (!up) return null;
  const age = minutesSince(rec?.lastOkAt, now);
  if (age <= 2 * up.interval) return null;
  const last = rec?.lastOkAt ? `last ${Math.round(age)} min ago` : 'none recorded';
  return `upstream tier ${up.name} has no fresh snapshot (${last}; every ${up.interval} min)`;
}

/** A missing or empty source (a failed mount, a deleted folder) never becomes a snapshot. */
export function planSource(state: 'missing' | 'empty' | 'ok', r: Resolved): Outcome | null {
  if (state === 'ok') return null;
  const why = `source ${where(r.src)} is ${state}`;
  return {
    result: 'refused',
    line: `REFUSED: ${why}; no snapshot made, nothing pruned`,
    alert:
      `backup tier ${r.tier.name} refused: ${why} (unmounted or deleted?). ` +
      `The snapshots at ${where(r.dst)} are untouched.`,
  };
}

/** Below the tier's floor of free space at the destination, nothing is written. */
export function planFreeSpace(freeKB: number, r: Resolved): Outcome | null {
  return freeKB / 1024 >= r.tier.minFreeMB ? null : freeSpaceRefusal(freeKB, r);
}

export function freeSpaceRefusal(freeKB: number, r: Resolved): Outcome {
  const t = r.tier;
  const freeMB = Math.floor(freeKB / 1024);
  const at = where(r.dst);
  return {
    result: 'refused',
    line: `REFUSED: ${freeMB} MB free at ${at}, below the floor of ${t.minFreeMB} MB`,
    alert:
      `backup tier ${t.name} refused: only ${freeMB} MB free at ${at} (floor ${t.minFreeMB} MB). ` +
      'Free space or lower backup.tiers[].minFreeMB.',
  };
}

export interface SnapshotPlan {
  name: string;
  /** The snapshot unchanged files are hard-linked to. */
  prev: string | null;
  existing: string[];
  /** Hidden leftovers of a run that was killed: never the latest; removed before the copy. */
  leftovers: string[];
}

/** The new snapshot's name (the next second's when this one is taken) and what it links to. */
export function planSnapshot(now: Date, dest: { entries: string[]; latest: string | null }): SnapshotPlan {
  const existing = snapshots(dest.entries);
  let name = snapshotName(now);
  if (existing.includes(name)) name = snapshotName(new Date(now.getTime() + 1000));
  const leftovers = dest.entries.filter((e) => e.startsWith('.incomplete-'));
  return { name, prev: dest.latest ?? existing.at(-1) ?? null, existing, leftovers };
}

export function planDryRun(r: Resolved, p: SnapshotPlan, warnings: string[]): Outcome {
  const { prune } = planRetention([...p.existing, p.name], r.tier.retention, p.name);
  const link = p.prev ? ` (unchanged files hard-linked to ${p.prev})` : ' (first snapshot)';
  const pruned = prune.length ? prune.join(', ') : 'nothing';
  const line = `--dry-run: would snapshot ${where(r.src)} to ${where(r.dst)}/${p.name}${link}; would prune ${pruned}`;
  return { result: 'ok', line, snapshot: p.prev, warnings };
}

export function transferFailed(r: Resolved, detail: string, prev: string | null): Outcome {
  return {
    result: 'failed',
    line: `FAILED: ${detail}; ${prev ? `${prev} stays the latest` : 'no snapshot yet'}`,
    alert: `backup tier ${r.tier.name} failed: ${detail}. ${prev ? `${prev} stays the latest snapshot.` : ''}`,
  };
}

/** rsync's --stats, counted by the one rule: its entries less its folders, and the total file size. */
export function rsyncStats(stdout: string): { files?: number; size?: number } {
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s.replace(/,/g, '')));
  const m = /^Number of files: ([\d,]+)(?: \(([^)]*)\))?/m.exec(stdout);
  const dirs = num(/\bdir: ([\d,]+)/.exec(m?.[2] ?? '')?.[1]) ?? 0;
  const total = num(m?.[1]);
  const size = num(/Total file size: ([\d,]+) bytes/.exec(stdout)?.[1]);
  return { files: total === undefined ? undefined : total - dirs, size };
}

/** What the snapshot must hold. Files that vanished from live data during the copy are in rsync's count only. */
export function expectedTree(x: { files?: number; size?: number; vanished: number }): Expected {
  return x.vanished && x.files !== undefined ? { files: x.files - x.vanished } : { files: x.files, size: x.size };
}

export interface Expected {
  files?: number;
  size?: number;
}

export type CommitPlan =
  { commit: true; name: string; prune: string[] } | { commit: false; rejectAs: string; why: string };

/**
 * The count check: only a snapshot that holds what the source held goes into
 * place. Two runs within one second take the next second's name. Retention
 * then prunes among the snapshots, the new one included.
 */
export function planCommit(
  name: string,
  expect: Expected,
  counted: TreeCount,
  entries: string[],
  retention: TierConfig['retention'],
): CommitPlan {
  const filesOk = expect.files === undefined || expect.files === counted.files;
  const sizeOk = expect.size === undefined || expect.size === counted.bytes;
  if (!filesOk || !sizeOk) {
    const held = `${counted.files} files / ${counted.bytes} bytes`;
    const why = `the snapshot holds ${held}, the source had ${expect.files} / ${expect.size}`;
    return { commit: false, rejectAs: `.rejected-${name}`, why };
  }
  const taken = entries.includes(name);
  const final = taken ? snapshotName(new Date(parseSnapshot(name)!.getTime() + 1000)) : name;
  return { commit: true, name: final, prune: planRetention([...entries, final], retention, final).prune };
}

export function rejected(r: Resolved, name: string, why: string, prev: string | null): Outcome {
  return {
    result: 'failed',
    line: `FAILED: ${why}; kept as .rejected-${name} for inspection; ${prev ?? 'nothing'} stays the latest`,
    alert: `backup tier ${r.tier.name} failed verification: ${why}. Kept as .rejected-${name}.`,
  };
}

export function commitFailed(r: Resolved, name: string, error: string): Outcome {
  const what = `could not put ${name} into place: ${error}`;
  return { result: 'failed', line: `FAILED: ${what}`, alert: `backup tier ${r.tier.name} failed: ${what}` };
}

/** Every Nth good run also compares the snapshot with the source by checksum. */
export const planDeepVerify = (runsBefore: number, every: number): boolean =>
  every > 0 && (runsBefore + 1) % every === 0;

export function deepVerifyWarning(name: string, v: { ok: boolean; changed: string[]; detail: string }): string | null {
  if (v.ok && !v.changed.length) return null;
  const e = v.changed.slice(0, 3).join(', ');
  const differ = `${v.changed.length} file(s) differ from the source (e.g. ${e}); changed during the copy, or damaged`;
  const said = v.ok ? differ : v.detail;
  return `deep verify of ${name}: ${said}`;
}

export function snapshotMade(
  s: { name: string; prev: string | null; count: TreeCount; sent: number; pruned: string[] },
  warnings: string[],
): Outcome {
  const link = s.prev ? `, unchanged files linked to ${s.prev}` : '';
  const size = `${s.count.files} files, ${s.count.bytes} bytes (${s.sent} bytes moved)`;
  const line = `${s.name}: ${size}${link}; pruned ${s.pruned.length}`;
  return {
    result: warnings.length ? 'warning' : 'ok',
    line: warnings.length ? `WARNING: ${line}; ${warnings.join('; ')}` : line,
    snapshot: s.name,
    files: s.count.files,
    bytes: s.count.bytes,
    sent: s.sent,
    pruned: s.pruned,
    warnings,
  };
}

/** Anything that went wrong on the way (unreachable host, a script that failed). */
export function crashed(tier: string, message: string): Outcome {
  return { result: 'failed', line: `FAILED: ${message}`, alert: `backup tier ${tier} failed: ${message}` };
}

/** Tiers that ran at least once and have no good snapshot within twice their interval. */
export function overdue(tiers: TierConfig[], rec: Record<string, TierRecord>, now: Date): string[] {
  const out: string[] = [];
  for (const t of tiers) {
    const r = rec[t.name];
    if (!r) continue;
    const since = minutesSince(r.lastOkAt, now);
    if (since <= 2 * t.interval) continue;
    const last = r.lastOkAt ? `last good snapshot ${Math.round(since)} min ago` : 'no good snapshot yet';
    const run = `last run ${r.lastResult}${r.detail ? `: ${r.detail}` : ''}`;
    out.push(`backup tier ${t.name} overdue: ${last} (every ${t.interval} min; ${run})`);
  }
  return out;
}
