// Same-host mutual exclusion: one mechanism, flock(2). Command locks (cluster, memory,
// backup-<tier>: acquireLock) and the short sections over shared files (outbox, history,
// backup record, last good config: withFileLock) all take an exclusive flock on a lock file.
// - The kernel decides: one open file description holds the lock, every other is refused. No
//   clock, no lease, no takeover: a holder killed with SIGKILL loses the lock when the kernel
//   closes its files, and a live holder keeps it whatever any clock says (a VM resume, a step).
// - Taken on a descriptor this process opened: in process, with flock(2) through hactl's own small
//   addon (native/flock.c, built with the system's C compiler into dist/native/flock.node) when it
//   is there; else, and for every wait, by util-linux flock(1), passed the descriptor as fd 3
//   (`flock -xn 3`). Either way the lock belongs to the open file description, so it stays with
//   this process after flock(1) exits, and goes when this process closes the fd or dies. The same
//   system call on the same kind of lock: the two ways (and older hactl, flock(1) only) exclude
//   each other. Node opens files with O_CLOEXEC, so no other child (ssh, rsync) inherits it. Why
//   not the fs-ext addon, and why in process: docs/decisions.md.
// - The file stays in place (unlinking a lock file lets a late opener lock a removed inode).
//   After taking the lock the holder writes its record (pid, host, command, since) into it, only
//   to name the holder in the exit-75 message and in `hactl status`; the record decides nothing.
import { closeSync, constants, ftruncateSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { constants as osConstants, hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageFile } from '../paths.js';
import { EXIT, HactlError, LockedError } from '../errors.js';
import { cleanTemps, ensureDir } from './files.js';
import { monotonicMs } from '../adapters/clock.js';
import { childProcess } from '../adapters/child-process.js';

export interface Holder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface Lock {
  release(): void;
}

/** flock(1)'s exit status when the lock is held by another (`-E`); any other failure is an error. */
const CONFLICT = 75;
const FLOCK_HINT = 'hactl takes its locks with flock(1) from util-linux: install util-linux';
const LOCK_HINT = 'the state directory must be on a file system with flock(2) locks (a local one)';

function open(file: string): number {
  return openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
}

/** flock(1)'s answer: true (ours), false (held by another), or an error it is not ours to hide. */
function verdict(file: string, status: number | null, error: Error | undefined, stderr: string): boolean {
  if (status === 0) return true;
  if (status === CONFLICT) return false;
  const why = error ? error.message : `exit ${status ?? 'by signal'}: ${stderr.trim().split('\n')[0]}`;
  throw new HactlError(`${file}: cannot take the lock with flock(1): ${why}`, EXIT.CONFIG, FLOCK_HINT);
}

/** The in-process flock(2): native/flock.c's tryLock(fd) gives 0 (ours) or the errno. */
interface NativeFlock {
  tryLock(fd: number): number;
}

/** The addon once loaded, null when it is not built or does not load on this machine (another arch). */
let native: NativeFlock | null | undefined;

function inProcess(): NativeFlock | null {
  if (native !== undefined) return native;
  try {
    const m = { exports: {} as Partial<NativeFlock> };
    process.dlopen(m, fileURLToPath(packageFile('dist/native/flock.node')));
    native = typeof m.exports.tryLock === 'function' ? (m.exports as NativeFlock) : null;
  } catch {
    native = null;
  }
  return native;
}

/** How this build takes a lock without waiting (for doctor and the tests): in process, or by flock(1). */
export const lockMechanism = (): 'flock(2) in process' | 'flock(1)' =>
  inProcess() ? 'flock(2) in process' : 'flock(1)';

/** One try, no wait. */
function tryFlock(file: string, fd: number): boolean {
  const n = inProcess();
  if (n) {
    const errno = n.tryLock(fd);
    if (errno === 0) return true;
    if (errno === osConstants.errno.EWOULDBLOCK) return false;
    const name = Object.entries(osConstants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
    throw new HactlError(`${file}: cannot take the lock: flock(2): ${name}`, EXIT.CONFIG, LOCK_HINT);
  }
  const r = childProcess().spawnSync('flock', ['-x', '-n', '-E', String(CONFLICT), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
    encoding: 'utf8',
  });
  return verdict(file, r.status, r.error, r.stderr ?? '');
}

/**
 * Waits up to `ms`: the timer that ends the wait is Node's, on the monotonic clock. flock(1)'s
 * own -w (a second later) only bounds an orphan, should this process die while it waits.
 */
function waitFlock(file: string, fd: number, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const secs = (ms / 1000 + 1).toFixed(3);
    const c = childProcess().spawn('flock', ['-x', '-w', secs, '-E', String(CONFLICT), '3'], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
    });
    const err: Buffer[] = [];
    c.stderr!.on('data', (d: Buffer) => err.push(d));
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      c.kill('SIGKILL');
    }, ms);
    let failed: Error | undefined;
    c.on('error', (e) => (failed = e));
    c.on('close', (status) => {
      clearTimeout(timer);
      // Killed at the deadline: it may have taken the lock just before; the caller closes the fd.
      if (late) return resolve(false);
      try {
        resolve(verdict(file, status, failed, Buffer.concat(err).toString('utf8')));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Writes the holder's record over the file's content (the lock is ours). The record only names the
 * holder: a write that fails (a full disk) leaves the lock held and the file empty, and the run goes
 * on to meet the full disk where it matters, in its state write, which says so in one line.
 */
function record(fd: number, h: Holder): void {
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, JSON.stringify(h) + '\n', 0);
  } catch {
    /* named as "another run (taking it right now)" meanwhile; nothing decides by it */
  }
}

function unlockAndClose(fd: number): void {
  try {
    ftruncateSync(fd, 0); // a released lock names nobody
  } catch {
    /* closing releases the lock anyway */
  }
  closeSync(fd);
}

/** The record in a lock file, if it holds a readable one (the holder may not have written it yet). */
export function readHolder(file: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Holder;
    return typeof h?.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether someone holds an flock on `file` now, read from /proc/locks (the kernel's own list),
 * without taking anything: a status read never turns a real taker away. Matched by inode.
 */
export function isHeld(file: string): boolean {
  let ino: number;
  let locks: string;
  try {
    ino = statSync(file).ino;
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return false;
  }
  return locks
    .split('\n')
    .some((l) => !l.includes('->') && /\bFLOCK\b/.test(l) && l.split(/\s+/).some((w) => w.endsWith(`:${ino}`)));
}

function describe(file: string): string {
  const h = readHolder(file);
  return h
    ? `${file} is held by pid ${h.pid} on ${h.host} (${h.command}, since ${h.since})`
    : `${file} is held by another run (taking it right now)`;
}

function take(file: string, command: string): { fd: number; got: boolean } {
  const fd = open(file);
  try {
    if (!tryFlock(file, fd)) {
      closeSync(fd);
      return { fd, got: false };
    }
    record(fd, { pid: process.pid, host: hostname(), command, since: new Date().toISOString() });
    return { fd, got: true };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Take `name.lock` in `stateDir` at once, or throw LockedError (exit 75) naming the holder.
 * `_leaseSeconds` is kept for the callers and means nothing now: a lock lives as long as its holder.
 */
export function acquireLock(stateDir: string, name: string, command: string, _leaseSeconds?: number): Lock {
  ensureDir(stateDir);
  cleanTemps(stateDir);
  const file = join(stateDir, `${name}.lock`);
  const { fd, got } = take(file, command);
  if (!got) throw new LockedError(describe(file));
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      unlockAndClose(fd);
    },
  };
}

/**
 * A short critical section over a small shared file (read-modify-write), for runs that hold
 * different command locks: the lock is `file.lock`. Waits up to `waitMs` for it (a deadline on
 * the monotonic clock), then throws LockedError. `_staleMs` is kept for the callers and means
 * nothing now: a holder killed inside the section frees it at once, a live one is waited for.
 */
export async function withFileLock<T>(
  file: string,
  fn: () => Promise<T>,
  waitMs = 5000,
  _staleMs?: number,
): Promise<T> {
  const lock = `${file}.lock`;
  ensureDir(dirname(file));
  const command = `update ${basename(file)}`;
  const until = monotonicMs() + waitMs;
  let { fd, got } = take(lock, command);
  if (!got) {
    fd = open(lock);
    try {
      got = await waitFlock(lock, fd, Math.max(0, until - monotonicMs()));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    if (!got) {
      closeSync(fd);
      throw new LockedError(`${describe(lock)}, for more than ${waitMs / 1000} s`);
    }
    record(fd, { pid: process.pid, host: hostname(), command, since: new Date().toISOString() });
  }
  try {
    return await fn();
  } finally {
    unlockAndClose(fd);
  }
}
