// hactl check's look at memory sync: only when it is enabled and has ever run.
import type { Config } from '../config/types.js';
import { memoryStaleness } from './plan.js';
import { readMemoryRecord } from './record.js';

export async function memoryWarning(config: Config, now: Date): Promise<string | null> {
  if (!config.memory.enabled) return null;
  let rec;
  try {
    rec = await readMemoryRecord(config);
  } catch (e) {
    return `cannot read the memory sync record: ${(e as Error).message}`;
  }
  return memoryStaleness(rec, config.memory.interval, now);
}
