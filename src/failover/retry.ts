// The confirming retry's decisions, pure: whether a failed first probe is retried
// (observe.ts does the waiting and the second probe), and what two probes add up to.
import type { Role } from '../config/types.js';
import type { Observation } from '../core/model.js';
import { isConfigProblem } from '../core/model.js';

/**
 * Whether a first failed probe is retried before it is believed. Health and
 * configuration problems are believed at once; so is an idle side's gateway being
 * down (that is how an idle standby looks).
 */
export function shouldRetry(role: Role, serving: Role, first: Observation): boolean {
  if (first.status === 'healthy' || isConfigProblem(first.status)) return false;
  return !(role !== serving && first.status === 'gateway-down');
}

/** What the confirming retry makes of two probes. */
export function confirmObservation(first: Observation, second: Observation): Observation {
  if (second.status === 'healthy') {
    return { ...second, transient: true, detail: `${second.detail} (first probe: ${first.status}: ${first.detail})` };
  }
  return { ...second, confirmed: true };
}
