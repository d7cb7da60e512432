// A sync that ends at its change scan (issue 25): what a source's fingerprint stands for, and the outcome
// of a run whose source is as the last good run found it. The rule itself is pure (gate.ts
// unchangedSince); the scan is watch.ts's; sync-memory's body runs them (commands/sync-memory.ts).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Config, HostConfig } from '../config/types.js';
import { label } from '../core/model.js';
import type { MemoryRecord, SyncMode, SyncOutcome } from './fold.js';
import { hostOf, stagingDirs } from './sync.js';

/**
 * What a fingerprint of the source stands for in a run of `mode`: the source host, the target (the
 * standby, for a push), the root, the filters and the staging directory. A change of any of them makes
 * the recorded fingerprint another's, and the next run copies.
 */
export function scanKey(config: Config, mode: SyncMode): string {
  const m = config.memory;
  const who = (h: HostConfig) => [h.address, h.port, h.user];
  const from = hostOf(config, mode === 'pull-standby' ? 'standby' : 'primary');
  const to = mode === 'push' ? who(hostOf(config, 'standby')) : null;
  const id = JSON.stringify([mode, who(from), to, m.root, m.include, m.exclude, stagingDirs(config).root]);
  return createHash('sha256').update(id).digest('hex').slice(0, 32);
}

/**
 * The run that ends at its scan (gate.ts unchangedSince): what the last good run left on the witness and
 * the standby is still the source's. The witness's staging copy must still be there (a state directory
 * wiped by hand copies afresh).
 */
export function unchangedOutcome(config: Config, prev: MemoryRecord, mode: SyncMode): SyncOutcome | undefined {
  const d = stagingDirs(config);
  if (!existsSync(mode === 'pull-standby' ? d.fromStandby : d.fromPrimary)) return undefined;
  const files = prev.files ?? 0;
  const base = { kind: 'ok' as const, mode, files, changed: 0, deleted: 0, bytes: 0, unchanged: true };
  if (mode === 'pull-standby') {
    const S = label(config, 'standby');
    return {
      ...base,
      line:
        `${S} serves: no change in its memory since the last copy (${files} files, its fingerprint); ` +
        'the primary is not written until failback',
    };
  }
  const [P, S] = [label(config, 'primary'), label(config, 'standby')];
  return { ...base, pushed: false, line: `no change on ${P} (its fingerprint); ${S} up to date (${files} files)` };
}
