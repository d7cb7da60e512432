// Config: find and read the file (I/O: read.ts); a config that loaded before comes from the cache
// (cache.ts), any other is parsed and validated by parse.ts, loaded only then: the YAML parser and the
// schema are most of what a run without SSH would load (issue 25).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadValidator } from '../validators.js';
import type { Config } from './types.js';
import { decodeConfig, readConfigBytes } from './read.js';
import { readSchemaFile } from './rules.js';
import { cachedConfig } from './cache.js';

export const DEFAULT_PATHS = ['./hactl.yaml', '/etc/hactl/hactl.yaml'];

export function findConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  if (env.HACTL_CONFIG) return env.HACTL_CONFIG;
  for (const p of DEFAULT_PATHS) if (existsSync(p)) return p;
  throw new ConfigError(
    [`no config file: none given with --config or HACTL_CONFIG, and none at ${DEFAULT_PATHS.join(' or ')}`],
    'run `hactl init` to write /etc/hactl/hactl.yaml (or give --config), then edit it',
  );
}

export async function loadConfig(explicit?: string): Promise<Config> {
  const file = findConfigPath(explicit);
  const text = decodeConfig(readConfigBytes(file), file);
  const warn = (line: string) => process.stderr.write(`hactl: warning: ${line}\n`);
  // The same config as a run that loaded it before: that run's Config (src/config/cache.ts, issue 25).
  const parse = async () => {
    const warnings: string[] = [];
    const schemas: Array<[string, string]> = [];
    const readSchema = (p: string) => {
      const b = readSchemaFile(p);
      schemas.push([p, b.toString('utf8')]);
      return b;
    };
    const [validate, { parseConfig }] = await Promise.all([loadValidator('hactl'), import('./parse.js')]);
    try {
      const config = parseConfig(text, file, validate, { warn: (l) => warnings.push(l), readSchema });
      return { config, warnings, schemas };
    } catch (e) {
      for (const w of warnings) warn(w);
      throw e;
    }
  };
  return (await cachedConfig(file, text, parse, warn)).config;
}

export function expandPath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(base, p);
}
