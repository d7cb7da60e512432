// The backup domain's data: what a tier resolves to, what one run comes to, and
// what backup.json keeps per tier. Types only: plan and fold share them.
import type { HostConfig, TierConfig } from '../config/types.js';

/** A side of a tier: a host (over SSH) or, without one, a path on the witness. */
export interface Location {
  host?: HostConfig;
  path: string;
}

export interface Resolved {
  tier: TierConfig;
  src: Location;
  dst: Location;
}

export type TierResult = 'ok' | 'warning' | 'refused' | 'failed';

/** What one run of a tier came to: the summary line, the alert text if it is a problem, and the figures. */
export interface Outcome {
  result: TierResult;
  line: string;
  alert?: string;
  snapshot?: string | null;
  files?: number;
  bytes?: number;
  sent?: number;
  pruned?: string[];
  warnings?: string[];
}

export interface TierRecord {
  lastRunAt: string;
  lastOkAt?: string | null;
  lastResult: TierResult;
  detail?: string;
  snapshot?: string | null;
  files?: number;
  bytes?: number;
  sent?: number;
  ms?: number;
  runs: number;
  problem?: string | null;
}

/** A tree as hactl counts it, the same way everywhere: entries that are not folders, and their sizes. */
export interface TreeCount {
  files: number;
  bytes: number;
}
