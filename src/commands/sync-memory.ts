// hactl sync-memory: keep the idle host's memory one interval behind at most.
// It follows the recorded role: while the primary serves, primary -> witness
// staging (validated) -> standby. While the standby serves, its memory is only
// copied to the witness (validated): the primary's older memory must never
// overwrite what the standby is writing, and the primary is written only by
// failback's sync-back. Runs under its own lock ('memory') so a long copy never
// makes a concurrent `hactl check` exit 75; its record is memory.json, not
// state.json, so neither run overwrites the other's.
// The command: observe the role, run the sync (memory/sync.ts), fold the
// outcome (memory/fold.ts), record it and send the alert the fold chose.
import type { Command } from 'commander';
import { runCommand, loadState, type GlobalOptions, type RunContext, type RunRecord } from '../context.js';
import type { Config, Role } from '../config/types.js';
import { EXIT } from '../errors.js';
import { awaitingConfirmation } from '../core/model.js';
import { systemClock } from '../adapters/clock.js';
import { hostOf, pullStandby, pushMemory } from '../memory/sync.js';
import { beginCopy, copyCut, endCopy, readSeen, recordSeen, scanKey, unchangedOutcome } from '../memory/unchanged.js';
import { unchangedSince } from '../memory/gate.js';
import { scanStarted } from '../memory/watch.js';
import { primeShare } from '../memory/copy.js';
import { nextRecord, type SyncMode, type SyncOutcome } from '../memory/fold.js';
import { loadMemoryRecord, writeMemoryRecord } from '../memory/record.js';
import { rulesOf } from '../memory/staging.js';

const EXIT_FOR: Record<SyncOutcome['kind'], number> = {
  ok: EXIT.OK,
  skipped: EXIT.OK,
  invalid: EXIT.WARNING,
  refused: EXIT.CRITICAL,
  failed: EXIT.CRITICAL,
};

export interface SyncMemoryOptions extends GlobalOptions {
  allowMassDelete?: boolean;
  watch?: boolean;
  every?: string;
  window?: string;
}

/** A change scan taken by the caller: of which side's memory, under which key (memory/unchanged.ts). */
export interface Scanned {
  role: Role;
  key: string;
  print: string;
}

export default async function syncMemory(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as SyncMemoryOptions;
  if (opts.watch) return (await import('../memory/watch-run.js')).watchMemory(opts);
  // The change scan starts as soon as the config is read, before the lock (it only reads the host):
  // the host walks its tree while this run takes its lock and reads its records.
  let early: Promise<Scanned | undefined> | undefined;
  const ahead = async (config: Config) => {
    if (!opts.dryRun && config.memory.enabled) early = (await scanAhead(config)).result;
  };
  return runCommand(
    'sync-memory',
    opts,
    'memory',
    syncBody(opts, undefined, () => early),
    undefined,
    undefined,
    ahead,
  );
}

/**
 * The serving side's print as the recorded state names it (read only), started: resolves once the scan's
 * ssh client runs (a promise inside an object: an async function's would be awaited with it).
 */
async function scanAhead(config: Config): Promise<{ result: Promise<Scanned | undefined> }> {
  let role: Role;
  try {
    role = (await loadState(config, new Date(), true)).serving;
  } catch {
    return { result: Promise.resolve(undefined) }; // the run reads the state itself, and says what is wrong
  }
  const mode: SyncMode = role === 'standby' ? 'pull-standby' : 'push';
  const key = scanKey(config, mode);
  const printing = scanStarted(config, hostOf(config, role === 'standby' ? 'standby' : 'primary'));
  return { result: printing.then((print) => (print === undefined ? undefined : { role, key, print })) };
}

/**
 * One whole sync-memory run's body (under the memory lock); `seen` hears the outcome's kind and role.
 * `scanned`: a fingerprint the caller took just before (the watch's cycle; a one-shot run's, started
 * before its lock), so the run does not take another.
 */
