// Memory sync, the I/O side. The witness runs rsync (it cannot copy between
// two remote hosts), so every copy goes through a staging tree on the witness:
//   push (primary serves):  primary -> <staging>/from-primary (validated) -> standby
//   pull (standby serves):  standby -> <staging>/from-standby (validated), nothing pushed
//   sync-back (failback):   standby -> from-standby, primary -> from-primary,
//                           plan, <staging>/to-primary -> primary (never deletes)
// The push lands with --delay-updates --delete-after: every new file waits in
// a holding directory and all are renamed into place at the end, so a killed
// or failed transfer leaves the standby's live copy as it was.
import { existsSync, linkSync, copyFileSync, mkdirSync, rmSync, statSync, readFileSync, utimesSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config, HostConfig, MemoryConfig, Role } from '../config/types.js';
import { runRsync, rsyncExitMeaning, type RsyncResult } from '../adapters/rsync.js';
import { readJson, writeAtomic, writeJson } from '../state/files.js';
import { compileRules, listFiles, validateTree, formatProblem, type ValidateReport } from './validate.js';
import { conflictName, deletionVerdict, filterRules, planSyncBack, SQLITE_EXCLUDES, type Manifest } from './plan.js';
import { parseItemized, type Itemized } from '../adapters/rsync-itemize.js';
import { label } from '../core/model.js';

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
  alert?: string; // a problem worth a message (deduplicated by the caller)
  files?: number;
  changed?: number;
  deleted?: number;
  bytes?: number;
  invalid?: string[];
  conflicts?: string[];
  pushed?: boolean;
}

export interface SyncOptions {
  dryRun?: boolean;
  allowMassDelete?: boolean;
  deadline?: number; // seconds per rsync run (default memory.deadline)
  progress?: (msg: string) => void;
  now?: () => Date;
  /** Re-read just before the push: the role may have changed while we pulled. */
  servingNow?: () => Promise<Role>;
}

export const memoryRecordPath = (config: Config) => join(config.stateDir, 'memory.json');

export async function readMemoryRecord(config: Config): Promise<MemoryRecord | undefined> {
  return readJson<MemoryRecord>(memoryRecordPath(config), 'memory-state');
}
export function writeMemoryRecord(config: Config, rec: MemoryRecord): void {
  writeJson(memoryRecordPath(config), rec);
}

export function stagingRoot(config: Config): string {
  return resolve(config.stateDir, config.memory.staging);
}
const dirs = (config: Config) => {
  const root = stagingRoot(config);
  return { root, fromPrimary: join(root, 'from-primary'), fromStandby: join(root, 'from-standby'), toPrimary: join(root, 'to-primary'), manifest: join(root, 'manifest.json') };
};

const hostOf = (config: Config, role: Role): HostConfig => config.hosts[config.pair[role]]!;
const remoteRoot = (m: MemoryConfig) => `${m.root.replace(/\/+$/, '')}/`;

interface RsyncRun {
  res: RsyncResult;
  items: Itemized;
  ok: boolean;
  missingSource: boolean;
  problem?: string;
}

function rsyncProblem(what: string, res: RsyncResult, deadline: number): string {
  if (res.timedOut) return `${what}: no result within the ${deadline} s deadline; rsync was stopped`;
  const err = res.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
  return `${what}: rsync ${res.code === null ? `killed by ${res.signal}` : `exit ${res.code} (${rsyncExitMeaning(res.code)})`}${err ? `: ${err}` : ''}`;
}

async function rsync(config: Config, what: string, job: { from: { host?: HostConfig; path: string }; to: { host?: HostConfig; path: string }; options: string[]; filters?: string[] }, deadline: number): Promise<RsyncRun> {
  const m = config.memory;
  // Relative roots mean "under the login's HOME", as for hactl's own SSH commands; sshd starts the
  // remote command in the passwd home, which can differ from $HOME. A constant: no user data in it.
  const values: Array<[string, string]> = [['rsync-path', 'cd "$HOME" && rsync']];
  if (m.bwlimit > 0) values.push(['bwlimit', String(m.bwlimit)]);
  const res = await runRsync({
    from: job.from, to: job.to, flags: 'rlptz', options: [...job.options, 'itemize-changes', 'stats'], values,
    filters: job.filters ?? filterRules(m), connectTimeout: config.thresholds.connectTimeout, ioTimeout: m.ioTimeout, deadline,
  });
  const items = parseItemized(res.stdout);
  // 24: files vanished while copying live data; what was copied is whole.
  const ok = !res.timedOut && (res.code === 0 || res.code === 24);
  const missingSource = res.code === 23 && /change_dir .* failed: No such file or directory|link_stat .* failed: No such file or directory/.test(res.stderr);
  return { res, items, ok, missingSource, problem: ok ? undefined : rsyncProblem(what, res, deadline) };
}

