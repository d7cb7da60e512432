// hactl status, pure: what the state files say (read by status-observe.ts, no SSH) ->
// one verdict with its findings -> the lines a person reads. No node: module, no adapter.
//
// Exit code: 2 when the last check saw nothing serving; else 3 when nothing can be judged (no
// check yet, state unreadable, a host hactl cannot log in to); else 1 for any warning (a stale
// witness, degraded, paused, alerts not delivered, memory sync or a backup tier overdue, a
// state rebuilt and not yet confirmed); else 0.
import type { Config, Role } from '../config/types.js';
import type { ClusterState, HostStatus } from '../core/model.js';
import type { PauseRecord } from './pause.js';
import { humanDuration, pauseVerdict } from './pause.js';
import type { HistoryStats } from './history-stats.js';
import { meanRecoverySeconds } from './history-stats.js';
import type { MemoryRecord } from '../memory/fold.js';
import { memoryStaleness } from '../memory/plan.js';
import type { TierRecord } from '../backup/types.js';
import { overdue } from '../backup/plan.js';

/** A witness is stale when its newest check is older than this many check intervals. */
export const STALE_CHECKS = 3;

export interface LockView {
  name: string;
  pid: number;
  host: string;
  command: string;
  since: string;
  stale: boolean;
}
export interface PendingView {
  at: string;
  tries: number;
  lastError?: string;
  /** Its id (for hactl alert --retry/--drop), what it is, and the channels that have it. */
  id?: string;
  kind?: string;
  severity?: string;
  message?: string;
  done?: string[];
}
type Read<T> = { ok: T } | { error: string };

export interface StatusInput {
  now: Date;
  state: Read<ClusterState | undefined>;
  pause: Read<PauseRecord | undefined>;
  outbox: Read<PendingView[]>;
  locks: LockView[];
  memory: Read<MemoryRecord | undefined>;
  backup: Read<Record<string, TierRecord>>;
  history: Read<HistoryStats>;
}

export type Severity = 'critical' | 'unknown' | 'warning';
export interface Finding {
  severity: Severity;
  text: string;
}

export interface HostView {
  role: Role;
  host: string;
  status: HostStatus | null;
  detail: string | null;
  transient: boolean;
  ageSeconds: number | null;
  failures: number;
  healthy: number;
  reachable: number;
  /**
   * The host that does not serve, answering SSH with its gateway cleanly stopped: what it should
   * be. Shown as "idle, ready", not as a failure (its failure count only says how long it idled).
   */
  idle: boolean;
}

export interface Status {
  exitCode: number;
  line: string;
  findings: Finding[];
  serving: Role | null;
  servingSince: string | null;
  level: string | null;
  witness: { lastCheckAt: string | null; ageSeconds: number | null; staleAfterSeconds: number; stale: boolean };
  hosts: HostView[];
  lastFailover: HistoryStats['lastFailover'];
  lastFailback: HistoryStats['lastFailback'];
  failoverAttempts: number;
  memory: { lastGoodAt: string | null; lastRunAt: string; lastResult: string } | null;
  backup: Array<{ tier: string; snapshot: string | null; lastOkAt: string | null; lastResult: string }>;
  pendingAlerts: PendingView[];
  locks: LockView[];
  pause: { paused: boolean; until: string | null; line: string };
  history: {
    failovers: number;
    failbacks: number;
    meanRecoverySeconds: number | null;
    falseAlarms: number;
  } | null;
}

const CODE: Record<Severity, number> = { critical: 2, unknown: 3, warning: 1 };
const ago = (now: Date, iso: string | null | undefined): number | null =>
  iso ? Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000)) : null;

