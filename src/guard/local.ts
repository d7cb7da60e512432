// The guard's adapters: it runs on the gateway host itself, so the gateway's scripts run locally
// (sh, with a hard deadline) instead of over SSH; the lease is a local file; the peer is a TCP connect.
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../config/types.js';
import type { RunResult } from '../adapters/ssh.js';
import { runProcess } from '../adapters/process.js';
import { LEASE_FILE } from './remote.js';

/** The part of an SshSession the Gateway adapter uses, on this machine. */
export class LocalShell {
  constructor(readonly host: HostConfig) {}

  async run(script: string, timeoutSec: number): Promise<RunResult> {
    const r = await runProcess('sh', ['-c', script], { deadline: timeoutSec, env: process.env });
    return {
      code: r.timedOut ? 124 : r.code,
      signal: r.signal ?? undefined,
      stdout: r.stdout,
      stderr: r.stderr,
      ms: r.ms,
    };
  }
}

/** The lease file's mtime in ms (this host's clock), or null when there is none. */
export function leaseMtime(home = process.env.HOME || homedir()): number | null {
  try {
    return statSync(join(home, LEASE_FILE)).mtimeMs;
  } catch {
    return null;
  }
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
