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

export async function runMemoryStep(config: Config, step: Step, out: Reporter): Promise<{ ok: boolean; detail: string }> {
  if (step.op !== 'sync-last-chance' && step.op !== 'sync-back') return { ok: true, detail: `${step.op}: not a memory step` };
  if (!config.memory.enabled) return { ok: true, detail: `${step.op}: memory sync disabled (memory.enabled: false), skipped` };
  const lastChance = step.op === 'sync-last-chance';
  let lock: Lock;
  try {
    lock = acquireLock(config.stateDir, 'memory', `hactl ${lastChance ? 'failover (last-chance sync)' : 'failback (sync-back)'}`, config.thresholds.lockLease);
  } catch (e) {
    const msg = `memory lock busy: ${(e as Error).message}`;
    return lastChance ? { ok: true, detail: `WARNING: last-chance sync skipped (${msg})` } : { ok: false, detail: `sync-back not done (${msg}); failback retries later` };
  }
  try {
    const { nextRecord, pushMemory, readMemoryRecord, syncBack, writeMemoryRecord } = await import('./sync.js');
    const prev = await readMemoryRecord(config).catch(() => undefined);
    const opts = { progress: (m: string) => out.progress(m), deadline: lastChance ? config.memory.lastChanceDeadline : config.memory.deadline };
    let o;
    try {
      o = lastChance ? await pushMemory(config, prev, opts, 'last-chance') : await syncBack(config, opts);
    } catch (e) {
      o = { kind: 'failed' as const, mode: lastChance ? 'last-chance' as const : 'sync-back' as const, line: (e as Error).message, alert: `memory ${step.op} failed: ${(e as Error).message}` };
    }
    const { rec, alert } = nextRecord(prev, o, new Date());
    writeMemoryRecord(config, rec);
    if (alert) {
      const { Alerts } = await import('../adapters/telegram.js');
      await new Alerts(config).send(`${config.alerts.prefix} ${o.kind === 'ok' ? 'ℹ️' : '⚠️'} ${alert}`).catch(() => undefined);
    }
    if (o.kind === 'ok') return { ok: true, detail: `${step.op}: ${o.line}` };
    if (lastChance) return { ok: true, detail: `WARNING: last-chance sync ${o.kind}: ${o.line}; failing over with the standby's last good copy` };
    return { ok: false, detail: `sync-back ${o.kind}: ${o.line}` };
  } finally {
    lock.release();
  }
}
