// Failback's sync-back: what the standby wrote goes back to the primary,
// conflicts keep both versions, nothing is ever deleted on the primary. The
// standby's copy comes through the same guarded pull as every sync; the
// primary is read into a scratch tree (primary-now), so the witness's last
// good copy of it (from-primary) is never touched here.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { label } from '../core/model.js';
import { listFiles } from '../validate/tree.js';
import { copy } from './copy.js';
import { receiverCount } from './gate.js';
import { invalidOutcome, type SyncOutcome } from './fold.js';
import { conflictName, planSyncBack, SQLITE_EXCLUDES, HOLDING_DIR } from './plan.js';
import { guardedPull, hostOf, remoteRoot, stagingDirs, type SyncOptions } from './sync.js';
import { placeFile, readManifest, sameBytes, statManifest, validateStaging } from './staging.js';

export async function syncBack(config: Config, opts: SyncOptions): Promise<SyncOutcome> {
  const m = config.memory;
  const d = stagingDirs(config);
  const deadline = opts.deadline ?? m.deadline;
  const [P, S] = [label(config, 'primary'), label(config, 'standby')];
  const r = await guardedPull(
    config,
    'standby',
    d.fromStandby,
    'sync-back',
    { deadline },
    { receiver: 'the witness', verb: `copying ${S}`, keeps: 'the witness keeps its copy' },
  );
  // No memory on the standby, and none from it before: it wrote nothing to send back. Blocking the
  // failback forever would not help. An empty standby where the witness holds files is refused.
  const nothing = r.stop && r.obs && (r.obs.missingSource || (r.obs.sourceFiles === 0 && receiverCount(r.obs) === 0));
  if (nothing)
    return {
      kind: 'ok',
      mode: 'sync-back',
      files: 0,
      changed: 0,
      line: `nothing to send back: no memory files under ${m.root} on ${S}`,
    };
  if (r.stop) return { ...r.stop, mode: 'sync-back' };
  const report = await validateStaging(config, d.fromStandby, undefined);
  if (report.invalid.length)
    return {
      ...invalidOutcome('sync-back', S, report, d.fromStandby, 'failback waits until they are fixed'),
      kind: 'failed',
    };
  mkdirSync(d.primaryNow, { recursive: true, mode: 0o700 });
  const pull = await copy(
    config,
    `reading ${P}`,
    {
      from: { host: hostOf(config, 'primary'), path: remoteRoot(config) },
      to: { path: `${d.primaryNow}/` },
      options: ['delete'],
    },
    deadline,
  );
  if (!pull.ok && !pull.missingSource)
    return {
      kind: 'failed',
      mode: 'sync-back',
      line: pull.problem!,
      alert: `memory sync-back failed: ${pull.problem}`,
    };
  const standbyFiles = await statManifest(d.fromStandby, await listFiles(d.fromStandby));
  const primaryFiles = pull.missingSource ? {} : await statManifest(d.primaryNow, await listFiles(d.primaryNow));
  const identical = (f: string) => sameBytes(join(d.fromStandby, f), join(d.primaryNow, f));
  const plan = planSyncBack(readManifest(d.manifest), standbyFiles, primaryFiles, identical);
  const count = Object.keys(standbyFiles).length;
  if (!plan.send.length && !plan.conflicts.length)
    return {
      kind: 'ok',
      mode: 'sync-back',
      files: count,
      changed: 0,
      line: `nothing the standby wrote needs to go back (${plan.unchanged} files unchanged)`,
    };
  rmSync(d.toPrimary, { recursive: true, force: true });
  mkdirSync(d.toPrimary, { recursive: true, mode: 0o700 });
  const at = opts.clock.now();
  const conflictCopies: string[] = [];
  for (const f of plan.send) placeFile(join(d.fromStandby, f), join(d.toPrimary, f));
  for (const f of plan.conflicts) {
    const name = conflictName(f, hostOf(config, 'standby').name, at);
    conflictCopies.push(name);
    placeFile(join(d.fromStandby, f), join(d.toPrimary, name));
  }
  // No --delete, and no include filters: to-primary holds exactly what was decided (conflict copies'
  // names would not match an include such as workspace/MEMORY.md). SQLite stays excluded regardless.
  const filters = [`- ${HOLDING_DIR}/`, ...SQLITE_EXCLUDES.map((p) => `- ${p}`)];
  const push = await copy(
    config,
    `sending back to ${P}`,
    {
      from: { path: `${d.toPrimary}/` },
      to: { host: hostOf(config, 'primary'), path: remoteRoot(config) },
      options: ['delay-updates'],
      filters,
    },
    deadline,
  );
  if (!push.ok)
    return {
      kind: 'failed',
      mode: 'sync-back',
      line: `${push.problem}; the primary was not changed`,
      alert: `memory sync-back failed: ${push.problem}`,
    };
  const pairs = plan.conflicts.map((f, i) => `${f} (primary's) and ${conflictCopies[i]} (${S}'s)`);
  return {
    kind: 'ok',
    mode: 'sync-back',
    files: count,
    changed: plan.send.length + plan.conflicts.length,
    bytes: push.items.bytes,
    conflicts: plan.conflicts,
    line:
      `sent back ${plan.send.length} file(s) the standby wrote to ${P}` +
      (plan.conflicts.length ? `; ${plan.conflicts.length} conflict(s), both versions kept: ${pairs.join(', ')}` : ''),
    alert: plan.conflicts.length
      ? `memory sync-back: ${plan.conflicts.length} file(s) changed on both hosts; ` +
        `both versions kept on ${P}: ${pairs.join('; ')}. Merge them by hand.`
      : undefined,
  };
}
