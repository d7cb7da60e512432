// The StateStore port: where the records every witness must agree on live. Locally (the
// default, one witness) they are the files in stateDir and nothing moves. With etcd, the
// files are this witness's working copy: pulled from etcd before a run, and pushed back after
// an acting run with compare-and-swap, so the plan/fold code reads and writes files as ever.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { writeAtomic } from '../state/files.js';
import type { EtcdCoordinator } from './etcd.js';
import { changedRecords, SHARED_RECORDS } from './plan.js';
import { grantLand, withPending, type PendingGrant, type Stamp } from '../fencing/rule.js';
import { journal, readJournal } from '../failover/permits.js';

export interface SharedRecord {
  /** The file's text; null when there is none. */
  text: string | null;
  /** etcd's mod revision of the record ('0': absent); '' for local files. */
  rev: string;
}

export interface StateStore {
  /** Bring the shared records into the working files. */
  pull(): Promise<void>;
  /** Write back what the run changed. False: another witness wrote first (the shared copy is pulled again). */
  push(asLeader?: boolean): Promise<boolean>;
}

/** One witness: the files are the store. */
export const localStore: StateStore = { pull: async () => undefined, push: async () => true };

const readText = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
};

/**
 * An earlier leader set out to change the pair and never shared what it did (cut off from etcd,
 * killed): the shared state may be older than the pair. The working state is marked as rebuilt
 * (src/core/model.ts awaitingConfirmation), so nothing automatic acts until a check made now
 * reads which side serves, rather than a second failover launching the standby again. No
 * state yet: nothing to mark.
 */
export function markUnfinished(config: Pick<Config, 'stateDir'>, intent: string, now: Date): boolean {
  const file = join(config.stateDir, 'state.json');
  const text = readText(file);
  if (text === null) return false;
  let what = intent;
  try {
    const i = JSON.parse(intent) as { command?: string; witness?: string; since?: string };
    what = `${i.command} by witness ${i.witness} since ${i.since}`;
  } catch {
    /* shown as it is */
  }
  const state = JSON.parse(text) as Record<string, unknown>;
  writeAtomic(
    file,
    JSON.stringify({ ...state, rebuiltAt: now.toISOString(), rebuiltFrom: `etcd: an unfinished ${what}` }, null, 2) +
      '\n',
  );
  return true;
}

/**
 * The grants an earlier leader recorded in etcd before sending them and never followed with its
 * shared state (src/fencing/rule.ts withPending): dated by this witness (now + the grant's landing
 * deadline) into its own journal of grants, which every decision merges with the shared state
 * (src/failover/permits.ts withJournal), and which this run's state then carries to the others.
 * A record that cannot be read counts as a grant of a whole lease with an unknown token.
 */
export function foldPending(
  config: Pick<Config, 'stateDir' | 'guard' | 'thresholds'>,
  found: ReadonlyMap<string, string>,
  here: Stamp,
): PendingGrant[] {
  const lease = config.guard?.lease;
  if (lease === undefined) return [];
  const pending: PendingGrant[] = [];
  for (const [role, text] of found) {
    if (role !== 'primary' && role !== 'standby') continue;
    let g: { token?: unknown; lease?: unknown } = {};
    try {
      g = JSON.parse(text) as typeof g;
    } catch {
      /* unreadable: a whole lease, token unknown */
    }
    const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : d);
    pending.push({ role, token: num(g.token, 0), lease: Math.max(num(g.lease, lease), lease) });
  }
  const merged = withPending(readJournal(config as Config), pending, grantLand(config.thresholds), here);
  for (const p of pending) journal(config as Config, p.role, merged[p.role]!);
  return pending;
}

export class EtcdStore implements StateStore {
  private pulled = new Map<string, SharedRecord>();
  constructor(
    private readonly config: Config,
    private readonly etcd: EtcdCoordinator,
  ) {}

  private file(name: string): string {
    return join(this.config.stateDir, name);
  }

  async pull(): Promise<void> {
    const shared = await this.etcd.read([...SHARED_RECORDS]);
    for (const [name, rec] of shared) {
      // An empty etcd keeps the local file: the first leader's records seed the pair's (migration).
      if (rec.text !== null && rec.text !== readText(this.file(name))) writeAtomic(this.file(name), rec.text);
      this.pulled.set(name, rec);
    }
  }

  async push(asLeader = true): Promise<boolean> {
    const now = new Map([...SHARED_RECORDS].map((n) => [n, readText(this.file(n))] as const));
    const changes = changedRecords(this.pulled, now);
    if (!changes.length) return true;
    if (await this.etcd.write(changes, asLeader)) return true;
    await this.pull();
    return false;
  }
}
