// A failover or failback by hand is safe by hand: in a terminal it shows the plan (a dry run:
// no lock, nothing changed) and asks y/N before acting; without a terminal (a script, ssh
// without -t, --json) it acts only with --yes. --auto (cron) and --dry-run never ask.
// The real run decides again under the lock, so it acts on the state as it is then.
import type { Command } from 'commander';
import { runCommand, type GlobalOptions, type RunRecord } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { Reporter } from '../output.js';
import { movePair } from '../failover/index.js';
import { requester } from '../failover/requester.js';

type Move = 'failover' | 'failback';
interface MoveOptions extends GlobalOptions {
  yes?: boolean;
}

async function ask(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // Ctrl-D (end of input) is a no.
  const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
  try {
    const answer = await Promise.race([rl.question(question), closed]);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

export async function moveByHand(name: Move, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as MoveOptions;
  const req = requester(opts);
  const body = (ctx: Parameters<typeof movePair>[0]) => movePair(ctx, name, req);
  if (opts.auto || opts.dryRun || opts.yes) return runCommand(name, opts, 'cluster', body);
  const terminal = !opts.json && !!process.stdin.isTTY && !!process.stdout.isTTY;
  if (!terminal) {
    throw new UsageError(
      `${name} by hand without a terminal needs --yes (or --auto, as cron runs it); nothing done`,
      `hactl ${name} --dry-run shows the plan; hactl ${name} --yes carries it out`,
    );
  }
  let planned: RunRecord | undefined;
  // The plan's steps are shown, then the question: not the dry run's own summary ("failover
  // --dry-run: would failover"), which reads as if the person had asked for a dry run. When there
  // is nothing to do, its line says why and no question follows.
  const dry = { ...opts, dryRun: true };
  class PlanThenAsk extends Reporter {
    override summary(line: string, data: unknown): void {
      if (!(data as { plan?: unknown } | null)?.plan) super.summary(line, data);
    }
  }
  const code = await runCommand(
    name,
    dry,
    'cluster',
    async (ctx) => {
      planned = await body(ctx);
      return planned;
    },
    undefined,
    new PlanThenAsk(dry),
  );
  if (!planned?.data?.plan) return code; // nothing to do: the dry run said why
  if (await ask(`Carry out this ${name} now? [y/N] `)) return runCommand(name, opts, 'cluster', body);
  new Reporter(opts).summary(`${name}: not confirmed; nothing done`, null);
  return EXIT.WARNING;
}
