// node:child_process, loaded when a process is first run, not when a module that can run one is imported:
// it brings net, dgram and the streams (about 175 page faults, 3 ms of CPU), which `status`, `history`
// and `cron` as root never need though their modules import lock.ts or process.ts (issue 25).
import { createRequire } from 'node:module';

let loaded: typeof import('node:child_process') | undefined;

export function childProcess(): typeof import('node:child_process') {
  return (loaded ??= createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process'));
}