export async function statManifest(root: string, files?: string[]): Promise<Manifest> {
  const list = files ?? (await listFiles(root));
  const out: Manifest = {};
  for (const f of list) {
    try {
      const st = statSync(join(root, f));
      out[f] = { size: st.size, mtime: Math.floor(st.mtimeMs / 1000) };
    } catch { /* vanished */ }
  }
  return out;
}

function readManifest(file: string): Manifest | null {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { files?: Manifest };
    return m.files ?? null;
  } catch {
    return null; // no base known: every file changed on both sides becomes a kept conflict
  }
}

function invalidOutcome(mode: SyncMode, who: string, report: ValidateReport, kept: string, extra: string): SyncOutcome {
  const shown = report.problems.slice(0, 5).map((p) => formatProblem(p)).join('; ');
  const more = report.problems.length > 5 ? `; and ${report.problems.length - 5} more` : '';
  return {
    kind: 'invalid', mode, invalid: report.invalid, files: report.files,
    line: `${report.invalid.length} invalid memory file(s) from ${who}: ${report.invalid.slice(0, 5).join(', ')}${report.invalid.length > 5 ? ', ...' : ''}; ${extra}`,
    alert: `memory sync: ${report.invalid.length} invalid file(s) on ${who}, ${extra}: ${shown}${more}. Rejected copy kept on the witness in ${kept}`,
  };
}

async function validateStaging(config: Config, dir: string, only: string[] | undefined): Promise<ValidateReport> {
  const compiled = await compileRules(config.validate, config.file);
  return validateTree(dir, compiled, only?.filter((f) => existsSync(join(dir, f))));
}

