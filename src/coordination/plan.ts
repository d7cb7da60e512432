// What coordination means for each command, and what a run does with the election's answer.
// Pure: no I/O. Tested as tables (test/unit/coordination.test.ts).

/** The records every witness must agree on: role and streaks, attempts and cooldown, pause, last syncs. */
export const SHARED_RECORDS = ['state.json', 'pause.json', 'memory.json', 'backup.json'] as const;

/**
 * - act: changes the pair or the shared records; only the leader runs it.
 * - observe: check; runs everywhere (recorded locally), the leader's result is shared.
 * - local: touches nothing shared (validate, restore, cron, init, listings).
 */
export type Kind = 'act' | 'observe' | 'local';

const ACTING = new Set(['failover', 'failback', 'sync-memory', 'backup-tier', 'pause', 'resume']);

export function kindOf(command: string, lockName: string | null): Kind {
  if (command === 'check') return 'observe';
  // backup-tier --list takes no lock and writes nothing.
  if (ACTING.has(command) && (lockName !== null || command === 'pause' || command === 'resume')) return 'act';
  return 'local';
}

export type Verdict =
  | { run: 'skip' }
  | { run: 'body'; push: boolean; muteAlerts: boolean }
  | { run: 'not-leader'; summary: string };

/** After the campaign: whether the body runs, whether its records are shared, whether it alerts. */
export function decideRun(kind: Kind, command: string, leader: boolean, holder: string): Verdict {
  if (kind === 'local') return { run: 'skip' };
  if (leader) return { run: 'body', push: true, muteAlerts: false };
  if (kind === 'observe') return { run: 'body', push: false, muteAlerts: true };
  return { run: 'not-leader', summary: `${command}: nothing done: witness ${holder} leads (it acts)` };
}

export interface Change {
  name: string;
  text: string;
  rev: string;
}

/** The records whose file differs from what was pulled (a file that vanished is not shared: kept). */
export function changedRecords(
  pulled: ReadonlyMap<string, { text: string | null; rev: string }>,
  now: ReadonlyMap<string, string | null>,
): Change[] {
  const out: Change[] = [];
  for (const [name, text] of now) {
    const before = pulled.get(name);
    if (text === null || !before || before.text === text) continue;
    out.push({ name, text, rev: before.rev });
  }
  return out;
}
