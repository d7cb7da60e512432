// History stats, pure: a fold over history lines (one JSON object per run, as
// src/context.ts writes them). The accumulator is what rotation keeps in
// history-stats.json (src/state/history.ts): folding the dropped lines into it and
// the kept ones on top gives the same numbers as folding everything, because the
// only state carried between lines (an incident still open) is in the accumulator.
// No node: module, no adapter.

export interface Count {
  ok: number;
  failed: number;
}
export interface MethodCount {
  tried: number;
  ok: number;
  /** Runs where the host did not have the method (no systemd unit, no CLI): not tried, not a 0%. */
  absent?: number;
}
export interface LastMove {
  at: string;
  ok: boolean;
  kind: string;
  summary: string;
}

export interface HistoryStats {
  entries: number;
  first: string | null;
  last: string | null;
  checks: number;
  failovers: Count; // kind failover or return: service moved to recover it
  failbacks: Count;
  recoveries: number; // incidents closed by a verified start
  recoveryMsTotal: number;
  /** A check that saw a failure once and not on the retry: a failover that did not happen. */
  falseAlarms: number;
  /** Start methods by host, then by method name. */
  methods: Record<string, Record<string, MethodCount>>;
  lastFailover: LastMove | null;
  lastFailback: LastMove | null;
  /** Carried across lines (and across a rotation): the first confirmed failure of an incident still open. */
  openFailureAt: string | null;
  /** The last recovery's time (first confirmed failure to verified start), ms; absent in older files. */
  lastRecoveryMs?: number | null;
  /** Each command's last exit code (metrics: hactl_last_exit_code); absent in older files. */
  lastExit?: Record<string, number>;
}

export type Pair = { primary: string; standby: string };
/** A history line as written by any hactl version: every field is checked where it is read. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Entry = Record<string, any>;

export function emptyStats(): HistoryStats {
  return {
    entries: 0,
    first: null,
    last: null,
    checks: 0,
    failovers: { ok: 0, failed: 0 },
    failbacks: { ok: 0, failed: 0 },
    recoveries: 0,
    recoveryMsTotal: 0,
    falseAlarms: 0,
    methods: {},
    lastFailover: null,
    lastFailback: null,
    openFailureAt: null,
    lastRecoveryMs: null,
    lastExit: {},
  };
}

export const KINDS = ['check', 'failover', 'failback', 'sync', 'backup', 'pause', 'restore', 'other'] as const;
export type Kind = (typeof KINDS)[number];

/** The kind an operator asks for with --kind. A failover run that did not act is a failover line too. */
export function kindOf(e: Entry): Kind {
  switch (e.command) {
    case 'check':
      return 'check';
    case 'failover':
      return 'failover';
    case 'failback':
      return 'failback';
    case 'sync-memory':
      return 'sync';
    case 'backup-tier':
      return 'backup';
    case 'pause':
    case 'resume':
      return 'pause';
    case 'restore':
      return 'restore';
    default:
      return 'other';
  }
}

const ms = (iso: unknown): number => (typeof iso === 'string' ? Date.parse(iso) : NaN);

function countMethods(methods: HistoryStats['methods'], e: Entry, pair: Pair): HistoryStats['methods'] {
  const outcomes = [...(Array.isArray(e.steps) ? e.steps : []), ...(Array.isArray(e.rollback) ? e.rollback : [])];
  let out = methods;
  for (const o of outcomes) {
    if (o?.op !== 'start' || !Array.isArray(o.methods)) continue;
    const host = o.role === 'primary' || o.role === 'standby' ? pair[o.role as 'primary' | 'standby'] : undefined;
    if (!host) continue;
    for (const m of o.methods) {
      if (typeof m?.name !== 'string') continue;
      if (out === methods) out = { ...methods };
      const prev = out[host]?.[m.name] ?? { tried: 0, ok: 0 };
      // A method the host does not have (no systemd unit, no CLI) was not tried: counted apart,
      // so history does not show it as 0/1 (0%) and learned order still puts it last.
      const next: MethodCount =
        m.absent === true
          ? { ...prev, absent: (prev.absent ?? 0) + 1 }
          : { ...prev, tried: prev.tried + 1, ok: prev.ok + (m.ok ? 1 : 0) };
      out[host] = { ...out[host], [m.name]: next };
    }
  }
  return out;
}

