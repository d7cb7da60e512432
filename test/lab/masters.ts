// hactl's shared OpenSSH masters in the lab (src/adapters/ssh-master.ts, ssh-mux.ts), and the sshd side of
// their connections: which sockets exist, whose pid answers on each, and faults that cut a host's new
// connections while an existing one lives on (a killed listener) or silence an existing one (stopped
// connection processes).
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabHost } from './lab.ts';

export const cmDir = (lab: Lab) => join(lab.dir, 'state', 'cm');

/** The master sockets under the lab's state dir (full paths). */
export function sockets(lab: Lab): string[] {
  const d = cmDir(lab);
  return existsSync(d) ? readdirSync(d).map((s) => join(d, s)) : [];
}

/** The pid of the master behind a socket, from ssh itself (`-O check`), or 0. */
export function masterPid(sock: string): number {
  const r = spawnSync('ssh', ['-F', 'none', '-o', `ControlPath=${sock}`, '-O', 'check', 'x'], {
    encoding: 'utf8',
    timeout: 5000,
  });
  return Number(/pid=(\d+)/.exec(r.stderr)?.[1] ?? 0);
}

/** Every "sshd: ..." process below `root` (a connection's monitor and its session), by pid. */
function sshdTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const ppid = Number(/PPid:\s*(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1]);
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sshd:')) parent.set(Number(p), ppid);
    } catch {
      /* gone */
    }
  }
  const under = (pid: number): boolean => {
    for (let p = parent.get(pid), n = 0; p !== undefined && n < 10; p = parent.get(p), n++) if (p === root) return true;
    return false;
  };
  return [...parent.keys()].filter(under);
}

/**
 * Kills the host's sshd listener only: no new connection is accepted from now on, and the connections
 * it already forked (hactl's masters) live on. Returns their processes, for `silence` and `release`.
 */
export async function stopListener(h: LabHost): Promise<number[]> {
  const c = h.sshd!;
  const tree = sshdTree(c.pid!);
  const done = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await done;
  h.sshd = undefined; // the next lab.reset() starts a new one
  return tree;
}

/** Stops (SIGSTOP) connection processes: their TCP connections stay open and say nothing. */
export function silence(pids: number[]): void {
  for (const p of pids) signal(p, 'SIGSTOP');
}

/** Ends connection processes left by `stopListener` (stopped or not). */
export function release(pids: number[]): void {
  for (const p of pids) signal(p, 'SIGKILL');
}

function signal(pid: number, s: NodeJS.Signals): void {
  try {
    process.kill(pid, s);
  } catch {
    /* gone */
  }
}

/**
 * Waits (bounded: 5 s) for the masters a check leaves in the background (one per host it reached), then
 * ends them all (`ssh -O exit`): the next check opens connections of its own.
 */
export async function endMastersLeft(lab: Lab, hosts = 2): Promise<void> {
  for (let i = 0; i < 50 && sockets(lab).map(masterPid).filter(Boolean).length < hosts; i++) await sleep(100);
  for (const s of sockets(lab)) spawnSync('ssh', ['-F', 'none', '-o', `ControlPath=${s}`, '-O', 'exit', 'x']);
}
