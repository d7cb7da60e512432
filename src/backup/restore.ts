// hactl restore: files back from a snapshot to a local folder on the witness.
// observe (the snapshot, at its destination) -> plan (restore-plan.ts, pure)
// -> run (rsync, into DEST only). It never deletes at DEST, and never writes
// into the snapshot.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/types.js';
import type { Reporter } from '../output.js';
import { ActionError, InputMissingError } from '../errors.js';
import { runRsync, rsyncExitMeaning } from '../adapters/rsync.js';
import { parseItemized } from '../adapters/rsync-itemize.js';
import { openPlaces } from './places.js';
import { parseSnapshot } from './retention.js';
import { arg, readLinkScript } from './scripts.js';
import { findTier } from './tiers.js';
import type { RestoreRequest } from './restore-plan.js';

export interface RestoreResult {
  snapshot: string;
  to: string;
  files: string[];
}

/** What PATH is in the snapshot: DIR, FILE or NONE. */
const kindScript = (p: string) => `[ -e ${arg(p)} ] && { [ -d ${arg(p)} ] && echo DIR || echo FILE; } || echo NONE`;

export async function restoreFrom(config: Config, out: Reporter, req: RestoreRequest): Promise<RestoreResult> {
  const r = findTier(config, req.tier);
  const timeout = config.thresholds.commandTimeout;
  const { dst, close } = await openPlaces(config, r);
  let snap = req.snapshot;
  let src: string;
  try {
    if (snap === 'latest') {
      snap = (await dst.exec(readLinkScript(`${r.dst.path}/latest`), timeout)).stdout.trim();
      if (!parseSnapshot(snap)) {
        throw new InputMissingError(`${r.tier.destination}/latest (tier ${req.tier} has no snapshot yet)`);
      }
    }
    src = `${r.dst.path}/${snap}${req.path === '.' ? '' : `/${req.path}`}`;
    const kind = (await dst.exec(kindScript(src), timeout)).stdout.trim();
    if (kind === 'NONE') throw new InputMissingError(`${r.dst.host ? `${r.dst.host.name}:` : ''}${src}`);
    // The whole snapshot: its contents into DEST. A folder or file in it: itself into DEST (like cp -r).
    if (kind === 'DIR' && req.path === '.') src += '/';
  } finally {
    await close();
  }
  const to = resolve(req.to);
  if (req.copy) mkdirSync(to, { recursive: true });
  else if (!existsSync(to)) out.detail(`(${to} does not exist yet: it would be created)`);
  const res = await runRsync({
    from: { host: r.dst.host, path: src }, to: { path: `${to}/` },
    flags: 'a', options: ['itemize-changes', 'stats', ...(req.copy ? [] : ['dry-run'])],
    values: [['rsync-path', 'cd "$HOME" && rsync']], connectTimeout: config.thresholds.connectTimeout,
    ioTimeout: config.backup.ioTimeout, deadline: config.backup.deadline,
  });
  if (res.code !== 0) {
    const said = res.stderr.trim().split('\n').pop();
    throw new ActionError(`restore: rsync exit ${res.code} (${rsyncExitMeaning(res.code)}): ${said}`);
  }
  return { snapshot: snap, to, files: parseItemized(res.stdout).changed };
}
