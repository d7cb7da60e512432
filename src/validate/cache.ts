// The warm cache of `hactl validate`: files found valid, keyed on size, mtime,
// ctime and inode (ctime cannot be set back by a user, so any write to a file
// makes it miss). One cache file per validated root and rule set, in the state
// directory (0600). A file with a problem or a warning is never cached: it is
// read again, and reported again, on every run.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeAtomic } from '../state/files.js';
import type { CompiledRules } from './rules.js';
import { MAX_DEPTH, YAML_MAX_BYTES } from './text.js';

const VERSION = 1;

interface CacheFile {
  version: number;
  files: Record<string, string>;
}

export interface Cache {
  fresh(rel: string): boolean;
  save(notValid: Set<string>): void;
  skippedBytes: number;
}

export function openCache(stateDir: string, root: string, compiled: CompiledRules, maxFileMB: number): Cache {
  const abs = resolve(root);
  const id = JSON.stringify({ VERSION, abs, rules: compiled.source.fingerprint, maxFileMB, MAX_DEPTH, YAML_MAX_BYTES });
  const file = join(stateDir, 'validate-cache', `${createHash('sha256').update(id).digest('hex').slice(0, 32)}.json`);
  let old: Record<string, string> = {};
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (c.version === VERSION && c.files && typeof c.files === 'object') old = c.files;
  } catch {
    /* no cache yet, or unreadable: everything is checked */
  }
  const now = new Map<string, string>();
  let hits = 0;
  const cache: Cache = {
    skippedBytes: 0,
    fresh(rel) {
      const st = lstatSync(`${abs}/${rel}`, { throwIfNoEntry: false });
      if (!st) return false;
      const key = `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
      now.set(rel, key);
      if (old[rel] !== key) return false;
      hits++;
      cache.skippedBytes += st.size;
      return true;
    },
    save(notValid) {
      // Every file a hit, and as many as before: an unchanged tree, nothing to write.
      if (hits === now.size && hits === Object.keys(old).length) return;
      const files: Record<string, string> = {};
      for (const [rel, key] of now) if (!notValid.has(rel)) files[rel] = key;
      try {
        writeAtomic(file, JSON.stringify({ version: VERSION, files }));
      } catch {
        /* a cache that cannot be written only costs time */
      }
    },
  };
  return cache;
}
