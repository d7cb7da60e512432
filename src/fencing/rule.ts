// The serving permit: the one rule of who may serve (issue 21, docs/decisions.md "Who may serve").
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
//   permit granted to the old side has expired by the grantor's own monotonic clock and the
//   old side's guard had its full bound to stop its gateway. A grant the deciding witness
//   cannot date (no record, a rebuilt state, another witness's grant, its own reboot) counts as
//   granted when this witness first saw it: the full wait, never none.
// - There is no other way to keep serving: "the peer answers" is not a permit (docs/decisions.md
//   says why the peer promise was left out).
import type { Config, Role, Thresholds } from '../config/types.js';

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
    if (!g) {
      // No record (a new or rebuilt state, a replaced witness): granted just now, token unknown.
      out[r] = { token: 0, lease, by: here.boot, at: here.uptime };
      changed = true;
    } else if (g.by !== here.boot && !g.revoked && g.seen?.[here.boot] === undefined) {
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
  return s !== undefined && s <= here.uptime ? s : null;
}

/**
 * How long, after the permit expired by the host's clock, its guard may take to see it and stop
 * the gateway: one guard tick (`guard.interval`), the guard's observation (the gone check; the peer
 * connect runs beside it), then every stop method in turn: its run (commandTimeout + stopDeadline,
 * the deadline that also cuts a `systemctl stop` short of systemd's own TimeoutStopSec, plus the
 * KILL_GRACE before SIGKILL) and its wait for the process to go (stopDeadline + one poll + a last
 * gone check of up to commandTimeout). Plus
 * START_SLACK for node's start. A `systemctl --user stop` cut short leaves systemd's stop job
 * going; the later methods (openclaw-cli, port-owner's SIGTERM then SIGKILL) end the gateway within
 * their own deadlines: the bound holds while the last method can kill what listens on the port.
 */
export function fenceBound(config: Pick<Config, 'guard' | 'thresholds'> & { stopMethods: number }): number {
  const t: Thresholds = config.thresholds;
  const tick = config.guard?.interval ?? 60;
  const observe = Math.max(t.connectTimeout, t.commandTimeout);
  // Its run, then its wait for the process to go: polls until stopDeadline, whose last gone check
  // may itself take up to commandTimeout.
  const perMethod =
    t.commandTimeout + t.stopDeadline + KILL_GRACE + (t.stopDeadline + t.pollInterval + t.commandTimeout);
  return tick + START_SLACK + observe + Math.max(1, config.stopMethods) * perMethod;
}

/** fenceBound for the host that holds `role` in the pair (its own stop methods). */
export const guardBound = (config: Config, role: Role): number =>
  fenceBound({ ...config, stopMethods: config.hosts[config.pair[role]]!.gateway.stop.length });

/**
 * Seconds between a deadline's SIGTERM and its SIGKILL (runProcess's killAfterMs 3 s locally,
 * `timeout -k 5` on a host): a stop method's run may last its deadline plus this.
 */
export const KILL_GRACE = 5;

/** Seconds for a node process to start and read its files (the guard's run before it observes). */
export const START_SLACK = 5;

/** The clock-rate margin: a host's clock may run slower than the witness's by this fraction. */
export const RATE_MARGIN = 0.01;

export interface StartVerdict {
  ok: boolean;
  /** Seconds left to wait (0 when ok). */
  left: number;
  why: string;
}

/**
 * Whether the other side may start now, away from `role`: fencing confirmed `role` stopped, or its
 * latest permit expired by this witness's clock and its guard had `bound` seconds to stop.
 */
export function startAllowed(
  g: Grant | undefined,
  here: Stamp,
  bound: number,
  confirmedStopped: boolean,
): StartVerdict {
  if (confirmedStopped) return { ok: true, left: 0, why: 'fencing confirmed the gateway stopped' };
  if (g?.revoked) return { ok: true, left: 0, why: `permit ${g.token} was revoked and the gateway seen gone` };
  if (!g) return { ok: false, left: Infinity, why: 'no grant on record: not dated yet' };
  const from = grantFrom(g, here);
  const total = g.lease * (1 + RATE_MARGIN) + bound;
  if (from === null) return { ok: false, left: total, why: `permit ${g.token} cannot be dated by this witness` };
  const left = from + total - here.uptime;
  const dated = g.by === here.boot ? 'granted' : 'first seen by this witness';
  const ago = Math.round(here.uptime - from);
  const what = `permit ${g.token} (${dated} ${ago} s ago; lease ${g.lease} s + guard bound ${Math.round(bound)} s)`;
  if (left <= 0) return { ok: true, left: 0, why: `${what}: expired and fenced` };
  return { ok: false, left, why: `${what}: ${Math.ceil(left)} s more` };
}

/**
 * Of two records of grants to one host (the shared state's and this witness's own journal, written
 * before each attempt), the one that ends later by this witness's clock; one it cannot date wins.
 */
export function laterGrant(a: Grant | undefined, b: Grant | undefined, here: Stamp): Grant | undefined {
  if (!a || !b) return a ?? b;
  const fa = a.revoked ? -Infinity : (grantFrom(a, here) ?? Infinity);
  const fb = b.revoked ? -Infinity : (grantFrom(b, here) ?? Infinity);
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
 * Whether `role` may be granted a permit now: never while the other host may hold a live one. The
 * other's latest grant was revoked (fencing confirmed its gateway stopped), or revoked in this very
 * run (`revokedNow`), or it expired by this witness's clock with its guard's bound.
 */
export function grantAllowed(
  grants: Grants | undefined,
  role: Role,
  here: Stamp,
  otherBound: number,
  revokedNow: boolean,
): StartVerdict {
  const other: Role = role === 'primary' ? 'standby' : 'primary';
  return startAllowed(grants?.[other], here, otherBound, revokedNow);
}

/** A memory push (or any write of the idle side's data) may not land on a host holding a live permit. */
export function pushAllowed(target: PermitView): { ok: boolean; why: string } {
  if (target.live) return { ok: false, why: `the target holds a permit to serve (${target.why})` };
  return { ok: true, why: target.why };
}
