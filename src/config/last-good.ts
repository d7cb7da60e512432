// A config that stops loading after it once loaded is alerted through the channel of the
// last config that loaded. Every run that loads its config keeps a 0600 copy of it (text and
// path) in its state dir, config-last-good.json, rewritten atomically only when it changed.
// When loading fails, the state dir is found (a config that cannot be read cannot say where
// its state is) as, in order: the `stateDir:` line read from the broken file as plain text,
// then the default /var/lib/hactl. A copy counts only if it was taken of the same path: a
// mistyped --config is a person's mistake at a terminal, not a lost protection.
// The alert is an incident of the one lifecycle (src/alerts/incident.ts, in the good config's
// outbox): once, then repeats capped, and "loads again" when a run loads the config again.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from './types.js';
import { writeJson } from '../state/files.js';
import { isOpen } from '../alerts/incident.js';
import { KEYS } from '../alerts/events.js';
import { configBackEvent, configBrokenEvent } from '../alerts/protection.js';
import { expandPath, findConfigPath } from './load.js';
import { loadValidator } from '../validators.js';
import { readConfigBytes } from './read.js';
import { redact } from '../output.js';

export const DEFAULT_STATE_DIR = '/var/lib/hactl';

interface Copy {
  version: 1;
  path: string;
  savedAt: string;
  text: string;
}

const copyPath = (dir: string) => join(dir, 'config-last-good.json');

/** Reads one of our small JSON files; anything unreadable counts as absent (these only help alerting). */
function readLoose<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** After a config loaded: keep its copy, and say "loads again" if it had stopped loading. */
export async function configLoaded(config: Config, now: Date): Promise<void> {
  const path = resolve(config.file);
  let text: string;
  try {
    text = readConfigBytes(config.file).toString('utf8');
  } catch {
    return; // read a moment ago; gone now: the next run will say so
  }
  const prev = readLoose<Copy>(copyPath(config.stateDir));
  if (prev?.path !== path || prev.text !== text) {
    writeJson(copyPath(config.stateDir), { version: 1, path, savedAt: now.toISOString(), text } satisfies Copy);
  }
  // Only when its incident is open (a look at the outbox, no section): most runs say nothing.
  const { Outbox } = await import('../state/outbox.js');
  const outbox = new Outbox(config.stateDir);
  if (isOpen((await outbox.peek()).incidents, KEYS.config(path))) await outbox.add(configBackEvent(path, now));
}

/** The state dir a broken config names, read as plain text (it may not parse as YAML at all). */
export function bestEffortStateDir(file: string): string | undefined {
  let text: string;
  try {
    text = readConfigBytes(file).toString('utf8'); // regular files only, bounded: never /dev/zero or a FIFO
  } catch {
    return undefined;
  }
  const m = /^stateDir:[ \t]*(["']?)([^"'#\r\n]+?)\1[ \t]*(#.*)?$/m.exec(text);
  return m ? expandPath(m[2]!, dirname(resolve(file))) : undefined;
}

/** The last good config of `file`: its copy in the state dir the broken file names, or in the default one. */
async function lastGoodOf(file: string): Promise<Config | undefined> {
  const path = resolve(file);
  const dirs = [bestEffortStateDir(file), DEFAULT_STATE_DIR].filter((d): d is string => !!d);
  for (const dir of new Set(dirs)) {
    const copy = readLoose<Copy>(copyPath(dir));
    if (copy?.path !== path || typeof copy.text !== 'string') continue;
    try {
      const { parseConfig } = await import('./parse.js'); // only when a config broke: not on every run
      return parseConfig(copy.text, copy.path, await loadValidator('hactl'));
    } catch {
      return undefined; // a copy this hactl no longer reads (an upgrade): nothing to alert through
    }
  }
  return undefined;
}

/**
 * After a config failed to load: one alert through the last good config's channel, capped as
 * an incident; pending alerts are delivered either way. Never throws: the run exits 78 with its
 * own error whatever happens here.
 */
export async function configFailed(explicit: string | undefined, err: Error, now: Date): Promise<void> {
  try {
    const file = findConfigPath(explicit);
    const good = await lastGoodOf(file);
    if (!good) return;
    const first = redact(err.message.split('\n')[0] ?? '');
    const { Alerts } = await import('../adapters/telegram.js');
    await new Alerts(good).send(configBrokenEvent(resolve(file), first, now));
  } catch {
    /* alerting about a broken config must never hide the config's own error */
  }
}
