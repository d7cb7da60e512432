// Configs that loaded, kept between runs (issue 25). Parsing the YAML and checking it against the schema
// loads about 520 kB of JavaScript (the yaml library, the compiled schema) and was about a third of what a
// `status` run spends. A run whose config is the same as one that loaded before gets that run's Config
// back, and its warnings said again. "The same" is everything parseConfig reads: the file's path as given
// and as resolved from the working directory, its text, the home directory (`~` in paths), the text of
// every rule schema file it named, and this build of hactl (its version and the config code's own file).
// Anything different, unreadable or not a copy we wrote: parsed afresh. Only a config that loaded is kept,
// so a broken one is reported on every run. The copies live in the user's cache directory
// ($XDG_CACHE_HOME/hactl, else ~/.cache/hactl; 0700, files 0600), one per config path, at most KEEP.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './types.js';
import { readSchemaFile } from './rules.js';
import { VERSION } from '../version.js';
import { packageFile } from '../paths.js';

const KEEP = 32;

interface Key {
  file: string;
  path: string;
  home: string;
  text: string;
  build: string;
  schemas: Array<[string, string]>;
}
interface Entry {
  version: 1;
  key: Key;
  config: Config;
  warnings: string[];
}

/**
 * This build: the version, and the size and time of the config code's own file and of the compiled schema
 * (a rebuilt bundle writes both anew; the schema holds the defaults).
 */
function build(): string {
  const files = [fileURLToPath(import.meta.url), fileURLToPath(packageFile('dist/validators/hactl.cjs'))];
  return [
    VERSION,
    ...files.map((f) => {
      try {
        const s = statSync(f);
        return `${s.size}:${s.mtimeMs}`;
      } catch {
        return '-';
      }
    }),
  ].join(':');
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hactl');
}

/** FNV-1a over the resolved path: a file name, not a check (the key inside is compared in full). */
function nameOf(path: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193) >>> 0;
  return `config-${h.toString(16).padStart(8, '0')}.json`;
}

export interface Parsed {
  config: Config;
  warnings: string[];
  /** The rule schema files read, with their text. */
  schemas: Array<[string, string]>;
}

/**
 * The Config for `file` whose text is `text`: the kept copy when nothing it depends on changed, else
 * `parse()` (which throws a ConfigError for a broken config: nothing is kept then). Warnings go to `warn`
 * either way. Never fails because of the cache itself.
 */
export async function cachedConfig(
  file: string,
  text: string,
  parse: () => Promise<Parsed>,
  warn: (line: string) => void,
  dir = cacheDir(),
): Promise<{ config: Config; cached: boolean }> {
  const path = resolve(file);
  const at = join(dir, nameOf(path));
  const base = { file, path, home: homedir(), text, build: build() };
  try {
    const e = JSON.parse(readFileSync(at, 'utf8')) as Entry;
    const k = e?.key;
    const same =
      e?.version === 1 &&
      k.file === base.file &&
      k.path === base.path &&
      k.home === base.home &&
      k.text === base.text &&
      k.build === base.build &&
      Array.isArray(k.schemas) &&
      k.schemas.every(([p, t]) => readSchemaFile(p).toString('utf8') === t);
    if (same) {
      for (const w of e.warnings) warn(w);
      return { config: e.config, cached: true };
    }
  } catch {
    /* no copy, or one that cannot be read or used: parsed afresh */
  }
  const p = await parse();
  for (const w of p.warnings) warn(w);
  // Only a Config of plain data comes back from JSON as it was; every run then gets it as JSON gives it
  // back (an undefined member absent), whether it was kept or not: no run depends on the cache.
  if (!plain(p.config)) return { config: p.config, cached: false };
  const entry: Entry = { version: 1, key: { ...base, schemas: p.schemas }, config: p.config, warnings: p.warnings };
  const json = JSON.stringify(entry);
  keep(dir, at, json);
  return { config: (JSON.parse(json) as Entry).config, cached: false };
}

function keep(dir: string, at: string, json: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${at}.${process.pid}.tmp`;
    writeFileSync(tmp, json, { mode: 0o600 });
    renameSync(tmp, at);
    prune(dir);
  } catch {
    /* no copy this time: the next run parses again */
  }
}

/** Plain data only: what JSON gives back as it was (no Date, Map, class instance, NaN or Infinity). */
function plain(v: unknown): boolean {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(plain);
  if (typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && Object.values(v).every(plain);
}

/** At most KEEP copies: the least recently written go (tests make many configs in temporary dirs). */
function prune(dir: string): void {
  const files = readdirSync(dir).filter((f) => /^config-[0-9a-f]{8}\.json$/.test(f));
  if (files.length <= KEEP) return;
  const dated = files.map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { f } of dated.slice(0, files.length - KEEP)) rmSync(join(dir, f), { force: true });
}
