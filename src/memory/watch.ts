// sync-memory --watch (issue 25, RPO with the primary's host dead): the cron minute's sync keeps
// watching the serving host's memory. Every memory.watchEvery (10 s) one cheap remote command prints
// a fingerprint of the tree (count, sizes, mtimes and names of every entry, through cksum); a cycle
// whose fingerprint equals the one taken before the last sync that settled the tree runs no rsync.
// Any other cycle is a whole sync-memory run (memory/sync.ts): validated before it replaces the last
// good copy, the mass-delete guard, the record and its alert folded once (memory/fold.ts).
// The lock: each sync cycle takes the memory lock through runCommand and gives it up when it ends;
// scans and sleeps hold nothing. Failover's last-chance sync (an immediate take) and its start
// (a bounded wait, failover/permits.ts takeMemory) therefore wait for one cycle's copy at most, and a
// cycle turned away (75) is quiet: the next one tries again. The run ends inside its cron cadence
// (the window), so the next minute's run starts after it; an overlap would only turn cycles away.
// Pure parts first (the script, the window, the fold); the loop after.
import type { Config, HostConfig, Role } from '../config/types.js';
import type { RemoteSession } from '../adapters/ssh.js';
import { MuxSession } from '../adapters/ssh-mux.js';
import { remotePath } from '../health/scripts.js';
import { whenEvery } from '../operator/schedule.js';
import type { SyncResultKind } from './fold.js';
import { HOLDING_DIR, SQLITE_EXCLUDES } from './plan.js';
import { NO_TREE } from './gate.js';

/**
 * The remote fingerprint: one process tree (sh, find, a hash), no per-file fork. Each entry's type,
 * size, mtime and ctime (a restored mtime still moves the ctime) and name; a directory by its mode and
 * name (its times move with any entry made or removed in it, a database's journal too, and what it holds
 * is in the print by name). What no copy ever takes is left out, as rsync's first filter rules leave it
 * (plan.ts): live SQLite files and their journals, at any depth, and rsync's holding directory; so a
 * gateway writing its database does not move the print. Hashed with md5sum (cksum's 32-bit CRC where
 * coreutils' is missing; sha256sum costs the host twice md5sum's CPU here, and no one chooses these lines:
 * the ctimes in them are the kernel's). find runs in the C locale: the patterns match bytes, faster.
 * A missing root prints a fixed word (the sync itself says what is wrong; a run never ends at it). A
 * find that fails (no -printf: not GNU find; a file vanishing mid-walk) prints a word with the shell's
 * pid and the time in it, never the same twice: that cycle syncs, as it would without a fingerprint.
 */
export function fingerprintScript(root: string): string {
  const d = remotePath(root.replace(/\/+$/, '') || '/');
  // From inside the root ("."), so the root's own name never meets a pattern; the patterns are constants.
  const never = [...SQLITE_EXCLUDES.map((p) => `-name '${p}'`), `-type d -name '${HOLDING_DIR}'`].join(' -o ');
  return (
    `d=${d}; [ -d "$d" ] || { echo ${NO_TREE}; exit 0; }; ` +
    'h=cksum; command -v md5sum >/dev/null 2>&1 && h=md5sum; ' +
    `f=$({ cd "$d" && LC_ALL=C find . \\( ${never} \\) -prune -o -type d -printf 'd %m %P\\n' ` +
    `-o -printf '%y %s %T@ %C@ %P\\n' 2>/dev/null ` +
    '|| echo "find failed $$ $(date +%s%N)"; } | $h) && [ -n "$f" ] && echo "${f%% *}"'
  );
}

/**
 * A root the fingerprint cannot stand for: rsync (--protect-args) expands glob characters in the remote
 * path itself, the fingerprint reads the literal path. Such a root is never scanned: every cycle syncs.
 */
