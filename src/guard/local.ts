// The guard's adapters: it runs on the gateway host itself, so the gateway's scripts run locally
// (sh, with a hard deadline) instead of over SSH; the lease is a local file; the peer is a TCP connect.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../config/types.js';
import type { RunResult } from '../adapters/ssh.js';
import { runProcess } from '../adapters/process.js';
import { PERMIT_FILE } from './remote.js';
import type { Permit, Stamp } from '../fencing/rule.js';

/** A hard deadline on every script this shell runs: SIGTERM after `term` s, SIGKILL `kill` s later. */
export interface LocalDeadline {
  term: number;
  kill: number;
}

/**
 * The part of an SshSession the Gateway adapter uses, on this machine. With `cap`, every script
 * runs under `timeout -k KILL TERM` (TERM the smaller of the caller's deadline and the cap's), and
 * the local deadline kills the whole process group by the same time: a `systemctl --user stop`
 * waiting for systemd's TimeoutStopSec is cut short there.
 */
export class LocalShell {
  constructor(
    readonly host: HostConfig,
    private readonly cap?: LocalDeadline,
  ) {}

  async run(script: string, timeoutSec: number): Promise<RunResult> {
    const c = this.cap;
    const term = c ? Math.min(timeoutSec, c.term) : timeoutSec;
    const r = c
      ? await runProcess('timeout', ['-k', `${c.kill}s`, `${term}s`, 'sh', '-c', script], {
          deadline: term + c.kill,
          killAfterMs: 100,
          env: process.env,
        })
      : await runProcess('sh', ['-c', script], { deadline: timeoutSec, env: process.env });
    return {
      code: r.timedOut ? 124 : r.code,
      signal: r.signal ?? undefined,
      stdout: r.stdout,
      stderr: r.stderr,
      ms: r.ms,
    };
  }
}

/** The permit file on this host, or null when there is none or it cannot be read as one. */
export function readPermit(home = process.env.HOME || homedir()): Permit | null {
  let text: string;
  try {
    text = readFileSync(join(home, PERMIT_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const p = JSON.parse(text) as Partial<Permit>;
    return {
      token: Number(p.token),
      lease: Number(p.lease),
      boot: String(p.boot ?? ''),
      uptime: Number(p.uptime),
      by: p.by,
    };
  } catch {
    return { token: NaN, lease: NaN, boot: '', uptime: NaN }; // unreadable: no live permit
  }
}

/**
 * This machine's monotonic clock: boot_id and /proc/uptime (CLOCK_BOOTTIME: it counts a suspend,
 * which can only age a permit sooner). Never the wall clock: a clock stepped back or forward
 * changes nothing here.
 */
export function machineStamp(): Stamp {
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return { boot, uptime };
}

function tcp(address: string, port: number, ms: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port, timeout: ms });
    const done = (err: string | null) => {
      s.destroy();
      resolve(err);
    };
    s.once('connect', () => done(null));
    s.once('timeout', () => done(`no answer within ${ms} ms`));
    s.once('error', (e) => done(e.message));
  });
}

/** Whether the peer host answers: its sshd or its gateway port accepts a TCP connection in time. */
export async function peerAnswers(peer: HostConfig, seconds: number): Promise<{ answers: boolean; detail: string }> {
  const addr = peer.lanAddress ?? peer.address;
  const ms = Math.max(100, Math.round(seconds * 1000));
  const ports = [...new Set([peer.port, peer.gateway.port])];
  const errs = await Promise.all(ports.map((p) => tcp(addr, p, ms)));
  const ok = ports.filter((_, i) => errs[i] === null);
  if (ok.length) return { answers: true, detail: `${addr}:${ok.join(',')} accepts` };
  return { answers: false, detail: ports.map((p, i) => `${addr}:${p} ${errs[i]}`).join('; ') };
}
