// The only module that writes files in the state directory.
// Writes are atomic: temp file in the same directory, fsync, rename, fsync dir.
// Reads are checked against a schema; a corrupt or unknown-version file is an
// error naming the file, never a silent reset.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, appendFileSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StateError } from '../errors.js';
import { describeAjvError, loadValidator } from '../validators.js';
import { redact } from '../output.js';

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function writeAtomic(file: string, text: string, mode = 0o600): void {
  ensureDir(dirname(file));
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  const dfd = openSync(dirname(file), 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}

export function writeJson(file: string, data: unknown): void {
  writeAtomic(file, redact(JSON.stringify(data, null, 2)) + '\n');
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
  const hint = `inspect it; if it cannot be repaired, move it aside (hactl then starts from "primary serving") and run hactl check`;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new StateError(`${file}: corrupt state file: ${(e as Error).message}`, hint);
  }
  const v = (data as { version?: unknown } | null)?.version;
  if (v !== 1) throw new StateError(`${file}: unknown state version ${JSON.stringify(v)} (this hactl reads version 1)`, 'use the hactl version that wrote it, or ' + hint);
  const validate = await loadValidator(schema);
  if (!validate(data)) {
    throw new StateError(`${file}: invalid state file: ${(validate.errors ?? []).slice(0, 3).map(describeAjvError).join('; ')}`, hint);
  }
  return data as T;
}

/** One JSON line per run. Appends of < PIPE_BUF bytes with O_APPEND do not interleave. */
export function appendLine(file: string, data: unknown): void {
  ensureDir(dirname(file));
  appendFileSync(file, redact(JSON.stringify(data)) + '\n', { mode: 0o600 });
}
