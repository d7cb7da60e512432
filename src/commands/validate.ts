// hactl validate PATH: the same validator the sync gate uses, on a local tree.
// Read-only and local: no lock, no history line, and no config needed (rules
// come from the config when there is one: --config, $HACTL_CONFIG or a default path).
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import type { GlobalOptions } from '../context.js';
import type { ValidateConfig } from '../config/types.js';
import { EXIT, InputMissingError, ConfigError } from '../errors.js';
import { Reporter } from '../output.js';

const DEFAULTS: ValidateConfig = { rules: [], ignore: ['.~tmp~/**', '**/.~tmp~/**'] };

async function rulesConfig(opts: GlobalOptions): Promise<{ cfg: ValidateConfig; file?: string }> {
  const { findConfigPath, loadConfig } = await import('../config/load.js');
  let file: string;
  try {
    file = findConfigPath(opts.config);
  } catch {
    return { cfg: DEFAULTS }; // no config anywhere: the built-in checks only
  }
  const config = await loadConfig(file);
  return { cfg: config.validate, file };
}

export default async function validate(_p: Command, cmd: Command, args: unknown[]): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  const path = String(args[0]);
  const out = new Reporter(opts);
  if (!existsSync(path)) throw new InputMissingError(path);
  const { cfg, file } = await rulesConfig(opts);
  const { compileRules, validatePath, formatProblem } = await import('../memory/validate.js');
  let compiled;
  try {
    compiled = await compileRules(cfg, file);
  } catch (e) {
    throw new ConfigError([`${file}: ${(e as Error).message}`]);
  }
  out.progress(`validating ${path}`);
  const r = await validatePath(path, compiled);
  const prefix = r.single ? r.root : path;
  const exitCode = r.invalid.length ? EXIT.WARNING : EXIT.OK;
  const summary = r.invalid.length
    ? `validate: ${r.invalid.length} of ${r.files} files invalid (${r.problems.length} problems) in ${path}`
    : `validate: ${r.files} file${r.files === 1 ? '' : 's'} valid in ${path}`;
  if (out.json) {
    out.summary(summary, {
      command: 'validate', exitCode, summary, path, files: r.files, bytes: r.bytes, invalid: r.invalid.map((f) => (r.single ? `${prefix}/${f}` : `${prefix.replace(/\/+$/, '')}/${f}`)),
      problems: r.problems.map((p) => ({ file: formatProblem({ ...p, line: 0, col: 0, message: '' }, prefix).replace(/:0:0: $/, ''), line: p.line, col: p.col, message: p.message })), ms: r.ms,
    });
  } else {
    // The problems are the output a person (or cron mail) needs: always printed, one per line.
    for (const p of r.problems) process.stdout.write(formatProblem(p, prefix) + '\n');
    out.summary(summary, null);
  }
  return exitCode;
}
