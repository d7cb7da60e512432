// Where the backup domain's scripts run: this machine (sh -c, through the one
// spawner with a deadline) or a host over SSH, always from the login's home.
import type { Config, HostConfig } from '../config/types.js';
import type { RunResult } from '../adapters/ssh.js';
import { remoteDeadline } from '../adapters/shell.js';
import { runProcess } from '../adapters/process.js';
import type { Resolved } from './types.js';

export interface Place {
  host?: HostConfig;
  label: string;
  exec(script: string, timeoutSec: number): Promise<RunResult>;
  close(): Promise<void>;
}

export function localPlace(): Place {
  return {
    label: 'the witness',
    exec: async (script, timeoutSec) => {
      const r = await runProcess('sh', ['-c', remoteDeadline(script, timeoutSec)], { deadline: timeoutSec + 7 });
      return { code: r.code, signal: r.signal ?? undefined, stdout: r.stdout, stderr: r.stderr, ms: r.ms };
    },
    close: async () => undefined,
  };
}

export async function remotePlace(config: Config, host: HostConfig): Promise<Place> {
  const { SshSession } = await import('../adapters/ssh.js');
  const s = await SshSession.open(host, config.thresholds.connectTimeout, config.thresholds.commandTimeout);
  return { host, label: host.name, exec: (script, t) => s.run(`cd "$HOME" && ${script}`, t), close: () => s.close() };
}

/** The last line a script said (stderr first), for one-line errors. */
export const lastLine = (r: { code: number | null; stdout: string; stderr: string }): string =>
  (r.stderr || r.stdout).trim().split('\n').pop() || `exit ${r.code}`;

const open = (config: Config, h: HostConfig | undefined) =>
  h ? remotePlace(config, h) : Promise.resolve(localPlace());

export interface Places {
  src: Place;
  dst: Place;
  close(): Promise<void>;
}

/** Both sides of a tier, opened at once (one session when both are on one host). */
export async function openPlaces(config: Config, r: Resolved): Promise<Places> {
  const same = (r.src.host?.name ?? '') === (r.dst.host?.name ?? '');
  const opened = await Promise.allSettled([open(config, r.src.host), same ? undefined : open(config, r.dst.host)]);
  // One side failed to open: close the other before saying why (an open SSH session keeps the process alive).
  const failed = opened.find((o) => o.status === 'rejected');
  if (failed) {
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value?.close() : undefined)));
    throw failed.reason;
  }
  const [src, dst] = opened.map((o) => (o as PromiseFulfilledResult<Place | undefined>).value) as [Place, Place?];
  return {
    src,
    dst: dst ?? src,
    close: async () => {
      await src.close();
      if (dst) await dst.close();
    },
  };
}

/**
 * The destination, opened on first use or when `prefetch` is called (while
 * rsync already runs, so loading the SSH module and the handshake cost no wall
 * time). A failure to open surfaces where it is awaited, never unhandled.
 */
export interface LazyPlace {
  get(): Promise<Place>;
  prefetch(): void;
  close(): Promise<void>;
}

export function lazyPlace(config: Config, host: HostConfig): LazyPlace {
  let p: Promise<Place> | undefined;
  const get = () => {
    if (!p) {
      p = remotePlace(config, host);
      p.catch(() => undefined);
    }
    return p;
  };
  return {
    get,
    prefetch: () => void get(),
    close: async () => {
      await (await p?.catch(() => null))?.close();
    },
  };
}
