// The go/no-go of every memory copy, pure: from what rsync's dry runs saw
// (nothing has been written or deleted yet anywhere) to a verdict with its
// reason. The run carries out a 'go' and nothing else; a 'stop' leaves every
// copy (the witness's staging, the standby, the primary) exactly as it was.
import type { MemoryConfig } from '../config/types.js';
import type { MemoryRecord, SyncMode } from './fold.js';
import { deletionVerdict } from './plan.js';

/** What one dry run of an rsync copy saw. */
export interface CopyObservation {
  ok: boolean; // rsync ran to its end (0, or 24: files vanished while listing live data)
  missingSource: boolean; // the source directory does not exist
  problem?: string; // the failure, in one line, when !ok
  sourceFiles?: number; // regular files on the source side (--stats)
  created: number;
  deleted: number; // regular files it would delete on the receiver
  undecodable: string[]; // names that are not UTF-8 (refused by name)
  /**
   * When the copy the guard protects is not this copy's receiver (a pull to the witness on the way to
   * the standby): what that target would really lose and holds, counted on the target itself.
   */
  target?: { deleted: number; held: number };
}

export type CopyVerdict =
  | { go: true; receiverFiles: number }
  | {
      go: false;
      kind: 'refused' | 'failed' | 'invalid';
      why: 'missing' | 'empty' | 'mass-delete' | 'failed' | 'names';
      reason: string;
    };

/** Files the receiver holds now, from the dry run alone (no walk): source - would create + would delete. */
export const receiverCount = (o: CopyObservation): number => Math.max(0, (o.sourceFiles ?? 0) - o.created + o.deleted);

/**
 * May this copy run? `source` and `receiver` are words for the messages ("primary", "the witness's copy").
 * Refused: a missing or empty source (an unmounted disk looks like that), names that are not UTF-8, and
 * deletions above the configured share unless the operator allowed them; failed: rsync itself failed.
 */
export function decideCopy(
  o: CopyObservation,
  m: Pick<MemoryConfig, 'maxDeleteShare' | 'deleteAllowance' | 'root'>,
  words: { source: string; receiver: string; verb: string },
  allowMassDelete = false,
): CopyVerdict {
  if (o.missingSource)
    return { go: false, kind: 'refused', why: 'missing', reason: `${m.root} is missing on ${words.source}` };
  if (!o.ok) return { go: false, kind: 'failed', why: 'failed', reason: o.problem ?? 'rsync failed' };
  const have = o.target?.held ?? receiverCount(o);
  if (o.sourceFiles === 0)
    return { go: false, kind: 'refused', why: 'empty', reason: `no memory files on ${words.source} under ${m.root}` };
  if (o.undecodable.length) {
    const shown = o.undecodable.slice(0, 5).join(', ');
    return {
      go: false,
      kind: 'invalid',
      why: 'names',
      reason: `${o.undecodable.length} name(s) on ${words.source} are not UTF-8 (${shown})`,
    };
  }
  const v = deletionVerdict(o.target?.deleted ?? o.deleted, have, m);
  if (!v.ok && !allowMassDelete)
    return { go: false, kind: 'refused', why: 'mass-delete', reason: `${words.verb} ${v.reason} on ${words.receiver}` };
  return { go: true, receiverFiles: have };
}

/** A push is due when something changed, after a failure, or when the periodic full push is due. */
export function pushDue(
  full: boolean,
  changed: number,
  lastPushAt: string | null | undefined,
  now: Date,
  everySec: number,
): boolean {
  const last = lastPushAt ? new Date(lastPushAt).getTime() : 0;
  return full || changed > 0 || now.getTime() - last > everySec * 1000;
}

/** The first run, or one after a failure or a change of direction, checks every file; otherwise what changed. */
export function fullValidation(prev: { lastResult: string; mode?: string } | undefined, mode: string): boolean {
  return !prev || prev.lastResult !== 'ok' || prev.mode !== mode;
}

/** The print of a source with no memory directory: it stands for no tree, and never spares a run. */
export const NO_TREE = 'missing';

/** A fingerprint of the source's tree (watch.ts) and what it was taken for (the source, rules and targets). */
export interface SourceScan {
  key: string;
  print: string;
}

/** What this witness's last good run recorded of its source (unchanged.ts): the print, and when. */
export interface SeenScan extends SourceScan {
  mode: SyncMode;
  at: string;
}

/**
 * Whether a sync may end at its scan (issue 25): the source's tree is as it was when this witness's last
 * good run of this mode began (the same fingerprint, taken before that run read the source, for the same
 * source, filters and target), and that run is still the pair's last word: the shared record says a
 * plain good run of this mode (a failure, the first run or a change of direction validate in full).
 * Never when the periodic full push is due, and never longer than that period after the real run that
 * recorded the print, in either mode: what no print sees (a damaged copy on the witness) waits that long
 * at most.
 */
export function unchangedSince(
  prev: MemoryRecord | undefined,
  seen: SeenScan | undefined,
  mode: SyncMode,
  scan: SourceScan | undefined,
  now: Date,
  fullPushEverySec: number,
): boolean {
  if (!scan || scan.print === NO_TREE || !seen || fullValidation(prev, mode)) return false;
  if (seen.mode !== mode || seen.key !== scan.key || seen.print !== scan.print) return false;
  const age = now.getTime() - new Date(seen.at).getTime();
  if (!(age >= 0 && age <= fullPushEverySec * 1000)) return false; // a clock stepped back: a real run
  return mode !== 'push' || !pushDue(false, 0, prev!.lastPushAt, now, fullPushEverySec);
}
