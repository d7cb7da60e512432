// What a restore request means, pure: the snapshot and the path inside it,
// refused when it could leave the snapshot.
import { UsageError } from '../errors.js';
import { rsyncLiteral } from './plan.js';
import { parseSnapshot, snapshots } from './retention.js';

export interface RestoreRequest {
  tier: string;
  /** A snapshot name, or 'latest'. */
  snapshot: string;
  /** Inside the snapshot, without leading or trailing slashes; '.' for all of it. */
  path: string;
  to: string;
  /** --yes: copy; else only show what would be copied. */
  copy: boolean;
}

export function planRestoreRequest(
  tier: string,
  snapshot: string,
  path: string,
  to: string,
  copy: boolean,
): RestoreRequest {
  const inner = String(path).replace(/^\/+/, '').replace(/\/+$/, '') || '.';
  if (inner.split('/').includes('..')) {
    throw new UsageError(`restore: PATH ${path} must stay inside the snapshot (no '..')`);
  }
  if (snapshot !== 'latest' && !parseSnapshot(snapshot)) {
    const like = "a snapshot name (like 2026-11-22T140000Z) or 'latest'";
    throw new UsageError(`restore: '${snapshot}' is not ${like}; see hactl backup-tier --list`);
  }
  return { tier, snapshot, path: inner, to, copy };
}

/**
 * The folders a restore of `path` passes through inside the snapshot folder
 * `snap` (the snapshot itself first). None of them may be a symlink: a link
 * there would take the restore out of the snapshot. The last component of a
 * PATH may be a link: it is restored as a link (subject to unsafeLinks).
 */
export function passedThrough(snap: string, path: string): string[] {
  const parts = path === '.' ? [] : path.split('/').filter((p) => p && p !== '.');
  return [snap, ...parts.slice(0, -1).map((_p, i) => `${snap}/${parts.slice(0, i + 1).join('/')}`)];
}

export interface Link {
  /** Relative to the restore's root (where it lands in DEST). */
  path: string;
  target: string;
}

/**
 * Links whose target leaves the restored tree (absolute, or climbing above its
 * root): rsync's own --safe-links rule. They are not restored, and are named.
 */
export function unsafeLinks(links: Link[]): string[] {
  return links
    .filter((l) => {
      if (!l.target || l.target.startsWith('/')) return true;
      let depth = l.path.split('/').filter(Boolean).length - 1;
      for (const c of l.target.split('/')) {
        if (c === '..') depth--;
        else if (c && c !== '.') depth++;
        if (depth < 0) return true;
      }
      return false;
    })
    .map((l) => l.path);
}

/**
 * A --to at or under the tier's own snapshot folder (a destination on the
 * witness) would write into the snapshots: refused. Both paths absolute.
 */
export function writesIntoSnapshots(to: string, snapshots: string): boolean {
  const base = snapshots.replace(/\/+$/, '');
  return to === base || to.startsWith(`${base}/`) || base === '';
}

/** rsync filter rules that leave the named paths out (each matched literally, from the root). */
export const excludeExactly = (paths: string[]): string[] => paths.map((p) => `- /${rsyncLiteral(p)}`);

/** The snapshots nearest in time to `name` (a well-formed name that is not there), nearest first. */
export function nearestSnapshots(name: string, entries: string[], n = 3): string[] {
  const at = parseSnapshot(name)?.getTime() ?? 0;
  const dist = (s: string) => Math.abs(parseSnapshot(s)!.getTime() - at);
  return snapshots(entries)
    .sort((a, b) => dist(a) - dist(b) || b.localeCompare(a))
    .slice(0, n);
}

/** What restore says when a tier has no snapshot of that name: the name, where, and the nearest ones. */
export function noSuchSnapshot(tier: string, name: string, where: string, entries: string[]): string {
  const near = nearestSnapshots(name, entries);
  const have = near.length
    ? `nearest: ${near.join(', ')} (every one: hactl backup-tier --list ${tier})`
    : 'the tier has no snapshot yet';
  return `restore: tier ${tier} has no snapshot ${name} at ${where}; ${have}`;
}
