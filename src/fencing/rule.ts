// The serving permit: the one rule of who may serve (issue 21, docs/decisions.md "Who may serve").
// Longer than 300 lines because the rule is kept whole in one module, as the issue asks.
// Every domain obeys it: the guard on each gateway host, the witness's check (grants), the
// failover (waits, starts), the memory push. Pure: no I/O, no clock; the times come in as
// monotonic stamps (a machine's boot_id and /proc/uptime), never as wall-clock dates.
//
// - A gateway host serves only while it holds a live permit: a lease with a fencing token (a
//   number that only grows), written on the host by the authority, aged by the host's own
//   monotonic clock. Another boot, or an uptime before the grant's, is an expired permit.
// - Only the authority grants, renews or revokes: the single witness, or the etcd leader. A
//   witness that does not lead (or has no quorum) touches no permit.
// - The other side starts only when fencing confirmed the old side stopped, or when the latest
//   permit granted to the old side has expired by the grantor's own monotonic clock (times a
//   clock-rate margin): the old side's guard stops its gateway BEFORE its permit ends (fenceLead),
//   so the end of the permit is the end of the wait. A grant the deciding witness
//   cannot date (no record, a rebuilt state, another witness's grant, its own reboot) counts as
//   granted when this witness first saw it: the full wait, never none.
// - There is no other way to keep serving: "the peer answers" is not a permit (docs/decisions.md
//   says why the peer promise was left out).
import type { Role, Thresholds } from '../config/types.js';

/** A machine's monotonic clock: its boot_id and its uptime in seconds (/proc/uptime). */
export interface Stamp {
  boot: string;
  uptime: number;
}

/** The permit file on a gateway host (~/.hactl/permit): written by the authority, read by the guard. */
export interface Permit {
  token: number;
  /** Seconds the permit lives after `uptime`, by this host's clock. */
  lease: number;
  /** This host's boot_id and uptime when the permit was written (read on the host, in the same script). */
  boot: string;
  uptime: number;
  /** The grantor (a witness name), for the operator. */
  by?: string;
}

/** The authority's record of its latest grant to a host (state.json `permits`). */
export interface Grant {
  token: number;
  lease: number;
  /** The grantor's boot_id, and its uptime once the grant attempt ended (success or not). */
  by: string;
  at: number;
  /** Witnesses that could not date the grant: their uptime when each first saw it. */
  seen?: Record<string, number>;
  /** Fencing confirmed this host's gateway stopped after the grant (its permit was removed). */
  revoked?: boolean;
  /**
   * Seconds `at` was ahead of the grantor's uptime when it wrote the record (a grant that may still
   * land: withPending): a witness that dates the record at its first sight adds them.
   */
  ahead?: number;
}

export type Grants = Partial<Record<Role, Grant>>;

export interface PermitView {
  live: boolean;
  /** Seconds left (negative: expired that long ago; -Infinity: another boot or no permit). */
  left: number;
  token: number | null;
  why: string;
}

/** Whether a host's permit is live now, by that host's own clock. */
export function permitLeft(p: Permit | null, now: Stamp): PermitView {
  if (!p) return { live: false, left: -Infinity, token: null, why: 'no permit' };
  const valid =
    Number.isFinite(p.token) && Number.isFinite(p.lease) && p.lease > 0 && Number.isFinite(p.uptime) && !!p.boot;
  if (!valid) return { live: false, left: -Infinity, token: null, why: 'unreadable permit' };
  if (p.boot !== now.boot)
    return { live: false, left: -Infinity, token: p.token, why: `permit ${p.token} from another boot` };
  // Within one boot the uptime never goes back: an uptime before the grant's is a forged or broken file.
  if (now.uptime < p.uptime)
    return { live: false, left: -Infinity, token: p.token, why: `permit ${p.token} from the future` };
  const left = p.uptime + p.lease - now.uptime;
  const live = left > 0;
  const why = live
    ? `permit ${p.token} live for ${Math.ceil(left)} s more`
    : `permit ${p.token} expired ${Math.floor(-left)} s ago`;
  return { live, left, token: p.token, why };
}