export function syncBody(
  opts: SyncMemoryOptions,
  seen?: (kind: SyncOutcome['kind'] | undefined, role: Role) => void,
  scanned?: () => Promise<Scanned | undefined> | undefined,
): (ctx: RunContext) => Promise<RunRecord> {
  return async ({ config, out, alerts }) => {
    if (!config.memory.enabled) {
      return {
        exitCode: EXIT.OK,
        summary: 'sync-memory: memory sync is disabled (memory.enabled: false)',
        data: { result: 'skipped' },
      };
    }
    const clock = systemClock();
    const state = await loadState(config, clock.now(), !!opts.dryRun);
    // After a rebuilt state.json the serving side is a guess: never copy memory on a guess.
    if (awaitingConfirmation(state)) {
      await rulesOf(config); // a rule that cannot compile is exit 78 all the same
      const summary =
        'sync-memory: WARNING: state.json was rebuilt; waiting for hactl check to confirm which side serves';
      return { exitCode: EXIT.WARNING, summary, data: { result: 'skipped' } };
    }
    const mode: SyncMode = state.serving === 'standby' ? 'pull-standby' : 'push';
    const source = hostOf(config, state.serving === 'standby' ? 'standby' : 'primary');
    // A fingerprint of the source, taken before anything reads it (issue 25): the same as at the start of
    // this witness's last good run, and the run has nothing to copy (memory/gate.ts unchangedSince).
    // Started first: the host walks its tree while this run compiles its rules and reads its records.
    const key = scanKey(config, mode);
    const taken = scanned?.();
    const printing: Promise<string | undefined> | undefined = opts.dryRun
      ? undefined
      : (async () => {
          const s = await taken;
          // Another side or another key than this run's (a failover meanwhile, another config): scan afresh.
          return s?.role === state.serving && s.key === key ? s.print : scanStarted(config, source);
        })().catch(() => undefined);
    // The master to the source is checked while memory.json is read (the first copy takes the answer).
    primeShare(config, source);
    // A rule that cannot compile stops here, exit 78, before anything is copied.
    await rulesOf(config);
    // A corrupt memory.json is set aside (alerted once) and the sync goes on as a first run.
    const [{ rec: prev, setAside }, print] = await Promise.all([
      loadMemoryRecord(config, clock.now(), !!opts.dryRun),
      printing,
    ]);
    const scan = print ? { key, print } : undefined;
    // A run that died mid-copy leaves the witness's copy unknown: this one goes as after a failure (every
    // file validated, the push due). The fold still reads the record as it is (its alerts, its problem).
    const known = prev && !opts.dryRun && copyCut(config) ? { ...prev, lastResult: 'failed' as const } : prev;
    const sopts = {
      dryRun: !!opts.dryRun,
      allowMassDelete: !!opts.allowMassDelete,
      progress: (m: string) => out.progress(m),
      clock,
      servingNow: async () => (await loadState(config, clock.now())).serving,
    };
    const same =
      known && unchangedSince(known, readSeen(config), mode, scan, clock.now(), config.memory.fullPushEvery)
        ? unchangedOutcome(config, known, mode)
        : undefined;
    if (same) out.progress(`no change on the ${state.serving} since the last good sync (its fingerprint)`);
    // A run that copies: this witness's record of a good copy goes first, and comes back only with one.
    const copies = !same && !opts.dryRun;
    if (copies) beginCopy(config, clock.now());
    const o =
      same ??
      (state.serving === 'standby' ? await pullStandby(config, known, sopts) : await pushMemory(config, known, sopts));
    if (copies && o.kind === 'ok' && scan) recordSeen(config, mode, scan, clock.now());
    seen?.(o.kind, state.serving);
    let alertError: string | undefined;
    if (!opts.dryRun) {
      const { rec, events } = nextRecord(prev, o, clock.now());
      // Queued before the record that says they were raised (src/memory/steps.ts): never lost between.
      await alerts.queue(events);
      writeMemoryRecord(config, rec, prev);
      if (copies) endCopy(config);
      if (events.length) {
        const r = await alerts.send([]); // queued above
        if (r.errors.length) {
          alertError = r.errors.join('; ');
          out.error(`hactl: warning: ${alertError}`);
        }
      }
    }
    const head = o.kind === 'ok' || o.kind === 'skipped' ? '' : `${o.kind.toUpperCase()}: `;
    const moved = setAside?.to ? `set aside as ${setAside.to}, record started afresh` : 'would be set aside';
    const aside = setAside ? `; memory.json was corrupt: ${moved}` : '';
    return {
      exitCode: EXIT_FOR[o.kind],
      summary: `sync-memory: ${head}${o.line}${aside}`,
      data: {
        result: o.kind,
        mode: o.mode,
        files: o.files ?? null,
        changed: o.changed ?? null,
        deleted: o.deleted ?? null,
        bytes: o.bytes ?? null,
        invalid: o.invalid ?? [],
        warnings: o.warnings ?? [],
        pushed: o.pushed ?? false,
        unchanged: o.unchanged ?? false,
        alertError: alertError ?? null,
        recordSetAside: setAside ? { file: setAside.file, to: setAside.to, why: setAside.why } : null,
      },
    };
  };
}