/** primary -> witness staging (validated) -> standby. */
export async function pushMemory(config: Config, prev: MemoryRecord | undefined, opts: SyncOptions, mode: 'push' | 'last-chance' = 'push'): Promise<SyncOutcome> {
  const m = config.memory;
  const d = dirs(config);
  const deadline = opts.deadline ?? m.deadline;
  const primary = hostOf(config, 'primary');
  const standby = hostOf(config, 'standby');
  const now = opts.now ?? (() => new Date());
  const say = opts.progress ?? (() => undefined);
  mkdirSync(d.fromPrimary, { recursive: true, mode: 0o700 });
  say(`pulling memory from ${label(config, 'primary')}:${m.root}`);
  const pull = await rsync(config, `pulling from ${label(config, 'primary')}`, { from: { host: primary, path: remoteRoot(m) }, to: { path: `${d.fromPrimary}/` }, options: ['delete', ...(opts.dryRun ? ['dry-run'] : [])] }, deadline);
  if (pull.missingSource) return { kind: 'refused', mode, line: `memory directory ${m.root} is missing on ${label(config, 'primary')}; nothing deleted on the standby`, alert: `memory sync refused: ${m.root} is missing on ${label(config, 'primary')} (unmounted or deleted?). The standby keeps its copy; nothing was deleted.` };
  if (!pull.ok) return { kind: 'failed', mode, line: `${pull.problem}; the standby keeps its last good copy`, alert: `memory sync failed: ${pull.problem}. The standby keeps its last good copy.` };
  if (opts.dryRun) {
    return { kind: 'ok', mode, changed: pull.items.changed.length, deleted: pull.items.deleted.length, line: `--dry-run: ${label(config, 'primary')} has ${pull.items.changed.length} new or changed and ${pull.items.deleted.length} deleted memory file(s) since the witness's copy; nothing copied` };
  }
  // rsync's --stats count avoids walking 10,000 files on a no-change run; walk only when it is missing.
  let files: string[] | undefined;
  const count = pull.items.files ?? (files = await listFiles(d.fromPrimary)).length;
  if (count === 0) return { kind: 'refused', mode, line: `no memory files on ${label(config, 'primary')} under ${m.root}; nothing deleted on the standby`, alert: `memory sync refused: the ${label(config, 'primary')} has no memory files under ${m.root} (empty or unmounted?). The standby keeps its copy; nothing was deleted.` };
  // The first run, or one after a failure, checks every file; otherwise only what rsync changed.
  const full = !prev || prev.lastResult !== 'ok' || prev.mode !== 'push';
  say(`validating ${full ? `all ${count}` : pull.items.changed.length} file(s)`);
  const report = await validateStaging(config, d.fromPrimary, full ? undefined : pull.items.changed);
  if (report.invalid.length) return invalidOutcome(mode, `${label(config, 'primary')}`, report, d.fromPrimary, `the standby keeps its last good copy`);
  const changedSince = pull.items.changed.length + pull.items.deleted.length;
  const lastPush = prev?.lastPushAt ? new Date(prev.lastPushAt).getTime() : 0;
  const pushDue = full || changedSince > 0 || now().getTime() - lastPush > m.fullPushEvery * 1000;
  if (!pushDue) return { kind: 'ok', mode, files: count, changed: 0, deleted: 0, bytes: pull.items.bytes, pushed: false, line: `no change on ${label(config, 'primary')}; ${label(config, 'standby')} up to date (${count} files)` };
  // Mass-deletion guard: what would the push delete on the standby, out of how many files?
  const push = { from: { path: `${d.fromPrimary}/` }, to: { host: standby, path: remoteRoot(m) } };
  const pushOpts = ['delete', 'delete-after', 'delay-updates'];
  say(`comparing with ${label(config, 'standby')}`);
  const dry = await rsync(config, `comparing with ${label(config, 'standby')}`, { ...push, options: [...pushOpts, 'dry-run'] }, deadline);
  if (!dry.ok) return { kind: 'failed', mode, line: `${dry.problem}; the standby keeps its last good copy`, alert: `memory sync failed: ${dry.problem}. The standby keeps its last good copy.` };
  const live = count - dry.items.created.length + dry.items.deleted.length;
  const verdict = deletionVerdict(dry.items.deleted.length, live, m);
  if (!verdict.ok && !opts.allowMassDelete) {
    return { kind: 'refused', mode, line: `the push ${verdict.reason} on ${label(config, 'standby')}; nothing deleted`, alert: `memory sync refused: it ${verdict.reason} on ${label(config, 'standby')} (e.g. ${dry.items.deleted.slice(0, 3).join(', ')}). Nothing was deleted; if intended, run hactl sync-memory --allow-mass-delete.` };
  }
  if (opts.servingNow && (await opts.servingNow()) !== 'primary') return { kind: 'skipped', mode, line: 'the standby started serving during this run: nothing pushed' };
  say(`pushing to ${label(config, 'standby')}`);
  const real = await rsync(config, `pushing to ${label(config, 'standby')}`, { ...push, options: pushOpts }, deadline);
  if (!real.ok) return { kind: 'failed', mode, line: `${real.problem}; the standby's live copy was not replaced (updates land only at the end)`, alert: `memory sync failed: ${real.problem}. The standby's live copy was not replaced; the next run retries.` };
  writeAtomic(d.manifest, JSON.stringify({ at: now().toISOString(), files: await statManifest(d.fromPrimary, files ?? (await listFiles(d.fromPrimary))) }));
  return {
    kind: 'ok', mode, files: count, changed: real.items.changed.length, deleted: real.items.deleted.length, bytes: pull.items.bytes + real.items.bytes, pushed: true,
    line: `${count} files: ${real.items.changed.length} copied, ${real.items.deleted.length} deleted on ${label(config, 'standby')} (${pull.items.bytes + real.items.bytes} bytes moved)`,
  };
}

