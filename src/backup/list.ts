// backup-tier --list: the snapshots of each tier, with age, size and files,
// read at each destination by one script (scripts.listSnapshotsScript).
import type { Config } from '../config/types.js';
import { openPlaces } from './places.js';
import { parseSnapshot } from './retention.js';
import { listSnapshotsScript } from './scripts.js';
import { findTier } from './tiers.js';

export interface SnapshotInfo {
  name: string;
  ageMin: number;
  files: number;
  bytes: number;
  latest: boolean;
}

/** Reads the script's lines (LATEST <name>, then NAME FILES BYTES) into snapshots, pure. */
export function parseListing(stdout: string, now: Date): SnapshotInfo[] {
  const latest = /^LATEST (.*)$/m.exec(stdout)?.[1]?.trim();
  const rows = stdout
    .split('\n')
    .map((l) => l.split(' '))
    .filter((p) => p.length === 3 && parseSnapshot(p[0]!));
  return rows.map(([s, f, b]) => ({
    name: s!,
    ageMin: Math.round((now.getTime() - parseSnapshot(s!)!.getTime()) / 60000),
    files: Number(f),
    bytes: Number(b),
    latest: s === latest,
  }));
}

export async function listSnapshots(
  config: Config,
  names: string[],
  now: Date,
): Promise<Record<string, SnapshotInfo[]>> {
  const data: Record<string, SnapshotInfo[]> = {};
  for (const n of names) {
    const r = findTier(config, n);
    const { dst, close } = await openPlaces(config, r);
    try {
      const res = await dst.exec(listSnapshotsScript(r.dst.path), config.thresholds.commandTimeout * 6);
      data[n] = parseListing(res.stdout, now);
    } finally {
      await close();
    }
  }
  return data;
}

export const fmtAge = (m: number): string =>
  m < 120 ? `${m} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} d`;

export function fmtBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  if (b < 1048576) return `${(b / 1024).toFixed(1)} KiB`;
  return b < 1073741824 ? `${(b / 1048576).toFixed(1)} MiB` : `${(b / 1073741824).toFixed(2)} GiB`;
}

/** The lines a person reads for one tier. */
export function listingLines(name: string, destination: string, snaps: SnapshotInfo[]): string[] {
  const rows = snaps.map((s) => {
    const tag = s.latest ? ' (latest)' : '         ';
    return `  ${s.name}${tag}  ${fmtAge(s.ageMin).padStart(8)}  ${fmtBytes(s.bytes).padStart(9)}  ${s.files} files`;
  });
  return [`${name} (${destination}):`, ...(rows.length ? rows : ['  no snapshots'])];
}
