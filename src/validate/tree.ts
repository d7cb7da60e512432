// Walking and reading a memory tree for the validator: the one place validate
// touches the disk. Names are read as bytes and must be UTF-8 (a name that is
// not is reported by name, never guessed at). Only regular files are opened,
// with O_NOFOLLOW|O_NONBLOCK and checked again on the open descriptor, so a
// FIFO, a device or a link swapped in is never read and nothing hangs;
// symlinks are never followed. A file over the size cap is not read. Files are
// read one at a time: memory stays bounded by the cap, whatever the tree.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  type Dirent,
  type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Problem } from './problem.js';
import type { checkBytes } from './check.js';
import type { CompiledRules } from './rules.js';
import { openCache, type DirCache, type Listing } from './cache.js';
import { checkInParallel } from './pool.js';
import { monotonicMs } from '../adapters/clock.js';

export interface ValidateReport {
  files: number;
  bytes: number;
  invalid: string[]; // files with at least one problem, sorted
  problems: Problem[]; // sorted by file, line, col
  warnings: Problem[]; // things named but not read: non-regular files, symlinks
  ms: number;
}

export interface TreeOptions {
  only?: string[]; // these files (relative to root); the whole tree when any of them is not a regular file there
  exact?: boolean; // `only` as given, even when one is not a regular file (a PATH named by the user)
  cacheDir?: string; // keep a cache of files found valid here (the state dir), keyed on size, mtime, ctime, inode
  maxFileMB?: number;
}

export const DEFAULT_MAX_FILE_MB = 5;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A name's bytes as rsync shows them: printable ASCII as is, every other byte as \#ooo. */
export function escapeBytes(b: Uint8Array): string {
  let s = '';
  for (const c of b)
    s += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\#${c.toString(8).padStart(3, '0')}`;
  return s;
}

interface Walked {
  files: string[];
  problems: Problem[];
  warnings: Problem[];
}

function kindOf(e: Dirent<Buffer> | Stats): string {
  if (e.isSymbolicLink()) return 'a symbolic link (not followed)';
  if (e.isFIFO()) return 'a FIFO (named pipe)';
  if (e.isSocket()) return 'a socket';
  if (e.isBlockDevice() || e.isCharacterDevice()) return 'a device';
  return 'not a regular file';
}

const MEMORY_EXT = /\.(?:json|ya?ml|md|markdown)$/i;

/** Every regular file under root (relative, '/'-separated, sorted), and what was not read, and why. */
export function walk(root: string, ignore: (p: string) => boolean = () => false, dirCache?: DirCache): Walked {
  const out: Walked = { files: [], problems: [], warnings: [] };
  const stack: string[] = [''];
  while (stack.length) {
    const rel = stack.pop()!;
    const under = (name: string) => (rel ? `${rel}/${name}` : name);
    const hit = dirCache?.get(rel);
    if (hit) {
      for (const f of hit.files) out.files.push(under(f));
      for (const d of hit.dirs) stack.push(under(d));
      continue;
    }
    // Cached only when everything in it is a plain file or directory: anything reported is reported every run.
    const listing: Listing | undefined = dirCache ? { files: [], dirs: [] } : undefined;
    const reported = out.problems.length + out.warnings.length;
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      out.problems.push({
        file: rel || '.',
        line: 1,
        col: 1,
        message: `cannot read directory: ${(e as NodeJS.ErrnoException).code}`,
      });
      continue;
    }
    for (const e of entries) {
      let name: string;
      try {
        name = utf8.decode(e.name);
      } catch {
        const shown = (rel ? `${rel}/` : '') + escapeBytes(e.name);
        out.problems.push({
          file: shown,
          line: 1,
          col: 1,
          message: 'name is not valid UTF-8; rename it (memory file names must be UTF-8)',
        });
        continue;
      }
      const path = rel ? `${rel}/${name}` : name;
      if (ignore(path)) continue;
      const st: Dirent<Buffer> | Stats = e.isFile() || e.isDirectory() ? e : lstatSync(join(root, path));
      if (st.isDirectory()) {
        if (MEMORY_EXT.test(name))
          out.warnings.push({
            file: path,
            line: 1,
            col: 1,
            message: 'a directory named like a memory file; its contents are checked',
            warning: true,
          });
        stack.push(path);
        listing?.dirs.push(name);
      } else if (st.isFile()) {
        out.files.push(path);
        listing?.files.push(name);
      } else out.warnings.push({ file: path, line: 1, col: 1, message: `${kindOf(st)}: not read`, warning: true });
    }
    if (listing && out.problems.length + out.warnings.length === reported) dirCache!.put(rel, listing);
  }
  out.files.sort();
  return out;
}

