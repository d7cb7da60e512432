// Observing the pair: one SSH session per host, the health probe, a
// classification, and the confirming retry. Whether to retry is decided by
// retry.ts (shouldRetry); waiting and probing again is done here.
import type { Config, HostConfig, Role } from '../config/types.js';
import type { Clock } from '../adapters/clock.js';
import { sleep } from '../adapters/clock.js';
import { SshError, SshSession, type RemoteSession } from '../adapters/ssh.js';
import { leaveMaster, MuxSession } from '../adapters/ssh-mux.js';
import { Gateway } from '../adapters/gateway.js';
import type { Observation, Observations, SecondView } from '../core/model.js';
import { HactlError } from '../errors.js';
import { confirmObservation, shouldRetry } from './retry.js';
import { wantsLearned, withLearnedOrder } from './learned.js';
import { isConfigProblem, isReachable } from '../core/model.js';
import { grantPermit, remotePermit, revokePermit, secondView } from '../guard/remote.js';
import { renewAllowed, type Grant, type Stamp } from '../fencing/rule.js';

/**
 * What this check does with the serving permits (src/fencing/rule.ts), when it is the authority
 * (the single witness, or the etcd leader) and the config has a guard section: grant `token` to
 * the serving host, revoke the idle host's. A run that is not the authority gets none of this.
 */
export interface PermitDuty {
  serving: Role;
  token: number;
  lease: number;
  by: string;
  /** This witness's monotonic stamp, read after each attempt. */
  here: () => Stamp;
  /** Whether the idle host's latest grant is over (revoked, or ended by this witness's clock). */
  idleOver: boolean;
  /** Written to this witness's own journal before the attempt (dated at its latest landing) and after. */
  journal: (role: Role, g: Grant) => void;
  /** With etcd: records the grant in etcd before it is sent (false: do not send it). */
  share?: (role: Role, g: Grant) => Promise<boolean>;
  /** An earlier leader's start may be under way on the idle host: its permit is not revoked. */
  keepIdle?: boolean;
  /**
   * The token of the permit that start was granted (the intent's), when it got that far, and the
   * later one on record if this rule renewed it since: while the idle host holds one of them, live,
   * its gateway answers and the serving host's does not, that permit is renewed instead of the serving
   * host's (see permit()).
   */
  keepTokens?: readonly number[];
}

/**
 * Reads more over a host's open session while its probe runs (heartbeat, resources: src/health). Never
 * rejects; resolves to what records the reading, called only when the probe reached the host.
 */
export type SessionHook = (role: Role, session: RemoteSession) => Promise<() => void>;

export function openSession(config: Config, host: HostConfig): Promise<SshSession> {
  return SshSession.open(host, config.thresholds.connectTimeout, config.thresholds.commandTimeout);
}

/** For the probes: through the host's warm OpenSSH master when one answers (ssh-mux.ts), else ssh2. */
export async function openProbeSession(config: Config, host: HostConfig): Promise<RemoteSession> {
  const t = config.thresholds;
  const mux = await MuxSession.attach(config.stateDir, host, t.connectTimeout, t.commandTimeout);
  return mux ?? openSession(config, host);
}

/**
 * Probes hosts, keeping a session open after a "gateway down" so that the
 * confirming retry reuses it (a new SSH handshake costs ~150 ms). A reused
 * session still proves the host answers: opening a channel needs the server.
 */
export class Prober {
  private sessions = new Map<Role, RemoteSession>();
  /** The last grant attempt and revocation per host: kept even when a later probe fails. */
  readonly permits = new Map<Role, NonNullable<Observation['permit']>>();
  readonly revoked = new Set<Role>();
  constructor(
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly onSession?: SessionHook, // health (issue 13): src/health/observe.ts
    private readonly duty?: PermitDuty,
  ) {}

  /** Settled once the idle host's turn is over: whether its permit was revoked in this run. */
  private idleDone!: (revoked: boolean) => void;
  private readonly idleRevoked = new Promise<boolean>((r) => (this.idleDone = r));
  /** Settled by the serving host's first probe: whether its gateway answered (false: not reached). */
  private servingSeen!: (healthy: boolean) => void;
  private readonly servingHealthy = new Promise<boolean>((r) => (this.servingSeen = r));

