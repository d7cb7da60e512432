// pause.json in the state directory: read (schema-checked) and written
// atomically through state/files.ts. failover --auto / failback --auto call
// readPause + pauseVerdict (pause.ts).
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { readJson, writeJson } from '../state/files.js';
import type { PauseRecord } from './pause.js';

export const pausePath = (config: Config): string => join(config.stateDir, 'pause.json');

export function readPause(config: Config): Promise<PauseRecord | undefined> {
  return readJson<PauseRecord>(pausePath(config), 'pause');
}

export function writePause(config: Config, rec: PauseRecord): void {
  writeJson(pausePath(config), rec);
}
