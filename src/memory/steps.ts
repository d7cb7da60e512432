// The memory steps of failover (last-chance sync) and failback (sync-back).
// - sync-last-chance: the primary's host answers but its gateway is dead; copy
//   its memory once more so nothing is lost. It never blocks the failover: a
//   failed or refused copy is reported (and alerted), and the failover goes on.
// - sync-back: before the standby stops, what it wrote goes back to the
//   primary, conflicts keep both versions. A failure fails the step, so the
//   failback stops with the standby still serving: nothing it wrote is lost.
// Both take the memory lock, so they never run beside a cron sync-memory.
import type { Config } from '../config/types.js';
import type { Step } from '../core/model.js';
import type { Reporter } from '../output.js';
import { acquireLock, type Lock } from '../state/lock.js';
import { systemClock } from '../adapters/clock.js';
import type { SyncOutcome } from './fold.js';

type StepResult = { ok: boolean; detail: string };

export async function runMemoryStep(config: Config, step: Step, out: Reporter): Promise<StepResult> {
  if (step.op !== 'sync-last-chance' && step.op !== 'sync-back')
    return { ok: true, detail: `${step.op}: not a memory step` };
  if (!config.memory.enabled)
    return { ok: true, detail: `${step.op}: memory sync disabled (memory.enabled: false), skipped` };
  const lastChance = step.op === 'sync-last-chance';
  let lock: Lock;
  try {
    const who = `hactl ${lastChance ? 'failover (last-chance sync)' : 'failback (sync-back)'}`;
    lock = acquireLock(config.stateDir, 'memory', who, config.thresholds.lockLease);
  } catch (e) {
    const msg = `memory lock busy: ${(e as Error).message}`;
    if (lastChance) return { ok: true, detail: `WARNING: last-chance sync skipped (${msg})` };
    return { ok: false, detail: `sync-back not done (${msg}); failback retries later` };
  }
  try {
    const clock = systemClock();
    const { loadMemoryRecord, writeMemoryRecord } = await import('./record.js');
    const { nextRecord } = await import('./fold.js');
    // A corrupt memory.json is set aside and alerted once, not overwritten unseen.
    const prev = (await loadMemoryRecord(config, clock.now()).catch(() => undefined))?.rec;
    const deadline = lastChance ? config.memory.lastChanceDeadline : config.memory.deadline;
    const opts = { progress: (m: string) => out.progress(m), deadline, clock };
    // The last-chance copy goes through the same staging copy as a cron sync: one killed mid-copy makes
    // this one validate every file and push (unchanged.ts copyCut), and this one marks its own copy.
    const { beginCopy, copyCut, endCopy } = await import('./unchanged.js');
    const known = lastChance && prev && copyCut(config) ? { ...prev, lastResult: 'failed' as const } : prev;
    if (lastChance) beginCopy(config, clock.now());
    let o: SyncOutcome;
    try {
      if (lastChance) o = await (await import('./sync.js')).pushMemory(config, known, opts, 'last-chance');
      else o = await (await import('./syncback.js')).syncBack(config, opts);
    } catch (e) {
      const msg = (e as Error).message;
      o = {
        kind: 'failed',
        mode: lastChance ? 'last-chance' : 'sync-back',
        line: msg,
        alert: `memory ${step.op} failed: ${msg}`,
      };
    }
    const { rec, events } = nextRecord(prev, o, clock.now());
    // The fold raises an event only when the record changes: it is queued BEFORE the record is
    // written, so a run that dies between the two, or an outbox that cannot take it, never loses
    // it (the record is then not written and the next run raises it again).
    const { Alerts } = await import('../adapters/telegram.js');
    const alerts = new Alerts(config);
    let alertNote = '';
    try {
      await alerts.queue(events);
      writeMemoryRecord(config, rec);
      if (lastChance) endCopy(config);
      if (events.length) {
        const r = await alerts.flush();
        if (r.errors.length) alertNote = `; WARNING: ${r.errors.join('; ')}`;
      }
    } catch (e) {
      alertNote = `; WARNING: alert not queued, memory record not updated (${(e as Error).message})`;
    }
    if (alertNote) out.error(`hactl: warning: ${alertNote.slice('; WARNING: '.length)}`);
    if (o.kind === 'ok') return { ok: true, detail: `${step.op}: ${o.line}${alertNote}` };
    if (lastChance)
      return {
        ok: true,
        detail:
          `WARNING: last-chance sync ${o.kind}: ${o.line}; ` +
          `failing over with the standby's last good copy${alertNote}`,
      };
    return { ok: false, detail: `sync-back ${o.kind}: ${o.line}${alertNote}` };
  } finally {
    lock.release();
  }
}
