// One hop of the backup chain: a dated snapshot at the destination, unchanged
// files hard-linked to the previous snapshot (--link-dest), written under a
// hidden temporary name and renamed only when complete and verified; `latest`
// points at the newest complete one; retention prunes the rest.
//
// Where rsync runs: on the witness when at most one side is remote (through
// src/adapters/rsync.ts), on the host itself when both sides are on one host,
// and on the destination host, pulling over SSH, when both are remote hosts
// (rsync cannot copy between two remote hosts). Every other step at the
// destination or the source is a short shell script with every path quoted
// (shq), run over SSH or, for a local place, by sh -c.
import { isAbsolute, resolve, dirname } from 'node:path';
import type { Config, HostConfig, TierConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { SshSession, type RunResult } from '../adapters/ssh.js';
import { remoteDeadline, shq } from '../adapters/shell.js';
import { runProcess } from '../adapters/process.js';
import { runRsync, rsyncExitMeaning, sshArgv } from '../adapters/rsync.js';
import { parseItemized } from '../adapters/rsync-itemize.js';
import { parseSnapshot, planRetention, snapshotName, snapshots } from './retention.js';

/** A place where scripts run: this machine, or a host over SSH. */
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
  const s = await SshSession.open(host, config.thresholds.connectTimeout, config.thresholds.commandTimeout);
  return { host, label: host.name, exec: (script, t) => s.run(`cd "$HOME" && ${script}`, t), close: () => s.close() };
}

export interface Resolved {
  tier: TierConfig;
  src: { host?: HostConfig; path: string };
  dst: { host?: HostConfig; path: string };
}

/** HOST:PATH (HOST a key of hosts) or a local path (made absolute against the config's folder). */
export function resolveLocation(config: Config, loc: string, key: string): { host?: HostConfig; path: string } {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*):(.*)$/.exec(loc);
  if (m) {
    const host = config.hosts[m[1]!];
    if (!host) throw new ConfigError([`${config.file}: ${key}: '${loc}' names host '${m[1]}', which is not under hosts (known: ${Object.keys(config.hosts).join(', ')})`]);
    return { host, path: (m[2] || '.').replace(/\/+$/, '') || '/' };
  }
  return { path: isAbsolute(loc) ? loc.replace(/\/+$/, '') || '/' : resolve(dirname(config.file), loc) };
}

export function findTier(config: Config, name: string): Resolved {
  const i = config.backup.tiers.findIndex((t) => t.name === name);
  if (i < 0) throw new ConfigError([`${config.file}: backup.tiers has no tier '${name}' (known: ${config.backup.tiers.map((t) => t.name).join(', ') || 'none'})`], 'name a tier from the config');
  const tier = config.backup.tiers[i]!;
  const src = resolveLocation(config, tier.source, `backup.tiers[${i}].source`);
  const dst = resolveLocation(config, tier.destination, `backup.tiers[${i}].destination`);
  if (src.host && dst.host && src.host.name !== dst.host.name && !tier.via) {
    throw new ConfigError([`${config.file}: backup.tiers[${i}] (${name}) copies between two hosts (${src.host.name} -> ${dst.host.name}): it needs 'via: {key, knownHosts}', the key and known_hosts on ${dst.host.name} for its SSH to ${src.host.name}`]);
  }
  if (tier.upstream && !config.backup.tiers.some((t) => t.name === tier.upstream)) throw new ConfigError([`${config.file}: backup.tiers[${i}].upstream names no tier '${tier.upstream}'`]);
  return { tier, src, dst };
}

const q = (p: string) => shq(p);
const PLAIN = /^[A-Za-z0-9_./=:@+,-]+$/;

export interface TransferResult {
  ok: boolean;
  code: number | null;
  detail: string;
  files?: number; // regular files in the source, from --stats
  size?: number; // their total size, from --stats
  sent: number;
  /** Files in rsync's list that were gone when it came to copy them (exit 24: live data). */
  vanished: number;
  changed: string[];
  timedOut: boolean;
  stderr: string;
}

function statsOf(stdout: string): { files?: number; size?: number } {
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s.replace(/,/g, '')));
  const reg = /Number of files: [\d,]+ \(reg: ([\d,]+)/.exec(stdout)?.[1] ?? (/Number of files: 0\b/.test(stdout) ? '0' : undefined);
  return { files: num(reg), size: num(/Total file size: ([\d,]+) bytes/.exec(stdout)?.[1]) };
}

