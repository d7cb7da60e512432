// A sync that ends at its change scan (issue 25): what a source's fingerprint stands for, this witness's
// record of it, and the outcome of a run whose source is as its last good run found it. The rule itself
// is pure (gate.ts unchangedSince); the scan is watch.ts's; sync-memory's body runs them.
// The record (seen.json) lives in the staging directory it speaks for, on this witness only: with
// several witnesses (etcd) memory.json is shared, but each keeps its own staging copy, and another's
// good run says nothing of this one's. A run that copies forgets it first and writes it only once its
// copy is good, so it never outlives a copy that was cut, refused or found invalid. Beside it, a mark
// (copying) lives from a copy's start to the run's record: found by the next run, the copy was cut.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, HostConfig } from '../config/types.js';
import { label } from '../core/model.js';
import { writeAtomic } from '../state/files.js';
import type { MemoryRecord, SyncMode, SyncOutcome } from './fold.js';
import type { SeenScan, SourceScan } from './gate.js';
import { hostOf, stagingDirs } from './sync.js';

const seenPath = (config: Config) => join(stagingDirs(config).root, 'seen.json');

/** This witness's record of its last good run's scan; none when absent or unreadable (the run copies). */
export function readSeen(config: Config): SeenScan | undefined {
  try {
    const v = JSON.parse(readFileSync(seenPath(config), 'utf8')) as Partial<SeenScan>;
    const str = (x: unknown) => typeof x === 'string' && x.length > 0 && x.length <= 256;
    return str(v.mode) && str(v.key) && str(v.print) && str(v.at) ? (v as SeenScan) : undefined;
  } catch {
    return undefined;
  }
}

const copyingPath = (config: Config) => join(stagingDirs(config).root, 'copying');

/**
 * Before a run copies anything: no record speaks for the staging copy until the run ends good, and a
 * mark says a copy is under way until the run's record is written (endCopy).
 */
export function beginCopy(config: Config, at: Date): void {
  rmSync(seenPath(config), { force: true });
  const mark = JSON.stringify({ pid: process.pid, at: at.toISOString() }) + '\n';
  writeAtomic(copyingPath(config), mark, 0o600, false, 0o700);
}

/** The run's record is written: the copy's outcome is on record, whatever it was. */
export function endCopy(config: Config): void {
  rmSync(copyingPath(config), { force: true });
}

/**
 * A run died between its copy's start and its record (kill -9, power loss): the witness's copy may
 * hold what it pulled, never validated nor pushed, and a dry-run pull now finds nothing to do. The
 * next run then validates every file and pushes, as after a failure.
 */
export const copyCut = (config: Config): boolean => existsSync(copyingPath(config));

/** After a good run that scanned first. */
export function recordSeen(config: Config, mode: SyncMode, scan: SourceScan, at: Date): void {
  const seen: SeenScan = { mode, key: scan.key, print: scan.print, at: at.toISOString() };
  writeAtomic(seenPath(config), JSON.stringify(seen) + '\n', 0o600, false, 0o700);
}

/**
 * What a fingerprint of the source stands for in a run of `mode`: the source host, the target (the
 * standby, for a push), the root, the filters and the staging directory. A change of any of them makes
 * the recorded fingerprint another's, and the next run copies.
 */
export function scanKey(config: Config, mode: SyncMode): string {
  const m = config.memory;
  const who = (h: HostConfig) => [h.address, h.port, h.user];
  const from = hostOf(config, mode === 'pull-standby' ? 'standby' : 'primary');
  const to = mode === 'push' ? who(hostOf(config, 'standby')) : null;
  const id = JSON.stringify([mode, who(from), to, m.root, m.include, m.exclude, stagingDirs(config).root]);
  return createHash('sha256').update(id).digest('hex').slice(0, 32);
}

/**
 * The run that ends at its scan (gate.ts unchangedSince): what the last good run left on the witness and
 * the standby is still the source's. The witness's staging copy must still be there (a state directory
 * wiped by hand copies afresh).
 */
export function unchangedOutcome(config: Config, prev: MemoryRecord, mode: SyncMode): SyncOutcome | undefined {
  const d = stagingDirs(config);
  if (!existsSync(mode === 'pull-standby' ? d.fromStandby : d.fromPrimary)) return undefined;
  const files = prev.files ?? 0;
  const base = { kind: 'ok' as const, mode, files, changed: 0, deleted: 0, bytes: 0, unchanged: true };
  if (mode === 'pull-standby') {
    const S = label(config, 'standby');
    return {
      ...base,
      line:
        `${S} serves: no change in its memory since the last copy (${files} files, its fingerprint); ` +
        'the primary is not written until failback',
    };
  }
  const [P, S] = [label(config, 'primary'), label(config, 'standby')];
  return { ...base, pushed: false, line: `no change on ${P} (its fingerprint); ${S} up to date (${files} files)` };
}