/**
 * Whether this run may grant, renew or revoke permits. `leading`: the run context's word on the
 * etcd lead (undefined without coordination: the single witness is the authority).
 */
export const mayGrant = (leading: boolean | undefined): boolean => leading !== false;

/** The next token: above every token on record (the host raises it further if its own is higher). */
export const nextToken = (grants: Grants | undefined): number =>
  Math.max(0, grants?.primary?.token ?? 0, grants?.standby?.token ?? 0) + 1;

/** A grant attempt that ended at `here` (its stamp is taken after the attempt: never early). */
export function recordGrant(token: number, lease: number, here: Stamp): Grant {
  return { token, lease, by: here.boot, at: here.uptime };
}

/**
 * The grants as this witness can date them: a grant it cannot date (none on record, another
 * boot's) gets this witness's uptime of first sight. `changed`: the record must be saved so that
 * the wait goes on from there, rather than start again at each run.
 */
export function dateGrants(
  grants: Grants | undefined,
  roles: readonly Role[],
  lease: number,
  here: Stamp,
): { grants: Grants; changed: boolean } {
  const out: Grants = { ...(grants ?? {}) };
  let changed = false;
  for (const r of roles) {
    const g = out[r];
    if (!g || !g.by) {
      // No record (a new or rebuilt state, a replaced witness), or only a revocation's mark of a host no
      // grant is on record for (src/guard/witness.ts): granted just now, token unknown. The mark's own
      // revocation stays (it counts in its own run only: recorded()).
      out[r] = {
        token: g?.token ?? 0,
        lease,
        by: here.boot,
        at: here.uptime,
        ...(g?.revoked ? { revoked: true } : {}),
      };
      changed = true;
    } else if (g.by !== here.boot && g.seen?.[here.boot] === undefined) {
      // Another boot's grant, revoked ones too: a later run takes a recorded revocation back (recorded()),
      // and must be able to date what is left.
      out[r] = { ...g, seen: { ...(g.seen ?? {}), [here.boot]: here.uptime } };
      changed = true;
    }
  }
  return { grants: out, changed };
}

/** The uptime (this witness's) from which the grant is counted, or null when it cannot be dated. */
export function grantFrom(g: Grant, here: Stamp): number | null {
  if (g.by === here.boot) return g.at <= here.uptime ? g.at : null;
  const s = g.seen?.[here.boot];
  return s !== undefined && s <= here.uptime ? s + (g.ahead ?? 0) : null;
}

/**
 * The guard stops its gateway BEFORE its permit ends (as Patroni's watchdog stops Postgres before
 * the leader key's TTL can run out): it fences once the permit has less than `fenceLead` seconds
 * left by this host's clock. So the witness waits only for the permit to end (times the clock-rate
 * margin), never for the end plus a stop. The lead covers, from the last guard run that still saw
 * more than the lead left, to the gateway verified gone:
 * - guard.interval: the next run of `guard --watch`;
 * - START_SLACK: node's start, when that next run is the first of the next cron minute's process;
 * - GUARD_OBSERVE: the next run's observation (the gone check; the peer connect beside it), after
 *   which it reads its stamp;
 * - FENCE_BUDGET: the stop itself, bounded hard (src/guard/index.ts fenceLocal): each stop method
 *   in order under `timeout -k FENCE_KILL FENCE_METHOD` while the budget lasts (a `systemctl --user
 *   stop` is cut short there: systemd's stop job goes on, and nothing restarts the unit while it
 *   does), then SIGKILL of whatever of this login listens on the port and of the run hactl started,
 *   then one gone check. A fenced gateway gets no graceful stop: it may no longer serve, and the
 *   other side will start from the memory last pushed to it.
 */
