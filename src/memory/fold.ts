// The pure end of a memory sync: outcomes worded from verdicts and reports, and
// the fold of an outcome into memory.json's record with the alert to send (a
// new problem once, and the recovery). No I/O here.
import type { CopyVerdict } from './gate.js';
import { KEYS, event, resolveEvent, type HactlEvent } from '../alerts/events.js';

export type SyncResultKind = 'ok' | 'invalid' | 'refused' | 'failed' | 'skipped';
export type SyncMode = 'push' | 'pull-standby' | 'sync-back' | 'last-chance';

export interface MemoryRecord {
  version: 1;
  lastRunAt: string;
  lastGoodAt: string | null;
  lastPushAt?: string | null;
  lastResult: SyncResultKind;
  mode?: SyncMode;
  detail?: string;
  files?: number;
  changed?: number;
  deleted?: number;
  bytes?: number;
  problem?: string | null;
}

export interface SyncOutcome {
  kind: SyncResultKind;
  mode: SyncMode;
  line: string; // the summary
  alert?: string; // a problem worth a message (deduplicated by the fold)
  files?: number;
  changed?: number;
  deleted?: number;
  bytes?: number;
  invalid?: string[];
  warnings?: string[];
  conflicts?: string[];
  pushed?: boolean;
  /** The run ended at its change scan: the last good copy is still the source's (unchanged.ts). */
  unchanged?: boolean;
}

/** What the validator found, as the fold needs it. */
export interface ValidationSummary {
  files: number;
  invalid: string[];
  problems: string[]; // formatted `file:line:col: message`
}

/** A stopped copy as an outcome. `keeps` says which copy stays as it was, for the line and the alert. */
export function stoppedOutcome(
  mode: SyncMode,
  v: Extract<CopyVerdict, { go: false }>,
  keeps: string,
  hint = '',
): SyncOutcome {
  const alertWhy =
    v.why === 'missing'
      ? `${v.reason} (unmounted or deleted?)`
      : v.why === 'empty'
        ? `${v.reason} (empty or unmounted?)`
        : v.reason;
  const verb = v.kind === 'failed' ? 'failed' : 'refused';
  const line = v.why === 'missing' ? `memory directory ${v.reason}; ${keeps}` : `${v.reason}; ${keeps}`;
  return {
    kind: v.kind,
    mode,
    line,
    alert: `memory sync ${verb}: ${alertWhy}. ${cap(keeps)}.${hint ? ` ${hint}` : ''}`,
  };
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function invalidOutcome(
  mode: SyncMode,
  who: string,
  r: ValidationSummary,
  kept: string,
  extra: string,
): SyncOutcome {
  const shown = r.problems.slice(0, 5).join('; ');
  const more = r.problems.length > 5 ? `; and ${r.problems.length - 5} more` : '';
  const names = `${r.invalid.slice(0, 5).join(', ')}${r.invalid.length > 5 ? ', ...' : ''}`;
  return {
    kind: 'invalid',
    mode,
    invalid: r.invalid,
    files: r.files,
    line: `${r.invalid.length} invalid memory file(s) from ${who}: ${names}; ${extra}`,
    alert:
      `memory sync: ${r.invalid.length} invalid file(s) on ${who}, ${extra}: ${shown}${more}. ` +
      `Rejected copy kept on the witness in ${kept}`,
  };
}

/** Folds an outcome into the record; says whether (and what) to alert: a new problem, or recovery. */
export function nextRecord(
  prev: MemoryRecord | undefined,
  o: SyncOutcome,
  now: Date,
): { rec: MemoryRecord; alert?: string; events: HactlEvent[] } {
  const at = now.toISOString();
  const good = o.kind === 'ok';
  const keep = (n: number | undefined, old: number | undefined) => (good ? (n ?? 0) : (old ?? 0));
  const rec: MemoryRecord = {
    version: 1,
    lastRunAt: at,
    lastGoodAt: good ? at : (prev?.lastGoodAt ?? null),
    lastPushAt: o.pushed ? at : (prev?.lastPushAt ?? null),
    lastResult: o.kind,
    mode: o.mode,
    detail: o.line,
    files: o.files ?? prev?.files ?? 0,
    changed: keep(o.changed, prev?.changed),
    deleted: keep(o.deleted, prev?.deleted),
    bytes: keep(o.bytes, prev?.bytes),
    problem: good || o.kind === 'skipped' ? null : (o.alert ?? o.line),
  };
  if (o.kind === 'skipped') rec.problem = prev?.problem ?? null;
  let alert: string | undefined;
  if (!good && o.kind !== 'skipped' && rec.problem !== (prev?.problem ?? null))
    alert = o.alert ?? `memory sync: ${o.line}`;
  else if (good && prev?.problem) alert = `memory sync OK again: ${o.line}`;
  if (good && o.alert) alert = alert ? `${alert}\n${o.alert}` : o.alert;
  const events: HactlEvent[] = [];
  const facts = { result: o.kind, mode: o.mode };
  if (!good && o.kind !== 'skipped' && rec.problem !== (prev?.problem ?? null)) {
    const kind = 'memory-problem';
    const list = o.invalid?.length ? o.invalid : undefined;
    events.push(
      event(kind, 'medium', 'open', o.alert ?? `memory sync: ${o.line}`, now, { key: KEYS.memory, facts, list }),
    );
  } else if (good && prev?.problem) {
    events.push(resolveEvent(KEYS.memory, `memory sync OK again: ${o.line}`, now));
  }
  if (good && o.alert) events.push(event('memory-ok', 'low', 'notice', o.alert, now, { facts }));
  return { rec, alert, events };
}

/**
 * Whether `rec` says what `prev` said but for when it was said (lastRunAt, lastGoodAt): a sync that found
 * nothing to do, as the one before. Such a record is written without the directory's fsync: a power loss
 * may keep the previous one, which only says the last good sync was a minute older.
 */
export function onlyTimesMoved(prev: MemoryRecord | undefined, rec: MemoryRecord): boolean {
  if (!prev) return false;
  const rest = (r: MemoryRecord) => {
    const { lastRunAt: _r, lastGoodAt: _g, ...other } = r;
    return JSON.stringify(Object.entries(other).sort(([a], [b]) => (a < b ? -1 : 1)));
  };
  return (prev.lastGoodAt === null) === (rec.lastGoodAt === null) && rest(prev) === rest(rec);
}
