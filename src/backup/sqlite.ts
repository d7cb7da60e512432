// Consistent copies of live SQLite databases, made on the source host with
// SQLite's online backup API (sqlite3 .backup) into <source>/.hactl-sqlite/,
// each checked with PRAGMA quick_check. The live files (and their
// -wal/-shm/-journal) are kept out of the snapshot by filter rules.
import { lastLine, type Place } from './places.js';
import { rsyncLiteral } from './plan.js';
import * as sh from './scripts.js';

export async function sqliteCopies(
  src: Place,
  path: string,
  globs: string[],
  timeout: number,
): Promise<{ copied: string[]; filters: string[] }> {
  if (!globs.length) return { copied: [], filters: [] };
  const { default: picomatch } = await import('picomatch');
  const match = picomatch(globs, { dot: true });
  const list = await src.exec(sh.listFilesScript(path), timeout);
  if (list.code !== 0) throw new Error(`${src.label}: cannot list ${path}: ${list.stderr.trim()}`);
  const files = list.stdout
    .split('\0')
    .filter(Boolean)
    .map((f) => f.replace(/^\.\//, ''))
    .filter((f) => match(f));
  const copied: string[] = [];
  for (const [i, f] of files.entries()) {
    const r = await src.exec(sh.sqliteCopyScript(path, f, `.hactl-sqlite/.tmp-${i}`, `.hactl-sqlite/${f}`), timeout);
    if (r.code !== 0) throw new Error(`${src.label}: consistent copy of SQLite database ${f} failed: ${lastLine(r)}`);
    copied.push(f);
  }
  // Copies of databases that are gone (or no longer match) would otherwise live on in every snapshot.
  const old = await src.exec(sh.sqliteCopiesScript(path), timeout);
  const kept = old.stdout.split('\0').filter(Boolean);
  const stale = kept.filter((p) => !copied.includes(p.replace(/^\.hactl-sqlite\//, '')));
  if (stale.length) await src.exec(sh.removeFilesScript(path, stale), timeout);
  const filters = files.flatMap((f) => ['', '-wal', '-shm', '-journal'].map((x) => `- /${rsyncLiteral(f)}${x}`));
  return { copied, filters };
}
