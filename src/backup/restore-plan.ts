// What a restore request means, pure: the snapshot and the path inside it,
// refused when it could leave the snapshot.
import { UsageError } from '../errors.js';
import { parseSnapshot } from './retention.js';

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
  tier: string, snapshot: string, path: string, to: string, copy: boolean,
): RestoreRequest {
  const inner = String(path).replace(/^\/+/, '').replace(/\/+$/, '') || '.';
  if (inner.split('/').includes('..')) {
    throw new UsageError(`restore: PATH ${path} must stay inside the snapshot (no '..')`);
  }
  if (snapshot !== 'latest' && !parseSnapshot(snapshot)) {
    const like = 'a snapshot name (like 2026-11-22T140000Z) or \'latest\'';
    throw new UsageError(`restore: '${snapshot}' is not ${like}; see hactl backup-tier --list`);
  }
  return { tier, snapshot, path: inner, to, copy };
}