/** Every regular file under root with a UTF-8 name (relative, '/'-separated), sorted. */
export async function listFiles(root: string): Promise<string[]> {
  return walk(root).files;
}

type Read = { buf: Buffer } | { problem: string; warning?: boolean };

/** Reads a regular file, at most maxBytes, without following a link and without blocking on a FIFO. */
function readCapped(abs: string, maxBytes: number): Read {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return { problem: 'a symbolic link (not followed): not read', warning: true };
    return { problem: `cannot read: ${code ?? (e as Error).message}` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { problem: `${kindOf(st)}: not read`, warning: true };
    if (st.size > maxBytes)
      return { problem: `file is too large: ${mb(st.size)} (limit ${mb(maxBytes)}, validate.maxFileMB)` };
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return { buf: got === st.size ? buf : buf.subarray(0, got) };
  } finally {
    closeSync(fd);
  }
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

export interface Checked {
  problems: Problem[];
  warnings: Problem[];
  bytes: number;
}

export type Check = typeof checkBytes;

/** Reads and checks files one at a time (memory bounded by the cap); the checker is loaded only when needed. */
export function checkFiles(
  root: string,
  files: string[],
  rules: CompiledRules['rules'],
  maxBytes: number,
  check: Check,
): Checked {
  const out: Checked = { problems: [], warnings: [], bytes: 0 };
  for (const rel of files) {
    const r = readCapped(join(root, rel), maxBytes);
    if ('problem' in r) {
      (r.warning ? out.warnings : out.problems).push({
        file: rel,
        line: 1,
        col: 1,
        message: r.problem,
        warning: r.warning,
      });
      continue;
    }
    out.bytes += r.buf.length;
    for (const p of check(rel, r.buf, rules)) out.problems.push({ file: rel, ...p });
  }
  return out;
}

/** Validates the given files (relative to root), or every file under root. */
export async function validateTree(
  root: string,
  compiled: CompiledRules,
  opts: TreeOptions = {},
): Promise<ValidateReport> {
  const t0 = monotonicMs();
  const maxFileMB = opts.maxFileMB ?? DEFAULT_MAX_FILE_MB;
  const only = opts.only?.filter((f) => !compiled.ignore(f));
  const cache = opts.cacheDir ? openCache(opts.cacheDir, root, compiled, maxFileMB) : undefined;
  // A changed file that is not a regular file where rsync put it: trust nothing, check the whole tree.
  const w: Walked =
    only && (opts.exact || only.every((f) => isRegular(join(root, f))))
      ? { files: only, problems: [], warnings: [] }
      : walk(root, compiled.ignore, cache?.dirs);
  const todo = cache ? w.files.filter((f) => !cache.fresh(f)) : w.files;
  const r = await checkInParallel(root, todo, compiled, maxFileMB * 1024 * 1024);
  const problems = [...w.problems, ...r.problems];
  const warnings = [...w.warnings, ...r.warnings];
  const order = (a: Problem, b: Problem) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col;
  problems.sort(order);
  warnings.sort(order);
  const invalid = [...new Set(problems.map((p) => p.file))];
  cache?.save(new Set([...invalid, ...warnings.map((p) => p.file)]));
  return {
    files: w.files.length + w.problems.length,
    bytes: r.bytes + (cache?.skippedBytes ?? 0),
    invalid,
    problems,
    warnings,
    ms: monotonicMs() - t0,
  };
}

function isRegular(abs: string): boolean {
  try {
    return lstatSync(abs).isFile();
  } catch {
    return false;
  }
}

/** A directory validates as its tree; anything else as itself (a FIFO or device is named, never read). */
export async function validatePath(path: string, compiled: CompiledRules, opts: TreeOptions = {}) {
  const st = lstatSync(path);
  if (st.isDirectory()) return { ...(await validateTree(path, compiled, opts)), root: path, single: false };
  const root = dirname(path);
  return {
    ...(await validateTree(root, compiled, { ...opts, only: [basename(path)], exact: true })),
    root,
    single: true,
  };
}
