// What the backup domain looks at before it decides: the source, the
// destination folder, and a copy that has arrived. Each is one named script
// (scripts.ts) at a Place, read into plain data for plan.ts.
import { parseSnapshot } from './retention.js';
import { lastLine, type Place } from './places.js';
import type { TreeCount } from './types.js';
import * as sh from './scripts.js';

/** Source guard: 'missing', 'empty', or 'ok'. */
export async function sourceState(src: Place, path: string, timeout: number): Promise<'missing' | 'empty' | 'ok'> {
  const r = await src.exec(sh.sourceStateScript(path), timeout);
  const s = r.stdout.trim();
  if (r.code !== 0 || !s) throw new Error(`${src.label}: cannot look at ${path}: ${(r.stderr || r.stdout).trim()}`);
  return s === 'MISSING' ? 'missing' : s === 'EMPTY' ? 'empty' : 'ok';
}

export interface DestState {
  entries: string[];
  latest: string | null;
  freeKB: number;
}

/** The destination's entries, its latest pointer, its free space. Creates the folder unless told not to (--dry-run). */
export async function destState(dst: Place, path: string, timeout: number, create = true): Promise<DestState> {
  if (!create) {
    const e = await dst.exec(sh.isDirScript(path), timeout);
    if (e.stdout.trim() !== 'YES') {
      const f = await dst.exec(sh.freeSpaceAboveScript(path), timeout);
      return { entries: [], latest: null, freeKB: Number(f.stdout.trim()) || 0 };
    }
  }
  const r = await dst.exec(sh.destStateScript(path, create), timeout);
  if (r.code !== 0) throw new Error(`${dst.label}: cannot prepare ${path}: ${lastLine(r)}`);
  const freeKB = Number(/^FREE (\d+)/m.exec(r.stdout)?.[1] ?? 0);
  const latest = /^LATEST (.*)$/m.exec(r.stdout)?.[1]?.trim() || null;
  const entries = r.stdout.split('\n').filter((l) => l && !/^(FREE|LATEST) /.test(l));
  return { entries, latest: latest && parseSnapshot(latest) ? latest : null, freeKB };
}

/** What the guard in rsync's own connection said (scripts.guardedRsyncPath), from rsync's stderr. */
export function guardSaid(stderr: string): { refusedFreeKB?: number; latest: string | null } {
  const f = /^hactl-refused free=(\d+)/m.exec(stderr)?.[1];
  const l = /^hactl-latest (.*)$/m.exec(stderr)?.[1]?.trim() ?? '';
  return { refusedFreeKB: f === undefined ? undefined : Number(f), latest: parseSnapshot(l) ? l : null };
}

/** A copy that has arrived in `dir`/`sub`, counted by the one rule, and the entries of `dir`. */
export async function arrived(
  dst: Place,
  dir: string,
  sub: string,
  timeout: number,
): Promise<{ count: TreeCount; entries: string[] }> {
  const r = await dst.exec(sh.countAndListScript(dir, sub), timeout);
  const m = /^COUNT (\d+) (\d+)$/m.exec(r.stdout);
  if (r.code !== 0 || !m) {
    throw new Error(`${dst.label}: cannot count ${dir}/${sub}: ${lastLine(r)}`);
  }
  const entries = r.stdout.split('\nENTRIES\n')[1]?.split('\n').filter(Boolean) ?? [];
  return { count: { files: Number(m[1]), bytes: Number(m[2]) }, entries };
}
