// The memory steps of failover (last-chance sync) and failback (sync-back).
// Filled in by the memory sync module; until memory sync is configured they are no-ops.
import type { Config } from '../config/types.js';
import type { Step } from '../core/model.js';
import type { Reporter } from '../output.js';

export async function runMemoryStep(_config: Config, step: Step, _out: Reporter): Promise<{ ok: boolean; detail: string }> {
  return { ok: true, detail: `${step.op}: memory sync not configured, skipped` };
}
