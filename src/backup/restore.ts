// hactl restore: files back from a snapshot to a local folder on the witness.
// observe (the snapshot, at its destination; DEST, here) -> plan (restore-plan.ts,
// pure) -> run (rsync, into DEST only). It never deletes at DEST, never writes
// into the snapshot, and never follows a symlink out of either: not in the
// snapshot's path, not in DEST's path, and it restores no link that points out.
import { existsSync, lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { Config } from '../config/types.js';
import type { Reporter } from '../output.js';
import { ActionError, InputMissingError, UsageError } from '../errors.js';
import { runRsync, rsyncExitMeaning } from '../adapters/rsync.js';
import { parseItemized, rsyncSaid } from '../adapters/rsync-itemize.js';
import { openPlaces, type Place } from './places.js';
import { parseSnapshot } from './retention.js';
import { arg, isDirScript, readLinkScript } from './scripts.js';
import { findTier } from './tiers.js';
import {
  excludeExactly,
  noSuchSnapshot,
  passedThrough,
  unsafeLinks,
  writesIntoSnapshots,
  type Link,
  type RestoreRequest,
} from './restore-plan.js';

export interface RestoreResult {
  snapshot: string;
  to: string;
  files: string[];
  /** Links left out because they point outside what was restored. */
  skippedLinks: string[];
}

/** LINK <folder> for each folder passed through that is a symlink, then KIND DIR, FILE, LINK or NONE. */
function probeScript(folders: string[], target: string): string {
  const links = folders.map((f) => `if [ -L ${arg(f)} ]; then printf 'LINK %s\\n' ${arg(f)}; fi`).join('; ');
  const t = arg(target);
  return (
    `${links}; if [ -L ${t} ]; then echo KIND LINK; elif [ -d ${t} ]; then echo KIND DIR; ` +
    `elif [ -e ${t} ]; then echo KIND FILE; else echo KIND NONE; fi`
  );
}

/** The entries of the tier's folder (nothing when it is missing). */
const entriesScript = (dir: string) => `cd -- ${arg(dir)} 2>/dev/null && ls -1A || true`;

/** The links in a restore's source: path (relative to the folder) and target, NUL-separated. */
const linksScript = (dir: string) => `find ${arg(`${dir}/`)} -type l -printf '%P\\0%l\\0'`;

/** A symlink among the existing components of an absolute path, if any. */
function linkOnTheWay(abs: string): { at: string; target: string } | null {
  let at = '';
  for (const part of abs.split(sep).filter(Boolean)) {
    at += `${sep}${part}`;
    let st;
    try {
      st = lstatSync(at);
    } catch {
      return null;
    } // from here on nothing exists: made fresh by mkdir
    if (st.isSymbolicLink()) return { at, target: readlinkSync(at) };
  }
  return null;
}

async function observeSnapshot(dst: Place, dir: string, req: RestoreRequest, timeout: number, label: string) {
  let snap = req.snapshot;
  if (snap === 'latest') {
    snap = (await dst.exec(readLinkScript(`${dir}/latest`), timeout)).stdout.trim();
    if (!parseSnapshot(snap)) throw new InputMissingError(`${label}/latest (tier ${req.tier} has no snapshot yet)`);
  }
  const top = `${dir}/${snap}`;
  if ((await dst.exec(isDirScript(top), timeout)).stdout.trim() !== 'YES') {
    // A name that is not there: said by name, with the nearest ones (not "no such file or directory").
    const entries = (await dst.exec(entriesScript(dir), timeout)).stdout.split('\n').filter(Boolean);
    const message = noSuchSnapshot(req.tier, snap, label, entries);
    throw Object.assign(new InputMissingError(`${label}/${snap}`), {
      message,
      hint: "restore one of those, or 'latest'",
    });
  }
  const src = req.path === '.' ? top : `${top}/${req.path}`;
  const probe = (await dst.exec(probeScript(passedThrough(top, req.path), src), timeout)).stdout;
  const through = /^LINK (.*)$/m.exec(probe)?.[1];
  if (through) {
    throw new UsageError(
      `restore: ${req.path} passes through ${through}, a symbolic link in the snapshot; ` +
        'restore the link itself, or the path it points to inside the snapshot',
    );
  }
  const kind = /^KIND (\w+)$/m.exec(probe)?.[1] ?? 'NONE';
  let links: Link[] = [];
  const base = req.path === '.' ? '' : `${req.path.split('/').pop()}/`;
  if (kind === 'DIR') {
    const l = (await dst.exec(linksScript(src), timeout)).stdout.split('\0');
    for (let i = 0; i + 1 < l.length; i += 2) links.push({ path: `${base}${l[i]}`, target: l[i + 1]! });
  } else if (kind === 'LINK') {
    const target = (await dst.exec(readLinkScript(src), timeout)).stdout.replace(/\n$/, '');
    links = [{ path: base.slice(0, -1), target }];
  }
  return { snap, src, kind, links };
}

export async function restoreFrom(config: Config, out: Reporter, req: RestoreRequest): Promise<RestoreResult> {
  const r = findTier(config, req.tier);
  const { dst, close } = await openPlaces(config, r);
  let seen: Awaited<ReturnType<typeof observeSnapshot>>;
  try {
    seen = await observeSnapshot(dst, r.dst.path, req, config.thresholds.commandTimeout, r.tier.destination);
  } finally {
    await close();
  }
  if (seen.kind === 'NONE') throw new InputMissingError(`${r.dst.host ? `${r.dst.host.name}:` : ''}${seen.src}`);
  const to = resolve(req.to);
  const link = linkOnTheWay(to);
  if (link) {
    throw new UsageError(
      `restore: --to ${to} passes through ${link.at}, a symbolic link (to ${link.target}); ` +
        'restore writes only into real folders: give the real path',
    );
  }
  if (!r.dst.host && writesIntoSnapshots(to, r.dst.path)) {
    const why = `is inside the tier's snapshots (${r.dst.path}); restore never writes into them`;
    throw new UsageError(`restore: --to ${to} ${why}`);
  }
  const skipped = unsafeLinks(seen.links).sort();
  if (req.copy) mkdirSync(to, { recursive: true });
  else if (!existsSync(to)) out.detail(`(${to} does not exist yet: it would be created)`);
  // The whole snapshot: its contents into DEST. A folder or file in it: itself into DEST (like cp -r).
  const from = seen.kind === 'DIR' && req.path === '.' ? `${seen.src}/` : seen.src;
  const res = await runRsync({
    from: { host: r.dst.host, path: from },
    to: { path: `${to}/` },
    flags: 'a',
    options: ['itemize-changes', 'stats', 'safe-links', ...(req.copy ? [] : ['dry-run'])],
    values: [['rsync-path', 'cd "$HOME" && rsync']],
    filters: excludeExactly(skipped),
    connectTimeout: config.thresholds.connectTimeout,
    ioTimeout: config.backup.ioTimeout,
    deadline: config.backup.deadline,
  });
  if (res.code !== 0) {
    const said = rsyncSaid(res.stderr);
    throw new ActionError(`restore: rsync exit ${res.code} (${rsyncExitMeaning(res.code)}): ${said}`);
  }
  return { snapshot: seen.snap, to, files: parseItemized(res.stdout).changed, skippedLinks: skipped };
}
