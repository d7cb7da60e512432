// Prometheus metrics for node_exporter's textfile collector: what hactl last
// saw, as gauges, and what it did over all time, as counters (from the history
// stats, which rotation keeps exact). Pure: (config, state, memory record,
// backup record, history stats, pause, outbox, now) -> text. The writer is
// metrics-file.ts.
//
// Times are Unix timestamps (`..._timestamp_seconds`), never ages: an age is
// `time() - x` in PromQL, exact at query time; an age written here would be
// stale by the scrape. hactl_metrics_written_timestamp_seconds tells a witness
// that stopped running.
import type { Config, Role } from '../config/types.js';
import type { ClusterState, HostStatus, Level } from '../core/model.js';
import type { MemoryRecord } from '../memory/fold.js';
import type { TierRecord } from '../backup/record.js';
import type { HistoryStats } from './history-stats.js';

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
}
interface Family {
  name: string;
  help: string;
  type?: 'gauge' | 'counter';
  samples: Sample[];
}

const STATUSES: HostStatus[] = [
  'healthy',
  'gateway-down',
  'unreachable',
  'ssh-timeout',
  'auth-failure',
  'hostkey-failure',
];
const LEVELS: Level[] = ['ok', 'degraded', 'critical', 'unknown'];
const MEMORY_RESULTS = ['ok', 'invalid', 'refused', 'failed', 'skipped'] as const;
const TIER_RESULTS = ['ok', 'warning', 'refused', 'failed'] as const;
const ROLES: Role[] = ['primary', 'standby'];

/** Label values: backslash, double quote and line feed are escaped (text format 0.0.4). */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed are escaped. */
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function renderFamilies(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (!f.samples.length) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type ?? 'gauge'}`);
    for (const s of f.samples) {
      const l = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      out.push(`${f.name}${l ? `{${l}}` : ''} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}

const secs = (iso: string | null | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = new Date(iso).getTime();
  return Number.isNaN(t) ? undefined : t / 1000;
};

/** Alerts: pending now, and per channel and result the all-time counts the outbox keeps. */
export interface AlertCounts {
  pending: number;
  byChannel: Array<{ channel: string; result: string; n: number }>;
}

export interface MetricsInput {
  config: Pick<Config, 'pair' | 'backup'>;
  state?: ClusterState;
  memory?: MemoryRecord;
  backup?: Record<string, TierRecord>;
  /** All-time history stats (src/state/history.ts allTimeStats). */
  stats?: HistoryStats;
  /** Automatic failover and failback paused (hactl pause) at write time. */
  paused?: boolean;
  alerts?: AlertCounts;
  now: Date;
}

