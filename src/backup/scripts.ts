// Every shell fragment of the backup domain, named, each value through shq.
// They run at a Place (a host over SSH, or the witness by sh -c), always from
// the login's home. Paths are passed through arg(), so that a configured or
// discovered name that starts with '-' is never read as an option.
import { shq } from '../adapters/shell.js';

/** A path as one quoted shell word that no command reads as an option. */
export function arg(path: string): string {
  return shq(path.startsWith('-') ? `./${path}` : path);
}

/**
 * The one counting rule (see TreeCount): every entry that is not a folder, by
 * the size find reports. rsync's --stats counts the same (its files less its
 * folders, and the total file size), symlinks and specials included.
 */
const COUNT = `! -type d -printf '%s\\n' | awk '{n++; b+=$1} END {printf "%d %d\\n", n, b}'`;

/** MISSING, EMPTY (nothing but folders and our SQLite copies) or OK. */
export function sourceStateScript(path: string): string {
  const dir = arg(`${path}/`);
  const any = `find ${dir} ! -type d ! -path '*/.hactl-sqlite/*' -print -quit`;
  return `if [ ! -d ${arg(path)} ]; then echo MISSING; elif [ -z "$(${any})" ]; then echo EMPTY; else echo OK; fi`;
}

/** A destination folder that does not exist (yet): the free space of its nearest existing parent. */
export function freeSpaceAboveScript(path: string): string {
  const df = `df -Pk -- "$d" | awk 'NR==2 {print $4}'`;
  return `d=${arg(path)}; while [ ! -d "$d" ]; do d=$(dirname -- "$d"); done; ${df}`;
}

export function isDirScript(path: string): string {
  return `[ -d ${arg(path)} ] && echo YES || echo NO`;
}

/** FREE <KB>, LATEST <name>, then the folder's entries; creates the folder first unless told not to. */
export function destStateScript(path: string, create: boolean): string {
  const mk = create ? `mkdir -p -- ${arg(path)} && ` : '';
  const free = `echo "FREE $(df -Pk . | awk 'NR==2 {print $4}')"`;
  return `${mk}cd -- ${arg(path)} && ${free} && echo "LATEST $(readlink latest 2>/dev/null)" && ls -1A`;
}

/** Removes entries of a folder (each a plain name in it). */
export function removeEntriesScript(dir: string, names: string[]): string {
  return `cd -- ${arg(dir)} && rm -rf -- ${names.map(arg).join(' ')}`;
}

export function removeTreeScript(path: string): string {
  return `rm -rf -- ${arg(path)}`;
}

/**
 * The destination's guard, run by the remote shell just before rsync's server
 * starts, in rsync's own SSH connection (--rsync-path): make the folder, refuse
 * below the free-space floor (exit 97, 'hactl-refused free=KB'), say which
 * snapshot `latest` names, and remove the leftovers of a killed run.
 */
export function guardedRsyncPath(destPath: string, minFreeMB: number): string {
  const floorKB = Math.ceil(minFreeMB * 1024);
  const free = `f=$(df -Pk . | awk 'NR==2 {print $4}')`;
  const refuse = `if [ "$f" -lt ${floorKB} ]; then echo "hactl-refused free=$f" >&2; exit 97; fi`;
  const latest = `echo "hactl-latest $(readlink latest 2>/dev/null)" >&2`;
  const d = arg(destPath);
  const prepare = `cd "$HOME" && mkdir -p -- ${d} && cd -- ${d} && ${free} && ${refuse} && ${latest}`;
  return `${prepare} && rm -rf -- .incomplete-* && cd "$HOME" && rsync`;
}

/** COUNT <files> <bytes> of a folder in `dir`, then ENTRIES and the entries of `dir`. */
export function countAndListScript(dir: string, sub: string): string {
  return `cd -- ${arg(dir)} && echo "COUNT $(find ${arg(`${sub}/`)} ${COUNT})" && echo ENTRIES && ls -1A`;
}

/**
 * Into place: tmp renamed to name, `latest` swapped atomically (then COMMITTED
 * is said), then the pruned snapshots removed.
 */
export function commitScript(dir: string, tmp: string, name: string, prune: string[]): string {
  const pointer = `ln -sfn -- ${arg(name)} .latest.tmp && mv -T -- .latest.tmp latest`;
  const rm = prune.length ? ` && rm -rf -- ${prune.map(arg).join(' ')}` : '';
  return `cd -- ${arg(dir)} && mv -T -- ${arg(tmp)} ${arg(name)} && ${pointer} && echo COMMITTED${rm}`;
}

/** Set aside for inspection. */
export function rejectScript(dir: string, tmp: string, rejected: string): string {
  return `cd -- ${arg(dir)} && mv -T -- ${arg(tmp)} ${arg(rejected)}`;
}

/** Files under a folder, NUL-separated, as ./name, leaving our own SQLite copies out. */
export function listFilesScript(path: string): string {
  return `cd -- ${arg(path)} && find . -type f ! -path './.hactl-sqlite/*' -print0`;
}

/**
 * A consistent copy of one SQLite database (online backup API), checked with
 * quick_check, then moved to its name under .hactl-sqlite. `tmp` is our own
 * plain name; the database is passed as ./NAME, so that a name like -x.sqlite
 * is never read as an option by sqlite3 (which takes no '--').
 */
export function sqliteCopyScript(path: string, file: string, tmp: string, copy: string): string {
  const db = shq(`./${file}`);
  const t = shq(tmp);
  const check = `[ "$(sqlite3 ${shq(`./${tmp}`)} 'PRAGMA quick_check;')" = ok ]`;
  const parent = copy.includes('/') ? copy.slice(0, copy.lastIndexOf('/')) : '.';
  const place = `mkdir -p -- ${arg(parent)} && mv -f -- ${t} ${arg(copy)}`;
  const backup = `sqlite3 -bail ${db} ${shq(`.backup ${tmp}`)}`;
  return `cd -- ${arg(path)} && mkdir -p .hactl-sqlite && rm -f -- ${t} && ${backup} && ${check} && ${place}`;
}

/** The copies we keep under .hactl-sqlite (NUL-separated), our temporaries left out. */
export function sqliteCopiesScript(path: string): string {
  return `cd -- ${arg(path)} && if [ -d .hactl-sqlite ]; then find .hactl-sqlite -type f ! -name '.tmp-*' -print0; fi`;
}

export function removeFilesScript(path: string, files: string[]): string {
  return `cd -- ${arg(path)} && rm -f -- ${files.map(arg).join(' ')}`;
}

/** LATEST <name>, then one line per snapshot: NAME FILES BYTES (counted by the one rule). */
export function listSnapshotsScript(path: string): string {
  const name = '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z';
  const each = `case "$s" in ${name}) printf '%s ' "$s"; find "$s/" ${COUNT};; esac`;
  const latest = 'echo "LATEST $(readlink latest 2>/dev/null)"';
  return `cd -- ${arg(path)} 2>/dev/null || exit 0; ${latest}; for s in *; do ${each}; done`;
}

export function readLinkScript(path: string): string {
  return `readlink -- ${arg(path)}`;
}
