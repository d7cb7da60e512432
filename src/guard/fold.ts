// hactl guard's record, pure: what it saw, what it did and why -> the local state, the summary,
// the exit code and the alert. No I/O, no clock.
import { EXIT } from '../errors.js';
import type { GuardObservation, GuardPlan } from './plan.js';

export interface GuardRecord {
  version: 1;
  at: string;
  host: string;
  contact: GuardPlan['contact'];
  action: GuardPlan['action'];
  reason: string;
  /** Seconds past the permit's expiry by this host's clock (negative: left); null: none, or another boot's. */
  leaseAge: number | null;
  peer: string;
  peerAnswers: boolean;
  stopped: boolean | null;
  detail: string | null;
  /** When this host last fenced itself (kept across runs until it is in contact again). */
  fencedAt: string | null;
}

export interface GuardFold {
  record: GuardRecord;
  exitCode: number;
  summary: string;
  alert: string | null;
}

export function foldGuard(
  prior: GuardRecord | undefined,
  o: GuardObservation,
  plan: GuardPlan,
  stop: { ok: boolean; detail: string } | null,
  now: Date,
  prefix: string,
): GuardFold {
  const at = now.toISOString();
  const fencedAt = plan.contact !== 'nobody' ? null : stop?.ok ? at : (prior?.fencedAt ?? null);
  const record: GuardRecord = {
    version: 1,
    at,
    host: o.self,
    contact: plan.contact,
    action: plan.action,
    reason: plan.reason,
    leaseAge: Number.isFinite(o.permit.left) ? Math.round(-o.permit.left) : null,
    peer: o.peer,
    peerAnswers: o.peerAnswers,
    stopped: stop ? stop.ok : null,
    detail: stop?.detail ?? null,
    fencedAt,
  };
  if (!stop) return { record, exitCode: plan.exitCode, summary: `guard: ${plan.reason}`, alert: null };
  const summary = stop.ok
    ? `guard: FENCED: ${plan.reason}; ${stop.detail}`
    : `guard: CRITICAL: could not stop the gateway: ${plan.reason}; ${stop.detail}`;
  const alert = stop.ok
    ? `${prefix} 🛑 ${o.self} holds no live serving permit: its guard stopped its gateway (${stop.detail})`
    : `${prefix} 🚨 ${o.self} holds no live serving permit and its guard could NOT stop its gateway: ${stop.detail}`;
  return { record, exitCode: EXIT.CRITICAL, summary, alert };
}
