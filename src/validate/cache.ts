// The warm cache of `hactl validate`: files found valid, keyed on size, mtime,
// ctime and inode (ctime cannot be set back by a user, so any write to a file
// makes it miss). One cache file per validated root and rule set, in the state
// directory (0600). A file with a problem or a warning is never cached: it is
// read again, and reported again, on every run.
// Directories too: a directory whose size, mtime, ctime and inode are unchanged has the same entries
// (adding, removing or renaming one changes its mtime and ctime), so the walk reuses its listing of
// regular files and subdirectories instead of reading and matching it again. A directory that held
// anything reported (a link, a FIFO, a name that is not UTF-8) is never cached: it is read every run.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeAtomic } from '../state/files.js';
import type { CompiledRules } from './rules.js';
import { MAX_DEPTH, YAML_MAX_BYTES } from './text.js';

const VERSION = 2;

export interface Listing {
  files: string[]; // names of regular files, not ignored
  dirs: string[]; // names of subdirectories, not ignored
}

interface CacheFile {
  version: number;
  files: Record<string, string>;
  dirs?: Record<string, { key: string } & Listing>;
}

/** The walk's side of the cache: a directory's listing while it is unchanged. */
export interface DirCache {
  /** The cached listing of directory `rel` (relative to root, '' for root) if it is unchanged. */
  get(rel: string): Listing | undefined;
  /** What the walk read in `rel`, all of it regular files and directories. */
  put(rel: string, listing: Listing): void;
}

export interface Cache {
  fresh(rel: string): boolean;
  save(notValid: Set<string>): void;
  skippedBytes: number;
  dirs: DirCache;
}

const keyOf = (st: { size: number; mtimeMs: number; ctimeMs: number; ino: number }) =>
  `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;

export function openCache(stateDir: string, root: string, compiled: CompiledRules, maxFileMB: number): Cache {
  const abs = resolve(root);
  const id = JSON.stringify({ VERSION, abs, rules: compiled.source.fingerprint, maxFileMB, MAX_DEPTH, YAML_MAX_BYTES });
  const file = join(stateDir, 'validate-cache', `${createHash('sha256').update(id).digest('hex').slice(0, 32)}.json`);
  let old: Record<string, string> = {};
  let oldDirs: NonNullable<CacheFile['dirs']> = {};
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (c.version === VERSION && c.files && typeof c.files === 'object') old = c.files;
    if (c.version === VERSION && c.dirs && typeof c.dirs === 'object') oldDirs = c.dirs;
  } catch {
    /* no cache yet, or unreadable: everything is checked */
  }
  const now = new Map<string, string>();
  const dirKeys = new Map<string, string>();
  const nowDirs: NonNullable<CacheFile['dirs']> = {};
  let hits = 0;
  let dirMisses = 0;
  const dirs: DirCache = {
    get(rel) {
      const st = lstatSync(rel ? `${abs}/${rel}` : abs, { throwIfNoEntry: false });
      if (!st?.isDirectory()) return undefined;
      const key = keyOf(st);
      dirKeys.set(rel, key); // taken before the walk reads it: a change in between misses next time
      const o = oldDirs[rel];
      if (o && o.key === key && Array.isArray(o.files) && Array.isArray(o.dirs)) {
        nowDirs[rel] = o;
        return { files: o.files, dirs: o.dirs };
      }
      dirMisses++;
      return undefined;
    },
    put(rel, listing) {
      const key = dirKeys.get(rel);
      if (key) nowDirs[rel] = { key, ...listing };
    },
  };
  const cache: Cache = {
    skippedBytes: 0,
    dirs,
    fresh(rel) {
      const st = lstatSync(`${abs}/${rel}`, { throwIfNoEntry: false });
      if (!st) return false;
      const key = keyOf(st);
      now.set(rel, key);
      if (old[rel] !== key) return false;
      hits++;
      cache.skippedBytes += st.size;
      return true;
    },
    save(notValid) {
      // Every file a hit, and as many as before: an unchanged tree, nothing to write.
      const sameDirs = dirMisses === 0 && Object.keys(nowDirs).length === Object.keys(oldDirs).length;
      if (sameDirs && hits === now.size && hits === Object.keys(old).length) return;
      const files: Record<string, string> = {};
      for (const [rel, key] of now) if (!notValid.has(rel)) files[rel] = key;
      try {
        writeAtomic(file, JSON.stringify({ version: VERSION, files, dirs: nowDirs }));
      } catch {
        /* a cache that cannot be written only costs time */
      }
    },
  };
  return cache;
}
