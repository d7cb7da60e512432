// The check's side of the partition defences, pure (docs/partitions.md): record the permits granted
// of this check, and say it — once, as an incident — when the witness cannot reach the serving host
// while the idle host sees it serving. No I/O, no clock, no adapter.
import type { Config, Role } from '../config/types.js';
import { EXIT } from '../errors.js';
import type { ClusterState, Observations } from '../core/model.js';
import { isReachable, label, other } from '../core/model.js';
import type { Assessment } from '../failover/fold.js';
import { KEYS, event, resolveEvent, type HactlEvent } from '../alerts/events.js';
import type { Grants } from '../fencing/rule.js';

/** Whether the witness is cut off from the serving host that still serves (as the idle host sees it). */
export function witnessCutOff(serving: Role, obs: Observations): boolean {
  const s = obs[serving];
  return !isReachable(s.status) && !!s.seenBy?.serving;
}

export interface WitnessFold {
  state: ClusterState;
  assessment: Assessment;
  alerts: HactlEvent[];
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
  const host = config.pair[serving];
  // Said each check; the lifecycle (one incident per host) opens it once and says its end once,
  // so a second cut after the first healed is a new incident, and no "reaches again" comes alone.
  const alert: HactlEvent = cut
    ? event(
        'serving-lost',
        'high',
        'open',
        `the witness cannot reach the ${S} (${why}), but the ${I} sees its gateway ` +
          `serving (${obs[serving].seenBy?.detail}): no failover. Check the witness's path to the ${S}.`,
        now,
        { key: KEYS.servingLost(host), hosts: [host], facts: { status: obs[serving].status } },
      )
    : resolveEvent(KEYS.servingLost(host), `the witness reaches the ${S} again`, now, [host]);
  // The other host serves no longer (a failover or failback swapped the roles): a cut-off from it
  // is over, whatever the witness sees of it. Said each check, so an incident opened while it
  // served is closed and a later cut-off from it opens anew instead of being held.
  const idle = config.pair[other(serving)];
  const alerts: HactlEvent[] = [
    alert,
    resolveEvent(
      KEYS.servingLost(idle),
      `the ${I} no longer serves: its cut-off from the witness no longer matters`,
      now,
      [idle],
    ),
  ];
  const next: ClusterState = {
    ...state,
    ...(Object.keys(permits).length ? { permits } : {}),
  };
  if (!cut) return { state: next, assessment, alerts };
  const line = `WARNING: the witness cannot reach the ${S}; the ${I} sees it serving [${why}]`;
  return {
    state: { ...next, level: 'degraded' },
    assessment: { level: 'degraded', exitCode: EXIT.WARNING, line },
    alerts,
  };
}
