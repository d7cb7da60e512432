// Reading the config file: regular files only, bounded in size, never blocking.
// A FIFO given as the config would block open(2) and read(2) forever; a device such
// as /dev/zero never ends. The file is stat'ed before it is opened, opened with
// O_NONBLOCK (a FIFO swapped in between cannot block the open), checked again on the
// open descriptor, and read up to MAX_CONFIG_BYTES + 1 bytes.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { ConfigError } from '../errors.js';

/** A config is a few KB; a megabyte is far beyond any real one and still cheap to parse. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const HINT = 'give --config (or HACTL_CONFIG) a regular YAML file; hactl init writes a starting one';

/** Why a file cannot be read, in words (no path): the caller says which file it was. */
export class Unreadable extends Error {}

function refuse(_file: string, why: string): never {
  throw new Unreadable(why);
}

function notRegular(file: string, st: Stats): never {
  refuse(file, `it is ${kind(st)}, not a regular file`);
}

function tooLarge(file: string, size: number, max: number): never {
  const found = size > max ? `${size} bytes` : 'larger than the limit';
  refuse(file, `it is ${found}; at most ${max} bytes (${max / 1024 / 1024} MiB) are read`);
}

function errno(file: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    let dangling = false;
    try {
      dangling = lstatSync(file).isSymbolicLink();
    } catch {
      /* not there at all */
    }
    refuse(file, dangling ? 'it is a symbolic link to nothing (ENOENT)' : 'no such file (ENOENT)');
  }
  if (code === 'ELOOP') refuse(file, 'too many levels of symbolic links (ELOOP)');
  if (code === 'EACCES' || code === 'EPERM') refuse(file, `permission denied (${code})`);
  if (code === 'ENOTDIR') refuse(file, 'a part of the path is not a directory (ENOTDIR)');
  refuse(file, code ?? (e as Error).message);
}

/** The config's bytes: a regular file of at most MAX_CONFIG_BYTES, or a ConfigError (exit 78) in one line. */
export function readConfigBytes(file: string, max = MAX_CONFIG_BYTES): Buffer {
  try {
    return readRegularFile(file, max);
  } catch (e) {
    if (e instanceof Unreadable) throw new ConfigError([`${file}: cannot read the config: ${e.message}`], HINT);
    throw e;
  }
}

/** A regular file's bytes, at most max of them, without ever blocking; Unreadable says why not. */
export function readRegularFile(file: string, max: number): Buffer {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    errno(file, e);
  }
  if (!st.isFile()) notRegular(file, st);
  if (st.size > max) tooLarge(file, st.size, max);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    errno(file, e);
  }
  try {
    const again = fstatSync(fd);
    if (!again.isFile()) notRegular(file, again);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > max) tooLarge(file, again.size, max);
    }
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof Unreadable) throw e;
    errno(file, e);
  } finally {
    closeSync(fd);
  }
}

function position(text: string, index: number): string {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return `${line}:${index - (before.lastIndexOf('\n') + 1) + 1}`;
}

/**
 * Bytes -> text: UTF-8 only (a leading BOM is dropped), and no control characters that
 * YAML forbids (NUL and the other C0 codes but tab, CR and LF). A binary file or a UTF-16
 * one is named at the first offending character instead of being half-parsed.
 */
export function decodeConfig(buf: Buffer, file: string): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
  } catch {
    const good = new TextDecoder('utf-8').decode(buf).indexOf('\uFFFD');
    const at = good < 0 ? '1:1' : position(new TextDecoder('utf-8').decode(buf), good);
    const problem = `${file}:${at}: the config is not UTF-8 text (a binary file, or UTF-16?)`;
    throw new ConfigError([problem], 'save the file as UTF-8');
  }
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(4, '0');
    const problem = `${file}:${position(text, bad.index)}: the config holds a control character (U+${code})`;
    throw new ConfigError([`${problem}; YAML allows only tab, CR and LF`], 'save the file as plain UTF-8 text');
  }
  return text;
}
