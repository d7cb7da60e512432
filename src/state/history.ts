// history.jsonl: one JSON line per run. Appends from runs that hold different command locks
// are serialized by a short section, inside which the remnant of a writer killed mid-line (a
// line longer than a page; see appendLine) is cut back before the next line goes on.
//
// Rotation (inside the same section, so no appender can be mid-line): when the file is larger
// than maxBytes or its first line older than maxAge, it is renamed history.SEQ.jsonl (SEQ one
// more than any before) and its lines are folded into history-stats.json, whose `seq` says
// which rotated files are already in it. Each step is one atomic rename or write, so a kill -9
// between any two leaves a state the next reader counts exactly once:
//   rename done, fold not:  history.SEQ.jsonl has SEQ > seq: readers fold it themselves, and
//                           the next rotation folds it first;
//   fold done, prune not:   files with SEQ <= seq are only for listing; stats never re-read them.
// Only `keep` rotated files are kept for `hactl history` to list; the stats cover all time.
import { readdirSync, readFileSync, renameSync, statSync, unlinkSync, openSync, readSync, closeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { appendLine, cutPartialTail, readJson, writeJson } from './files.js';
import { withFileLock } from './lock.js';
import { emptyStats, foldEntries, type Entry, type HistoryStats, type Pair } from '../operator/history-stats.js';

export interface RotatePolicy {
  maxBytes: number;
  maxAgeSeconds: number;
  keep: number;
  pair: Pair;
}

export interface StatsFile {
  version: 1;
  seq: number;
  stats: HistoryStats;
}

/** Where a rotation may stop when a test simulates a kill -9 (each is right after one effect). */
export type CrashPoint = 'after-rename' | 'after-fold';

export async function appendHistory(file: string, data: unknown, rotate?: RotatePolicy): Promise<void> {
  await withFileLock(
    file,
    async () => {
      cutPartialTail(file);
      appendLine(file, data);
      if (!rotate) return;
      // The age is the lines' own: the new line's date against the first line's (a calendar retention,
      // maxAgeDays). No clock of this process is read; a line without a date rotates by size only.
      const at = Date.parse(String((data as { at?: unknown })?.at));
      try {
        if (rotationDue(file, rotate, Number.isNaN(at) ? undefined : at)) await rotateLocked(file, rotate);
      } catch (e) {
        // The line is written; a rotation that failed is tried again by the next run.
        process.stderr.write(`hactl: warning: ${file}: rotation failed: ${(e as Error).message}\n`);
      }
    },
    30_000,
  );
}

export const statsPath = (file: string): string => join(dirname(file), 'history-stats.json');

/** history.SEQ.jsonl files beside `file`, oldest first. */
export function rotatedFiles(file: string): Array<{ seq: number; path: string }> {
  const dir = dirname(file);
  const stem = basename(file).replace(/\.jsonl$/, '');
  const re = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.jsonl$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ m: re.exec(n), n }))
    .filter((x) => x.m)
    .map((x) => ({ seq: Number(x.m![1]), path: join(dir, x.n) }))
    .sort((a, b) => a.seq - b.seq);
}

/** The parsed lines of one history file; empty (padding) and broken lines are skipped. */
export function readEntries(path: string, only?: (line: string) => boolean): Entry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    if (!line || (only && !only(line))) continue;
    try {
      const v = JSON.parse(line);
      if (v && typeof v === 'object') out.push(v);
    } catch {
      /* a line cut by a crash: never counted */
    }
  }
  return out;
}

function firstTime(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return NaN;
  }
  try {
    const buf = Buffer.alloc(65536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line = buf.subarray(0, n).toString('utf8').split('\n').find(Boolean);
    return line ? Date.parse(JSON.parse(line).at) : NaN;
  } catch {
    return NaN;
  } finally {
    closeSync(fd);
  }
}

/** Larger than maxBytes, or its first line older than maxAge at `now` (ms: a line's date; none: size only). */
export function rotationDue(file: string, p: RotatePolicy, now?: number): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size === 0) return false;
  if (size >= p.maxBytes) return true;
  if (now === undefined) return false;
  const first = firstTime(file);
  return !Number.isNaN(first) && now - first >= p.maxAgeSeconds * 1000;
}

export async function readStatsFile(file: string): Promise<StatsFile> {
  return (await readJson<StatsFile>(statsPath(file), 'history-stats')) ?? { version: 1, seq: 0, stats: emptyStats() };
}

/**
 * Rotates `file` now. Call only inside appendHistory's section (or with no appender running).
 * `crash` stops after that step, as a kill -9 there would (for the tests).
 */
export async function rotateLocked(file: string, p: RotatePolicy, crash?: CrashPoint): Promise<void> {
  let cum = await foldPending(file, p.pair);
  const all = rotatedFiles(file);
  const seq = Math.max(cum.seq, ...all.map((r) => r.seq)) + 1;
  const to = join(dirname(file), `${basename(file).replace(/\.jsonl$/, '')}.${seq}.jsonl`);
  try {
    renameSync(file, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (crash === 'after-rename') return;
  cum = { version: 1, seq, stats: foldEntries(cum.stats, readEntries(to), p.pair) };
  writeJson(statsPath(file), cum);
  if (crash === 'after-fold') return;
  prune(file, cum.seq, p.keep);
}

/** Folds rotated files not yet in the stats file (a rotation killed after its rename). */
async function foldPending(file: string, pair: Pair): Promise<StatsFile> {
  let cum = await readStatsFile(file);
  for (const r of rotatedFiles(file)) {
    if (r.seq <= cum.seq) continue;
    cum = { version: 1, seq: r.seq, stats: foldEntries(cum.stats, readEntries(r.path), pair) };
    writeJson(statsPath(file), cum);
  }
  return cum;
}

/** Removes folded rotated files beyond the newest `keep`. */
function prune(file: string, folded: number, keep: number): void {
  const all = rotatedFiles(file);
  for (const r of all.slice(0, Math.max(0, all.length - keep))) {
    if (r.seq > folded) continue;
    try {
      unlinkSync(r.path);
    } catch {
      /* gone already */
    }
  }
}

/**
 * Stats over all time, without a lock: the stats file, then the rotated files it does not hold
 * yet, then the current file (`only`: a cheap filter of the raw lines, for a caller that needs
 * part of them). A rotation running meanwhile can make one read see a file moved: the stats
 * file is read first, so a line is then counted from its new name (seq > the seq read), never
 * twice; a read that lists the files just before a rotation and reads history.jsonl just after
 * it misses that file's lines once (status then shows them on its next run).
 */
export async function allTimeStats(
  file: string,
  pair: Pair,
  only?: (line: string) => boolean,
): Promise<{ stats: HistoryStats; seq: number }> {
  const cum = await readStatsFile(file);
  let stats = cum.stats;
  for (const r of rotatedFiles(file)) if (r.seq > cum.seq) stats = foldEntries(stats, readEntries(r.path, only), pair);
  return { stats: foldEntries(stats, readEntries(file, only), pair), seq: cum.seq };
}

/** Only the lines that can hold start methods (failover and failback runs): what order: learned needs. */
export const moveLines = (line: string): boolean =>
  line.includes('"command":"failover"') || line.includes('"command":"failback"');

/** Every line still on disk (kept rotated files, then the current one), oldest first. */
export function keptEntries(file: string): Entry[] {
  return [...rotatedFiles(file).flatMap((r) => readEntries(r.path)), ...readEntries(file)];
}
