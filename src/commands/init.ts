// hactl init [FILE]: write a starting config (the commented example) at FILE,
// else --config / $HACTL_CONFIG, else /etc/hactl/hactl.yaml. Mode 0600, its
// folder 0700 when created. An existing file is never overwritten without
// --force, and with --force it is first kept as FILE.bak-<time>.
import type { Command } from 'commander';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GlobalOptions } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { Reporter } from '../output.js';
import { packageFile } from '../paths.js';
import { writeAtomic } from '../state/files.js';
import { systemClock } from '../adapters/clock.js';
import { starterConfig } from '../operator/init.js';

interface InitOptions extends GlobalOptions {
  force?: boolean;
}

const asset = (rel: string) => fileURLToPath(packageFile(rel));

export default async function init(_p: Command, cmd: Command, args: unknown[]): Promise<number> {
  const o = cmd.optsWithGlobals() as InitOptions;
  const out = new Reporter(o);
  const target = resolve(
    (args[0] as string | undefined) ?? o.config ?? process.env.HACTL_CONFIG ?? '/etc/hactl/hactl.yaml',
  );
  const schema = asset('schema/hactl.schema.json');
  const text = starterConfig(readFileSync(asset('hactl.example.yaml'), 'utf8'), schema);
  let kept: string | undefined;
  if (existsSync(target)) {
    if (!o.force)
      throw new UsageError(
        `init: ${target} exists; not overwritten ` +
          `(hactl init --force keeps it as ${target}.bak-<time> and writes a new one)`,
      );
    kept = `${target}.bak-${systemClock().now().toISOString().replace(/[:.]/g, '')}`;
    copyFileSync(target, kept);
  }
  writeAtomic(target, text, 0o600);
  const summary =
    `init: wrote ${target} (mode 0600; schema ${schema})${kept ? `; the old file is ${kept}` : ''}; ` +
    'edit hosts, pair and alerts, then run hactl check';
  out.summary(summary, { command: 'init', exitCode: EXIT.OK, summary, file: target, schema, kept: kept ?? null });
  return EXIT.OK;
}
