// Writing a heartbeat (hactl heartbeat, run from each gateway host's cron): a small JSON
// file replaced atomically, its mtime set from the one clock. check reads the mtime by
// the host's own clock (scripts.ts), so the witness's clock never enters the age.
import { utimesSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/types.js';
import { writeAtomic } from '../state/files.js';
import { UsageError } from '../errors.js';

/** Where `hactl heartbeat` writes when no config says otherwise (the default gateway.runDir). */
export const DEFAULT_HEARTBEAT = '.openclaw/hactl/heartbeat';

/** The file on this host: --path (from the working directory), else the config's, else the default. */
export function localHeartbeatPath(opts: { path?: string; host?: string }, config?: Config, home = homedir()): string {
  if (opts.path) return resolve(opts.path);
  let p = DEFAULT_HEARTBEAT;
  if (config) {
    const host = opts.host ? config.hosts[opts.host] : undefined;
    if (opts.host && !host)
      throw new UsageError(
        `heartbeat --host ${opts.host}: no such host in ${config.file} (hosts: ` +
          `${Object.keys(config.hosts).join(', ')})`,
      );
    const runDir = (host?.gateway ?? config.gateway).runDir.replace(/\/+$/, '');
    p = config.heartbeat.path ?? `${runDir}/heartbeat`;
  }
  return isAbsolute(p) ? p : resolve(home, p);
}

export function writeHeartbeat(file: string, now: Date, version: string): void {
  const body = { at: now.toISOString(), host: hostname(), pid: process.pid, version };
  writeAtomic(file, JSON.stringify(body) + '\n', 0o600);
  utimesSync(file, now, now); // the one clock (HACTL_NOW in the lab); on a host it is the host's clock
}