/** The one verdict. */
export function summarize(config: Config, i: StatusInput): Status {
  const f: Finding[] = [];
  const add = (severity: Severity, text: string) => f.push({ severity, text });
  const now = i.now;
  const state = 'ok' in i.state ? i.state.ok : undefined;
  if ('error' in i.state) add('unknown', `state unreadable: ${i.state.error}`);
  else if (!state?.lastCheck) add('unknown', 'no check has run yet (is cron running hactl check?)');

  const staleAfter = STALE_CHECKS * config.status.checkEvery;
  const lastCheckAt = state?.lastCheck?.at ?? null;
  const age = ago(now, lastCheckAt);
  const stale = age !== null && age > staleAfter;
  if (stale)
    add(
      'warning',
      `stale witness: the last check ran ${humanDuration(age)} ago (cron runs it every ` +
        `${humanDuration(config.status.checkEvery)}; is cron still running hactl?)`,
    );
  if (state?.lastCheck) {
    if (state.level === 'critical') add('critical', 'nothing serving at the last check');
    else if (state.level === 'unknown') add('unknown', 'the last check could not judge a host');
    else if (state.level === 'degraded') add('warning', 'degraded at the last check');
  }
  if (state?.rebuiltAt) add('warning', `state rebuilt at ${state.rebuiltAt} from a corrupt file`);

  const pauseRec = 'ok' in i.pause ? i.pause.ok : undefined;
  if ('error' in i.pause) add('warning', `pause.json unreadable: ${i.pause.error}`);
  const pv = pauseVerdict(pauseRec, now);
  if (pv.paused) add('warning', pv.line);

  const pending = 'ok' in i.outbox ? i.outbox.ok : [];
  if ('error' in i.outbox) add('warning', `outbox unreadable: ${i.outbox.error}`);
  else if (pending.length) add('warning', `${pending.length} alert(s) not delivered yet`);
  for (const l of i.locks) if (l.stale) add('warning', `lock ${l.name} left by a dead run (pid ${l.pid} on ${l.host})`);

  const mem = 'ok' in i.memory ? i.memory.ok : undefined;
  if ('error' in i.memory) add('warning', `memory record unreadable: ${i.memory.error}`);
  const memWarn = config.memory.enabled ? memoryStaleness(mem, config.memory.interval, now) : null;
  if (memWarn) add('warning', memWarn);
  const tiers = 'ok' in i.backup ? i.backup.ok : {};
  if ('error' in i.backup) add('warning', `backup record unreadable: ${i.backup.error}`);
  for (const w of overdue(config.backup.tiers, tiers, now)) add('warning', w);
  const stats = 'ok' in i.history ? i.history.ok : null;
  if ('error' in i.history) add('warning', `history unreadable: ${i.history.error}`);

  const hosts: HostView[] = (['primary', 'standby'] as const).map((role) => {
    const o = state?.lastCheck?.hosts[role];
    const s = state?.streaks[role];
    return {
      role,
      host: config.pair[role],
      status: o?.status ?? null,
      detail: o?.detail ?? null,
      transient: !!o?.transient,
      ageSeconds: age,
      failures: s?.failures ?? 0,
      healthy: s?.healthy ?? 0,
      reachable: s?.reachable ?? 0,
      idle: !!state && state.serving !== role && o?.status === 'gateway-down',
    };
  });
  const worst = (['critical', 'unknown', 'warning'] as const).find((s) => f.some((x) => x.severity === s));
  const exitCode = worst ? CODE[worst] : 0;
  const word = worst ? worst.toUpperCase() : 'OK';
  const serving = state ? `${state.serving} ${config.pair[state.serving]} serves` : 'serving side unknown';
  const checked = age === null ? 'never checked' : `last check ${humanDuration(age)} ago`;
  const line = `${word}: ${serving}, ${checked}${f.length ? `; ${f.map((x) => x.text).join('; ')}` : ''}`;
  return {
    exitCode,
    line,
    findings: f,
    serving: state?.serving ?? null,
    servingSince: state?.servingSince ?? null,
    level: state?.lastCheck ? state.level : null,
    witness: { lastCheckAt, ageSeconds: age, staleAfterSeconds: staleAfter, stale },
    hosts,
    lastFailover: stats?.lastFailover ?? null,
    lastFailback: stats?.lastFailback ?? null,
    failoverAttempts: state?.failover.attempts ?? 0,
    memory: mem ? { lastGoodAt: mem.lastGoodAt, lastRunAt: mem.lastRunAt, lastResult: mem.lastResult } : null,
    backup: config.backup.tiers.map((t) => ({
      tier: t.name,
      snapshot: tiers[t.name]?.snapshot ?? null,
      lastOkAt: tiers[t.name]?.lastOkAt ?? null,
      lastResult: tiers[t.name]?.lastResult ?? 'never run',
    })),
    pendingAlerts: pending,
    locks: i.locks,
    pause: { paused: pv.paused, until: pv.paused ? (pauseRec?.until ?? null) : null, line: pv.line },
    history: stats && {
      failovers: stats.failovers.ok + stats.failovers.failed,
      failbacks: stats.failbacks.ok + stats.failbacks.failed,
      meanRecoverySeconds: meanRecoverySeconds(stats),
      falseAlarms: stats.falseAlarms,
    },
  };
}

