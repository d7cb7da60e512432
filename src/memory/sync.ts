// Memory sync, the run. The witness runs rsync (it cannot copy between two
// remote hosts), so every copy goes through a staging tree on the witness:
//   push (primary serves):  primary -> <staging>/from-primary (validated) -> standby
//   pull (standby serves):  standby -> <staging>/from-standby (validated), nothing pushed
//   sync-back (failback):   see syncback.ts
// Every copy is observed first by a dry run and judged by the pure gate
// (gate.ts) before anything is written or deleted anywhere, the witness's
// staging included; the real copy then runs with --max-delete set to what the
// gate allowed, so a source that empties between the two deletes no more.
// The push lands with --delay-updates --delete-after: a killed or failed
// transfer leaves the standby's live copy as it was.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config, HostConfig, Role } from '../config/types.js';
import { writeAtomic } from '../state/files.js';
import { label } from '../core/model.js';
import type { Clock } from '../adapters/clock.js';
import { copy, observed, type CopyJob } from './copy.js';
import { decideCopy, fullValidation, pushDue, receiverCount, type CopyObservation } from './gate.js';
import { invalidOutcome, stoppedOutcome, type MemoryRecord, type SyncMode, type SyncOutcome } from './fold.js';
import { validateStaging, statManifest } from './staging.js';
import { listFiles } from '../validate/tree.js';
import type { Itemized } from '../adapters/rsync-itemize.js';

export interface SyncOptions {
  dryRun?: boolean;
  allowMassDelete?: boolean;
  deadline?: number; // seconds per rsync run (default memory.deadline)
  progress?: (msg: string) => void;
  clock: Clock;
  /** Re-read just before the push: the role may have changed while we pulled. */
  servingNow?: () => Promise<Role>;
}

export function stagingDirs(config: Config) {
  const root = resolve(config.stateDir, config.memory.staging);
  return {
    root,
    fromPrimary: join(root, 'from-primary'),
    fromStandby: join(root, 'from-standby'),
    toPrimary: join(root, 'to-primary'),
    primaryNow: join(root, 'primary-now'),
    manifest: join(root, 'manifest.json'),
  };
}

export const hostOf = (config: Config, role: Role): HostConfig => config.hosts[config.pair[role]]!;
export const remoteRoot = (config: Config) => `${config.memory.root.replace(/\/+$/, '')}/`;

/**
 * What a pull's deletions would really delete on the copy the guard protects, when that copy is not the
 * pull's receiver: counted on the target, never from the source's history (issue 24 #3).
 */
export type TargetCount = (
  pull: Itemized,
) => Promise<{ deleted: string[]; held: number; receiver: string } | { problem: string }>;

export interface GuardedPull {
  stop?: SyncOutcome;
  obs?: CopyObservation;
  items?: Itemized;
  count?: number;
}

/** role's memory -> dir on the witness, judged by the gate on a dry run before anything is written. */
export async function guardedPull(
  config: Config,
  role: Role,
  dir: string,
  mode: SyncMode,
  opts: Omit<SyncOptions, 'clock'>,
  words: { receiver: string; verb: string; keeps: string },
  target?: TargetCount,
): Promise<GuardedPull> {
  const deadline = opts.deadline ?? config.memory.deadline;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const job: CopyJob = {
    from: { host: hostOf(config, role), path: remoteRoot(config) },
    to: { path: `${dir}/` },
    options: ['delete'],
  };
  const who = label(config, role);
  const dry = await copy(config, `reading ${who}`, { ...job, options: [...job.options, 'dry-run'] }, deadline);
  const obs = observed(dry);
  let v = decideCopy(obs, config.memory, { source: who, ...words }, !!opts.allowMassDelete);
  let examples: string[] = dry.items.deleted;
  // The witness's copy may hold files the target never had (invalid ones never pushed): before refusing,
  // count what the target itself would lose. Only then: a pull within the limit costs no second rsync.
  if (!v.go && v.why === 'mass-delete' && target) {
    const t = await target(dry.items);
    if ('problem' in t)
      return {
        stop: { kind: 'failed', mode, line: `${t.problem}; ${words.keeps}`, alert: `memory sync failed: ${t.problem}` },
        obs,
      };
    examples = t.deleted;
    const real = { ...obs, target: { deleted: t.deleted.length, held: t.held } };
    v = decideCopy(real, config.memory, { source: who, ...words, receiver: t.receiver }, !!opts.allowMassDelete);
  }
  const eg = examples.length ? `(e.g. ${examples.slice(0, 3).join(', ')}). ` : '';
  const hint = v.go || v.why !== 'mass-delete' ? '' : `${eg}If intended, run hactl sync-memory --allow-mass-delete.`;
  if (!v.go) return { stop: stoppedOutcome(mode, v, words.keeps, hint), obs };
  // Nothing would change: the witness's copy is already the source's; no second transfer.
  if (opts.dryRun || dry.items.touched === 0)
    return { obs, items: dry.items, count: obs.sourceFiles ?? receiverCount(obs) };
  opts.progress?.(`pulling memory from ${who}:${config.memory.root}`);
  const real = await copy(config, `pulling from ${who}`, job, deadline, dry.items.deletions);
  if (!real.ok)
    return {
      stop: {
        kind: 'failed',
        mode,
        line: `${real.problem}; ${words.keeps}`,
        alert: `memory sync failed: ${real.problem}. ${words.keeps}.`,
      },
      obs,
    };
  if (real.items.undecodable.length) {
    const v2 = decideCopy(observed(real), config.memory, { source: who, ...words }, true);
    if (!v2.go) return { stop: stoppedOutcome(mode, v2, words.keeps), obs };
  }
  return { obs, items: real.items, count: real.items.files };
}

