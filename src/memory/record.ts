// memory.json: the memory sync's own record (not state.json, so a sync and a
// check never overwrite each other's). Written atomically by state/files.
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { readJson, writeJson } from '../state/files.js';
import type { MemoryRecord } from './fold.js';

export const memoryRecordPath = (config: Config) => join(config.stateDir, 'memory.json');

export async function readMemoryRecord(config: Config): Promise<MemoryRecord | undefined> {
  return readJson<MemoryRecord>(memoryRecordPath(config), 'memory-state');
}

export function writeMemoryRecord(config: Config, rec: MemoryRecord): void {
  writeJson(memoryRecordPath(config), rec);
}