export function fenceLead(config: { guard?: { interval: number } }): number {
  return FENCE_BUDGET + (config.guard?.interval ?? 5) + GUARD_OBSERVE + START_SLACK;
}

/** Seconds from the guard's decision to fence to its gateway verified gone, whatever the methods do. */
export const FENCE_BUDGET = 5;
/** Each stop method's run when fencing: SIGTERM after FENCE_METHOD s, SIGKILL FENCE_KILL s later. */
export const FENCE_METHOD = 1;
export const FENCE_KILL = 0.5;
/** Kept out of the methods' share of FENCE_BUDGET: the final SIGKILL (1 s) and the gone check (1 s). */
export const FENCE_FINAL = 2;
/** The guard's observation before it decides (its gone check's deadline; the peer connect's). */
export const GUARD_OBSERVE = 2;
/** Seconds for a node process to start and read its files (the guard's first run in a cron minute). */
export const START_SLACK = 5;
/** The witness's cron line runs `check --watch` every 2 minutes (src/commands/cron.ts). */
export const CHECK_CYCLE = 120;
/** The clock-rate margin: a host's clock may run slower than the witness's by this fraction. */
export const RATE_MARGIN = 0.01;

/** Slack for the renewal's own run (its SSH handshake and script) between two landed renewals. */
export const RENEW_SLACK = 2;

type Cadence = Pick<Thresholds, 'watchInterval' | 'watchWindow' | 'connectTimeout' | 'retryDelay'>;

/**
 * The longest time between two renewals landing on a healthy serving host, as the witness renews
 * on each `check --watch` probe: the probes' cadence (watchInterval; across the cron line's 2
 * minutes, the gap the window leaves), plus one failed renewal (its attempt's connectTimeout and
 * the confirming retry after retryDelay, which renews again; or the next probe), plus RENEW_SLACK.
 */
export function renewalGap(t: Cadence): number {
  const cadence = Math.max(t.watchInterval, CHECK_CYCLE - t.watchWindow);
  const failed = Math.max(t.watchInterval, t.connectTimeout + t.retryDelay);
  return cadence + failed + RENEW_SLACK;
}

/**
 * What makes a guard config unsafe or self-fencing (the config validator refuses it, exit 78): a
 * lease the guard could not stop within, or one that ends its fence lead before the next renewal
 * can land on a healthy host.
 */
export function permitProblems(guard: { lease: number; interval: number }, t: Cadence): string | null {
  const lead = fenceLead({ guard });
  const gap = renewalGap(t);
  if (guard.lease > lead + gap) return null;
  const why =
    guard.lease <= lead
      ? `the guard could not stop its gateway before the permit ends`
      : `a healthy serving host would fence itself between two renewals`;
  return (
    `guard.lease ${guard.lease} s is too short for guard.interval ${guard.interval} s and thresholds ` +
    `watchInterval ${t.watchInterval} s, watchWindow ${t.watchWindow} s, connectTimeout ${t.connectTimeout} s, ` +
    `retryDelay ${t.retryDelay} s: ${why} (the guard fences ${lead} s before the end: stop budget ` +
    `${FENCE_BUDGET} + interval ${guard.interval} + observe ${GUARD_OBSERVE} + node start ${START_SLACK}; ` +
    `renewals land at most ${gap} s apart with one failed). Make guard.lease more than ${lead + gap} s, ` +
    `or shorten guard.interval or thresholds.watchInterval (docs/decisions.md "Who may serve")`
  );
}

export interface StartVerdict {
  ok: boolean;
  /** Seconds left to wait (0 when ok). */
  left: number;
  why: string;
}

/**
 * Whether the other side may start now, away from `role`: fencing confirmed `role` stopped, or its
 * latest permit ended by this witness's clock (lease x (1 + RATE_MARGIN) from the grant's stamp,
 * taken after the grant landed). Nothing more: the old side's guard had its gateway gone
 * `fenceLead` seconds before that end, by its own clock (fenceLead).
 */
