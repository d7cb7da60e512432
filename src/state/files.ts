// The only module that writes files in the state directory.
// Writes are atomic: temp file in the same directory, fsync, rename, fsync dir.
// Reads are checked against a schema; a corrupt or unknown-version file is an
// error naming the file (CorruptFileError), never a silent reset: a caller that can
// rebuild it sets it aside (setAside) and alerts (src/state/recover.ts).
// Longer than 300 lines because every write and read of the state directory is here, in one place.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  chmodSync,
  statSync,
  writeSync,
  unlinkSync,
  fstatSync,
  fchmodSync,
  ftruncateSync,
  readSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ActionError, StateError } from '../errors.js';
import { describeAjvError, loadValidator } from '../validators.js';
import { redact } from '../output.js';
import { randomHex } from '../adapters/random.js';
/** Creates `dir` and missing parents, 0700; or exactly `mode` (umask aside) for those it creates. */
export function ensureDir(dir: string, mode = 0o700): void {
  const first = mkdirSync(dir, { recursive: true, mode });
  if (first && mode !== 0o700) for (let d = dir; d.length >= first.length; d = dirname(d)) chmodSync(d, mode);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A temp name beside `file`: `.NAME.PID.RAND.tmp`. The pid lets cleanTemps tell a dead writer's leftovers;
 * RAND is random (randomHex). Not a count: a run killed between create and rename leaves `.NAME.PID.00000000.tmp`,
 * and a later run given the same pid would meet it, fail its 'wx' open with EEXIST, and cleanTemps would
 * keep it (that pid is alive again).
 */
export function tempPath(file: string): string {
  const n = randomHex(4);
  return join(dirname(file), `.${basename(file)}.${process.pid}.${n}.tmp`);
}

// `.NAME.PID.RAND.tmp` (RAND: 8 hex digits), or `.NAME.PID.tmp` as earlier versions wrote them.
const TEMP = [/^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/, /^\..+\.(\d+)\.tmp$/];

/**
 * Removes temp files left in `dir` by writers that died between create and rename (kill -9,
 * power loss): their pid is gone, or the file is over an hour old (a reused pid).
 */
export function cleanTemps(dir: string): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const m = TEMP[0]!.exec(name) ?? TEMP[1]!.exec(name);
    if (!m) continue;
    const f = join(dir, name);
    try {
      if (alive(Number(m[1])) && Date.now() - statSync(f).mtimeMs < 3600_000) continue;
      unlinkSync(f);
      n++;
    } catch {
      /* removed by another run */
    }
  }
  return n;
}

/** Why a write failed, said plainly: a full disk is the usual one. */
function writeFailure(file: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (e instanceof ActionError) return e;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const what = `${file}: cannot write: no space left on ${dirname(file)} (${code}); the previous version is kept`;
    return new ActionError(what, `free space on the file system of ${dirname(file)}, then run again`);
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new ActionError(
      `${file}: cannot write (${code}); the previous version is kept`,
      `make ${dirname(file)} writable by the user running hactl`,
    );
  }
  return e as Error;
}

/**
 * Write `text` to a new file and fsync it (no rename). A short write is continued until the
 * kernel says why it stopped (ENOSPC): a truncated file is never left for a rename.
 * Failures are said plainly, naming `shownAs` (the file the temp file stands for).
 */
export function writeFileSynced(file: string, text: string, mode = 0o600, shownAs = file, exact = false): void {
  const buf = Buffer.from(text);
  let fd: number;
  try {
    fd = openSync(file, 'wx', mode);
  } catch (e) {
    throw writeFailure(shownAs, e);
  }
  try {
    if (exact) fchmodSync(fd, mode); // exactly `mode`: the umask (cron's 077) narrowed open's
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
    fsyncSync(fd);
  } catch (e) {
    throw writeFailure(shownAs, e);
  } finally {
    closeSync(fd);
  }
}

/**
 * `syncDir: false`: no fsync of the directory (the file's own stays): a power loss may then keep the previous
 * content, whole. Only for a record whose previous one says the same (a no-change memory.json, issue 25).
 */
