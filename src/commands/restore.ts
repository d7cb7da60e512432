// hactl restore TIER SNAPSHOT [PATH] --to DEST [--yes]: files back from a
// snapshot to a local folder on the witness (src/backup/restore.ts). Without
// --yes it only shows what it would copy; with --yes it copies.
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../context.js';
import { EXIT } from '../errors.js';
import { planRestoreRequest } from '../backup/restore-plan.js';

export default async function restore(_program: Command, cmd: Command, args: unknown[]): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions & { to: string; yes?: boolean };
  const [tier, snapshot, path = '.'] = args as [string, string, string | undefined];
  const req = planRestoreRequest(tier, snapshot, path, opts.to, !!opts.yes);
  return runCommand('restore', { ...opts, dryRun: !opts.yes }, null, async ({ config, out }) => {
    const { restoreFrom } = await import('../backup/restore.js');
    const done = await restoreFrom(config, out, req);
    for (const file of done.files.slice(0, 20)) out.detail(`  ${req.copy ? 'restored' : 'would restore'} ${file}`);
    if (done.files.length > 20) out.detail(`  ... and ${done.files.length - 20} more`);
    const what = `${tier}/${done.snapshot}/${req.path === '.' ? '' : req.path}`;
    const count = done.files.length;
    const skipped = done.skippedLinks.length;
    for (const link of done.skippedLinks.slice(0, 20)) {
      out.detail(`  left out ${link}: a symbolic link that points outside what is restored`);
    }
    const eg = done.skippedLinks.slice(0, 3).join(', ');
    const left = skipped ? `; ${skipped} link(s) pointing outside left out (${eg})` : '';
    return {
      exitCode: skipped ? EXIT.WARNING : EXIT.OK,
      summary: req.copy
        ? `restore: ${count} file(s) from ${what} to ${done.to}${left}`
        : `restore (plan; run again with --yes to copy): ${count} file(s) from ${what} would go to ${done.to}${left}`,
      data: {
        tier,
        snapshot: done.snapshot,
        path: req.path,
        to: done.to,
        files: done.files,
        skippedLinks: done.skippedLinks,
        acted: req.copy,
      },
    };
  });
}