export function startAllowed(g: Grant | undefined, here: Stamp, confirmedStopped: boolean): StartVerdict {
  if (confirmedStopped) return { ok: true, left: 0, why: 'fencing confirmed the gateway stopped' };
  if (g?.revoked) return { ok: true, left: 0, why: `permit ${g.token} was revoked and the gateway seen gone` };
  if (!g) return { ok: false, left: Infinity, why: 'no grant on record: not dated yet' };
  const from = grantFrom(g, here);
  const total = permitWait(g.lease);
  if (from === null) return { ok: false, left: total, why: `permit ${g.token} cannot be dated by this witness` };
  const left = from + total - here.uptime;
  const dated = g.by === here.boot ? 'granted' : 'first seen by this witness';
  const ago = Math.round(here.uptime - from);
  const lease = `lease ${g.lease} s x ${1 + RATE_MARGIN}; its guard fences before`;
  const what = `permit ${g.token} (${dated} ${ago} s ago; ${lease})`;
  if (left <= 0) return { ok: true, left: 0, why: `${what}: ended, its gateway fenced` };
  return { ok: false, left, why: `${what}: ${Math.ceil(left)} s more` };
}

/**
 * A grant as recorded by an earlier run: its revocation no longer counts. A later grant to the same
 * host may have landed unrecorded (a failover killed between its start and its save, its journal on
 * another witness), so only a revocation confirmed in THIS run ends a permit early; a recorded one
 * waits for the permit's end like any other.
 */
export const recorded = (g: Grant | undefined): Grant | undefined => (g?.revoked ? { ...g, revoked: false } : g);

/**
 * A grant a leader recorded in etcd before sending it (src/coordination), found by a later leader.
 * With several witnesses, this is what keeps a failover's wait at one permit: a leader killed between
 * a grant and its save once left a grant the next leader had no record of (so every wait took one
 * lease more); now the next leader dates every grant it finds recorded that no shared state followed
 * (withPending). One witness keeps its own journal of grants likewise.
 */
export interface PendingGrant {
  role: Role;
  token: number;
  lease: number;
}

/**
 * The grants on record, with the grants an earlier leader recorded in etcd before sending them and
 * never followed with its shared state (killed, or cut off from etcd mid-run). Such a grant was
 * written to etcd before it was sent, so before this witness read it now, and it lands within
 * `land` seconds of its send (the grant's SSH and remote deadlines) or never: dated by this witness
 * at now + land, it ends by this witness's clock no earlier than it can end on its host. The later
 * ending of the record and the pending grant wins (laterGrant).
 */
export function withPending(grants: Grants | undefined, pending: PendingGrant[], land: number, here: Stamp): Grants {
  const out: Grants = { ...(grants ?? {}) };
  for (const p of pending) {
    const g = { ...recordGrant(p.token, p.lease, { ...here, uptime: here.uptime + land }), ahead: land };
    out[p.role] = laterGrant(out[p.role], g, here);
  }
  return out;
}

/** Seconds from a grant's send to the latest it can land on its host (its SSH connect and remote command deadlines). */
export const grantLand = (t: { commandTimeout: number; connectTimeout: number }): number =>
  t.commandTimeout + t.connectTimeout + 1;

/** Seconds, by the grantor's clock, after which a permit of `lease` seconds has ended on its host. */
export const permitWait = (lease: number): number => lease * (1 + RATE_MARGIN);

/**
 * Of two records of grants to one host (the shared state's and this witness's own journal, written
 * before each attempt), the one that ends later by this witness's clock; one it cannot date wins.
 */
