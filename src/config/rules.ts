// The validate rules' JSON Schemas are compiled when the config loads, so a bad one is
// a configuration error (exit 78, naming the key) at once, not an "unexpected error"
// in the middle of a memory sync. Compiled exactly as src/memory/validate.ts does
// (one ajv for all rules, allErrors, strict: false), so what loads here compiles there.
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { readRegularFile, Unreadable } from './read.js';

/** Reads a rule's schema file; injected so tests can stand in for the disk. */
export type ReadSchema = (path: string) => Buffer;

/** A schema file is small; a larger one is a mistake (and would be parsed at every run). */
export const MAX_SCHEMA_BYTES = 1024 * 1024;

export const readSchemaFile: ReadSchema = (path) => readRegularFile(path, MAX_SCHEMA_BYTES);

interface Compiler {
  compile(schema: object): unknown;
}

function newAjv(): Compiler {
  // Loaded only when there are rules: most runs never pay for ajv's compiler.
  const Ajv = createRequire(import.meta.url)('ajv') as { default: new (o: object) => Compiler };
  return new Ajv.default({ allErrors: true, strict: false });
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** One problem per bad rule: where (its instancePath) and what is wrong. */
type Finding = { path: string; msg: string };

export function ruleProblems(rules: unknown, configFile: string, read: ReadSchema = readSchemaFile): Finding[] {
  if (!Array.isArray(rules) || rules.length === 0) return [];
  const out: Finding[] = [];
  const base = dirname(resolve(configFile));
  let ajv: Compiler | undefined;
  rules.forEach((r: unknown, i) => {
    const schema = (r as { schema?: unknown } | null)?.schema;
    const path = `/validate/rules/${i}/schema`;
    let compiled: object;
    let what = 'the inline schema';
    if (typeof schema === 'string' && schema.length > 0) {
      const file = isAbsolute(schema) ? schema : resolve(base, schema);
      what = `the schema file ${file}`;
      let text: string;
      try {
        text = read(file).toString('utf8');
      } catch (e) {
        const why = e instanceof Unreadable ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
        out.push({ path, msg: `cannot read ${what}: ${why}` });
        return;
      }
      try {
        compiled = JSON.parse(text) as object;
      } catch (e) {
        out.push({ path, msg: `${what} is not JSON: ${oneLine((e as Error).message)}` });
        return;
      }
      if (!compiled || typeof compiled !== 'object' || Array.isArray(compiled)) {
        out.push({ path, msg: `${what} must hold a JSON object (a JSON Schema)` });
        return;
      }
    } else if (schema && typeof schema === 'object' && !Array.isArray(schema)) compiled = schema;
    else return; // the config schema reports the wrong type
    try {
      (ajv ??= newAjv()).compile(compiled);
    } catch (e) {
      out.push({ path, msg: `${what} is not a valid JSON Schema: ${oneLine((e as Error).message)}` });
    }
  });
  return out;
}
