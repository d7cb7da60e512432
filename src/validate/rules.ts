// The configured rules, compiled once per run: globs with picomatch, schemas
// with ajv (loaded only when there are rules). Reads a rule's schema file.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import picomatch from 'picomatch';
import type { ValidateConfig } from '../config/types.js';
import type { Rule, SchemaFn } from './check.js';

export interface CompiledRules {
  rules: Rule[];
  ignore: (p: string) => boolean;
  /** What they were compiled from (for worker threads) and a fingerprint of it, schema files' contents included. */
  source: { cfg: Pick<ValidateConfig, 'rules' | 'ignore'>; configFile?: string; fingerprint: string };
}

export async function compileRules(
  cfg: Pick<ValidateConfig, 'rules' | 'ignore'>,
  configFile?: string,
): Promise<CompiledRules> {
  const ignoreGlobs = cfg.ignore ?? [];
  const ignore = ignoreGlobs.length ? picomatch(ignoreGlobs, { dot: true }) : () => false;
  const source = { cfg: { rules: cfg.rules ?? [], ignore: ignoreGlobs }, configFile, fingerprint: '' };
  const print = (schemas: unknown[]) =>
    createHash('sha256')
      .update(JSON.stringify({ rules: cfg.rules ?? [], ignoreGlobs, schemas }))
      .digest('hex');
  if (!cfg.rules?.length) return { rules: [], ignore, source: { ...source, fingerprint: print([]) } };
  const schemas: unknown[] = [];
  type AjvCtor = new (o: object) => { compile(s: object): SchemaFn };
  const { default: Ajv } = (await import('ajv')) as unknown as { default: AjvCtor };
  const ajv = new Ajv({ allErrors: true, strict: false });
  const base = configFile ? dirname(resolve(configFile)) : process.cwd();
  const rules = cfg.rules.map((r) => {
    let schema: object;
    if (typeof r.schema === 'string') {
      const file = isAbsolute(r.schema) ? r.schema : resolve(base, r.schema);
      try {
        schema = JSON.parse(readFileSync(file, 'utf8')) as object;
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        throw new Error(`validate rule '${r.glob}': cannot read schema ${file}: ${why}`, { cause: e });
      }
    } else schema = r.schema;
    schemas.push(schema);
    let validate: SchemaFn;
    try {
      validate = ajv.compile(schema);
    } catch (e) {
      throw new Error(`validate rule '${r.glob}': invalid JSON Schema: ${(e as Error).message}`, { cause: e });
    }
    return { glob: r.glob, match: picomatch(r.glob, { dot: true }), validate };
  });
  return { rules, ignore, source: { ...source, fingerprint: print(schemas) } };
}