/** standby -> witness staging, guarded against mass deletion of the witness's copy. */
async function pullStandbyCopy(config: Config, opts: SyncOptions, deadline: number): Promise<{ fail?: SyncOutcome; items?: Itemized; count?: number; files?: string[] }> {
  const m = config.memory;
  const d = dirs(config);
  const standby = hostOf(config, 'standby');
  mkdirSync(d.fromStandby, { recursive: true, mode: 0o700 });
  const job = { from: { host: standby, path: remoteRoot(m) }, to: { path: `${d.fromStandby}/` }, options: ['delete', 'delete-after'] };
  const dry = await rsync(config, `reading ${label(config, 'standby')}`, { ...job, options: [...job.options, 'dry-run'] }, deadline);
  if (dry.missingSource) return { fail: { kind: 'refused', mode: 'pull-standby', line: `${m.root} is missing on ${label(config, 'standby')}; the witness keeps its copy`, alert: `memory sync refused: ${m.root} is missing on the serving ${label(config, 'standby')}. The witness keeps its copy of it.` } };
  if (!dry.ok) return { fail: { kind: 'failed', mode: 'pull-standby', line: dry.problem!, alert: `memory sync failed: ${dry.problem}` } };
  const have = existsSync(d.fromStandby) ? (await listFiles(d.fromStandby)).length : 0;
  const verdict = deletionVerdict(dry.items.deleted.length, have, m);
  const after = have - dry.items.deleted.length + dry.items.created.length;
  if ((!verdict.ok || (after === 0 && have > 0)) && !opts.allowMassDelete) {
    const why = verdict.ok ? 'would empty it' : verdict.reason;
    return { fail: { kind: 'refused', mode: 'pull-standby', line: `copying ${label(config, 'standby')} ${why} on the witness`, alert: `memory sync refused: the serving ${label(config, 'standby')} lost memory files: copying it ${why} on the witness. The witness keeps its copy in ${d.fromStandby}.` } };
  }
  if (opts.dryRun) return { items: dry.items, count: after };
  const real = await rsync(config, `pulling from ${label(config, 'standby')}`, job, deadline);
  if (!real.ok) return { fail: { kind: 'failed', mode: 'pull-standby', line: real.problem!, alert: `memory sync failed: ${real.problem}` } };
  const files = await listFiles(d.fromStandby);
  return { items: real.items, count: files.length, files };
}

/** While the standby serves: its memory is copied to the witness (validated), never to the primary. */
export async function pullStandby(config: Config, prev: MemoryRecord | undefined, opts: SyncOptions): Promise<SyncOutcome> {
  const d = dirs(config);
  const r = await pullStandbyCopy(config, opts, opts.deadline ?? config.memory.deadline);
  if (r.fail) return r.fail;
  const items = r.items!;
  if (opts.dryRun) return { kind: 'ok', mode: 'pull-standby', line: `--dry-run: ${label(config, 'standby')} serves; would copy ${items.changed.length} changed file(s) to the witness; the primary is not written until failback` };
  const full = !prev || prev.lastResult !== 'ok' || prev.mode !== 'pull-standby';
  const report = await validateStaging(config, d.fromStandby, full ? undefined : items.changed);
  if (report.invalid.length) return invalidOutcome('pull-standby', `${label(config, 'standby')}`, report, d.fromStandby, 'they will not go back to the primary until fixed');
  return {
    kind: 'ok', mode: 'pull-standby', files: r.count, changed: items.changed.length, deleted: items.deleted.length, bytes: items.bytes,
    line: `${label(config, 'standby')} serves: its memory (${r.count} files, ${items.changed.length} changed) copied to the witness; the primary is not written until failback`,
  };
}

function placeFile(src: string, dst: string): void {
  mkdirSync(dirname(dst), { recursive: true });
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
    const st = statSync(src);
    utimesSync(dst, st.atime, st.mtime);
  }
}

