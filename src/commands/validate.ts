// hactl validate PATH: the same validator the sync gate uses, on a local tree.
// Local: no lock, no history line, and no config needed (rules
// come from the config when there is one: --config, $HACTL_CONFIG or a default path).
// It changes nothing it validates; with a config it keeps a cache of valid files
// in the state dir (validate/cache.ts), so an unchanged tree is checked in a blink.
import type { Command } from 'commander';
import { existsSync, lstatSync } from 'node:fs';
import type { GlobalOptions } from '../context.js';
import type { ValidateConfig } from '../config/types.js';
import { InputMissingError, ConfigError } from '../errors.js';
import { Reporter, sink } from '../output.js';
// Imported with the command, not one by one after each other: this module is itself loaded only for
// `validate`, and one module graph loads in one go (issue 12 #5: the warm run is mostly start-up).
import { findConfigPath, loadConfig } from '../config/load.js';
import { compileRules } from '../validate/rules.js';
import { validatePath } from '../validate/tree.js';
import { validateResult } from '../validate/report.js';

const DEFAULTS: ValidateConfig = { rules: [], ignore: ['.~tmp~/**', '**/.~tmp~/**'] };

async function rulesConfig(opts: GlobalOptions): Promise<{ cfg: ValidateConfig; file?: string; stateDir?: string }> {
  let file: string;
  try {
    file = findConfigPath(opts.config);
  } catch {
    return { cfg: DEFAULTS }; // no config anywhere: the built-in checks only
  }
  const config = await loadConfig(file);
  return { cfg: config.validate, file, stateDir: config.stateDir };
}

const exists = (p: string) =>
  existsSync(p) ||
  (() => {
    try {
      return !!lstatSync(p);
    } catch {
      return false;
    }
  })();

export default async function validate(_p: Command, cmd: Command, args: unknown[]): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  const path = String(args[0]);
  const out = new Reporter(opts);
  if (!exists(path)) throw new InputMissingError(path);
  const { cfg, file, stateDir } = await rulesConfig(opts);
  let compiled;
  try {
    compiled = await compileRules(cfg, file);
  } catch (e) {
    throw new ConfigError([`${file}: ${(e as Error).message}`]);
  }
  out.progress(`validating ${path}`);
  const r = await validatePath(path, compiled, { maxFileMB: cfg.maxFileMB, cacheDir: stateDir });
  const v = validateResult(path, r);
  if (out.json) out.summary(v.summary, v.json);
  else {
    // The problems are the output a person (or cron mail) needs: always printed, one per line.
    for (const l of v.lines) sink(1).write(l + '\n');
    out.summary(v.summary, null);
  }
  return v.exitCode;
}