const when = (now: Date, iso: string | null | undefined): string =>
  iso ? `${iso} (${humanDuration(ago(now, iso)!)} ago)` : 'never';

/** The lines a person reads in a terminal. */
export function render(s: Status, now: Date): string[] {
  const out = [`status: ${s.line.split('; ')[0]}`];
  const row = (k: string, v: string) => out.push(`  ${k.padEnd(10)} ${v}`);
  row('serving', s.serving ? `${s.serving} since ${s.servingSince}` : 'unknown (no state yet)');
  const w = s.witness;
  const staleNote = w.stale ? `: STALE (more than ${humanDuration(w.staleAfterSeconds)})` : '';
  row('witness', `last check ${when(now, w.lastCheckAt)}${staleNote}`);
  for (const h of s.hosts) {
    if (h.idle) {
      row(h.role, `${h.host.padEnd(12)} ${'idle, ready'.padEnd(15)} reachable for ${h.reachable} check(s)`);
      continue;
    }
    const st = h.status ? `${h.status}${h.transient ? ' (transient)' : ''}` : 'not observed';
    const counts = `failures ${h.failures}, healthy ${h.healthy}, reachable ${h.reachable}`;
    row(h.role, `${h.host.padEnd(12)} ${st.padEnd(15)} ${counts}${h.detail ? `: ${h.detail}` : ''}`);
  }
  const mv = (m: Status['lastFailover']) =>
    m ? `${when(now, m.at)} ${m.ok ? 'ok' : 'FAILED'}: ${m.summary}` : 'never';
  row('failover', `${mv(s.lastFailover)}${s.failoverAttempts ? ` (${s.failoverAttempts} failed attempts)` : ''}`);
  row('failback', mv(s.lastFailback));
  row(
    'memory',
    s.memory ? `last good sync ${when(now, s.memory.lastGoodAt)}, last run ${s.memory.lastResult}` : 'no sync yet',
  );
  for (const b of s.backup)
    row(
      'backup',
      b.snapshot
        ? `${b.tier}: last snapshot ${b.snapshot}, good ${when(now, b.lastOkAt)}, last run ${b.lastResult}`
        : `${b.tier}: no snapshot yet, last run ${b.lastResult}`,
    );
  const p = s.pendingAlerts;
  row(
    'alerts',
    p.length
      ? `${p.length} pending, oldest ${p[0]!.at}${p[0]!.lastError ? `: ${p[0]!.lastError}` : ''}`
      : 'none pending',
  );
  // Each pending alert, so it can be retried or dropped (hactl alert --retry|--drop ID).
  for (const a of p.slice(0, 10))
    row(
      '',
      `  ${a.id ?? '?'} ${a.at} ${a.kind ?? 'alert'}${a.severity ? ` (${a.severity})` : ''}: ` +
        (a.message ?? '').slice(0, 80) +
        (a.tries ? `; ${a.tries} tries${a.lastError ? `, ${a.lastError.slice(0, 120)}` : ''}` : ''),
    );
  if (p.length > 10) row('', `  and ${p.length - 10} more (hactl alert lists them all)`);
  for (const l of s.locks)
    row(
      'lock',
      `${l.name} held by pid ${l.pid} on ${l.host} (${l.command}, since ${l.since})${l.stale ? ' STALE' : ''}`,
    );
  if (!s.locks.length) row('lock', 'free');
  row('pause', s.pause.line);
  const h = s.history;
  if (h) {
    const mttr = h.meanRecoverySeconds === null ? 'n/a' : `${h.meanRecoverySeconds} s`;
    row(
      'history',
      `${h.failovers} failovers, ${h.failbacks} failbacks, MTTR ${mttr}, ${h.falseAlarms} false alarms avoided`,
    );
  }
  for (const x of s.findings) out.push(`  ${x.severity.toUpperCase()}: ${x.text}`);
  return out;
}