/** primary -> witness staging (validated) -> standby. */
export async function pushMemory(
  config: Config,
  prev: MemoryRecord | undefined,
  opts: SyncOptions,
  mode: 'push' | 'last-chance' = 'push',
): Promise<SyncOutcome> {
  const m = config.memory;
  const d = stagingDirs(config);
  const deadline = opts.deadline ?? m.deadline;
  const [P, S] = [label(config, 'primary'), label(config, 'standby')];
  const say = opts.progress ?? (() => undefined);
  say(`reading memory on ${P}:${m.root}`);
  const keeps = 'nothing deleted on the standby';
  const push: CopyJob = {
    from: { path: `${d.fromPrimary}/` },
    to: { host: hostOf(config, 'standby'), path: remoteRoot(config) },
    options: ['delete', 'delete-after', 'delay-updates'],
  };
  const dryPush = () =>
    copy(config, `comparing with ${S}`, { ...push, options: [...push.options, 'dry-run'] }, deadline);
  // What the standby would lose once the primary's deletions reach it: a file deleted on the primary
  // that the standby never got (an invalid one, never pushed) is no loss; one the standby holds beyond
  // the witness's copy, and the primary does not bring back, is.
  const target: TargetCount = async (pulled) => {
    const now = await dryPush();
    if (!now.ok) return { problem: now.problem ?? `comparing with ${S}: rsync failed` };
    const never = new Set(now.items.created);
    const back = new Set(pulled.created);
    const deleted = [...pulled.deleted.filter((f) => !never.has(f)), ...now.items.deleted.filter((f) => !back.has(f))];
    return { deleted, held: receiverCount(observed(now)), receiver: S };
  };
  const pull = await guardedPull(
    config,
    'primary',
    d.fromPrimary,
    mode,
    opts,
    { receiver: `${S} and the witness's copy`, verb: 'the push', keeps },
    target,
  );
  if (pull.stop) return pull.stop;
  const items = pull.items!;
  const count = pull.count ?? 0;
  if (opts.dryRun) {
    return {
      kind: 'ok',
      mode,
      changed: items.changed.length,
      deleted: items.deleted.length,
      line:
        `--dry-run: ${P} has ${items.changed.length} new or changed and ${items.deleted.length} deleted ` +
        "memory file(s) since the witness's copy; nothing copied",
    };
  }
  const full = fullValidation(prev, 'push');
  say(`validating ${full ? `all ${count}` : items.changed.length} file(s)`);
  const report = await validateStaging(config, d.fromPrimary, full ? undefined : items.changed);
  if (report.invalid.length)
    return invalidOutcome(mode, P, report, d.fromPrimary, 'the standby keeps its last good copy');
  const warned = report.warnings.length
    ? `; ${report.warnings.length} warning(s): ${report.warnings.slice(0, 3).join('; ')}`
    : '';
  const changedSince = items.changed.length + items.deleted.length;
  if (!pushDue(full, changedSince, prev?.lastPushAt, opts.clock.now(), m.fullPushEvery)) {
    return {
      kind: 'ok',
      mode,
      files: count,
      changed: 0,
      deleted: 0,
      bytes: items.bytes,
      pushed: false,
      warnings: report.warnings,
      line: `no change on ${P}; ${S} up to date (${count} files)${warned}`,
    };
  }
  // Mass-deletion guard for the standby: what would the push delete there, out of how many files?
  say(`comparing with ${S}`);
  const dry = await dryPush();
  const v = decideCopy(
    { ...observed(dry), sourceFiles: count, undecodable: [] },
    m,
    { source: 'the witness', receiver: S, verb: 'the push' },
    !!opts.allowMassDelete,
  );
  if (!v.go) {
    const hint =
      v.why === 'mass-delete'
        ? `(e.g. ${dry.items.deleted.slice(0, 3).join(', ')}). If intended, run hactl sync-memory --allow-mass-delete.`
        : '';
    const keepsHere = v.kind === 'failed' ? 'the standby keeps its last good copy' : 'nothing deleted';
    return stoppedOutcome(mode, v, keepsHere, hint);
  }
  if (opts.servingNow && (await opts.servingNow()) !== 'primary')
    return { kind: 'skipped', mode, line: 'the standby started serving during this run: nothing pushed' };
  // A push never lands on a host that holds a permit to serve (issue 21; src/fencing/rule.ts).
  const refused = config.guard ? await (await import('../guard/remote.js')).pushRefused(config, 'standby') : null;
  if (refused) return { kind: 'skipped', mode, line: refused };
  say(`pushing to ${S}`);
  const real = await copy(config, `pushing to ${S}`, push, deadline, dry.items.deletions);
  if (!real.ok)
    return {
      kind: 'failed',
      mode,
      line: `${real.problem}; the standby's live copy was not replaced (updates land only at the end)`,
      alert: `memory sync failed: ${real.problem}. The standby's live copy was not replaced; the next run retries.`,
    };
  writeAtomic(
    d.manifest,
    JSON.stringify({
      at: opts.clock.now().toISOString(),
      files: await statManifest(d.fromPrimary, await listFiles(d.fromPrimary)),
    }),
  );
  const bytes = items.bytes + real.items.bytes;
  return {
    kind: 'ok',
    mode,
    files: count,
    changed: real.items.changed.length,
    deleted: real.items.deleted.length,
    bytes,
    pushed: true,
    warnings: report.warnings,
    line:
      `${count} files: ${real.items.changed.length} copied, ${real.items.deleted.length} deleted on ${S} ` +
      `(${bytes} bytes moved)${warned}`,
  };
}

