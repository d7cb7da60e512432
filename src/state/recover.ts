// Corrupt state files: set aside, alerted once, rebuilt. A file that cannot be read as
// hactl wrote it is renamed FILE.corrupt-<time> (0600, kept for inspection); the alert is
// queued in the outbox at that moment, so it goes out once per corruption (the next run
// finds no corrupt file), and is delivered by this run after its action, or by a later one.
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { CorruptFileError, readJson, setAside, writeJson } from './files.js';
import { rebuiltState, initialState, type ClusterState } from '../core/model.js';
import { setAsideEvent, STATE_REBUILT } from '../alerts/protection.js';
import type { HactlEvent } from '../alerts/events.js';

export interface SetAside {
  file: string;
  /** Where it went; null in a dry run (nothing is moved). */
  to: string | null;
  why: string;
}

/** Reads `file`; a corrupt one is set aside (unless dryRun) and reported instead of thrown. */
export async function readOrSetAside<T>(
  file: string,
  schema: string,
  now: Date,
  dryRun = false,
): Promise<{ data?: T; setAside?: SetAside }> {
  try {
    return { data: await readJson<T>(file, schema) };
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
    if (dryRun) return { setAside: { file, to: null, why: e.why } };
    let to: string;
    try {
      to = setAside(file, now);
    } catch (err) {
      // Another run set it aside first (and alerted): read what is there now.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { data: await readJson<T>(file, schema) };
      throw e;
    }
    process.stderr.write(`hactl: warning: ${file}: ${e.why}; set aside as ${to}\n`);
    return { setAside: { file, to, why: e.why } };
  }
}

/** Queues one alert in the outbox (delivered after the action, or by a later run). */
async function queue(config: Config, e: HactlEvent): Promise<void> {
  const { Outbox } = await import('./outbox.js');
  await new Outbox(config.stateDir).add(e);
}

/**
 * state.json, or a conservative state rebuilt when it was corrupt: serving unknown (read from
 * the next check), no streaks, and `rebuiltAt` holding every automatic action until then.
 */
export async function loadOrRebuildState(config: Config, now: Date, dryRun = false): Promise<ClusterState> {
  const file = join(config.stateDir, 'state.json');
  const r = await readOrSetAside<ClusterState>(file, 'state', now, dryRun);
  if (r.data) return r.data;
  if (!r.setAside) return initialState(now);
  const to = r.setAside.to ?? `${file} (dry run: not moved)`;
  const state = rebuiltState(now, to);
  if (r.setAside.to) {
    // Recorded at once: the mark must outlive a run that decides not to act (and saves nothing).
    writeJson(file, state);
    await queue(config, setAsideEvent(file, r.setAside.why, to, STATE_REBUILT, now));
  }
  return state;
}
