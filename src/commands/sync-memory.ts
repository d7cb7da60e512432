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
import type { Role } from '../config/types.js';
import { EXIT } from '../errors.js';
import { awaitingConfirmation } from '../core/model.js';
import { systemClock } from '../adapters/clock.js';
import { hostOf, pullStandby, pushMemory } from '../memory/sync.js';
import { primeShare } from '../memory/copy.js';
import { nextRecord, type SyncOutcome } from '../memory/fold.js';
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

export default async function syncMemory(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as SyncMemoryOptions;
  if (opts.watch) return (await import('../memory/watch-run.js')).watchMemory(opts);
  return runCommand('sync-memory', opts, 'memory', syncBody(opts));
}

/** One whole sync-memory run's body (under the memory lock); `seen` hears the outcome's kind and role. */
export function syncBody(
  opts: SyncMemoryOptions,
  seen?: (kind: SyncOutcome['kind'] | undefined, role: Role) => void,
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
    // A rule that cannot compile stops here, exit 78, before anything is copied; the reads side by side.
    const [, state] = await Promise.all([rulesOf(config), loadState(config, clock.now(), !!opts.dryRun)]);
    // After a rebuilt state.json the serving side is a guess: never copy memory on a guess.
    if (awaitingConfirmation(state)) {
      const summary =
        'sync-memory: WARNING: state.json was rebuilt; waiting for hactl check to confirm which side serves';
      return { exitCode: EXIT.WARNING, summary, data: { result: 'skipped' } };
    }
    // The master to the source is checked while memory.json is read (the first copy takes the answer).
    primeShare(config, hostOf(config, state.serving === 'standby' ? 'standby' : 'primary'));
    // A corrupt memory.json is set aside (alerted once) and the sync goes on as a first run.
    const { rec: prev, setAside } = await loadMemoryRecord(config, clock.now(), !!opts.dryRun);
    const sopts = {
      dryRun: !!opts.dryRun,
      allowMassDelete: !!opts.allowMassDelete,
      progress: (m: string) => out.progress(m),
      clock,
      servingNow: async () => (await loadState(config, clock.now())).serving,
    };
    const o =
      state.serving === 'standby' ? await pullStandby(config, prev, sopts) : await pushMemory(config, prev, sopts);
    seen?.(o.kind, state.serving);
    let alertError: string | undefined;
    if (!opts.dryRun) {
      const { rec, events } = nextRecord(prev, o, clock.now());
      // Queued before the record that says they were raised (src/memory/steps.ts): never lost between.
      await alerts.queue(events);
      writeMemoryRecord(config, rec, prev);
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
        alertError: alertError ?? null,
        recordSetAside: setAside ? { file: setAside.file, to: setAside.to, why: setAside.why } : null,
      },
    };
  };
}
