// hactl guard's decision, pure (docs/partitions.md, docs/decisions.md "Who may serve"): a gateway
// host keeps its gateway only while it holds a serving permit (src/fencing/rule.ts) with more than
// the fence lead left, aged by this host's own monotonic clock. Otherwise a running gateway is
// stopped, whoever else answers: the witness starts the other side as soon as the permit it granted
// here ended by its own clock, so the stop must be over before then. A gateway whose presence
// cannot be told counts as running.
// No I/O, no clock.
import type { GuardConfig } from '../config/types.js';
import { EXIT } from '../errors.js';
import type { PermitView } from '../fencing/rule.js';

export interface GuardObservation {
  self: string;
  peer: string;
  /** The permit on this host, judged by this host's boot_id and uptime. */
  permit: PermitView;
  /** Seconds before the permit's end at which the guard fences (src/fencing/rule.ts fenceLead). */
  lead: number;
  /** Informative only: the peer's answer never keeps a gateway (it is no permit). */
  peerAnswers: boolean;
  peerDetail: string;
  /** Whether a gateway process runs here (whatever its HTTP answer); true when it cannot be told. */
  running: boolean;
  /** The gone check could not tell (e.g. `ss` failed): fail closed, as running. */
  runningUnknown?: boolean;
  runningDetail: string;
}

export interface GuardPlan {
  action: 'none' | 'stop';
  /** What keeps this host serving: its permit, or nothing. */
  contact: 'witness' | 'peer' | 'nobody';
  exitCode: number;
  reason: string;
}

export function decideGuard(_g: GuardConfig, o: GuardObservation): GuardPlan {
  const p = o.permit;
  if (p.live && p.left > o.lead) {
    return {
      action: 'none',
      contact: 'witness',
      exitCode: EXIT.OK,
      reason: `${p.why}: ${o.self} may serve`,
    };
  }
  const peer = o.peerAnswers
    ? `peer ${o.peer} answers (${o.peerDetail}), but an answer is no permit; is the witness down?`
    : `peer ${o.peer} does not answer (${o.peerDetail})`;
  if (p.live) {
    // Renewals stopped landing: the gateway must be gone BEFORE the permit ends, because that end
    // is all the witness waits for before it starts the other side.
    const lead = `within the guard's fence lead of ${o.lead} s (no renewal landed)`;
    const ends = `permit ${p.token} ends in ${Math.ceil(p.left)} s, ${lead}`;
    if (o.running)
      return {
        action: 'stop',
        contact: 'nobody',
        exitCode: EXIT.CRITICAL,
        reason: `${o.self}: ${ends}; ${peer}: stopping its gateway before the permit ends`,
      };
    return {
      action: 'none',
      contact: 'nobody',
      exitCode: EXIT.CRITICAL,
      reason: `${o.self}: ${ends}; no gateway runs`,
    };
  }
  if (o.running) {
    const what = o.runningUnknown ? `cannot tell whether a gateway runs (${o.runningDetail})` : 'a gateway runs';
    return {
      action: 'stop',
      contact: 'nobody',
      exitCode: EXIT.CRITICAL,
      reason: `${o.self} holds no live permit (${p.why}) and ${what}; ${peer}: stopping its gateway`,
    };
  }
  // No permit and nothing runs: the idle side's normal state, unless a permit expired here (cut off).
  if (p.token === null && p.why === 'no permit') {
    return {
      action: 'none',
      contact: 'nobody',
      exitCode: EXIT.OK,
      reason: `${o.self} idle: no permit, no gateway runs`,
    };
  }
  return {
    action: 'none',
    contact: 'nobody',
    exitCode: EXIT.CRITICAL,
    reason: `${o.self} isolated: ${p.why}; ${peer}; no gateway runs`,
  };
}
