// Types of the PostgreSQL domain shared by observe, plan, run and fold. No I/O.

export type Seen<T> = { ok: true; value: T } | { ok: false; reachable: boolean; error: string };
export interface SubscriptionSeen {
  exists: boolean;
  enabled: boolean;
  slot: string | null;
  pid: number | null;
}
export interface SlotSeen {
  exists: boolean;
  active: boolean;
  lag: number | null;
}
export interface ReplicationObservation {
  standby: Seen<SubscriptionSeen>;
  primary: Seen<SlotSeen>;
  /** The slot looked for on the primary (the subscription's, else its name). */
  slot: string;
  /** Tables replication carries (publication on the primary, subscription on the standby), as [schema, name]. */
  published: Array<[string, string]>;
}
/** Per table (config order): key -> md5 of the row's content. */
export type Digests = Array<Map<string, string>>;
export interface RowsObservation {
  primary: Digests;
  standby: Digests;
}

/** What run/ did for a sync-back: rows inserted per table (config order), and whether replication resumed. */
export interface SyncOutcome {
  inserted: { primary: number[]; standby: number[] };
  /** The slot's new position, once replication runs again. */
  resumedAt?: string;
  /** The first failure; what was committed before it stays in `inserted`. */
  error?: string;
}
