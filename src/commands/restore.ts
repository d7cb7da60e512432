// hactl restore TIER SNAPSHOT [PATH] --to DEST [--yes]: files back from a
// snapshot to a local folder on the witness (src/backup/restore.ts). Without
// --yes it only shows what it would copy; with --yes it copies.
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../context.js';
import { EXIT } from '../errors.js';
import { planRestoreRequest } from '../backup/restore-plan.js';

export default async function restore(_p: Command, cmd: Command, args: unknown[]): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions & { to: string; yes?: boolean };
  const [tier, snapshot, path = '.'] = args as [string, string, string | undefined];
  const req = planRestoreRequest(tier, snapshot, path, opts.to, !!opts.yes);
  return runCommand('restore', { ...opts, dryRun: !opts.yes }, null, async ({ config, out }) => {
    const { restoreFrom } = await import('../backup/restore.js');
    const r = await restoreFrom(config, out, req);
    for (const f of r.files.slice(0, 20)) out.detail(`  ${req.copy ? 'restored' : 'would restore'} ${f}`);
    if (r.files.length > 20) out.detail(`  ... and ${r.files.length - 20} more`);
    const what = `${tier}/${r.snapshot}/${req.path === '.' ? '' : req.path}`;
    const n = r.files.length;
    const skipped = r.skippedLinks.length;
    for (const l of r.skippedLinks.slice(0, 20)) {
      out.detail(`  left out ${l}: a symbolic link that points outside what is restored`);
    }
    const eg = r.skippedLinks.slice(0, 3).join(', ');
    const left = skipped ? `; ${skipped} link(s) pointing outside left out (${eg})` : '';
    return {
      exitCode: skipped ? EXIT.WARNING : EXIT.OK,
      summary: req.copy
        ? `restore: ${n} file(s) from ${what} to ${r.to}${left}`
        : `restore (plan; run again with --yes to copy): ${n} file(s) from ${what} would go to ${r.to}${left}`,
      data: {
        tier, snapshot: r.snapshot, path: req.path, to: r.to, files: r.files,
        skippedLinks: r.skippedLinks, acted: req.copy,
      },
    };
  });
}