/** Pure: the textfile for node_exporter. */
export function renderMetrics(input: MetricsInput): string {
  const { config, state, memory, backup, stats, now } = input;
  const nowS = now.getTime() / 1000;
  const fam = (name: string, help: string, type: Family['type'] = 'gauge'): Family => ({
    name: `hactl_${name}`,
    help,
    type,
    samples: [],
  });
  const add = (f: Family, labels: Labels, v: number | undefined) => {
    if (v !== undefined) f.samples.push({ labels, value: v });
  };

  const written = fam(
    'metrics_written_timestamp_seconds',
    'When hactl wrote this file (Unix time); a stale value means cron stopped running hactl.',
  );
  add(written, {}, Math.round(nowS));
  const families: Family[] = [written];
  if (state) {
    const host = (r: Role) => ({ role: r, host: config.pair[r] });
    const serving = fam('serving', '1 for the role whose gateway hactl records as serving.');
    for (const r of ROLES) add(serving, host(r), state.serving === r ? 1 : 0);
    const since = fam('serving_since_timestamp_seconds', 'When the serving role last changed (Unix time).');
    add(since, {}, secs(state.servingSince));
    const level = fam('level', '1 for the cluster level of the last check (ok, degraded, critical, unknown).');
    for (const l of LEVELS) add(level, { level: l }, state.level === l ? 1 : 0);
    const status = fam('host_status', "1 for each host's status at the last check.");
    const healthy = fam(
      'host_healthy',
      '1 when the host answered SSH and its gateway passed the probe at the last check.',
    );
    const obsAt = fam('host_observation_timestamp_seconds', 'When the host was last observed (Unix time).');
    const checkAt = secs(state.lastCheck?.at);
    for (const r of ROLES) {
      const o = state.lastCheck?.hosts[r];
      if (!o) continue;
      for (const s of STATUSES) add(status, { ...host(r), status: s }, o.status === s ? 1 : 0);
      add(healthy, host(r), o.status === 'healthy' ? 1 : 0);
      add(obsAt, host(r), checkAt);
    }
    const streaks = [
      fam('host_consecutive_failures', 'Consecutive confirmed checks with the gateway not serving.'),
      fam('host_consecutive_healthy', 'Consecutive checks with the gateway healthy.'),
      fam('host_consecutive_reachable', 'Consecutive checks with the host answering SSH.'),
    ] as const;
    for (const r of ROLES) {
      add(streaks[0], host(r), state.streaks[r].failures);
      add(streaks[1], host(r), state.streaks[r].healthy);
      add(streaks[2], host(r), state.streaks[r].reachable);
    }
    const attempts = fam('failover_attempts', 'Automatic failover attempts since the last success.');
    add(attempts, {}, state.failover.attempts);
    const escalated = fam(
      'failover_escalated',
      '1 when automatic failover gave up after maxAttempts and waits for a person.',
    );
    add(escalated, {}, state.failover.escalatedAt ? 1 : 0);
    const lastAttempt = fam('failover_last_attempt_timestamp_seconds', 'When failover was last attempted (Unix time).');
    add(lastAttempt, {}, secs(state.failover.lastAttemptAt));
    families.push(serving, since, level, status, healthy, obsAt, ...streaks, attempts, escalated, lastAttempt);
  }
  if (memory) {
    const good = secs(memory.lastGoodAt);
    const at = fam('memory_sync_last_good_timestamp_seconds', 'When the memory sync last succeeded (Unix time).');
    add(at, {}, good);
    const result = fam('memory_sync_last_result', '1 for the result of the last memory sync run.');
    for (const r of MEMORY_RESULTS) add(result, { result: r }, memory.lastResult === r ? 1 : 0);
    const files = fam('memory_sync_files', 'Memory files in the validated copy.');
    add(files, {}, memory.files);
    families.push(at, result, files);
  }
  if (backup) {
    const at = fam('backup_last_snapshot_timestamp_seconds', 'When the tier last made a good snapshot (Unix time).');
    const result = fam('backup_last_result', "1 for the result of the tier's last run.");
    const bytes = fam('backup_snapshot_bytes', "Bytes in the tier's last snapshot.");
    const files = fam('backup_snapshot_files', "Files in the tier's last snapshot.");
    for (const t of config.backup.tiers) {
      const rec = backup[t.name];
      if (!rec) continue;
      const tier = { tier: t.name };
      add(at, tier, secs(rec.lastOkAt));
      for (const r of TIER_RESULTS) add(result, { ...tier, result: r }, rec.lastResult === r ? 1 : 0);
      add(bytes, tier, rec.bytes);
      add(files, tier, rec.files);
    }
    families.push(at, result, bytes, files);
  }
  if (stats) {
    const moves = [
      fam('failovers_total', 'Failovers (and returns to the primary) that acted, by result, over all time.', 'counter'),
      fam('failbacks_total', 'Failbacks that acted, by result, over all time.', 'counter'),
    ] as const;
    for (const [f, c] of [
      [moves[0], stats.failovers],
      [moves[1], stats.failbacks],
    ] as const) {
      add(f, { result: 'ok' }, c.ok);
      add(f, { result: 'failed' }, c.failed);
    }
    const rto = fam(
      'last_recovery_seconds',
      'The last recovery time (RTO): first confirmed failure to verified start of the other gateway.',
    );
    add(rto, {}, typeof stats.lastRecoveryMs === 'number' ? Math.round(stats.lastRecoveryMs) / 1000 : undefined);
    const exit = fam('last_exit_code', "Each command's last exit code (0 ok, 1 warning, 2 critical, 3 unknown...).");
    for (const [command, code] of Object.entries(stats.lastExit ?? {}).sort()) add(exit, { command }, code);
    families.push(...moves, rto, exit);
  }
  if (input.paused !== undefined) {
    const paused = fam('paused', '1 while automatic failover and failback are paused (hactl pause).');
    add(paused, {}, input.paused ? 1 : 0);
    families.push(paused);
  }
  if (input.alerts) {
    const pending = fam('alerts_pending', 'Alerts in the outbox not yet delivered to every channel.');
    add(pending, {}, input.alerts.pending);
    const total = fam(
      'alerts_total',
      'Alert deliveries recorded per channel and result (delivered; failed: a try that will be retried; ' +
        'gave_up: refused for good), since the outbox began.',
      'counter',
    );
    for (const c of input.alerts.byChannel) add(total, { channel: c.channel, result: c.result }, c.n);
    families.push(pending, total);
  }
  return renderFamilies(families);
}
