// Configs that loaded, kept between runs (issue 25). Parsing the YAML and checking it against the schema
// loads about 520 kB of JavaScript (the yaml library, the compiled schema) and was about a third of what a
// `status` run spends. A run whose config is the same as one that loaded before gets that run's Config
// back, and its warnings said again. "The same" is everything parseConfig reads: the file's path as given
// and as resolved from the working directory, its text, the home directory (`~` in paths), the text of
// every rule schema file it named, and this build of hactl (dist/build-id, a hash of the whole bundle and
// the compiled schema that scripts/bundle.mjs writes; run from the sources under tsx there is no build id
// and no cache). Anything different, unreadable or not a copy we wrote: parsed afresh. Only a config that
// loaded is kept, so a broken one is reported on every run.
// The copies live in the user's cache directory ($XDG_CACHE_HOME/hactl, else ~/.cache/hactl), one per
// config path, at most KEEP. A kept Config is used without the schema's checks, and it holds the config's
// secrets (webhook URLs and headers, tokens), so the directory and each copy must be ours alone: owned by
// this user (the effective uid), no access for group or others, no symlink (lstat, and O_NOFOLLOW on
// open); anything else and the cache is neither read nor written. A copy is written under a random temp
// name opened O_EXCL (never through a symlink put there), then renamed. Not in stateDir, though that is
// 0700 too: stateDir is only known once the config is parsed, which is what the cache saves.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from './types.js';
import { readSchemaFile } from './rules.js';
import { VERSION } from '../version.js';
import { packageFile } from '../paths.js';
import { randomHex } from '../adapters/random.js';

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
 * This build's id (dist/build-id, written by scripts/bundle.mjs), or undefined: the sources run under tsx
 * (no build: a changed module would not change any id), or a dist without the file.
 */
function build(): string | undefined {
  if (import.meta.url.endsWith('.ts')) return undefined;
  try {
    const id = readFileSync(packageFile('dist/build-id'), 'utf8').trim();
    return id ? `${VERSION}:${id}` : undefined;
  } catch {
    return undefined;
  }
}

/** Ours alone: owned by the effective uid, nothing for group or others (a symlink is never lstat's `ours`). */
function ours(s: Stats, kind: 'dir' | 'file'): boolean {
  const uid = process.geteuid?.() ?? s.uid;
  return (kind === 'dir' ? s.isDirectory() : s.isFile()) && s.uid === uid && (s.mode & 0o077) === 0;
}

/** The cache directory, made 0700 when missing; undefined when it is not ours alone (see the top). */
function privateDir(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return ours(lstatSync(dir), 'dir') ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** A kept copy's text, read without following a symlink; undefined unless it is ours alone. */
function readPrivate(at: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(at, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    return ours(fstatSync(fd), 'file') ? readFileSync(fd, 'utf8') : undefined;
  } finally {
    closeSync(fd);
  }
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
  buildId = build(),
): Promise<{ config: Config; cached: boolean }> {
  const path = resolve(file);
  const usable = buildId === undefined ? undefined : privateDir(dir);
  if (buildId === undefined || usable === undefined) {
    const p = await parse();
    for (const w of p.warnings) warn(w);
    return { config: p.config, cached: false };
  }
  const at = join(usable, nameOf(path));
  const base = { file, path, home: homedir(), text, build: buildId };
  try {
    const e = JSON.parse(readPrivate(at) ?? 'null') as Entry;
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
  if (keep(dir, at, json)) keptThisRun = true;
  return { config: (JSON.parse(json) as Entry).config, cached: false };
}

let keptThisRun = false;
/**
 * Whether this run parsed its config and kept it, so that the next run will not parse it: bin/hactl then
 * leaves its code cache for the next run to write, without the parser's and the schema's compiled code
 * (a third of the cache's bytes, read by every later run).
 */
export const configKeptThisRun = (): boolean => keptThisRun;

/** Keeps a copy; true when it was written. */
function keep(dir: string, at: string, json: string): boolean {
  // Random (no node:crypto to load), opened O_EXCL: never a file or symlink put there.
  const tmp = `${at}.${randomHex(8)}.tmp`;
  try {
    writeFileSync(tmp, json, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, at);
    prune(dir);
    return true;
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      /* not made */
    }
    /* no copy this time: the next run parses again */
    return false;
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

/**
 * At most KEEP copies: the least recently written go (tests make many configs in temporary dirs); and temp
 * files over an hour old, left by a run killed between write and rename.
 */
function prune(dir: string): void {
  const names = readdirSync(dir);
  for (const f of names.filter((n) => /^config-[0-9a-f]{8}\.json\.[0-9a-f-]+\.tmp$/.test(n)))
    if (Date.now() - statSync(join(dir, f)).mtimeMs > 3600_000) rmSync(join(dir, f), { force: true });
  const files = names.filter((f) => /^config-[0-9a-f]{8}\.json$/.test(f));
  if (files.length <= KEEP) return;
  const dated = files.map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { f } of dated.slice(0, files.length - KEEP)) rmSync(join(dir, f), { force: true });
}
