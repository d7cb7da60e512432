// One lock file per name in the state directory. Created with O_EXCL; holds the
// holder's pid, host, command and lease. A second run exits 75 naming the
// holder. A lock whose lease has run out, or whose holder (on this host) is
// gone, is taken over: a hung or killed run never blocks cron forever.
import { hostname } from 'node:os';
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, renameSync, statSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { LockedError } from '../errors.js';
import { ensureDir } from './files.js';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireLock(stateDir: string, name: string, command: string, leaseSeconds: number, now = new Date()): Lock {
  ensureDir(stateDir);
  const file = join(stateDir, `${name}.lock`);
  const me: Holder = { pid: process.pid, host: hostname(), command, since: now.toISOString(), leaseUntil: new Date(now.getTime() + leaseSeconds * 1000).toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me) + '\n');
      fsyncSync(fd);
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          const cur = JSON.parse(readFileSync(file, 'utf8')) as Holder;
          if (cur.pid === me.pid && cur.since === me.since) unlinkSync(file);
        } catch { /* gone already */ }
      };
      process.once('exit', release);
      return { release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as Holder;
    } catch {
      holder = undefined; // half-written: by a run starting this instant, or one that died at once
    }
    if (!holder && Date.now() - statMtime(file) < 5000) throw new LockedError(`${file} is being taken by another run right now`);
    const stale = !holder || new Date(holder.leaseUntil).getTime() < now.getTime() || (holder.host === me.host && !alive(holder.pid));
    if (!stale) {
      throw new LockedError(`${file} is held by pid ${holder!.pid} on ${holder!.host} (${holder!.command}, since ${holder!.since}, lease until ${holder!.leaseUntil})`);
    }
    // Move the stale lock aside atomically so two late-comers cannot both take it.
    try {
      renameSync(file, `${file}.stale-${process.pid}`);
      unlinkSync(`${file}.stale-${process.pid}`);
    } catch { /* someone else took it over first; retry the exclusive create */ }
  }
  throw new LockedError(`${file}: could not take over a stale lock (another run did)`);
}

function statMtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * A short critical section over a small shared file (read-modify-write), for
 * runs that hold different command locks. Waits up to `waitMs`; a lock file
 * older than `staleMs` was left by a run that died inside the section.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, waitMs = 5000, staleMs = 15000): Promise<T> {
  const lock = `${file}.lock`;
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (Date.now() - statMtime(lock) > staleMs) {
        try { unlinkSync(lock); } catch { /* another run removed it */ }
        continue;
      }
      if (Date.now() > until) throw new LockedError(`${lock} is held by another run for more than ${waitMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await fn();
  } finally {
    try { unlinkSync(lock); } catch { /* gone */ }
  }
}
