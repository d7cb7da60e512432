// The failover's effects on the serving permits (src/fencing/rule.ts), for a run under a guard
// section: revoke the stopped side's permit, wait out the permit of a side that does not answer,
// grant the starting side its own right before it starts and check it before each start method.
import type { Config, Role } from '../config/types.js';
import { sleep, monotonicMs } from '../adapters/clock.js';
import type { SshSession } from '../adapters/ssh.js';
import type { Outcome } from '../core/model.js';
import { label } from '../core/model.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  grantFrom,
  decidingGrants,
  nextToken,
  recordGrant,
  recorded,
  startAllowed,
  type Grant,
  type Grants,
  type Stamp,
} from '../fencing/rule.js';
import { writeJson } from '../state/files.js';
import { grantPermit, remotePermit, revokePermit } from '../guard/remote.js';
import { acquireLock, type Lock } from '../state/lock.js';
import { EXIT } from '../errors.js';

/**
 * The grants on record (dated by this witness), its monotonic clock, and what this run granted or
 * revoked (`changes`, merged into the state after the run).
 */
export interface RunFencing {
  grants: Grants;
  here: () => Stamp;
  by: string;
  changes: Grants;
  /** With etcd: records a grant in etcd before it is sent (src/coordination; false: do not send it). */
  share?: (role: Role, g: Grant) => Promise<boolean>;
}

type Done = Omit<Outcome, 'ms' | 'op'>;

/** /proc/uptime's resolution (10 ms), and a little more. */
const UPTIME_STEP_MS = 20;

/** Revokes the host's permit before its stop (from then on its own guard stops it too); words for the detail. */
export async function revokeBefore(config: Config, _f: RunFencing, session: SshSession): Promise<string> {
  try {
    await revokePermit(config, session);
    return '; its serving permit revoked';
  } catch (e) {
    return `; ${(e as Error).message}`;
  }
}

/** After a confirmed stop: the host's grant is recorded as revoked (no wait for it any more). */
export function markRevoked(f: RunFencing | undefined, role: Role): void {
  if (f)
    f.changes[role] = {
      ...(f.changes[role] ?? f.grants[role] ?? { token: 0, lease: 0, by: '', at: 0 }),
      revoked: true,
    };
}

/**
 * A host that does not answer passes as stopped only once its serving permit ran out by this
 * witness's clock (its guard stopped the gateway before that): waited here, bounded by the lease
 * (a failover by hand, or a host that stopped answering after the check).
 */
export async function unconfirmed(
  config: Config,
  f: RunFencing | undefined,
  role: Role,
  why: string,
  io: { progress(m: string): void },
): Promise<Done> {
  const base = `not fenced: ${why}`;
  if (!f) return { ok: true, role, unreachable: true, detail: base };
  const v = startAllowed(recorded(f.grants[role]), f.here(), false);
  if (v.ok) return { ok: true, role, unreachable: true, detail: `${base}; ${v.why}` };
  if (!Number.isFinite(v.left))
    return { ok: false, role, unreachable: true, detail: `${base}; cannot tell when its permit ends: ${v.why}` };
  io.progress(`${label(config, role)} does not answer: waiting ${Math.ceil(v.left)} s: ${v.why}`);
  const t0 = monotonicMs();
  let again = v;
  // /proc/uptime counts in 10 ms steps: a sleep of exactly `left` can read a hair short of the end.
  for (let i = 0; i < 3 && !again.ok && Number.isFinite(again.left); i++) {
    await sleep(again.left * 1000 + UPTIME_STEP_MS);
    again = startAllowed(recorded(f.grants[role]), f.here(), false);
  }
  if (!again.ok) return { ok: false, role, unreachable: true, detail: `${base}; ${again.why}` };
  const waitMs = Math.round(monotonicMs() - t0);
  return { ok: true, role, unreachable: true, detail: `${base}; waited ${Math.ceil(v.left)} s: ${again.why}`, waitMs };
}

/**
 * Seconds until `role`'s latest permit on record is over by this witness's clock (0: over now), or
 * null when it cannot be dated: how long a fence may wait for the host to answer before it passes
 * as unconfirmed-stopped anyway (its guard fenced it before that end).
 */
export function permitEndsIn(config: Config, f: RunFencing | undefined, role: Role): number | null {
  if (!f) return null;
  const g = recorded(f.grants[role]);
  if (g && grantFrom(g, f.here()) === null) return null;
  const v = startAllowed(g, f.here(), false);
  return v.ok ? 0 : Number.isFinite(v.left) ? v.left : null;
}

