// What the witness asks of a gateway host for the partition defences (docs/partitions.md), over
// the SSH session the check already holds: grant, renew or revoke the host's serving permit (one
// atomic write; the guard ages it by the host's own boot_id and uptime, src/fencing/rule.ts), and
// ask the idle host to probe the serving host's gateway across the LAN (the second point of view).
import type { Config, HostConfig } from '../config/types.js';
import type { RemoteSession } from '../adapters/ssh.js';
import type { Role } from '../config/types.js';
import type { SecondView } from '../core/model.js';
import { judgeHttp } from '../adapters/gateway.js';
import { httpGet } from '../adapters/remote-scripts.js';
import { remoteDeadline, shq } from '../adapters/shell.js';
import { permitLeft, pushAllowed, type Permit, type PermitView } from '../fencing/rule.js';

/** The permit file, relative to the SSH login's home (the guard runs as that user). */
export const PERMIT_FILE = '.hactl/permit';

const HOST_STAMP =
  'b=$(cat /proc/sys/kernel/random/boot_id) && u=$(cut -d" " -f1 /proc/uptime) || ' +
  '{ echo "cannot read boot_id and uptime"; exit 1; }';

/**
 * The grant, on the host: the permit file (temp file + rename) with the host's own boot_id and
 * uptime read in the same script. The token only grows: a host that holds a higher one gets one
 * above it. Prints `token=N`. `onlyLive`: an extension (src/fencing/rule.ts renewAllowed), written
 * only while the permit in place is live by this host's clock (this boot, its uptime + lease ahead of
 * now); otherwise nothing is written, and the script prints `not-live` and exits EXTEND_REFUSED.
 */
export function grantScript(token: number, lease: number, by: string, onlyLive = false): string {
  const t = Math.max(1, Math.floor(token));
  const field = (k: string, v: string) => `$(sed -n 's/.*"${k}":${v}.*/\\1/p' "$f" 2>/dev/null | head -n 1)`;
  const live = [
    // Without awk the host cannot tell, and says so: an extension refused for that is not "holds none".
    'command -v awk >/dev/null 2>&1 || { echo "awk not found: the extension cannot compare uptimes"; exit 1; }',
    `ob=${field('boot', '"\\([^"]*\\)"')}; ou=${field('uptime', '\\([0-9.][0-9.]*\\)')}`,
    `ol=${field('lease', '\\([0-9.][0-9.]*\\)')}`,
    `[ -n "$ob" ] && [ "$ob" = "$b" ] && awk -v u="$u" -v s="$ou" -v l="$ol" \\`,
    `  'BEGIN { exit !(s != "" && l != "" && u + 0 >= s + 0 && s + l > u + 0) }' || ` +
      `{ echo not-live; exit ${EXTEND_REFUSED}; }`,
  ];
  return [
    'umask 077; d="$HOME/.hactl"; f="$d/permit"; mkdir -p "$d" || exit 1',
    HOST_STAMP,
    ...(onlyLive ? live : []),
    `t=${t}`,
    `old=$(sed -n 's/.*"token":\\([0-9][0-9]*\\).*/\\1/p' "$f" 2>/dev/null | head -n 1)`,
    `case "$old" in ''|*[!0-9]*) ;; *) [ "$old" -ge "$t" ] && t=$((old+1));; esac`,
    `printf '{"token":%s,"lease":%s,"boot":"%s","uptime":%s,"by":%s}\\n' "$t" ${shq(String(lease))} "$b" "$u" \\`,
    `  ${shq(JSON.stringify(by))} > "$f.tmp.$$" && mv -f "$f.tmp.$$" "$f" || exit 1`,
    'echo "token=$t"',
  ].join('\n');
}

/** The extension's exit status when the host holds no live permit (nothing was written). */
export const EXTEND_REFUSED = 3;

/** Removes the host's permit (fencing confirmed, or about to confirm, its gateway stopped). */
export const REVOKE_SCRIPT = 'rm -f "$HOME/.hactl/permit" "$HOME/.hactl/lease"';

/**
 * Prints the host's permit and its stamp, for an effect to check right before it acts:
 * `boot=... uptime=...` then the file (or nothing).
 */
export const READ_PERMIT_SCRIPT = [
  HOST_STAMP,
  'echo "boot=$b uptime=$u"',
  'cat "$HOME/.hactl/permit" 2>/dev/null',
  'exit 0',
].join('\n');

