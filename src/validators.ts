// Loads the precompiled validators (scripts/build-validators.mjs, dist/validators/) on demand.
// Loaded with require, not import(): importing CommonJS from ESM runs Node's export lexer over the
// whole file first (hactl.cjs is 330 kB: ~12 ms of every run that reads the config).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { packageFile } from './paths.js';

export interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}
export type Validator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

const cache = new Map<string, Validator>();

export async function loadValidator(name: string): Promise<Validator> {
  let v = cache.get(name);
  if (!v) {
    const mod = createRequire(import.meta.url)(fileURLToPath(packageFile(`dist/validators/${name}.cjs`))) as {
      default: Validator;
    };
    v = mod.default;
    cache.set(name, v);
  }
  return v;
}

/** One readable line per ajv error, naming the key and what is allowed. */
export function describeAjvError(e: AjvError): string {
  const where = e.instancePath || '/';
  switch (e.keyword) {
    case 'additionalProperty':
    case 'additionalProperties':
      return `${where} must NOT have additional property '${String(e.params.additionalProperty)}'`;
    case 'required':
      return `${where} is missing required key '${String(e.params.missingProperty)}'`;
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return `${where} must be one of ${allowed}`;
    }
    default:
      return `${where} ${e.message ?? e.keyword}`;
  }
}