/** Grants `role` its permit right before it starts; the token it holds now, or why not. */
export async function grantBefore(
  config: Config,
  f: RunFencing,
  session: SshSession,
  role: Role,
): Promise<{ token?: number; error?: string }> {
  const token = nextToken({ ...f.grants, ...f.changes });
  const lease = config.guard!.lease;
  const other = role === 'primary' ? 'standby' : 'primary';
  const v = startAllowed(f.changes[other] ?? recorded(f.grants[other]), f.here(), false);
  if (!v.ok) return { error: `the other side may still hold a live permit: ${v.why}` };
  const pending = pendingGrant(config, token, lease, f.here());
  journal(config, role, pending);
  if (f.share && !(await f.share(role, pending))) return { error: 'the grant could not be recorded in etcd first' };
  const r = await grantPermit(config, session, token, lease, f.by);
  f.changes[role] = recordGrant(r.token ?? token, lease, f.here()); // the attempt may have landed
  journal(config, role, f.changes[role]!);
  return r;
}

/** Right before a start method runs: the host holds the live permit this run granted, else why not. */
export async function permittedNow(config: Config, session: SshSession, token: number): Promise<string | null> {
  try {
    const p = await remotePermit(config, session);
    if (p.live && p.token === token) return null;
    return `its permit is not the live one this run granted (token ${token}): ${p.why}`;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * The memory domain, taken before a gateway starts (issue 21 item 5): a sync-memory push that is
 * running lands before the start, and none starts until the run ends (memory.deadline bounds the
 * holder's copy). Undefined: memory sync is off; a string: why the start must not go on.
 */
export async function takeMemory(
  config: Config,
  io: { progress(m: string): void },
  ms: () => number,
): Promise<Lock | string | undefined> {
  if (!config.memory.enabled) return undefined;
  const bound = (config.memory.deadline + config.thresholds.commandTimeout) * 1000;
  const t0 = ms();
  for (let said = false; ; said = true) {
    try {
      return acquireLock(config.stateDir, 'memory', 'hactl failover (start)', config.thresholds.lockLease);
    } catch (e) {
      if ((e as { exitCode?: number }).exitCode !== EXIT.LOCKED) throw e;
      if (ms() - t0 > bound)
        return `the memory lock is still held after ${Math.round(bound / 1000)} s: ${(e as Error).message}`;
      if (!said) io.progress(`waiting for the memory lock before the start: ${(e as Error).message}`);
      await sleep(1000);
    }
  }
}

/** Before a start: the memory lock (unless held), then the permit; what to hold, the token, or why not. */
export async function beforeStart(
  config: Config,
  f: RunFencing | undefined,
  role: Role,
  session: () => Promise<SshSession>,
  io: { progress(m: string): void; ms(): number },
  held: Lock | undefined,
): Promise<{ lock?: Lock; token?: number; error?: string }> {
  const mem = held ? undefined : await takeMemory(config, io, () => io.ms());
  if (typeof mem === 'string') return { error: mem };
  if (!f) return { lock: mem };
  const g = await grantBefore(config, f, await session(), role);
  return { lock: mem, ...(g.error || g.token === undefined ? { error: g.error ?? 'no token' } : { token: g.token }) };
}

/**
 * This witness's own journal of its grant attempts (permits.json in its state directory, never
 * shared): written BEFORE each attempt, so that a run killed between a grant landing and the state
 * being saved (or a shared state that a pull replaced) never hides a grant from this witness. A
 * pending attempt is dated at its latest possible landing: now + its deadline.
 */
export const journalFile = (config: Config): string => join(config.stateDir, 'permits.json');

export function readJournal(config: Config): Grants {
  try {
    const j = JSON.parse(readFileSync(journalFile(config), 'utf8')) as Grants;
    return j && typeof j === 'object' ? j : {};
  } catch {
    return {};
  }
}

export function journal(config: Config, role: Role, g: Grant): void {
  writeJson(journalFile(config), { ...readJournal(config), [role]: g });
}

/**
 * The grants this witness decides by: the state's, dated, merged with its journal (the later ending of
 * each wins; src/fencing/rule.ts decidingGrants). Needs the lease a side with no record is dated with.
 */
export function withJournal(config: Config, grants: Grants | undefined, here: Stamp, lease: number): Grants {
  return decidingGrants(grants, readJournal(config), lease, here).grants;
}

/** A grant about to be attempted, dated at the latest it can land (its remote deadline and SSH's). */
export function pendingGrant(config: Config, token: number, lease: number, here: Stamp): Grant {
  const t = config.thresholds;
  return recordGrant(token, lease, { ...here, uptime: here.uptime + t.commandTimeout + t.connectTimeout + 1 });
}

/**
 * After a failed start: a start that failed leaves no permit behind once its gateway is verified
 * gone (a rollback may then start the other side); else the permit stays on record and is waited out.
 */
export async function revokeIfGone(
  config: Config,
  f: RunFencing | undefined,
  role: Role,
  on: { gateway: () => Promise<{ gone(): Promise<{ gone: boolean }> }>; session: () => Promise<SshSession> },
): Promise<void> {
  if (!f?.changes[role] || f.changes[role]!.revoked) return;
  try {
    if (!(await (await on.gateway()).gone()).gone) return;
    await revokePermit(config, await on.session());
    markRevoked(f, role);
  } catch {
    /* the permit stays on record: the other side waits it out */
  }
}