/** While the standby serves: its memory is copied to the witness (validated), never to the primary. */
export async function pullStandby(
  config: Config,
  prev: MemoryRecord | undefined,
  opts: SyncOptions,
): Promise<SyncOutcome> {
  const d = stagingDirs(config);
  const S = label(config, 'standby');
  const r = await guardedPull(config, 'standby', d.fromStandby, 'pull-standby', opts, {
    receiver: 'the witness',
    verb: `copying ${S}`,
    keeps: 'the witness keeps its copy',
  });
  if (r.stop) return r.stop;
  const items = r.items!;
  if (opts.dryRun)
    return {
      kind: 'ok',
      mode: 'pull-standby',
      line:
        `--dry-run: ${S} serves; would copy ${items.changed.length} changed file(s) to the witness; ` +
        'the primary is not written until failback',
    };
  const full = fullValidation(prev, 'pull-standby');
  const report = await validateStaging(config, d.fromStandby, full ? undefined : items.changed);
  if (report.invalid.length)
    return invalidOutcome('pull-standby', S, report, d.fromStandby, 'they will not go back to the primary until fixed');
  return {
    kind: 'ok',
    mode: 'pull-standby',
    files: r.count,
    changed: items.changed.length,
    deleted: items.deleted.length,
    bytes: items.bytes,
    warnings: report.warnings,
    line:
      `${S} serves: its memory (${r.count} files, ${items.changed.length} changed) copied to the witness; ` +
      'the primary is not written until failback',
  };
}
