// When each cron job runs: one schedule, rendered both as crontab fields and as
// systemd OnCalendar expressions, so the two installs cannot drift apart.
// Pure: no node: module, no adapter.
//
// The cluster chain's check watches (check --watch): it probes every thresholds.watchInterval
// inside its 2-minute window and hands a confirmed failure to failover --auto at once.
// Staggering: the cluster chain (check; failover --auto; failback --auto) owns the
// even minutes; sync-memory starts on an odd minute; each backup tier on its own
// odd minute, spread over the hour, so tiers never start together and a backup's
// SSH handshakes do not land on the same second as check's.

export interface ScheduleInput {
  /** watchEvery: memory.watchEvery in seconds (0 or absent: no --watch). */
  memory: { enabled: boolean; intervalMinutes: number; watchEvery?: number };
  tiers: Array<{ name: string; intervalMinutes: number }>;
  /**
   * Seconds each job may run, from the config's own deadlines (systemd's TimeoutStartSec):
   * the cluster chain its lock lease; sync-memory four rsync runs (a dry run and a real one,
   * each way) of memory.deadline; a backup tier backup.deadline; each plus MARGIN for the SSH
   * steps around them. Absent: the job has none of its own (the caller's lease applies).
   */
  deadlines?: { lockLease: number; memory: number; backup: number };
}

/** Seconds added to a job's rsync deadlines for its SSH commands (counts, commit, prune). */
export const MARGIN = 300;

/** minute = start, start+step, ... < 60 (step null: once an hour); hour likewise (both null: every hour). */
export interface When {
  minuteStart: number;
  minuteStep: number | null;
  hourStart: number | null;
  hourStep: number | null;
  /** Set when cron cannot express the interval exactly: what it does instead. */
  note?: string;
}

export interface Job {
  id: string; // unit name part and log name: cluster, sync-memory, backup-NAME
  what: string; // one line for the comment above the crontab line
  when: When;
  /** Each is an argv for hactl, run in order; a failing one does not stop the next. */
  runs: string[][];
  log: string; // file name in the log directory
  /** Seconds the whole job may run (ScheduleInput.deadlines); absent: the caller's lease. */
  timeoutSec?: number;
}

const DIVISORS_60 = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];
const DIVISORS_24 = [1, 2, 3, 4, 6, 8, 12, 24];
const below = (list: number[], n: number): number => [...list].reverse().find((d) => d <= n) ?? 1;

/** Pure: an interval in minutes and a minute offset -> when cron runs it. */
export function whenEvery(intervalMinutes: number, offset: number): When {
  const m = Math.max(1, Math.round(intervalMinutes));
  if (m < 60) {
    const step = below(DIVISORS_60, m);
    const note =
      step === intervalMinutes
        ? undefined
        : `cron cannot run every ${intervalMinutes} min evenly across the hour; this runs every ${step} min`;
    return { minuteStart: offset % step, minuteStep: step, hourStart: null, hourStep: null, note };
  }
  const minute = offset % 60;
  const h = Math.round(m / 60);
  if (h < 24) {
    const step = below(DIVISORS_24, h);
    const note =
      step * 60 === intervalMinutes
        ? undefined
        : `cron cannot run every ${intervalMinutes} min evenly across the day; this runs every ${step} h`;
    return {
      minuteStart: minute,
      minuteStep: null,
      hourStart: step === 1 ? null : 0,
      hourStep: step === 1 ? null : step,
      note,
    };
  }
  const note = m === 1440 ? undefined : `cron cannot run every ${intervalMinutes} min; this runs once a day`;
  return { minuteStart: minute, minuteStep: null, hourStart: 3, hourStep: null, note };
}

/** Odd minute offsets for N tiers, spread over the hour: 3, 33 for two; 3, 23, 43 for three. */
export function tierOffsets(n: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    const o = 3 + Math.floor((i * 60) / Math.max(1, n));
    return o % 2 === 1 ? o : o + 1;
  });
}

/** Pure: what runs when, from the config's intervals. */
export function planJobs(input: ScheduleInput): Job[] {
  const d = input.deadlines;
  const jobs: Job[] = [
    {
      id: 'cluster',
      what: 'observe, then act only on what was confirmed (each runs even when the one before exits non-zero)',
      when: { minuteStart: 0, minuteStep: 2, hourStart: null, hourStep: null },
      runs: [
        ['check', '--watch'],
        ['failover', '--auto'],
        ['failback', '--auto'],
      ],
      log: 'cluster.log',
      ...(d && { timeoutSec: d.lockLease }),
    },
  ];
  if (input.memory.enabled) {
    const when = whenEvery(input.memory.intervalMinutes, 1);
    const watch = watchesMemory(when, input.memory.watchEvery);
    jobs.push({
      id: 'sync-memory',
      what:
        `the agents' memory to the host that does not serve (memory.interval: ${input.memory.intervalMinutes} min` +
        `${watch ? `; --watch: a change scan every ${input.memory.watchEvery} s, a copy on change` : ''})`,
      when,
      runs: [watch ? ['sync-memory', '--watch'] : ['sync-memory']],
      log: 'sync-memory.log',
      ...(d && { timeoutSec: Math.ceil(4 * d.memory + MARGIN) }),
    });
  }
  const offsets = tierOffsets(input.tiers.length);
  input.tiers.forEach((t, i) => {
    jobs.push({
      id: `backup-${t.name}`,
      what: `backup tier ${t.name} (interval: ${t.intervalMinutes} min)`,
      when: whenEvery(t.intervalMinutes, offsets[i]!),
      runs: [['backup-tier', t.name]],
      log: 'backup.log',
      ...(d && { timeoutSec: Math.ceil(d.backup + MARGIN) }),
    });
  });
  return jobs;
}

/**
 * Whether the sync-memory line watches (issue 25, RPO <= 20 s with the primary's host dead): when cron
 * starts it every minute (memory.interval 1 min, the default) and memory.watchEvery is shorter than
 * that minute. A longer interval is the operator's choice of a looser RPO and less traffic: it stays
 * one sync per run. The run ends inside its minute (its window is the minute minus watchEvery).
 */
export function watchesMemory(when: When, watchEvery: number | undefined): boolean {
  return when.minuteStep === 1 && watchEvery !== undefined && watchEvery > 0 && watchEvery < 60;
}

/** Crontab's five time fields. */
export function cronFields(w: When): string {
  const minute =
    w.minuteStep === null
      ? String(w.minuteStart)
      : w.minuteStep === 1
        ? '*'
        : w.minuteStart === 0
          ? `*/${w.minuteStep}`
          : `${w.minuteStart}-59/${w.minuteStep}`;
  const hour =
    w.hourStep !== null
      ? w.hourStart
        ? `${w.hourStart}-23/${w.hourStep}`
        : `*/${w.hourStep}`
      : w.hourStart === null
        ? '*'
        : String(w.hourStart);
  return `${minute} ${hour} * * *`;
}

/** The same times as a systemd OnCalendar expression. */
export function onCalendar(w: When): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const minute = w.minuteStep === null ? two(w.minuteStart) : `${two(w.minuteStart)}/${w.minuteStep}`;
  const hour =
    w.hourStep !== null ? `${two(w.hourStart ?? 0)}/${w.hourStep}` : w.hourStart === null ? '*' : two(w.hourStart);
  return `*-*-* ${hour}:${minute}:00`;
}
