// Types shared by the decision core and the commands. No I/O here.
import type { Config, Role } from '../config/types.js';

export type HostStatus = 'healthy' | 'gateway-down' | 'unreachable' | 'ssh-timeout' | 'auth-failure' | 'hostkey-failure';
export type Level = 'ok' | 'degraded' | 'critical' | 'unknown';

export interface Observation {
  status: HostStatus;
  detail: string;
  confirmed: boolean; // a failure seen twice, retryDelay apart (always true for healthy / config problems)
  transient?: boolean; // failed once, fine on the retry
  ms?: number;
}
export type Observations = Record<Role, Observation>;

export interface Streak {
  failures: number; // consecutive confirmed checks with the gateway not serving (config problems excluded)
  healthy: number; // consecutive checks with the gateway healthy
  reachable: number; // consecutive checks with the host answering SSH (gateway up or cleanly down)
}

export interface ClusterState {
  version: 1;
  serving: Role;
  servingSince: string;
  lastCheck: { at: string; hosts: Observations } | null;
  streaks: Record<Role, Streak>;
  failover: { attempts: number; lastAttemptAt: string | null; escalatedAt: string | null; lastResult: string | null };
  level: Level;
  extra?: Record<string, unknown>;
}

export function initialState(now: Date): ClusterState {
  const zero = { failures: 0, healthy: 0, reachable: 0 };
  return {
    version: 1,
    serving: 'primary',
    servingSince: now.toISOString(),
    lastCheck: null,
    streaks: { primary: { ...zero }, standby: { ...zero } },
    failover: { attempts: 0, lastAttemptAt: null, escalatedAt: null, lastResult: null },
    level: 'ok',
  };
}

export const other = (r: Role): Role => (r === 'primary' ? 'standby' : 'primary');

/** "primary" when the host is called so, else "primary pc-a". */
export const label = (c: Config, r: Role): string => (c.pair[r] === r ? r : `${r} ${c.pair[r]}`);

export function isConfigProblem(s: HostStatus): boolean {
  return s === 'auth-failure' || s === 'hostkey-failure';
}
export function isReachable(s: HostStatus): boolean {
  return s === 'healthy' || s === 'gateway-down';
}

/** A step of a plan; the command module carries each out with its adapters. */
export type Step =
  | { op: 'fence'; role: Role; why: string }
  | { op: 'sync-last-chance'; from: Role; to: Role }
  | { op: 'sync-back'; from: Role; to: Role }
  | { op: 'stop'; role: Role }
  | { op: 'settle'; seconds: number }
  | { op: 'start'; role: Role; methods: string[] }
  | { op: 'verify'; role: Role; deadline: number }
  | { op: 'record'; serving: Role }
  | { op: 'postgres'; action: 'pause' | 'sync-back' | 'resume' } // src/postgres/steps.ts
  | { op: 'alert'; text: string };

export type Decision =
  | { act: false; exitCode: number; reason: string; alert?: string; escalate?: boolean }
  | { act: true; kind: 'failover' | 'failback' | 'fence-idle'; reason: string; steps: Step[] };