export const unscannable = (root: string): boolean => /[*?[]/.test(root);

/** Seconds between a job's cron starts for memory.interval (the cadence cron really keeps). */
export function cronCadence(intervalSeconds: number): number {
  const w = whenEvery(intervalSeconds / 60, 1);
  if (w.minuteStep !== null) return w.minuteStep * 60;
  if (w.hourStep !== null) return w.hourStep * 3600;
  return w.hourStart === null ? 3600 : 86400;
}

/** The last cycle may start this long after the first: the cadence minus one interval. */
export function watchWindow(cadenceSec: number, everySec: number): number {
  return Math.max(0, cadenceSec - everySec);
}

/** What a cycle remembers of the last settled sync: the source it read, its fingerprint. */
export interface Seen {
  role: Role;
  print: string;
}

/**
 * Whether a cycle needs a sync: always on a run's first cycle (the full sync-memory of the minute,
 * fullPushEvery and all), when the scan failed, when the role changed, or when the tree changed.
 * Except one case: the scan failed and the last sync of this run failed too (the host is still down):
 * the failure is recorded and alerted already, and a copy would only wait out the same timeouts.
 */
export function needsSync(
  first: boolean,
  seen: Seen | undefined,
  role: Role,
  print: string | undefined,
  lastKind?: SyncResultKind,
): boolean {
  if (!first && print === undefined && lastKind === 'failed') return false;
  return first || !seen || print === undefined || seen.role !== role || seen.print !== print;
}

/**
 * After a sync cycle: the fingerprint to compare the next scans with. An outcome decided by the
 * tree's content (ok, invalid, refused) stays until the tree changes: syncing again would decide
 * the same. A failed copy or a skipped one (the role in doubt) is retried at the next cycle.
 */
export function settled(kind: SyncResultKind | undefined, role: Role, print: string | undefined): Seen | undefined {
  if (print === undefined || kind === undefined) return undefined;
  return kind === 'ok' || kind === 'invalid' || kind === 'refused' ? { role, print } : undefined;
}

export interface CycleRecord {
  atMs: number;
  synced: boolean;
  exitCode: number;
  summary: string;
  busy?: boolean;
  scan?: string; // why the scan gave no fingerprint
}

/** The run's line and exit code: the last cycle that synced says where memory stands. */
export function foldCycles(cycles: CycleRecord[], elapsedMs: number): { exitCode: number; summary: string } {
  const synced = cycles.filter((c) => c.synced && !c.busy);
  const busy = cycles.filter((c) => c.busy).length;
  const last = synced.at(-1);
  const secs = Math.round(elapsedMs / 1000);
  const head = `sync-memory --watch: ${cycles.length} cycle(s) in ${secs} s, ${synced.length} synced`;
  const away = busy ? `, ${busy} turned away by the memory lock` : '';
  if (!last) {
    const why = cycles.find((c) => c.busy)?.summary ?? 'no cycle ran';
    return { exitCode: 75, summary: `${head}${away}: ${why}` };
  }
  return { exitCode: last.exitCode, summary: `${head}${away}; last: ${last.summary.replace(/^sync-memory: /, '')}` };
}

/** One scan over an open session: the fingerprint, or why there is none. Never throws. */
export async function scan(session: RemoteSession, config: Config): Promise<{ print?: string; problem?: string }> {
  if (unscannable(config.memory.root))
    return { problem: `memory.root ${config.memory.root} has glob characters: no fingerprint, every cycle copies` };
  try {
    const r = await session.run(fingerprintScript(config.memory.root), config.thresholds.commandTimeout, {
      cap: 4096,
      what: 'memory fingerprint',
    });
    const print = r.stdout.trim();
    if (r.code === 0 && print) return { print };
    return { problem: `fingerprint exit ${r.code}: ${r.stderr.trim().slice(0, 200)}` };
  } catch (e) {
    return { problem: (e as Error).message };
  }
}

/**
 * One scan of `host`, started now through its master's socket as it stands (MuxSession.assume: no hello
 * to wait for, so the host walks its tree while this process goes on): only through a master, since a
 * scan is worth taking when it is cheaper than the copy it may spare, and a new connection is not.
 * Undefined: no master socket, or no print (the run copies).
 */
export function scanStarted(config: Config, host: HostConfig): Promise<string | undefined> {
  const t = config.thresholds;
  const session = unscannable(config.memory.root)
    ? undefined
    : MuxSession.assume(config.stateDir, host, t.connectTimeout, t.commandTimeout);
  if (!session) return Promise.resolve(undefined);
  return session
    .runAlone(fingerprintScript(config.memory.root), t.commandTimeout, { cap: 4096, what: 'memory fingerprint' })
    .then(
      (r) => (r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined),
      () => undefined,
    )
    .finally(() => session.close().catch(() => undefined));
}
