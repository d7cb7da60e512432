// The check's side of the partition defences, pure (docs/partitions.md): record the permits granted
// of this check, and say it — once, as an incident — when the witness cannot reach the serving host
// while the idle host sees it serving. No I/O, no clock, no adapter.
import type { Config, Role } from '../config/types.js';
import { EXIT } from '../errors.js';
import type { ClusterState, Observations } from '../core/model.js';
import { isReachable, label, other } from '../core/model.js';
import type { Assessment } from '../failover/fold.js';
import { duration, stepIncident, type IncidentPolicy } from '../alerts/incident.js';
import type { Grants } from '../fencing/rule.js';

export const CUT_OFF_POLICY: IncidentPolicy = { repeatEvery: 6 * 3600, maxRepeats: 3 };
const KEY = 'witness-cut-off';

/** Whether the witness is cut off from the serving host that still serves (as the idle host sees it). */
export function witnessCutOff(serving: Role, obs: Observations): boolean {
  const s = obs[serving];
  return !isReachable(s.status) && !!s.seenBy?.serving;
}

export interface WitnessFold {
  state: ClusterState;
  assessment: Assessment;
  alerts: string[];
}

/** After foldCheck: the permits granted and revoked; the cut-off incident, its alert and a warning verdict. */
export function foldWitnessView(
  config: Config,
  state: ClusterState,
  obs: Observations,
  assessment: Assessment,
  now: Date,
): WitnessFold {
  // The permits this check granted or revoked (only the authority does: src/failover/observe.ts).
  const permits: Grants = { ...(state.permits ?? {}) };
  for (const r of ['primary', 'standby'] as const) {
    const p = obs[r].permit;
    if (p) permits[r] = { token: p.token, lease: p.lease, by: p.by, at: p.at };
    // A host whose permit this check removed holds none: on record as over (no wait for it).
    else if (obs[r].permitRevoked)
      permits[r] = { ...(permits[r] ?? { token: 0, lease: 0, by: '', at: 0 }), revoked: true };
  }
  const serving = state.serving;
  const S = label(config, serving);
  const I = label(config, other(serving));
  const cut = witnessCutOff(serving, obs);
  const why = `${obs[serving].status}: ${obs[serving].detail}`;
  const step = stepIncident(state.incidents ?? {}, KEY, cut, now, CUT_OFF_POLICY, {
    open:
      `${config.alerts.prefix} ⚠️ the witness cannot reach the ${S} (${why}), but the ${I} sees its gateway ` +
      `serving (${obs[serving].seenBy?.detail}): no failover. Check the witness's path to the ${S}.`,
    repeat: (since) => `${config.alerts.prefix} ⚠️ the witness still cannot reach the ${S} (for ${duration(since)})`,
    resolved: (since) => `${config.alerts.prefix} ✅ the witness reaches the ${S} again (after ${duration(since)})`,
  });
  const next: ClusterState = {
    ...state,
    incidents: step.incidents,
    ...(Object.keys(permits).length ? { permits } : {}),
  };
  if (!cut) return { state: next, assessment, alerts: step.alert ? [step.alert] : [] };
  const line = `WARNING: the witness cannot reach the ${S}; the ${I} sees it serving [${why}]`;
  return {
    state: { ...next, level: 'degraded' },
    assessment: { level: 'degraded', exitCode: EXIT.WARNING, line },
    alerts: step.alert ? [step.alert] : [],
  };
}