/** Failback: what the standby wrote goes back to the primary; conflicts keep both versions. */
export async function syncBack(config: Config, opts: SyncOptions): Promise<SyncOutcome> {
  const m = config.memory;
  const d = dirs(config);
  const deadline = opts.deadline ?? m.deadline;
  const primary = hostOf(config, 'primary');
  const standby = hostOf(config, 'standby');
  const now = opts.now ?? (() => new Date());
  const r = await pullStandbyCopy(config, {}, deadline);
  // No memory directory on the standby: it wrote nothing to send back. Blocking the failback forever would not help.
  if (r.fail && /is missing on standby/.test(r.fail.line)) return { kind: 'ok', mode: 'sync-back', files: 0, changed: 0, line: `nothing to send back: ${m.root} does not exist on ${label(config, 'standby')}` };
  if (r.fail) return { ...r.fail, mode: 'sync-back' };
  const report = await validateStaging(config, d.fromStandby, undefined);
  if (report.invalid.length) return { ...invalidOutcome('sync-back', `${label(config, 'standby')}`, report, d.fromStandby, 'failback waits until they are fixed'), kind: 'failed' };
  mkdirSync(d.fromPrimary, { recursive: true, mode: 0o700 });
  const pull = await rsync(config, `reading ${label(config, 'primary')}`, { from: { host: primary, path: remoteRoot(m) }, to: { path: `${d.fromPrimary}/` }, options: ['delete'] }, deadline);
  if (!pull.ok && !pull.missingSource) return { kind: 'failed', mode: 'sync-back', line: pull.problem!, alert: `memory sync-back failed: ${pull.problem}` };
  const standbyFiles = await statManifest(d.fromStandby, r.files);
  const primaryFiles = pull.missingSource ? {} : await statManifest(d.fromPrimary);
  const identical = (f: string) => {
    try { return readFileSync(join(d.fromStandby, f)).equals(readFileSync(join(d.fromPrimary, f))); } catch { return false; }
  };
  const plan = planSyncBack(readManifest(d.manifest), standbyFiles, primaryFiles, identical);
  if (!plan.send.length && !plan.conflicts.length) return { kind: 'ok', mode: 'sync-back', files: r.count, changed: 0, line: `nothing the standby wrote needs to go back (${plan.unchanged} files unchanged)` };
  rmSync(d.toPrimary, { recursive: true, force: true });
  mkdirSync(d.toPrimary, { recursive: true, mode: 0o700 });
  const at = now();
  const conflictCopies: string[] = [];
  for (const f of plan.send) placeFile(join(d.fromStandby, f), join(d.toPrimary, f));
  for (const f of plan.conflicts) {
    const name = conflictName(f, standby.name, at);
    conflictCopies.push(name);
    placeFile(join(d.fromStandby, f), join(d.toPrimary, name));
  }
  // No --delete, and no include filters: to-primary holds exactly what was decided (conflict copies'
  // names would not match an include such as workspace/MEMORY.md). SQLite stays excluded regardless.
  const push = await rsync(config, `sending back to ${label(config, 'primary')}`, { from: { path: `${d.toPrimary}/` }, to: { host: primary, path: remoteRoot(m) }, options: ['delay-updates'], filters: [`- .~tmp~/`, ...SQLITE_EXCLUDES.map((p) => `- ${p}`)] }, deadline);
  if (!push.ok) return { kind: 'failed', mode: 'sync-back', line: `${push.problem}; the primary was not changed`, alert: `memory sync-back failed: ${push.problem}` };
  const pairs = plan.conflicts.map((f, i) => `${f} (primary's) and ${conflictCopies[i]} (${label(config, 'standby')}'s)`);
  return {
    kind: 'ok', mode: 'sync-back', files: r.count, changed: plan.send.length + plan.conflicts.length, bytes: push.items.bytes, conflicts: plan.conflicts,
    line: `sent back ${plan.send.length} file(s) the standby wrote to ${label(config, 'primary')}${plan.conflicts.length ? `; ${plan.conflicts.length} conflict(s), both versions kept: ${pairs.join(', ')}` : ''}`,
    alert: plan.conflicts.length ? `memory sync-back: ${plan.conflicts.length} file(s) changed on both hosts; both versions kept on ${label(config, 'primary')}: ${pairs.join('; ')}. Merge them by hand.` : undefined,
  };
}

/** Folds an outcome into the record; says whether (and what) to alert: a new problem, or recovery. */
export function nextRecord(prev: MemoryRecord | undefined, o: SyncOutcome, now: Date): { rec: MemoryRecord; alert?: string } {
  const at = now.toISOString();
  const good = o.kind === 'ok';
  const rec: MemoryRecord = {
    version: 1, lastRunAt: at, lastGoodAt: good ? at : prev?.lastGoodAt ?? null,
    lastPushAt: o.pushed ? at : prev?.lastPushAt ?? null,
    lastResult: o.kind, mode: o.mode, detail: o.line,
    files: o.files ?? prev?.files ?? 0, changed: good ? o.changed ?? 0 : prev?.changed ?? 0, deleted: good ? o.deleted ?? 0 : prev?.deleted ?? 0, bytes: good ? o.bytes ?? 0 : prev?.bytes ?? 0,
    problem: good || o.kind === 'skipped' ? null : o.alert ?? o.line,
  };
  if (o.kind === 'skipped') rec.problem = prev?.problem ?? null;
  let alert: string | undefined;
  if (!good && o.kind !== 'skipped' && rec.problem !== (prev?.problem ?? null)) alert = o.alert ?? `memory sync: ${o.line}`;
  else if (good && prev?.problem) alert = `memory sync OK again: ${o.line}`;
  if (good && o.alert) alert = alert ? `${alert}\n${o.alert}` : o.alert;
  return { rec, alert };
}