export function writeAtomic(
  file: string,
  text: string,
  mode = 0o600,
  exact = false,
  dirMode?: number,
  syncDir = true,
): void {
  ensureDir(dirname(file), dirMode);
  const tmp = tempPath(file);
  try {
    writeFileSynced(tmp, text, mode, file, exact);
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw writeFailure(file, e);
  }
  if (!syncDir) return;
  const dfd = openSync(dirname(file), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * State is written as it is: never redacted. Redaction replaces text equal to a secret, and a
 * secret may equal a state word ("primary"): state.json would then say "***" and be set aside.
 * Secrets are kept out of state at their source; text that leaves hactl (output, logs, the
 * history, alerts) is redacted on its way out.
 */
export function writeJson(file: string, data: unknown): void {
  writeAtomic(file, JSON.stringify(data, null, 2) + '\n');
}

/** Every string value redacted, never a key nor the JSON around them: the line always parses. */
export function redactValues(data: unknown): unknown {
  if (typeof data === 'string') return redact(data);
  if (Array.isArray(data)) return data.map(redactValues);
  if (data && typeof data === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) out[k] = redactValues(v);
    return out;
  }
  return data;
}

/** A state file that exists but cannot be trusted: unparseable, an unknown version, or failing its schema. */
export class CorruptFileError extends StateError {
  constructor(
    readonly file: string,
    readonly why: string,
    message: string,
    hint: string,
  ) {
    super(message, hint);
  }
}

/** `2026-12-01T22-20-05.123Z`: an ISO time that is a safe file name part. */
export const fileTime = (now: Date): string => now.toISOString().replace(/:/g, '-');

/**
 * Moves a corrupt file out of the way, kept for inspection as `FILE.corrupt-<time>` (0600).
 * Returns the new path. A rename: the bytes are kept as they were, and a run that reads the
 * file after this sees it absent.
 */
export function setAside(file: string, now: Date): string {
  const to = `${file}.corrupt-${fileTime(now)}`;
  renameSync(file, to);
  chmodSync(to, 0o600);
  return to;
}

/** Reads a JSON state file; undefined when absent. Schema `name` is a schema/NAME.schema.json. */
export async function readJson<T>(file: string, schema: string): Promise<T | undefined> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateError(`${file}: cannot read: ${(e as Error).message}`, 'check the state directory permissions');
  }
  const hint =
    'inspect it; if it cannot be repaired, move it aside (hactl then starts from "primary serving")' +
    ' and run hactl check';
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const why = `not JSON: ${(e as Error).message}`;
    throw new CorruptFileError(file, why, `${file}: corrupt state file: ${(e as Error).message}`, hint);
  }
  const v = (data as { version?: unknown } | null)?.version;
  if (v !== 1) {
    const what = `${file}: unknown state version ${JSON.stringify(v)} (this hactl reads version 1)`;
    const why = `unknown version ${JSON.stringify(v)}`;
    throw new CorruptFileError(file, why, what, 'use the hactl version that wrote it, or ' + hint);
  }
  const validate = await loadValidator(schema);
  if (!validate(data)) {
    const why = (validate.errors ?? []).slice(0, 3).map(describeAjvError).join('; ');
    throw new CorruptFileError(file, `invalid: ${why}`, `${file}: invalid state file: ${why}`, hint);
  }
  return data as T;
}

const PAGE = 4096;

/**
 * One JSON line per run, appended with O_APPEND. Linux may stop a write to a file at a page
 * boundary when its writer gets SIGKILL, so a line that would cross one is moved to the next page
 * behind empty lines (readers skip empty lines): a kill then leaves the line whole or absent.
 * A line longer than a page cannot be placed so (appendHistory cuts such a remnant back). A short
 * write (disk full) is cut back, so the history never holds half a line.
 */
export function appendLine(file: string, data: unknown): void {
  ensureDir(dirname(file));
  const buf = Buffer.from(JSON.stringify(redactValues(data)) + '\n');
  const fd = openSync(file, 'a', 0o600);
  try {
    const room = PAGE - (fstatSync(fd).size % PAGE);
    if (buf.length <= PAGE && buf.length > room) {
      appendAll(fd, file, Buffer.alloc(room, 0x0a)); // empty lines up to the page boundary
    }
    appendAll(fd, file, buf);
  } finally {
    closeSync(fd);
  }
}

/** One write of `buf` at the end of the file; a short one is cut back and reported. */
function appendAll(fd: number, file: string, buf: Buffer): void {
  let n: number;
  try {
    n = writeSync(fd, buf);
  } catch (e) {
    throw writeFailure(file, e);
  }
  if (n < buf.length) {
    // Ours is the tail unless another run appended meanwhile; cut only our own bytes.
    const size = fstatSync(fd).size;
    try {
      ftruncateSync(fd, size - n);
    } catch {
      /* leave it; readers skip a broken line */
    }
    throw writeFailure(file, Object.assign(new Error('short write'), { code: 'ENOSPC' }));
  }
}

/**
 * Cuts a line that does not end in a newline off the end of the file: the remnant of a writer
 * killed mid-line. Only safe while no other writer can be mid-line (appendHistory's section).
 */
export function cutPartialTail(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    let pos = fstatSync(fd).size;
    const chunk = Buffer.alloc(PAGE);
    if (!pos || (readSync(fd, chunk, 0, 1, pos - 1) === 1 && chunk[0] === 0x0a)) return;
    while (pos > 0) {
      const from = Math.max(0, pos - PAGE);
      const n = readSync(fd, chunk, 0, pos - from, from);
      const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (nl >= 0) return ftruncateSync(fd, from + nl + 1);
      pos = from;
    }
    ftruncateSync(fd, 0);
  } finally {
    closeSync(fd);
  }
}