  /**
   * Revokes the idle host's permit (unless its gateway serves: that is a second gateway, which the
   * failover fences), then grants the serving host its permit, only once the idle one's is over
   * (src/fencing/rule.ts grantAllowed: never two live permits). The grant's stamp is taken after it.
   */
  private async permit(role: Role, session: RemoteSession | undefined, healthy: boolean): Promise<string | undefined> {
    const d = this.duty;
    if (!d) return undefined;
    if (role !== d.serving) {
      let revoked = false;
      try {
        // Item 10 of issue 21: an earlier leader launched the idle side and died before recording the
        // move. Its start granted the permit it recorded in the intent only once the serving side's was
        // over or revoked (src/fencing/rule.ts), and no authority grants the serving side while that
        // one is on record (idleOver false, not revoked). So while the host holds that permit (or this
        // rule's renewal of it, the later token on record), live by its own clock, the serving side
        // holds none: this authority keeps it, as the move's next check would have, when its gateway
        // answers and the serving one's does not. Left to lapse, its guard stopped the gateway the
        // next leader then recorded as serving.
        if (!d.idleOver && session && healthy && !(await this.servingHealthy)) {
          const p = await remotePermit(this.config, session).catch(() => undefined);
          if (p?.live && p.token !== null && d.keepTokens?.includes(p.token)) return await this.renew(role, session);
          // The same for a live permit this witness has no record of at all (its state.json lost with no etcd
          // to share it: a move it forgot), on the one gateway that serves: extended only, which never makes a
          // permit live (src/fencing/rule.ts renewAllowed), so that its guard does not stop it before the
          // failover adopts it (moves.ts adoptPlan). Recorded before it is sent: the serving side then gets
          // no grant while it lasts.
          if (p?.live) return await this.renew(role, session, true);
        }
        const revoke = !!session && !healthy && !d.keepIdle;
        if (revoke) await revokePermit(this.config, session);
        revoked = revoke;
        if (revoked) this.revoked.add(role);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      } finally {
        this.idleDone(revoked);
      }
    }
    if (!session) return undefined;
    // Not a grant while the idle host may hold a live permit: an extension, which the host refuses unless
    // its own permit is live as it lands (src/fencing/rule.ts renewAllowed).
    const revokedNow = !d.idleOver && (await this.idleRevoked); // waited for only when it decides
    return this.renew(role, session, !renewAllowed(d.idleOver, revokedNow));
  }

  /** Grants `role` the duty's token: recorded (journal, etcd) before it is sent, and after. */
  private async renew(role: Role, session: RemoteSession, onlyLive = false): Promise<string | undefined> {
    const d = this.duty!;
    const t = this.config.thresholds;
    const now = d.here(); // dated at the latest the attempt can land
    const pending = this.grantOf(d.token, { ...now, uptime: now.uptime + t.commandTimeout + t.connectTimeout + 1 });
    d.journal(role, pending);
    if (d.share && !(await d.share(role, pending)))
      return 'permit not renewed: the grant could not be recorded in etcd first';
    const r = await grantPermit(this.config, session, d.token, d.lease, d.by, onlyLive);
    // An extension the host refused wrote nothing: the journal keeps the attempt as sent (the later date).
    if (r.refused) return r.error;
    // Recorded whether or not it answered: a write that timed out may still have landed.
    const at = d.here();
    const g = this.grantOf(r.token ?? d.token, at);
    d.journal(role, g);
    this.permits.set(role, { ...g, ...(r.error ? { error: r.error } : {}) });
    return r.error;
  }

  private grantOf(token: number, at: Stamp): Grant {
    return { token, lease: this.duty!.lease, by: at.boot, at: at.uptime };
  }