/**
 * rsync from the tier's source into `destDir` (a path at the destination).
 * extra: link-dest (relative to destDir), checksum + dry-run for a deep verify.
 */
export async function transfer(config: Config, r: Resolved, srcPath: string, destDir: string, extra: { linkDest?: string; filters: string[]; verify?: boolean; rsyncPath?: string }, places: { dst: Place }): Promise<TransferResult> {
  const b = config.backup;
  const opts = ['stats', 'itemize-changes', ...(extra.verify ? ['checksum', 'dry-run'] : ['delete'])];
  const values: Array<[string, string]> = extra.linkDest ? [['link-dest', extra.linkDest]] : [];
  const deadline = b.deadline;
  const done = (code: number | null, stdout: string, stderr: string, timedOut: boolean, signal?: string | null): TransferResult => {
    const ok = !timedOut && (code === 0 || code === 24);
    const items = parseItemized(stdout);
    const err = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
    return { ok, code, timedOut, stderr, vanished: (stderr.match(/file has vanished: /g) ?? []).length, ...statsOf(stdout), sent: items.bytes, changed: items.changed,
      detail: ok ? 'ok' : timedOut ? `no result within the ${deadline} s deadline; rsync was stopped` : `rsync ${code === null ? `killed by ${signal}` : `exit ${code} (${rsyncExitMeaning(code)})`}${err ? `: ${err}` : ''}` };
  };
  const sameHost = r.src.host && r.dst.host && r.src.host.name === r.dst.host.name;
  if (!sameHost && !(r.src.host && r.dst.host)) {
    // At most one side remote: rsync runs here, on the witness.
    const res = await runRsync({
      from: { host: r.src.host, path: `${srcPath}/` }, to: { host: r.dst.host, path: `${destDir}/` },
      flags: 'a', options: opts, values: [...values, ['rsync-path', extra.rsyncPath ?? 'cd "$HOME" && rsync']], filters: extra.filters,
      connectTimeout: config.thresholds.connectTimeout, ioTimeout: b.ioTimeout, deadline,
    });
    return done(res.code, res.stdout, res.stderr, res.timedOut, res.signal);
  }
  // Both on one host, or two remote hosts: rsync runs on the destination host.
  const argv = ['rsync', '-a', ...opts.map((o) => `--${o}`), ...values.map(([k, v]) => `--${k}=${v}`), ...extra.filters.map((f) => `--filter=${f}`), '--protect-args', `--timeout=${Math.ceil(b.ioTimeout)}`];
  let from = `${srcPath}/`;
  if (!sameHost) {
    const src = r.src.host!;
    const via = r.tier.via!;
    const ssh = sshArgv({ ...src, key: via.key, knownHosts: via.knownHosts }, config.thresholds.connectTimeout);
    for (const p of ssh) if (!PLAIN.test(p)) throw new ConfigError([`${config.file}: backup tier ${r.tier.name}: '${p}' cannot be passed to rsync's ssh on ${r.dst.host!.name}: only plain paths (letters, digits, _ . / = : @ + , -) for via.key and via.knownHosts`]);
    argv.push(`--rsh=${ssh.join(' ')}`, '--rsync-path=cd "$HOME" && rsync');
    from = `${src.address.includes(':') ? `[${src.address}]` : src.address}:${srcPath}/`;
  }
  argv.push('--', from, `${destDir}/`);
  const res = await places.dst.exec(argv.map(q).join(' '), deadline);
  return done(res.code === 124 ? null : res.code, res.stdout, res.stderr, res.code === 124, res.code === 124 ? 'timeout' : res.signal);
}

export interface DestState {
  entries: string[];
  latest: string | null;
  freeKB: number;
}

