// hactl guard [--host NAME]: run on each gateway host from its own cron (every minute) or a
// systemd timer. Keeps the local gateway only while this host reaches the witness (a fresh lease)
// or its peer; isolated past the lease, stops it and says why (exit 2). docs/partitions.md.
import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from '../context.js';

interface GuardOptions extends GlobalOptions {
  host?: string;
}

export default function guard(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GuardOptions;
  return runCommand('guard', opts, 'guard', async (ctx) =>
    (await import('../guard/index.js')).guardHost(ctx, opts.host),
  );
}
