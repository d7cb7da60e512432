// One lock file per name in the state directory, holding the holder's pid,
// host, command and lease. A second run exits 75 naming the holder.
// - Created whole: the record is written to a temp file and link()ed into
//   place (atomic, fails if the lock exists), so no run ever sees half a lock.
// - Stale when the holder's lease has run out, or at once when the holder was
//   on this host and its pid is gone (kill -9 blocks nobody).
// - Taken over atomically: under a short guard file, the lock is re-read and
//   replaced by rename() only if it still names the stale holder.
// - Renewed while held (every third of the lease), so a run longer than its
//   lease (a backup with a 3600 s deadline) is never overtaken while alive.
// proper-lockfile was weighed and not used: its staleness is mtime age only
// (a killed holder blocks for `stale`), its takeover is rmdir+mkdir (two late
// runs can both win), and it records no holder to name. See docs/reliability.md.
import { hostname } from 'node:os';
import { linkSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LockedError } from '../errors.js';
import { alive, cleanTemps, ensureDir, tempPath, writeFileSynced } from './files.js';

interface Holder {
  pid: number;
  host: string;
  command: string;
  since: string;
  leaseUntil: string;
}

export interface Lock {
  release(): void;
}

function readHolder(file: string): Holder | undefined | 'absent' {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Holder;
    return typeof h?.pid === 'number' ? h : undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : undefined;
  }
}

const same = (a: Holder, b: Holder): boolean => a.pid === b.pid && a.host === b.host && a.since === b.since;
const ageMs = (file: string): number => {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
};

/** A holder that cannot hold any more: its lease ran out, or it was on this host and its process is gone. */
export function isStale(h: Holder, now: number): boolean {
  return new Date(h.leaseUntil).getTime() < now || (h.host === hostname() && !alive(h.pid));
}

/** Link a complete record into place; false when the file already exists. */
function linkNew(file: string, h: Holder): boolean {
  const tmp = tempPath(file);
  try {
    writeFileSynced(tmp, JSON.stringify(h) + '\n', 0o600, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw e;
  }
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
  }
}

/**
 * Replace `file` with `next` if it still holds `expected` (undefined: an unreadable record),
 * under `file.guard`, itself a link()ed holder record that is stale like any lock.
 */
function replaceIf(file: string, expected: Holder | undefined, next: Holder): boolean {
  const guard = `${file}.guard`;
  const me: Holder = { ...next, command: 'lock takeover', leaseUntil: new Date(Date.now() + 10_000).toISOString() };
  if (!linkNew(guard, me)) {
    // Only a guard whose holder died inside this short section is removed (a kill -9 in the
    // microseconds it is held); a guard that is merely gone is taken by link(), never unlinked.
    const g = readHolder(guard);
    if (g !== 'absent' && !(g ? isStale(g, Date.now()) : ageMs(guard) > 5000)) return false;
    if (g !== 'absent')
      try {
        unlinkSync(guard);
      } catch {
        /* another run removed it */
      }
    if (!linkNew(guard, me)) return false;
  }
  try {
    const cur = readHolder(file);
    if (cur === 'absent') return linkNew(file, next);
    if (expected ? !cur || !same(cur, expected) : cur !== undefined) return false;
    const tmp = tempPath(file);
    try {
      writeFileSynced(tmp, JSON.stringify(next) + '\n', 0o600, file);
      renameSync(tmp, file);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        /* never created */
      }
      throw e;
    }
    return true;
  } finally {
    try {
      unlinkSync(guard);
    } catch {
      /* gone */
    }
  }
}

function describe(file: string, h: Holder): string {
  return `${file} is held by pid ${h.pid} on ${h.host} (${h.command}, since ${h.since}, lease until ${h.leaseUntil})`;
}

/** Take `name.lock` in `stateDir`, or throw LockedError naming the holder. Renewed while held. */
export function acquireLock(
  stateDir: string,
  name: string,
  command: string,
  leaseSeconds: number,
  now = new Date(),
): Lock {
  ensureDir(stateDir);
  cleanTemps(stateDir);
  const file = join(stateDir, `${name}.lock`);
  const lease = (t: number) => new Date(t + leaseSeconds * 1000).toISOString();
  const since = now.toISOString();
  let me: Holder = { pid: process.pid, host: hostname(), command, since, leaseUntil: lease(now.getTime()) };
  let got = false;
  for (let attempt = 0; attempt < 3 && !got; attempt++) {
    if (linkNew(file, me)) {
      got = true;
      break;
    }
    const h = readHolder(file);
    if (h === 'absent') continue; // released meanwhile
    // An unreadable record cannot come from this hactl (records are linked in whole); an old one is stale.
    if (!h && ageMs(file) < 5000) throw new LockedError(`${file} is being taken by another run right now`);
    if (h && !isStale(h, now.getTime())) throw new LockedError(describe(file, h));
    got = replaceIf(file, h, me);
  }
  if (!got) {
    const h = readHolder(file);
    throw new LockedError(h && h !== 'absent' ? describe(file, h) : `${file}: another run took the lock over first`);
  }
  let released = false;
  // Renew a third of the way into each lease. unref: the renewal never keeps a finished run alive.
  const renew = setInterval(
    () => {
      const next = { ...me, leaseUntil: lease(Date.now()) };
      try {
        if (replaceIf(file, me, next)) me = next;
      } catch {
        /* next tick tries again */
      }
    },
    Math.max(1000, (leaseSeconds * 1000) / 3),
  );
  renew.unref();
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(renew);
    process.removeListener('exit', release);
    const cur = readHolder(file);
    if (cur && cur !== 'absent' && same(cur, me)) {
      try {
        unlinkSync(file);
      } catch {
        /* gone already */
      }
    }
  };
  process.once('exit', release);
  return { release };
}

/**
 * A short critical section over a small shared file (read-modify-write), for
 * runs that hold different command locks. Waits up to `waitMs`. The section's
 * lock is a holder record like any lock: a holder killed inside it (its pid gone
 * on this host) is taken over at once; one on another host after `staleMs`.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, waitMs = 5000, staleMs = 15000): Promise<T> {
  const lock = `${file}.lock`;
  const until = Date.now() + waitMs;
  ensureDir(dirname(file));
  let me: Holder;
  for (;;) {
    const t = Date.now();
    me = {
      pid: process.pid,
      host: hostname(),
      command: `update ${basename(file)}`,
      since: new Date(t).toISOString() + `#${Math.random().toString(36).slice(2, 8)}`,
      leaseUntil: new Date(t + staleMs).toISOString(),
    };
    if (linkNew(lock, me)) break;
    const h = readHolder(lock);
    if (h === 'absent') continue;
    const stale = h ? isStale(h, t) : ageMs(lock) > 5000;
    if (stale && replaceIf(lock, h, me)) break;
    if (Date.now() > until) throw new LockedError(`${lock} is held by another run for more than ${waitMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
  }
  try {
    return await fn();
  } finally {
    try {
      const cur = readHolder(lock);
      if (cur && cur !== 'absent' && same(cur, me)) unlinkSync(lock);
    } catch {
      /* gone */
    }
  }
}
