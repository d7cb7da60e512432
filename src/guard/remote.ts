// What the witness asks of a gateway host for the partition defences (docs/partitions.md), over
// the SSH session the check already holds: renew the host's guard lease (one atomic write; the
// guard judges its age by the file's mtime, on the host's own clock), and ask the idle host to
// probe the serving host's gateway across the LAN (the second point of view).
import type { Config, HostConfig } from '../config/types.js';
import type { Clock } from '../adapters/clock.js';
import type { RemoteSession } from '../adapters/ssh.js';
import type { Role } from '../config/types.js';
import type { SecondView } from '../core/model.js';
import { judgeHttp } from '../adapters/gateway.js';
import { httpGet } from '../adapters/remote-scripts.js';
import { remoteDeadline, shq } from '../adapters/shell.js';

/** The lease file, relative to the SSH login's home (the guard runs as that user). */
export const LEASE_FILE = '.hactl/lease';

/** Writes the lease (temp file + rename); returns when it was renewed by the witness's clock, or the error. */
export async function renewLease(
  config: Config,
  session: Pick<RemoteSession, 'run'>,
  clock: Clock,
): Promise<{ at?: string; error?: string }> {
  const t = config.thresholds.commandTimeout;
  const body = `renewed by the witness at ${clock.now().toISOString()}`;
  const script =
    'umask 077; d="$HOME/.hactl"; mkdir -p "$d" && ' +
    `printf '%s\\n' ${shq(body)} > "$d/lease.tmp.$$" && mv -f "$d/lease.tmp.$$" "$d/lease"`;
  let r;
  try {
    r = await session.run(remoteDeadline(script, t), t + 1);
  } catch (e) {
    return { error: `lease not renewed: ${(e as Error).message}` }; // the probe's verdict stands
  }
  // The time after the write: the witness's wait never starts before the host saw the renewal.
  if (r.code === 0) return { at: clock.now().toISOString() };
  return { error: `lease not renewed: exit ${r.code ?? r.signal} ${r.stderr.trim().slice(0, 120)}` };
}

/** The serving host's health URL as its peer reaches it: the probe's URL on the LAN address. */
export function lanUrl(host: HostConfig): string {
  const p = host.gateway.probe.http ?? host.gateway.alive;
  const u = new URL(p.url.replace('{port}', String(host.gateway.port)));
  const addr = host.lanAddress ?? host.address;
  u.hostname = addr.includes(':') ? `[${addr}]` : addr;
  return u.toString();
}

/** Asks `viewer` (a host the witness reaches) whether `role`'s gateway serves, across the LAN. */
export async function secondView(
  config: Config,
  viewer: Pick<RemoteSession, 'run'>,
  viewerRole: Role,
  target: HostConfig,
): Promise<SecondView> {
  const t = config.thresholds.commandTimeout;
  const url = lanUrl(target);
  const probe = target.gateway.probe.http ?? target.gateway.alive;
  let r;
  try {
    r = await viewer.run(remoteDeadline(httpGet(url, Math.max(1, Math.floor(t - 1))), t), t + 1);
  } catch (e) {
    return {
      role: viewerRole,
      serving: false,
      detail: `${url}: the ${viewerRole} could not be asked: ${(e as Error).message}`,
    };
  }
  if (r.code === 124 || r.code === 137)
    return { role: viewerRole, serving: false, detail: `${url}: probe timed out on the ${viewerRole}` };
  const j = judgeHttp(probe, url, r.stdout, r.stderr);
  return { role: viewerRole, serving: j.healthy, detail: j.detail };
}
