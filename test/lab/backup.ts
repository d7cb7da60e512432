// Lab helpers for backup tier tests (issue 4).
// A hop between two remote hosts runs rsync ON one of them, whose own ssh then
// needs a key and a known_hosts there. installHopKey puts both into that
// host's ~/.ssh, as an operator would, and returns the tier's `via` with paths
// relative to that login's home (remote steps start in "$HOME").
import { copyFileSync, chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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

/** Pids of processes running `cmd` (argv[0]'s base name) with every one of `parts` in their arguments (read from /proc). */
export function pidsWith(cmd: string, ...parts: string[]): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    let argv: string[];
    try { argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (argv[0]?.split('/').pop() !== cmd) continue;
    const line = argv.join(' ');
    if (parts.every((x) => line.includes(x))) out.push(Number(p));
  }
  return out;
}