/**
 * The grant's deadline: it is one short script, so it gets the SSH connect's bound, not a command's.
 * An attempt that does not answer may still have landed, so the witness dates it at the attempt's
 * end: a cut that falls while a renewal is in flight adds this much to the wait (and to the RTO).
 */
export const grantDeadline = (config: Config): number =>
  Math.min(config.thresholds.commandTimeout, config.thresholds.connectTimeout);

/** Grants a permit on the host; returns the token it holds now, or the error (the attempt may have landed). */
export async function grantPermit(
  config: Config,
  session: Pick<RemoteSession, 'run'>,
  token: number,
  lease: number,
  by: string,
  onlyLive = false,
): Promise<{ token?: number; error?: string; refused?: true }> {
  const t = grantDeadline(config);
  let r;
  try {
    r = await session.run(remoteDeadline(grantScript(token, lease, by, onlyLive), t), t + 1);
  } catch (e) {
    return { error: `permit not granted: ${(e as Error).message}` };
  }
  const m = /token=(\d+)/.exec(r.stdout);
  if (r.code === 0 && m) return { token: Number(m[1]) };
  if (onlyLive && r.code === EXTEND_REFUSED && /not-live/.test(r.stdout))
    return {
      refused: true,
      error: 'permit not renewed: the idle host may still hold a live permit, and this host holds none to extend',
    };
  return { error: `permit not granted: exit ${r.code ?? r.signal} ${(r.stdout + r.stderr).trim().slice(0, 120)}` };
}

/** Revokes the host's permit; throws on failure (the caller says what it means). */
export async function revokePermit(config: Config, session: Pick<RemoteSession, 'run'>): Promise<void> {
  const t = config.thresholds.commandTimeout;
  const r = await session.run(remoteDeadline(REVOKE_SCRIPT, t), t + 1);
  if (r.code !== 0) throw new Error(`permit not revoked: exit ${r.code ?? r.signal} ${r.stderr.trim().slice(0, 120)}`);
}

/** The host's permit judged by the host's own clock, read right before an effect. */
export async function remotePermit(config: Config, session: Pick<RemoteSession, 'run'>): Promise<PermitView> {
  const t = config.thresholds.commandTimeout;
  const r = await session.run(remoteDeadline(READ_PERMIT_SCRIPT, t), t + 1);
  const lines = r.stdout.split('\n');
  const m = /^boot=(\S+) uptime=([\d.]+)/.exec(lines[0] ?? '');
  if (r.code !== 0 || !m)
    throw new Error(`cannot read the permit: exit ${r.code ?? r.signal} ${r.stderr.trim().slice(0, 120)}`);
  const body = lines.slice(1).join('\n').trim();
  let p: Permit | null = null;
  if (body) {
    try {
      const j = JSON.parse(body) as Permit;
      p = { token: Number(j.token), lease: Number(j.lease), boot: String(j.boot), uptime: Number(j.uptime) };
    } catch {
      p = { token: NaN, lease: NaN, boot: '', uptime: NaN };
    }
  }
  return permitLeft(p, { boot: m[1]!, uptime: Number(m[2]) });
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
  // A neighbour on the LAN gets the SSH connect's bound: the view runs beside the witness's
  // confirming retry (retryDelay + connectTimeout), so that a dead host's silence costs no time after it.
  const get = Math.max(1, Math.floor(Math.min(t - 1, config.thresholds.connectTimeout)));
  let r;
  try {
    r = await viewer.run(remoteDeadline(httpGet(url, get), t), t + 1);
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

/**
 * Right before a write of the idle side's data lands on `role`'s host (a memory push): refused
 * when that host holds a live permit to serve, or when its permit cannot be read (fail closed).
 */
export async function pushRefused(config: Config, role: Role): Promise<string | null> {
  const { openSession } = await import('../failover/observe.js');
  const host = config.hosts[config.pair[role]]!;
  let session;
  try {
    session = await openSession(config, host);
    const v = pushAllowed(await remotePermit(config, session));
    return v.ok ? null : `${host.name} ${v.why}: nothing pushed`;
  } catch (e) {
    return `cannot read ${host.name}'s serving permit (${(e as Error).message}): nothing pushed`;
  } finally {
    await session?.close();
  }
}
