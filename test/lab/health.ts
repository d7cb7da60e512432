// Lab helpers for the operator-health tests: a host clock the lab controls (a `date`
// wrapper first in the host's PATH), a command run on a host through its own sshd, a
// host whose PATH lacks some programs, and a tiny tmpfs to fill a host's disk.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabHost } from './lab.ts';

const REAL_DATE = ['/usr/bin/date', '/bin/date'].find((p) => existsSync(p))!;

/** The host's clock is the real one plus an offset in seconds (only its `date` sees it). */
export function skewClock(host: LabHost, seconds: number): void {
  const bin = join(host.home, 'bin', 'date');
  writeFileSync(
    bin,
    [
      '#!/bin/sh',
      `off=$(cat "$HOME/.lab-clock-offset" 2>/dev/null || echo 0)`,
      `exec ${REAL_DATE} -d "@$(( $(${REAL_DATE} +%s) + off ))" "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  writeFileSync(join(host.home, '.lab-clock-offset'), `${Math.round(seconds)}\n`);
}

/** Runs a shell command on the host through its sshd (OpenSSH, the lab's client key). */
export function onHost(lab: Lab, host: LabHost, command: string): string {
  return execFileSync(
    'ssh',
    [
      ...['-F', 'none', '-p', String(host.sshPort), '-i', join(lab.dir, 'client_ed25519')],
      ...['-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${join(lab.dir, 'known_hosts')}`],
      ...['-o', 'StrictHostKeyChecking=yes', '-l', 'root', host.address, command],
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
}

/** A PATH with everything the lab's has but `hidden` (symlinks in a directory of its own). */
export function pathWithout(host: LabHost, hidden: string[]): string {
  const dir = join(host.dir, `bin-without-${hidden.join('-')}`);
  if (!existsSync(dir)) {
    mkdirSync(dir);
    for (const from of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
      if (!existsSync(from)) continue;
      for (const name of readdirSync(from)) {
        if (hidden.includes(name) || existsSync(join(dir, name))) continue;
        symlinkSync(join(from, name), join(dir, name));
      }
    }
  }
  return `${join(host.home, 'bin')}:${dir}`;
}

/** Gives a host a new PATH (undefined: the lab's) and restarts its sshd so logins get it. */
export async function setPath(host: LabHost, path: string | undefined): Promise<void> {
  host.path = path;
  await host.stopSshd();
  await host.startSshd();
}

export function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    /* not mounted */
  }
}