  async observe(role: Role): Promise<Observation> {
    const host = this.config.hosts[this.config.pair[role]]!;
    const t0 = this.clock.ms();
    const ms = () => Math.round(this.clock.ms() - t0);
    let session = this.sessions.get(role);
    this.sessions.delete(role);
    try {
      session ??= await openProbeSession(this.config, host);
      // The health read runs beside the probe, over the same connection: it never throws, and never
      // changes the status; a host the probe did not reach keeps no reading.
      const reading = this.onSession?.(role, session);
      const r = await new Gateway(session, host.gateway, this.config.thresholds, this.clock).probe();
      if (role === this.duty?.serving) this.servingSeen(r.healthy); // before its permit: it may wait on the idle one's
      (await reading)?.();
      // The renewal only after the probe got an answer: an attempt over a connection that is already
      // dead (a warm master after a cut) may still have landed, so it is dated at its end, which
      // put ~20 s on every wait when it ran beside the probe (bench/rto-guard.mts, measured).
      const permitError = await this.permit(role, session, r.healthy);
      if (!(session instanceof MuxSession))
        leaveMaster(this.config.stateDir, host, this.config.thresholds.connectTimeout);
      // Kept for the confirming retry and for the second view (src/guard/remote.ts); closed by close().
      this.sessions.set(role, session);
      session = undefined;
      const detail = permitError ? `${r.detail}; ${permitError}` : r.detail;
      const status = r.healthy ? ('healthy' as const) : ('gateway-down' as const);
      return { status, detail, confirmed: true, ms: ms() };
    } catch (e) {
      if (e instanceof HactlError) throw e; // a configuration error is never a host's state
      if (e instanceof SshError) return { status: e.kind, detail: e.message, confirmed: true, ms: ms() };
      return { status: 'unreachable', detail: `${host.name}: ${(e as Error).message}`, confirmed: true, ms: ms() };
    } finally {
      if (this.duty && role !== this.duty.serving)
        this.idleDone(false); // no-op once settled
      else this.servingSeen(false); // not reached (no-op once settled)
      await session?.close();
    }
  }

  /** The open session to a host that answered in this run, if any. */
  sessionOf(role: Role): RemoteSession | undefined {
    return this.sessions.get(role);
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}

/** Both hosts in parallel, each failure confirmed once after retryDelay (see retry.ts shouldRetry). */
export async function observePair(
  config: Config,
  serving: Role,
  clock: Clock,
  progress: (m: string) => void,
  onSession?: SessionHook,
  duty?: PermitDuty,
): Promise<Observations> {
  const prober = new Prober(config, clock, onSession, duty);
  const idle = serving === 'primary' ? 'standby' : 'primary';
  const cut = (o: Observation) => !isReachable(o.status) && !isConfigProblem(o.status);
  // The witness cannot reach the serving host: ask the idle one, over its session, what it sees (#16).
  const askIdle = (): Promise<SecondView> | undefined => {
    const viewer = prober.sessionOf(idle);
    if (!viewer) return undefined;
    progress(`asking ${idle} ${config.pair[idle]} whether ${config.pair[serving]} serves`);
    return secondView(config, viewer, idle, config.hosts[config.pair[serving]]!);
  };
  let view: Promise<SecondView | undefined> | undefined;
  const confirm = async (role: Role, before?: Promise<unknown>): Promise<Observation> => {
    const first = await prober.observe(role);
    if (!shouldRetry(role, serving, first)) return first;
    // The second view is asked DURING the confirming retry, not after it: across a LAN to a dead
    // host it waits out its own timeout, which in series added ~15 s to a dead host's failover.
    if (role === serving && cut(first)) view = (before ?? Promise.resolve()).then(askIdle, askIdle);
    const delay = config.thresholds.retryDelay;
    progress(`${role} ${config.pair[role]}: ${first.status}; retrying in ${delay} s before believing it`);
    await sleep(delay * 1000);
    return confirmObservation(first, await prober.observe(role));
  };
  try {
    const idleSeen = confirm(idle);
    const servingSeen = confirm(serving, idleSeen);
    const [a, b] = await Promise.all([servingSeen, idleSeen]);
    const obs: Observations = serving === 'primary' ? { primary: a, standby: b } : { primary: b, standby: a };
    for (const r of ['primary', 'standby'] as const) {
      const p = prober.permits.get(r);
      if (p) obs[r] = { ...obs[r], permit: p };
      if (prober.revoked.has(r)) obs[r] = { ...obs[r], permitRevoked: true };
    }
    if (cut(obs[serving])) {
      const seenBy = await (view ?? askIdle());
      if (seenBy) obs[serving] = { ...obs[serving], seenBy };
    }
    return obs;
  } finally {
    await prober.close();
  }
}

/** order: learned: the config with start methods ordered by measured success (a read of the history). */
export async function learnedConfig(config: Config, warn: (m: string) => void): Promise<Config> {
  if (!wantsLearned(config)) return config;
  try {
    const { allTimeStats, moveLines } = await import('../state/history.js');
    const { stats } = await allTimeStats(`${config.stateDir}/history.jsonl`, config.pair, moveLines);
    return withLearnedOrder(config, stats.methods);
  } catch (e) {
    warn(`hactl: warning: order: learned: cannot read the history (${(e as Error).message}); configured order used`);
    return config;
  }
}