/** What is at the destination: its entries, the latest pointer, free space. Creates the folder unless told not to (--dry-run). */
export async function destState(dst: Place, path: string, timeout: number, create = true): Promise<DestState> {
  if (!create) {
    const e = await dst.exec(`[ -d ${q(path)} ] && echo YES || echo NO`, timeout);
    if (e.stdout.trim() !== 'YES') {
      const f = await dst.exec(`d=${q(path)}; while [ ! -d "$d" ]; do d=$(dirname -- "$d"); done; df -Pk -- "$d" | awk 'NR==2 {print $4}'`, timeout);
      return { entries: [], latest: null, freeKB: Number(f.stdout.trim()) || 0 };
    }
  }
  const r = await dst.exec(`${create ? `mkdir -p -- ${q(path)} && ` : ''}cd -- ${q(path)} && echo "FREE $(df -Pk . | awk 'NR==2 {print $4}')" && echo "LATEST $(readlink latest 2>/dev/null)" && ls -1A`, timeout);
  if (r.code !== 0) throw new Error(`${dst.label}: cannot prepare ${path}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  const lines = r.stdout.split('\n');
  const freeKB = Number(/^FREE (\d+)/m.exec(r.stdout)?.[1] ?? 0);
  const latest = /^LATEST (.*)$/m.exec(r.stdout)?.[1]?.trim() || null;
  const entries = lines.filter((l) => l && !/^(FREE|LATEST) /.test(l));
  return { entries, latest: latest && parseSnapshot(latest) ? latest : null, freeKB };
}

/**
 * The destination's guard, run by the remote shell just before rsync's server
 * starts, in rsync's own SSH connection (--rsync-path), so that the witness
 * does not wait for a second SSH handshake before the copy: make the folder,
 * refuse below the free-space floor (exit 97, 'hactl-refused free=KB'), say
 * which snapshot `latest` names, and remove the leftovers of a killed run.
 */
export function guardedRsyncPath(destPath: string, minFreeMB: number): string {
  const floorKB = Math.ceil(minFreeMB * 1024);
  return `cd "$HOME" && mkdir -p -- ${q(destPath)} && cd -- ${q(destPath)} && f=$(df -Pk . | awk 'NR==2 {print $4}') && if [ "$f" -lt ${floorKB} ]; then echo "hactl-refused free=$f" >&2; exit 97; fi && echo "hactl-latest $(readlink latest 2>/dev/null)" >&2 && rm -rf -- .incomplete-* && cd "$HOME" && rsync`;
}

/** What the guard said, from rsync's stderr. */
export function guardSaid(stderr: string): { refusedFreeKB?: number; latest: string | null } {
  const f = /^hactl-refused free=(\d+)/m.exec(stderr)?.[1];
  const l = /^hactl-latest (.*)$/m.exec(stderr)?.[1]?.trim() ?? '';
  return { refusedFreeKB: f === undefined ? undefined : Number(f), latest: parseSnapshot(l) ? l : null };
}

/**
 * One script after the copy: count what arrived; if it matches what rsync said
 * the source held (files and bytes), rename into place and swap the pointer
 * atomically; else keep it as .rejected-NAME. Prints the folder's entries.
 */
export async function commitSnapshot(dst: Place, destPath: string, tmp: string, name: string, expect: { files?: number; size?: number }, timeout: number): Promise<{ committed: string | null; files: number; bytes: number; entries: string[]; error?: string }> {
  // Two runs within one second (or a replayed HACTL_NOW): the second takes the next second's name.
  const alt = snapshotName(new Date(parseSnapshot(name)!.getTime() + 1000));
  const check = expect.files === undefined ? 'true' : `[ "$1" = ${expect.files} ]${expect.size === undefined ? '' : ` && [ "$2" = ${expect.size} ]`}`;
  const r = await dst.exec(`cd -- ${q(destPath)} && set -- $(find ${q(`${tmp}/`)} -type f -printf '%s\n' | awk '{n++; b+=$1} END {printf "%d %d", n, b}') && echo "COUNT $1 $2" && if ${check}; then n=${q(name)}; [ ! -e "$n" ] || n=${q(alt)}; mv -T -- ${q(tmp)} "$n" && ln -sfn -- "$n" .latest.tmp && mv -T -- .latest.tmp latest && echo "COMMITTED $n"; else mv -T -- ${q(tmp)} ${q(`.rejected-${name}`)}; fi && echo ENTRIES && ls -1A`, timeout);
  const m = /^COUNT (\d+) (\d+)$/m.exec(r.stdout);
  const entries = r.stdout.split('\nENTRIES\n')[1]?.split('\n').filter(Boolean) ?? [];
  const committed = /^COMMITTED (\S+)$/m.exec(r.stdout)?.[1] ?? null;
  return { committed, files: Number(m?.[1] ?? 0), bytes: Number(m?.[2] ?? 0), entries, error: r.code !== 0 ? (r.stderr || r.stdout).trim().split('\n').pop() || `exit ${r.code}` : undefined };
}

/** Counts regular files and bytes under a folder at a place. */
export async function countTree(place: Place, path: string, timeout: number): Promise<{ files: number; bytes: number }> {
  const r = await place.exec(`find ${q(`${path}/`)} -type f -printf '%s\\n' | awk '{n++; b+=$1} END {printf "%d %d\\n", n, b}'`, timeout);
  const [files, bytes] = r.stdout.trim().split(' ').map(Number);
  return { files: files ?? 0, bytes: bytes ?? 0 };
}

/** Source guard: 'missing', 'empty', or 'ok'. */
export async function sourceState(src: Place, path: string, timeout: number): Promise<'missing' | 'empty' | 'ok'> {
  const r = await src.exec(`if [ ! -d ${q(path)} ]; then echo MISSING; elif [ -z "$(find ${q(`${path}/`)} -type f ! -path '*/.hactl-sqlite/*' -print -quit)" ]; then echo EMPTY; else echo OK; fi`, timeout);
  const s = r.stdout.trim();
  if (r.code !== 0 || !s) throw new Error(`${src.label}: cannot look at ${path}: ${(r.stderr || r.stdout).trim()}`);
  return s === 'MISSING' ? 'missing' : s === 'EMPTY' ? 'empty' : 'ok';
}

/**
 * Consistent copies of live SQLite databases, made on the source host with
 * SQLite's online backup API (sqlite3 .backup) into <source>/.hactl-sqlite/,
 * each checked with PRAGMA quick_check. Returns the rules that keep the live
 * files (and their -wal/-shm/-journal) out of the snapshot.
 */
export async function sqliteCopies(src: Place, path: string, globs: string[], timeout: number): Promise<{ copied: string[]; filters: string[] }> {
  if (!globs.length) return { copied: [], filters: [] };
  const { default: picomatch } = await import('picomatch');
  const match = picomatch(globs, { dot: true });
  const list = await src.exec(`cd -- ${q(path)} && find . -type f ! -path './.hactl-sqlite/*' -print0`, timeout);
  if (list.code !== 0) throw new Error(`${src.label}: cannot list ${path}: ${list.stderr.trim()}`);
  const files = list.stdout.split('\0').filter(Boolean).map((f) => f.replace(/^\.\//, '')).filter((f) => match(f));
  const copied: string[] = [];
  for (const [i, f] of files.entries()) {
    // The .backup argument is our own plain temporary name; the real name is set by mv, quoted.
    const tmp = `.hactl-sqlite/.tmp-${i}`;
    const script = `cd -- ${q(path)} && mkdir -p .hactl-sqlite && rm -f ${tmp} && sqlite3 -bail ${q(f)} ${q(`.backup ${tmp}`)} && [ "$(sqlite3 ${tmp} 'PRAGMA quick_check;')" = ok ] && mkdir -p -- ${q(dirname(`.hactl-sqlite/${f}`))} && mv -f -- ${tmp} ${q(`.hactl-sqlite/${f}`)}`;
    const r = await src.exec(script, timeout);
    if (r.code !== 0) throw new Error(`${src.label}: consistent copy of SQLite database ${f} failed: ${(r.stderr || r.stdout).trim().split('\n').pop() || `exit ${r.code}`}`);
    copied.push(f);
  }
  // Copies of databases that are gone (or no longer match) would otherwise live on in every snapshot.
  const old = await src.exec(`cd -- ${q(path)} && if [ -d .hactl-sqlite ]; then find .hactl-sqlite -type f ! -name '.tmp-*' -print0; fi`, timeout);
  const stale = old.stdout.split('\0').filter(Boolean).filter((p) => !copied.includes(p.replace(/^\.hactl-sqlite\//, '')));
  if (stale.length) await src.exec(`cd -- ${q(path)} && rm -f -- ${stale.map(q).join(' ')}`, timeout);
  const esc = (s: string) => s.replace(/[[\]*?\\]/g, (c) => `\\${c}`);
  const filters = files.flatMap((f) => ['', '-wal', '-shm', '-journal'].map((x) => `- /${esc(f)}${x}`));
  return { copied, filters };
}

export { snapshotName, snapshots, planRetention, parseSnapshot };
