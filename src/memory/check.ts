// hactl check's look at memory sync: only when it is enabled and has ever run.
import type { Config } from '../config/types.js';
import { memoryStaleness } from './plan.js';
import { CorruptFileError } from '../state/files.js';
import { readMemoryRecord } from './record.js';

export async function memoryWarning(config: Config, now: Date): Promise<string | null> {
  if (!config.memory.enabled) return null;
  let rec;
  try {
    rec = await readMemoryRecord(config);
  } catch (e) {
    // check holds the state lock, not the memory lock: the next sync-memory sets it aside, not check.
    if (e instanceof CorruptFileError)
      return `${e.file} is corrupt (${e.why.slice(0, 120)}): the next sync-memory sets it aside and starts it afresh`;
    return `cannot read the memory sync record: ${(e as Error).message}`;
  }
  return memoryStaleness(rec, config.memory.interval, now);
}
