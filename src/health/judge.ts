// Judging what the health read found (issue 13, items 4 and 5). Pure: readings and limits
// in, findings out. Heartbeat ages follow seed 004 (normal under 3 min, warning 3-5,
// critical beyond); resources follow seed 003 (memory 85 %, CPU 80 %, here the 5-minute
// load per core) and warn only. None of it is a reason to fail over: the gateway probe
// decides that; these are signals for the operator.
import type { HeartbeatConfig, ResourcesConfig } from '../config/types.js';
import { formatDuration } from '../config/durations.js';
import type { DiskReading, HealthReading } from './parse.js';

export type Level = 'ok' | 'warning' | 'critical';
export type HealthCheck = 'heartbeat' | 'disk' | 'memory' | 'load';
export interface HealthFinding {
  host: string;
  check: HealthCheck;
  level: Level;
  message: string;
  /** The measured value: seconds (heartbeat age), percent (disk free, memory, load per core). */
  value: number | null;
}

/** A heartbeat this far ahead of its host's own clock is a warning: the clock was stepped back. */
export const FUTURE_SLACK = 60;

const age = (s: number) => formatDuration(Math.max(1, Math.round(s)) * 1000);
const pct = (x: number) => `${Math.round(x)}%`;
const PLACE: Record<string, string> = {
  memory: 'the memory root',
  runDir: 'the run directory',
  stateDir: 'the state directory',
};

export function judgeHeartbeat(host: string, r: HealthReading, hb: HeartbeatConfig, file: string): HealthFinding {
  const f = (level: Level, message: string, value: number | null): HealthFinding => ({
    host,
    check: 'heartbeat',
    level,
    message: `${host}: ${message}`,
    value,
  });
  if (r.heartbeat === null) {
    const none = `no heartbeat file ${file}`;
    return hb.required
      ? f('critical', `${none} (heartbeat.required; is \`hactl heartbeat\` in its crontab?)`, null)
      : f('ok', `${none} (not installed there)`, null);
  }
  if (r.heartbeat === undefined || r.hostNow === undefined)
    return f('warning', `heartbeat ${file} could not be read`, null);
  const s = r.hostNow - r.heartbeat;
  if (s < -FUTURE_SLACK)
    return f('warning', `heartbeat dated ${age(-s)} ahead of the host's own clock (was its clock set back?)`, s);
  const critical = Math.max(hb.critical, hb.warning);
  const by = "by the host's own clock";
  if (s > critical) return f('critical', `heartbeat ${age(s)} old ${by} (critical beyond ${age(critical)})`, s);
  if (s >= hb.warning) return f('warning', `heartbeat ${age(s)} old ${by} (warning from ${age(hb.warning)})`, s);
  return f('ok', `heartbeat ${s <= 0 ? 'fresh' : `${age(s)} old`}`, Math.max(0, s));
}

export function judgeDisk(host: string, d: DiskReading, res: ResourcesConfig): HealthFinding {
  const free = (d.availKB / d.sizeKB) * 100;
  const mb = Math.floor(d.availKB / 1024);
  const where = PLACE[d.label] ?? d.label;
  const low = free < res.diskFreePercent;
  const message = low
    ? `${host}: disk of ${where} ${pct(100 - free)} full, ${mb} MB free (warning below ${res.diskFreePercent}% free)`
    : `${host}: disk of ${where} ${pct(free)} free`;
  return { host, check: 'disk', level: low ? 'warning' : 'ok', message, value: Math.round(free * 10) / 10 };
}

export function judgeResources(host: string, r: HealthReading, res: ResourcesConfig): HealthFinding[] {
  const out = r.disks.map((d) => judgeDisk(host, d, res));
  if (r.mem) {
    const used = ((r.mem.totalKB - r.mem.availKB) / r.mem.totalKB) * 100;
    const high = used > res.memoryPercent;
    const message = `${host}: memory ${pct(used)} in use${high ? ` (warning above ${res.memoryPercent}%)` : ''}`;
    out.push({ host, check: 'memory', level: high ? 'warning' : 'ok', message, value: Math.round(used * 10) / 10 });
  }
  if (r.load && r.ncpu) {
    const per = (r.load[1] / r.ncpu) * 100;
    const high = per > res.loadPercent;
    const what = `load ${r.load[1]} on ${r.ncpu} core${r.ncpu === 1 ? '' : 's'} (${pct(per)} per core, 5 min)`;
    const message = `${host}: ${what}${high ? ` (warning above ${res.loadPercent}%)` : ''}`;
    out.push({ host, check: 'load', level: high ? 'warning' : 'ok', message, value: Math.round(per) });
  }
  return out;
}

const RANK: Record<Level, number> = { ok: 0, warning: 1, critical: 2 };

/** The run's level from all findings: the worst; exit code 0/1/2; one summary part for the problems. */
export function summarizeHealth(findings: HealthFinding[]): { level: Level; exitCode: number; line: string | null } {
  const bad = findings.filter((f) => f.level !== 'ok');
  const level = findings.reduce<Level>((a, f) => (RANK[f.level] > RANK[a] ? f.level : a), 'ok');
  const line = bad.length ? bad.map((f) => `${f.level.toUpperCase()}: ${f.message}`).join('; ') : null;
  return { level, exitCode: RANK[level], line };
}
