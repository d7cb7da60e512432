// hactl restore TIER SNAPSHOT [PATH] --to DEST [--yes]: files back from a
// snapshot to a local folder on the witness. Without --yes it only shows what
// it would copy (rsync --dry-run); with --yes it copies. It never deletes at
// DEST, and it never writes into the snapshot.
import type { Command } from 'commander';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { runCommand, type GlobalOptions } from '../context.js';
import { EXIT, InputMissingError, UsageError, ActionError } from '../errors.js';
import { shq } from '../adapters/shell.js';
import { runRsync, rsyncExitMeaning } from '../adapters/rsync.js';
import { parseItemized } from '../adapters/rsync-itemize.js';
import { findTier } from '../backup/tier.js';
import { openPlaces } from './backup-tier.js';
import { parseSnapshot } from '../backup/retention.js';

export default async function restore(_p: Command, cmd: Command, args: unknown[]): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions & { to: string; yes?: boolean };
  const [tierName, snapArg, pathArg = '.'] = args as [string, string, string | undefined];
  const inner = String(pathArg).replace(/^\/+/, '').replace(/\/+$/, '') || '.';
  if (inner.split('/').includes('..')) throw new UsageError(`restore: PATH ${pathArg} must stay inside the snapshot (no '..')`);
  if (snapArg !== 'latest' && !parseSnapshot(snapArg)) throw new UsageError(`restore: '${snapArg}' is not a snapshot name (like 2026-11-22T140000Z) or 'latest'; see hactl backup-tier --list`);
  return runCommand('restore', { ...opts, dryRun: !opts.yes }, null, async ({ config, out }) => {
    const r = findTier(config, tierName);
    const { dst, close } = await openPlaces(config, r);
    let snap = snapArg;
    let src: string;
    try {
      if (snap === 'latest') {
        const l = await dst.exec(`readlink -- ${shq(`${r.dst.path}/latest`)}`, config.thresholds.commandTimeout);
        snap = l.stdout.trim();
        if (!parseSnapshot(snap)) throw new InputMissingError(`${r.tier.destination}/latest (tier ${tierName} has no snapshot yet)`);
      }
      src = `${r.dst.path}/${snap}${inner === '.' ? '' : `/${inner}`}`;
      const e = await dst.exec(`[ -e ${shq(src)} ] && { [ -d ${shq(src)} ] && echo DIR || echo FILE; } || echo NONE`, config.thresholds.commandTimeout);
      const kind = e.stdout.trim();
      if (kind === 'NONE') throw new InputMissingError(`${r.dst.host ? `${r.dst.host.name}:` : ''}${src}`);
      // The whole snapshot: its contents into DEST. A folder or file in it: itself into DEST (like cp -r).
      if (kind === 'DIR' && inner === '.') src += '/';
    } finally {
      await close();
    }
    const to = resolve(opts.to);
    if (opts.yes) mkdirSync(to, { recursive: true });
    else if (!existsSync(to)) out.detail(`(${to} does not exist yet: it would be created)`);
    const res = await runRsync({
      from: { host: r.dst.host, path: src }, to: { path: `${to}/` },
      flags: 'a', options: ['itemize-changes', 'stats', ...(opts.yes ? [] : ['dry-run'])], values: [['rsync-path', 'cd "$HOME" && rsync']],
      connectTimeout: config.thresholds.connectTimeout, ioTimeout: config.backup.ioTimeout, deadline: config.backup.deadline,
    });
    if (res.code !== 0) throw new ActionError(`restore: rsync exit ${res.code} (${rsyncExitMeaning(res.code)}): ${res.stderr.trim().split('\n').pop()}`);
    const items = parseItemized(res.stdout);
    for (const f of items.changed.slice(0, 20)) out.detail(`  ${opts.yes ? 'restored' : 'would restore'} ${f}`);
    if (items.changed.length > 20) out.detail(`  ... and ${items.changed.length - 20} more`);
    const what = `${tierName}/${snap}/${inner === '.' ? '' : inner}`;
    return {
      exitCode: EXIT.OK,
      summary: opts.yes ? `restore: ${items.changed.length} file(s) from ${what} to ${to}` : `restore (plan; run again with --yes to copy): ${items.changed.length} file(s) from ${what} would go to ${to}`,
      data: { tier: tierName, snapshot: snap, path: inner, to, files: items.changed, acted: !!opts.yes },
    };
  });
}
