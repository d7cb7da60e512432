// Snapshot names and retention: pure functions, unit-tested in test/unit/backup.test.ts.
// A snapshot is a folder named by its UTC time, e.g. 2026-11-22T140000Z; a run in
// progress writes `.incomplete-<name>`, and only a complete one is renamed into place.

const NAME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export function snapshotName(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '');
}

export function parseSnapshot(name: string): Date | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return !Number.isNaN(d.getTime()) && snapshotName(d) === name ? d : null; // 2026-13-40 is not a date
}

/** Complete snapshots among a folder's entries, oldest first. */
export function snapshots(entries: string[]): string[] {
  return entries.filter((e) => parseSnapshot(e)).sort();
}

const hourKey = (d: Date) => d.toISOString().slice(0, 13);
const dayKey = (d: Date) => d.toISOString().slice(0, 10);
function weekKey(d: Date): string {
  // ISO week: the Thursday of this week decides the year.
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const y = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(y, 0, 1)) / 86400000 + 1) / 7);
  return `${y}-W${String(week).padStart(2, '0')}`;
}

export interface Retention {
  hourly: number;
  daily: number;
  weekly: number;
}

/**
 * Which snapshots to keep: the newest of each of the last `hourly` hours,
 * `daily` days and `weekly` ISO weeks that have a snapshot (as borg prune does),
 * always the newest one, and always `taken` (the snapshot this run just made,
 * whatever its name sorts as: a clock stepped back must not prune it).
 * A period still running has no newest yet (issue 24 #8): every snapshot of the
 * one just taken (else of the newest), at the finest level kept (hours, else days,
 * else weeks), stays until that period is over; a second run within the hour prunes nothing, and
 * the next hour's run keeps only the newest of it. Returns [keep, prune], oldest first.
 */
export function planRetention(names: string[], r: Retention, taken?: string): { keep: string[]; prune: string[] } {
  const all = snapshots(names);
  const keep = new Set<string>();
  if (all.length) keep.add(all[all.length - 1]!);
  if (taken !== undefined && all.includes(taken)) keep.add(taken);
  const newestFirst = [...all].reverse();
  const levels = [
    [r.hourly, hourKey],
    [r.daily, dayKey],
    [r.weekly, weekKey],
  ] as const;
  for (const [n, key] of levels) {
    const seen = new Set<string>();
    for (const s of newestFirst) {
      if (seen.size >= n) break;
      const k = key(parseSnapshot(s)!);
      if (seen.has(k)) continue;
      seen.add(k);
      keep.add(s);
    }
  }
  // The period still running is the one just taken's: a clock that ran ahead may have left a
  // newer (future-dated) name, and the real hour's snapshots must not be pruned for it.
  const finest = levels.find(([n]) => n > 0);
  const current = taken !== undefined && all.includes(taken) ? taken : all[all.length - 1];
  if (finest && current) {
    const open = finest[1](parseSnapshot(current)!);
    for (const s of all) if (finest[1](parseSnapshot(s)!) === open) keep.add(s);
  }
  return { keep: all.filter((s) => keep.has(s)), prune: all.filter((s) => !keep.has(s)) };
}
