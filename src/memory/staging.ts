// The witness's staging trees: validating them, their manifests (what both
// hosts held after the last good push), and placing files for the sync-back.
import { copyFileSync, linkSync, mkdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { compileRules, type CompiledRules } from '../validate/rules.js';
import { validateTree } from '../validate/tree.js';
import { formatProblem } from '../validate/problem.js';
import type { Manifest } from './plan.js';

export interface StagingReport {
  files: number;
  invalid: string[];
  problems: string[]; // `file:line:col: message`
  warnings: string[];
}

const compiledFor = new WeakMap<Config, CompiledRules>();

/**
 * The validate rules, compiled once per run. A rule that cannot compile (a schema file missing, an invalid
 * JSON Schema) is a configuration error, exit 78, naming the file and the rule: the sync calls this before
 * it copies anything (issue 11 #14).
 */
export async function rulesOf(config: Config): Promise<CompiledRules> {
  let c = compiledFor.get(config);
  if (!c) {
    try {
      c = await compileRules(config.validate, config.file);
    } catch (e) {
      throw new ConfigError([`${config.file}: validate.rules: ${(e as Error).message}`]);
    }
    compiledFor.set(config, c);
  }
  return c;
}

/** Validates the staging tree, or only the given files of it (the full tree when any of them is not there). */
export async function validateStaging(config: Config, dir: string, only: string[] | undefined): Promise<StagingReport> {
  const compiled = await rulesOf(config);
  const r = await validateTree(dir, compiled, { only, maxFileMB: config.validate.maxFileMB });
  return {
    files: r.files,
    invalid: r.invalid,
    problems: r.problems.map((p) => formatProblem(p)),
    warnings: r.warnings.map((p) => formatProblem(p)),
  };
}

export async function statManifest(root: string, files: string[]): Promise<Manifest> {
  const out: Manifest = {};
  for (const f of files) {
    try {
      const st = statSync(join(root, f));
      out[f] = { size: st.size, mtime: Math.floor(st.mtimeMs / 1000) };
    } catch {
      /* vanished */
    }
  }
  return out;
}

export function readManifest(file: string): Manifest | null {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { files?: Manifest };
    return m.files ?? null;
  } catch {
    return null; // no base known: every file changed on both sides becomes a kept conflict
  }
}

/** Hard-links (or copies, keeping the mtime) a staged file into place. */
export function placeFile(src: string, dst: string): void {
  mkdirSync(dirname(dst), { recursive: true });
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
    const st = statSync(src);
    utimesSync(dst, st.atime, st.mtime);
  }
}

export function sameBytes(a: string, b: string): boolean {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}
