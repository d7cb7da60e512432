// From a sync-back's plan and outcome to what is reported and recorded. Pure.
import type { SyncOutcome } from './model.js';
import { describeSyncPlan, tally, type SyncPlan } from './plan.js';

export interface TableRecord {
  table: string;
  toPrimary: number;
  toStandby: number;
  /** How many keys conflict; the keys themselves are in the conflicts file (base.ts), the first few here. */
  conflicts: number;
  conflictKeys: string[];
}
export interface SyncFold {
  ok: boolean;
  /** One line: the step's detail, in output and history. */
  line: string;
  /** Rows moved per table, for history. */
  tables: TableRecord[];
  resumedAt: string | null;
}

/** `conflictsFile`: where every conflicting key was written, when any. */
export function foldSyncBack(plan: SyncPlan, o: SyncOutcome, conflictsFile?: string): SyncFold {
  const tables = plan.tables.map((t, i): TableRecord => ({
    table: t.table,
    toPrimary: o.inserted.primary[i] ?? 0,
    toStandby: o.inserted.standby[i] ?? 0,
    conflicts: tally(t).conflicts,
    conflictKeys: t.conflicts.slice(0, 5),
  }));
  const moved = tables
    .map((t) => `${t.table} ${t.toPrimary}${plan.mode === 'resume' ? `/${t.toStandby}` : ''}`)
    .join(', ');
  const [step, where] = plan.mode === 'copy' ? ['sync-back', 'to the primary'] : ['resume', 'to the primary/standby'];
  const head = `postgres ${step}: rows copied ${where}: ${moved}`;
  // A row that appeared on the target after it was compared is not copied (its key exists): say so.
  const planned = plan.toPrimary + plan.toStandby;
  const done = tables.reduce((a, t) => a + t.toPrimary + t.toStandby, 0);
  const short =
    !o.error && done < planned
      ? `; ${planned - done} planned row(s) already existed on the target when copied (a rerun compares them)`
      : '';
  if (o.error) return { ok: false, tables, resumedAt: null, line: `${head}; FAILED: ${o.error}` };
  if (plan.conflicts) {
    const which = describeSyncPlan(plan).filter((l) => l.includes('CONFLICT'));
    return {
      ok: false,
      tables,
      resumedAt: null,
      line:
        `${head}; ${plan.conflicts} row(s) changed on both sides and were NOT overwritten (${which.join('; ')}` +
        `${conflictsFile ? `; every key in ${conflictsFile}` : ''}): ` +
        'make each pair equal on both sides (or delete one), then run hactl failback again; replication stays paused',
    };
  }
  const tail = plan.mode === 'resume' ? `; replication resumed (slot at ${o.resumedAt ?? '?'})` : '';
  return { ok: true, tables, resumedAt: o.resumedAt ?? null, line: `${head}${short}${tail}` };
}