/** Folds one history line into the stats. Lines that are not objects with a time are skipped. */
export function foldEntry(s: HistoryStats, e: Entry, pair: Pair): HistoryStats {
  if (!e || typeof e !== 'object' || Number.isNaN(ms(e.at))) return s;
  const n: HistoryStats = { ...s, entries: s.entries + 1, first: s.first ?? e.at, last: e.at };
  const kind = kindOf(e);
  if (typeof e.command === 'string' && Number.isInteger(e.exitCode) && e.command.length <= 32)
    n.lastExit = { ...s.lastExit, [e.command]: e.exitCode };
  if (kind === 'check' && e.hosts && typeof e.hosts === 'object') {
    n.checks++;
    for (const o of Object.values(e.hosts) as Entry[]) if (o?.transient) n.falseAlarms++;
    const serving = e.serving === 'standby' ? 'standby' : 'primary';
    const obs = e.hosts[serving];
    if (obs?.status === 'healthy') n.openFailureAt = null;
    else if (obs?.confirmed && obs.status !== 'auth-failure' && obs.status !== 'hostkey-failure')
      n.openFailureAt ??= e.at;
  }
  if ((kind === 'failover' || kind === 'failback') && e.acted === true) {
    const move =
      e.kind === 'failback' ? 'failbacks' : e.kind === 'failover' || e.kind === 'return' ? 'failovers' : null;
    if (move) {
      n[move] = { ok: n[move].ok + (e.ok ? 1 : 0), failed: n[move].failed + (e.ok ? 0 : 1) };
      const last: LastMove = { at: e.at, ok: !!e.ok, kind: e.kind, summary: String(e.summary ?? '') };
      if (move === 'failovers') n.lastFailover = last;
      else n.lastFailback = last;
    }
    if (move === 'failovers' && e.ok && n.openFailureAt) {
      const verified = ms(e.at) + (typeof e.ms === 'number' ? e.ms : 0);
      const took = verified - ms(n.openFailureAt);
      if (took >= 0) {
        n.recoveries++;
        n.recoveryMsTotal += took;
        n.lastRecoveryMs = took;
      }
      n.openFailureAt = null;
    }
    n.methods = countMethods(n.methods, e, pair);
  }
  return n;
}

export function foldEntries(s: HistoryStats, entries: Entry[], pair: Pair): HistoryStats {
  return entries.reduce<HistoryStats>((acc, e) => foldEntry(acc, e, pair), s);
}

/** Mean time to recover in seconds, or null when nothing recovered yet. */
export const meanRecoverySeconds = (s: HistoryStats): number | null =>
  s.recoveries ? Math.round(s.recoveryMsTotal / s.recoveries / 100) / 10 : null;

/** Success rate per start method, all hosts together and per host. */
export function methodRates(
  s: HistoryStats,
): Array<{ host: string; method: string; tried: number; ok: number; absent: number }> {
  const rows: Array<{ host: string; method: string; tried: number; ok: number; absent: number }> = [];
  for (const [host, ms] of Object.entries(s.methods))
    for (const [method, c] of Object.entries(ms))
      rows.push({ host, method, tried: c.tried, ok: c.ok, absent: c.absent ?? 0 });
  const rate = (r: { tried: number; ok: number }) => (r.tried ? r.ok / r.tried : -1);
  return rows.sort((a, b) => a.host.localeCompare(b.host) || rate(b) - rate(a));
}

/** An entry filter: --since (an instant) and --kind (a set). */
export function selectEntries(entries: Entry[], since: Date | null, kinds: Kind[] | null): Entry[] {
  const t = since?.getTime() ?? -Infinity;
  return entries.filter((e) => ms(e.at) >= t && (!kinds || kinds.includes(kindOf(e))));
}
