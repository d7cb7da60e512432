// hactl guard's decision, pure (docs/partitions.md): a gateway host keeps its gateway serving only
// while it can reach another party, the witness (a fresh lease) or its peer (it answers). Isolated
// past the lease, it stops its own gateway: the witness starts the other side only lease + interval
// after it last renewed this host's lease, by when this host has fenced itself. No I/O, no clock.
import type { GuardConfig } from '../config/types.js';
import { EXIT } from '../errors.js';

export interface GuardObservation {
  self: string;
  peer: string;
  /** Seconds since the lease file's mtime, by this host's clock; null: no lease file. */
  leaseAge: number | null;
  peerAnswers: boolean;
  peerDetail: string;
  /** Whether a gateway process runs here (whatever its HTTP answer). */
  running: boolean;
  runningDetail: string;
}

export interface GuardPlan {
  action: 'none' | 'stop';
  /** Whom this host still reaches. */
  contact: 'witness' | 'peer' | 'nobody';
  exitCode: number;
  reason: string;
}

/** A lease is fresh when renewed at most `lease` seconds ago (an mtime far in the future is not trusted). */
export const leaseFresh = (g: GuardConfig, age: number | null): boolean =>
  age !== null && age >= -g.lease && age <= g.lease;

const ageText = (age: number | null): string => (age === null ? 'no lease file' : `lease ${Math.round(age)} s old`);

export function decideGuard(g: GuardConfig, o: GuardObservation): GuardPlan {
  if (leaseFresh(g, o.leaseAge)) {
    return {
      action: 'none',
      contact: 'witness',
      exitCode: EXIT.OK,
      reason: `${ageText(o.leaseAge)} (lease ${g.lease} s): the witness reaches ${o.self}`,
    };
  }
  const stale = `${ageText(o.leaseAge)} (lease ${g.lease} s)`;
  if (o.peerAnswers) {
    return {
      action: 'none',
      contact: 'peer',
      exitCode: EXIT.WARNING,
      reason: `${stale}, but peer ${o.peer} answers (${o.peerDetail}): keeping the gateway; is the witness down?`,
    };
  }
  if (!o.running) {
    return {
      action: 'none',
      contact: 'nobody',
      exitCode: EXIT.CRITICAL,
      reason: `${o.self} isolated: ${stale} and peer ${o.peer} does not answer (${o.peerDetail}); no gateway runs`,
    };
  }
  return {
    action: 'stop',
    contact: 'nobody',
    exitCode: EXIT.CRITICAL,
    reason:
      `${o.self} isolated: ${stale} and peer ${o.peer} does not answer (${o.peerDetail}): ` +
      'stopping its gateway (the witness may start the other side)',
  };
}
