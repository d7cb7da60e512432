// Lab helpers for backup tier tests (issue 4).
// A hop between two remote hosts runs rsync ON one of them, whose own ssh then
// needs a key and a known_hosts there. installHopKey puts both into that
// host's ~/.ssh, as an operator would, and returns the tier's `via` with paths
// relative to that login's home (remote steps start in "$HOME").
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab.ts';

export function installHopKey(lab: Lab, running: string, other: string): { key: string; knownHosts: string } {
  const r = lab.host(running);
  const o = lab.host(other);
  const ssh = join(r.home, '.ssh');
  mkdirSync(ssh, { recursive: true, mode: 0o700 });
  copyFileSync(join(lab.dir, 'client_ed25519'), join(ssh, 'hactl_backup'));
  chmodSync(join(ssh, 'hactl_backup'), 0o600);
  const key = readFileSync(join(o.dir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(join(ssh, `hactl_known_hosts_${other}`), `[${o.address}]:${o.sshPort} ${key}\n`);
  return { key: '.ssh/hactl_backup', knownHosts: `.ssh/hactl_known_hosts_${other}` };
}

/**
 * A stand-in rsync, first on PATH for hactl's own rsync on the witness: the
 * real rsync copies everything but `holdBack` (a name at the source's top),
 * then the stand-in writes its pid and waits on a FIFO that nobody writes, so
 * a test can kill it with half a copy made, every time, without racing it.
 */
export function standInRsync(
  dir: string,
  holdBack: string,
): { env: Record<string, string>; pidFile: string; release(): void } {
  const real = execFileSync('sh', ['-c', 'command -v rsync'], { encoding: 'utf8' }).trim();
  const bin = join(dir, 'stand-in-bin');
  mkdirSync(bin, { recursive: true });
  const hold = join(dir, 'stand-in.hold');
  const pidFile = join(dir, 'stand-in.pid');
  rmSync(hold, { force: true });
  rmSync(pidFile, { force: true });
  execFileSync('mkfifo', [hold]);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    join(bin, 'rsync'),
    [
      '#!/bin/sh',
      `${q(real)} ${q(`--exclude=/${holdBack}`)} "$@"`,
      `echo $$ > ${q(`${pidFile}.tmp`)} && mv ${q(`${pidFile}.tmp`)} ${q(pidFile)}`,
      `read x < ${q(hold)}`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return {
    env: { PATH: `${bin}:${process.env.PATH}` },
    pidFile,
    // Opens the FIFO for writing without blocking on a reader that is gone: a stand-in still waiting ends.
    release: () => {
      try {
        execFileSync('sh', ['-c', `exec 3<>${q(hold)}; echo go >&3`]);
      } catch {
        /* gone */
      }
    },
  };
}
