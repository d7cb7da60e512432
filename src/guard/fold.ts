// hactl guard's record, pure: what it saw, what it did and why -> the local state, the summary,
// the exit code and the alert. No I/O, no clock.
import { EXIT } from '../errors.js';
import type { GuardObservation, GuardPlan } from './plan.js';
import { event, resolveEvent, type HactlEvent } from '../alerts/events.js';

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
  /** What to say: a fence (a notice), a failed stop (critical, an incident), or that failure's end. */
  alert: HactlEvent | null;
}

export function foldGuard(
  prior: GuardRecord | undefined,
  o: GuardObservation,
  plan: GuardPlan,
  stop: { ok: boolean; detail: string } | null,
  now: Date,
  _prefix: string,
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
  const key = `guard-stop:${o.self}`;
  // A stop that failed before and is not needed now (or worked): its incident ends.
  const over =
    prior?.stopped === false && !(stop && !stop.ok)
      ? resolveEvent(key, `${o.self}'s guard no longer fails to stop its gateway: ${plan.reason}`, now, [o.self])
      : null;
  if (!stop) return { record, exitCode: plan.exitCode, summary: `guard: ${plan.reason}`, alert: over };
  const summary = stop.ok
    ? `guard: FENCED: ${plan.reason}; ${stop.detail}`
    : `guard: CRITICAL: could not stop the gateway: ${plan.reason}; ${stop.detail}`;
  const facts = { reason: plan.reason, detail: stop.detail, peer: o.peer };
  // A live permit here is one within the guard's fence lead: stopped before its end, as it must.
  const lost = o.permit.live
    ? `${o.self}'s serving permit ends in ${Math.ceil(o.permit.left)} s unrenewed`
    : `${o.self} holds no live serving permit`;
  const alert = stop.ok
    ? event('guard-fenced', 'high', 'notice', `${lost}: its guard stopped its gateway (${stop.detail})`, now, {
        hosts: [o.self],
        facts,
      })
    : event(
        'guard-stop-failed',
        'critical',
        'open',
        `${lost} and its guard could NOT stop its gateway: ${stop.detail}`,
        now,
        { key, hosts: [o.self], facts },
      );
  return { record, exitCode: EXIT.CRITICAL, summary, alert };
}