export function laterGrant(a: Grant | undefined, b: Grant | undefined, here: Stamp): Grant | undefined {
  if (!a || !b) return a ?? b;
  // This witness's own grants compare by their stamp, also one still ahead (a pending attempt).
  const from = (g: Grant) => (g.revoked ? -Infinity : g.by === here.boot ? g.at : (grantFrom(g, here) ?? Infinity));
  const [fa, fb] = [from(a), from(b)];
  if (fa === fb) return a.token >= b.token ? a : b;
  return fa + a.lease > fb + b.lease ? a : b;
}

export function mergeGrants(a: Grants | undefined, b: Grants | undefined, here: Stamp): Grants {
  const out: Grants = {};
  for (const r of ['primary', 'standby'] as const) {
    const g = laterGrant(a?.[r], b?.[r], here);
    if (g) out[r] = g;
  }
  return out;
}

/**
 * The grants a witness decides by: the shared record's, a side it holds no record of dated at this
 * witness's first sight (dateGrants), then merged with this witness's own journal (the later ending
 * wins). Dated BEFORE the merge: a shared record without a side's grant (a new one, or one rebuilt
 * after a corrupt record) may have lost another witness's later grant with it, so the journal's own
 * older grant never stands as that side's latest; the full wait from first sight does. A grant in
 * the journal that ends later still wins (this witness's attempt the record missed).
 */
export function decidingGrants(
  shared: Grants | undefined,
  journal: Grants | undefined,
  lease: number,
  here: Stamp,
): { grants: Grants; changed: boolean } {
  const d = dateGrants(shared, ['primary', 'standby'], lease, here);
  // Only this boot's attempts: a journal grant of an earlier boot landed before this boot began, so the
  // shared record's first-sight date covers it, and undated it would win every merge and be dated anew
  // at each run (a wait that never ends).
  const mine: Grants = {};
  for (const r of ['primary', 'standby'] as const) if (journal?.[r]?.by === here.boot) mine[r] = journal[r];
  const grants = mergeGrants(d.grants, mine, here);
  // A first sight that outlasts this witness's own attempt keeps the attempt's token: a keep compares
  // tokens (src/failover/observe.ts), and the next token stays above it.
  for (const r of ['primary', 'standby'] as const) {
    const [g, j] = [grants[r], mine[r]];
    if (g && j && j.token > g.token) grants[r] = { ...g, token: j.token };
  }
  return { grants, changed: d.changed || JSON.stringify(grants) !== JSON.stringify(d.grants) };
}

/**
 * Whether `role` may be granted a permit now: never while the other host may hold a live one. The
 * other's latest grant was revoked (fencing confirmed its gateway stopped), or revoked in this very
 * run (`revokedNow`), or it ended by this witness's clock.
 */
export function grantAllowed(grants: Grants | undefined, role: Role, here: Stamp, revokedNow: boolean): StartVerdict {
  const other: Role = role === 'primary' ? 'standby' : 'primary';
  return startAllowed(grants?.[other], here, revokedNow);
}

/**
 * How the serving host's permit is renewed: a plain grant when the idle host's latest grant is over
 * (grantAllowed), else only as an EXTENSION, which the host refuses unless it holds a live permit as
 * the write lands (src/guard/remote.ts grantScript, `onlyLive`). An extension never makes a permit
 * live: a host that holds a live one excludes the other side already (never two live), and the
 * extension, recorded before it is sent like any grant, is the latest grant any start of the other
 * side must then see over. Without it, a witness that rebooted just after a
 * failover could not date the dead side's grant for a full lease, and the new side's guard fenced it
 * in the meantime (test/unit/fencing-liveness.test.ts).
 */
export const renewAllowed = (idleOver: boolean, revokedNow: boolean): boolean => idleOver || revokedNow;

/** A memory push (or any write of the idle side's data) may not land on a host holding a live permit. */
export function pushAllowed(target: PermitView): { ok: boolean; why: string } {
  if (target.live) return { ok: false, why: `the target holds a permit to serve (${target.why})` };
  return { ok: true, why: target.why };
}
