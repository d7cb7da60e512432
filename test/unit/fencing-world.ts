// A model of the pair under faults, for the serving-permit properties (test/unit/fencing-model.test.ts).
// It runs hactl's REAL pure decisions: the permit rule (src/fencing/rule.ts), the guard's decision
// (decideGuard, with its fence lead), the check's folds (foldCheck, foldWitnessView), the failover's decision
// (decideFailover, with its permit wait) and the move's fold (foldMove). What it models itself is
// only the world: real time, each machine's boot and monotonic uptime and its (steppable) wall
// clock, directed links, the permit files on the hosts, the gateways, the shared etcd record and
// each witness's own journal and state file, and the effects the runner would carry out (the
// same checks as src/failover/permits.ts, through the same pure functions).
import {
  FENCE_BUDGET,
  GUARD_OBSERVE,
  START_SLACK,
  decidingGrants,
  fenceLead,
  mayGrant,
  nextToken,
  permitLeft,
  recordGrant,
  recorded,
  startAllowed,
  withPending,
  grantLand,
  renewAllowed,
} from '../../dist/fencing/rule.js';
import { decideGuard } from '../../dist/guard/plan.js';
import { decideFailover } from '../../dist/failover/plan.js';
import { foldCheck, foldMove } from '../../dist/failover/fold.js';
import { foldWitnessView } from '../../dist/guard/witness.js';
import { initialState } from '../../dist/core/model.js';

type Role = 'primary' | 'standby';
const ROLES: Role[] = ['primary', 'standby'];
const otherOf = (r: Role): Role => (r === 'primary' ? 'standby' : 'primary');
const BASE = Date.parse('2026-12-01T12:00:00Z');

interface Machine {
  name: string;
  boot: string;
  bootAt: number;
  wallOffset: number;
  alive: boolean;
}
interface Host extends Machine {
  role: Role;
  permit: any | null;
  running: boolean;
  stopAt: number | null;
  nextTick: number;
  /** When this host's current `guard --watch` process (its cron minute) started. */
  minute: number;
}
interface Witness extends Machine {
  journal: any;
  local: any;
  quorum: boolean;
}

export type Action =
  | { k: 'advance'; dt: number }
  | { k: 'cut' | 'heal' | 'sever'; from: string; to: string }
  | { k: 'check'; w: number; lead: boolean; kill: number }
  | { k: 'failover'; w: number; lead: boolean; kill: number }
  | { k: 'cycle'; w: number; kill: number }
  | { k: 'witness-down' | 'witness-up' | 'witness-replace' | 'quorum'; w: number }
  | { k: 'host-down' | 'host-up'; h: Role }
  | { k: 'clock'; m: string; d: number }
  | { k: 'rebuild'; w: number }
  | { k: 'loopback' }
  | { k: 'stopSpeed'; f: number };

export interface Options {
  witnesses: number;
  etcd: boolean;
  /** Mutations of the real rule, to see the properties fail (the report's "each test can fail"). */
  trace?: string[];
  /** A guard without the fence's hard budget (a stop as slow as the gateway's own): must be caught. */
  noKill?: boolean;
  /** A leader that does not record its grants in etcd before sending them: must be caught. */
  noPending?: boolean;
}

export class World {
  t = 0;
  seq = 0;
  hosts: Record<Role, Host>;
  ws: Witness[];
  shared: any;
  /** etcd's PREFIX/grant/cluster/<role>: grants a leader recorded before sending, until its state is shared. */
  pend: Partial<Record<Role, { role: Role; token: number; lease: number }>> = {};
  cuts = new Set<string>();
  /**
   * etcd's intent (issue 21 item 10, src/coordination): the side an unfinished failover was starting
   * (its step a start or a verify there) and, once its start granted it, that permit's token; until a
   * failover finishes; only with etcd.
   */
  intent: { role: Role; token?: number } | null = null;
  loopback = true;
  stopFrac = 1;
  violations: string[] = [];
  /** The config the witnesses' decisions see: with etcd, a coordination section. */
  get rules(): any {
    return this.o.etcd ? { ...this.cfg, coordination: { etcd: { endpoints: ['x'] } } } : this.cfg;
  }
  log: string[] = [];

  constructor(
    readonly cfg: any,
    readonly o: Options,
  ) {
    const host = (role: Role, name: string): Host => ({
      ...this.machine(name),
      role,
      permit: null,
      running: false,
      stopAt: null,
      nextTick: 1,
      minute: 0,
    });
    this.hosts = { primary: host('primary', 'P'), standby: host('standby', 'S') };
    const st = initialState(new Date(BASE));
    this.ws = Array.from({ length: o.witnesses }, (_, i) => ({
      ...this.machine(`W${i}`),
      journal: {},
      local: structuredClone(st),
      quorum: true,
    }));
    this.shared = structuredClone(st);
    this.hosts.primary.running = true;
    this.check(0, true, 9); // installed: the first check grants the primary its permit
  }

  private machine(name: string): Machine {
    return { name, boot: `${name}-boot-${this.seq++}`, bootAt: 0, wallOffset: 0, alive: true };
  }

  stamp(m: Machine) {
    return { boot: m.boot, uptime: this.t - m.bootAt };
  }
  wall(m: Machine): Date {
    return new Date(BASE + (this.t + m.wallOffset) * 1000);
  }
  private get all(): Machine[] {
    return [this.hosts.primary, this.hosts.standby, ...this.ws];
  }
  private byName(n: string): Machine | undefined {
    return this.all.find((m) => m.name === n);
  }
  /** A packet from a to b arrives. */
  can(a: Machine, b: Machine): boolean {
    return a.alive && b.alive && !this.cuts.has(`${a.name}>${b.name}`);
  }
  /** A connection (SSH, TCP) from a to b works: both directions. */
  rpc(a: Machine, b: Machine): boolean {
    return this.can(a, b) && this.can(b, a);
  }
  private say(m: string): void {
    this.log.push(`t=${this.t} ${m}`);
  }
  private violate(m: string): void {
    this.violations.push(`t=${this.t} ${m}\n${this.log.slice(-25).join('\n')}`);
  }

  /** The properties, checked after every second and every effect. */
  invariants(where: string): void {
    const [p, s] = [this.hosts.primary, this.hosts.standby];
    const lp = permitLeft(p.permit, this.stamp(p));
    const ls = permitLeft(s.permit, this.stamp(s));
    if (lp.live && ls.live && p.alive && s.alive) this.violate(`${where}: two live permits (${lp.why}; ${ls.why})`);
    if (p.running && s.running) this.violate(`${where}: two gateways running`);
    // The guard's promise (src/fencing/rule.ts fenceLead): its gateway is gone before its permit ends.
    for (const [h, l] of [
      [p, lp],
      [s, ls],
    ] as const)
      if (h.alive && h.running && !l.live)
        this.violate(`${where}: ${h.name}'s gateway runs past its permit (${l.why})`);
  }

  // --- the guard on each host (`guard --watch` from cron: a run every guard.interval in its minute) ---
  private guardTick(h: Host): void {
    const peer = this.hosts[otherOf(h.role)];
    // The tick is when the run reads its stamp, after its observation (GUARD_OBSERVE at most).
    const permit = permitLeft(h.permit, this.stamp(h));
    const plan = decideGuard(this.cfg.guard, {
      self: h.name,
      peer: peer.name,
      permit,
      lead: fenceLead(this.cfg),
      peerAnswers: this.rpc(h, peer),
      peerDetail: '',
      running: h.running,
      runningDetail: '',
    });
    if (plan.action === 'stop' && h.running && h.stopAt === null) {
      // How long the stop really takes (the world's physics): the gateway's own stop, up to a
      // systemd TimeoutStopSec of 90 s and more when slow, cut by the guard's fence (src/guard/index.ts
      // fenceLocal: each method under `timeout -k`, then SIGKILL) at FENCE_BUDGET.
      const natural = Math.ceil(120 * this.stopFrac);
      const budget = this.o.noKill ? Infinity : FENCE_BUDGET;
      h.stopAt = this.t + Math.max(0, Math.min(natural, budget));
      this.say(`guard ${h.name}: stop (done at ${h.stopAt}): ${plan.reason}`);
    }
  }

  /** The guard's next run: every interval inside the cron minute; the next minute's first after node's start. */
  private nextGuardTick(h: Host): number {
    const every = this.cfg.guard.interval;
    const next = this.t + every + GUARD_OBSERVE;
    if (next - GUARD_OBSERVE - h.minute <= 60 - every) return next;
    while (h.minute + 60 <= this.t) h.minute += 60;
    h.minute += 60;
    return Math.max(next, h.minute + START_SLACK + GUARD_OBSERVE);
  }

  advance(dt: number): void {
    for (let i = 0; i < dt; i++) {
      this.t += 1;
      for (const h of ROLES.map((r) => this.hosts[r])) {
        if (h.stopAt !== null && this.t >= h.stopAt) {
          h.running = false;
          h.stopAt = null;
          this.say(`${h.name}: gateway stopped by its guard`);
        }
        if (h.alive && this.t >= h.nextTick) {
          this.guardTick(h);
          h.nextTick = this.nextGuardTick(h);
        }
      }
      this.invariants('advance');
    }
  }

  /** The records a run starts from; a leader also folds in the grants an earlier leader left pending. */
  private pull(w: Witness, leading?: boolean | 'no-quorum'): any {
    const state = structuredClone(this.o.etcd ? this.shared : w.local);
    const pending = Object.values(this.pend);
    if (this.o.etcd && leading === true && pending.length)
      state.permits = withPending(state.permits, pending, grantLand(this.cfg.thresholds), this.stamp(w));
    return state;
  }
  private save(w: Witness, state: any, leading: boolean | undefined): void {
    if (this.o.etcd && leading) {
      this.shared = structuredClone(state);
      this.pend = {}; // cleared once the leader's state is shared
    }
    w.local = structuredClone(state);
  }
  /** A leader records the grant in etcd before it sends it (src/coordination share). */
  private share(role: Role, token: number, leading: boolean | undefined): void {
    if (this.o.etcd && leading && !this.o.noPending) this.pend[role] = { role, token, lease: this.cfg.guard.lease };
  }
  /** The run's authority: undefined with one witness and no etcd; else the lead (only with quorum). */
  private lead(w: Witness, lead: boolean): boolean | undefined | 'no-quorum' {
    if (!this.o.etcd) return undefined;
    if (!w.quorum) return 'no-quorum';
    return lead;
  }

  private pendingAt(here: { boot: string; uptime: number }) {
    const t = this.cfg.thresholds;
    return { ...here, uptime: here.uptime + t.commandTimeout + t.connectTimeout + 1 };
  }

  /** A grant landing on a host: the token only grows there; the host's own stamp. */
  private land(h: Host, token: number, by: string): number {
    const tok = Math.max(token, (h.permit?.token ?? 0) + 1);
    const s = this.stamp(h);
    h.permit = { token: tok, lease: this.cfg.guard.lease, boot: s.boot, uptime: s.uptime, by };
    return tok;
  }

  // --- the witness's check (src/failover/index.ts checkPair, observe.ts Prober) ---
  check(wi: number, lead: boolean, kill: number): void {
    const w = this.ws[wi % this.ws.length]!;
    if (!w.alive) return;
    const leading = this.lead(w, lead);
    if (leading === 'no-quorum') return;
    const state = this.pull(w, leading);
    const here = this.stamp(w);
    const now = this.wall(w);
    const serving: Role = state.serving;
    const idle = otherOf(serving);
    const obs: any = {};
    for (const r of ROLES) {
      const h = this.hosts[r];
      const reach = this.rpc(w, h);
      obs[r] = {
        status: reach ? (h.running ? 'healthy' : 'gateway-down') : 'unreachable',
        detail: '',
        confirmed: true,
      };
    }
    if (mayGrant(leading)) {
      const grants = decidingGrants(state.permits, w.journal, this.cfg.guard.lease, here).grants;
      const idleOver = startAllowed(recorded(grants[idle]), here, false).ok;
      const ih = this.hosts[idle];
      const sh = this.hosts[serving];
      // src/failover/observe.ts Prober.permit: an unfinished move's launch on the idle side.
      const keepIdle = this.intent?.role === idle;
      const held = permitLeft(ih.permit, this.stamp(ih));
      let revokedNow = false;
      if (this.rpc(w, ih) && !ih.running && !keepIdle) {
        ih.permit = null;
        revokedNow = true;
        obs[idle].permitRevoked = true;
      }
      const grant = (role: Role, h: Host, onlyLive = false): boolean => {
        const token = nextToken(grants);
        w.journal = { ...w.journal, [role]: recordGrant(token, this.cfg.guard.lease, this.pendingAt(here)) };
        this.share(role, token, leading);
        if (kill === 0) {
          this.say(`check ${w.name}: killed before the grant`);
          return false;
        }
        // An extension (src/guard/remote.ts grantScript onlyLive): the host refuses it unless it holds a
        // live permit as it lands. Recorded like any attempt, before it was sent.
        if (onlyLive && !permitLeft(h.permit, this.stamp(h)).live) {
          this.say(`check ${w.name}: ${h.name} refused the extension (no live permit)`);
          return true;
        }
        const tok = this.land(h, token, w.name);
        this.say(`check ${w.name}: granted ${h.name} token ${tok}${role === idle ? ' (the launch kept)' : ''}`);
        if (kill === 1) {
          this.say(`check ${w.name}: killed after the grant landed`);
          return false;
        }
        const g = recordGrant(tok, this.cfg.guard.lease, this.stamp(w));
        w.journal = { ...w.journal, [role]: g };
        obs[role].permit = g;
        return true;
      };
      const servingAnswers = this.rpc(w, sh) && sh.running;
      const it = this.intent?.token;
      const mine = grants[idle]?.token;
      const launch =
        keepIdle && it !== undefined && held.live && (held.token === it || (held.token > it && held.token === mine));
      if (!idleOver && this.rpc(w, ih) && ih.running && !servingAnswers && held.live) {
        // A live permit it has no record of (its state lost): extended only (observe.ts Prober.permit).
        if (!grant(idle, ih, !launch)) return;
      }
      if (this.rpc(w, sh)) {
        if (!grant(serving, sh, !renewAllowed(idleOver, revokedNow))) return;
      }
    }
    // The second view: the idle host probes the serving host's gateway across the LAN.
    const [sh, ih] = [this.hosts[serving], this.hosts[idle]];
    if (obs[serving].status === 'unreachable' && obs[idle].status !== 'unreachable')
      obs[serving].seenBy = { role: idle, serving: this.rpc(ih, sh) && sh.running && !this.loopback, detail: '' };
    if (kill === 2) return this.say(`check ${w.name}: killed before saving`);
    const checked = foldCheck(this.cfg, state, obs, now);
    const viewed = foldWitnessView(this.cfg, checked.state, obs, checked.assessment, now);
    const next = {
      ...viewed.state,
      permits: decidingGrants(viewed.state.permits, w.journal, this.cfg.guard.lease, here).grants,
    };
    this.save(w, next, leading);
  }

  // --- failover --auto (src/failover/index.ts movePair, run.ts Runner, permits.ts) ---
  failover(wi: number, lead: boolean, kill: number): void {
    const w = this.ws[wi % this.ws.length]!;
    if (!w.alive) return;
    const leading = this.lead(w, lead);
    if (leading === 'no-quorum' || leading === false) return; // an acting command needs the lead
    let state = this.pull(w, leading);
    const here = this.stamp(w);
    state.permits = decidingGrants(state.permits, w.journal, this.cfg.guard.lease, here).grants;
    const now = this.wall(w);
    const d: any = decideFailover(this.rules, state, { auto: true, who: 'cron' }, now, undefined, here);
    if (!d.act) return this.save(w, state, leading);
    this.say(`failover ${w.name}: ${d.plan.kind}: ${d.plan.reason}`);
    const changes: any = {};
    const grants = state.permits;
    const outcomes: any[] = [];
    let ok = true;
    for (const [i, step] of d.plan.steps.entries()) {
      // Written before each step (src/coordination intentStep): the side a start or verify is on.
      if (this.o.etcd && leading)
        this.intent = ['start', 'verify'].includes(step.op)
          ? { role: step.role, ...(this.intent?.role === step.role ? { token: this.intent.token } : {}) }
          : null;
      if (i >= kill) return this.say(`failover ${w.name}: killed before step ${i} (${step.op})`);
      const h = 'role' in step && step.role ? this.hosts[step.role as Role] : undefined;
      let done = true;
      if (step.op === 'preflight') done = this.rpc(w, h!);
      else if (step.op === 'fence' || step.op === 'stop') {
        if (this.rpc(w, h!)) {
          h!.permit = null;
          h!.running = false;
          h!.stopAt = null;
          changes[step.role] = { ...(grants[step.role] ?? { token: 0, lease: 0, by: '', at: 0 }), revoked: true };
        } else if (step.unreachable === 'left') {
          done = true; // left to its guard: the run starts nothing (an adoption)
        } else if (step.unreachable === 'stopped') {
          const v = startAllowed(recorded(grants[step.role]), this.stamp(w), false);
          if (!v.ok && Number.isFinite(v.left)) {
            this.advance(Math.ceil(v.left)); // the runner sleeps it out (bounded)
            done = startAllowed(recorded(grants[step.role]), this.stamp(w), false).ok;
          } else done = v.ok;
        } else done = false;
      } else if (step.op === 'start') {
        done = this.start(w, step.role, grants, changes, leading);
      } else if (step.op === 'verify') done = this.rpc(w, h!) && h!.running;
      outcomes.push({ op: step.op, ok: done, ms: 0, role: step.role });
      if (!done && step.onFail !== 'continue') {
        ok = false;
        break;
      }
    }
    const fold = foldMove(
      this.cfg,
      state,
      d.plan,
      { ok, outcomes, failed: ok ? undefined : outcomes.at(-1) },
      now,
      now,
    );
    state = { ...fold.state, permits: { ...(fold.state.permits ?? {}), ...changes } };
    for (const [r, g] of Object.entries(changes)) w.journal = { ...w.journal, [r]: g };
    this.say(`failover ${w.name}: ${ok ? 'done' : 'failed'}; serving ${state.serving}`);
    if (this.o.etcd && leading) this.intent = null; // the run ended: its intent is cleared
    this.save(w, state, leading);
  }

  /** The start step: the other side's grant over, a permit granted, checked live, then the start. */
  private start(w: Witness, role: Role, grants: any, changes: any, leading: boolean | undefined): boolean {
    const h = this.hosts[role];
    const other = otherOf(role);
    const all = { ...grants, ...changes };
    const v = startAllowed(changes[other] ?? recorded(grants[other]), this.stamp(w), false);
    if (!v.ok || !this.rpc(w, h)) return false;
    const token = nextToken(all);
    this.share(role, token, leading);
    w.journal = { ...w.journal, [role]: recordGrant(token, this.cfg.guard.lease, this.pendingAt(this.stamp(w))) };
    const tok = this.land(h, token, w.name);
    if (this.o.etcd && leading && this.intent?.role === role) this.intent.token = tok; // before the launch
    changes[role] = recordGrant(tok, this.cfg.guard.lease, this.stamp(w));
    w.journal = { ...w.journal, [role]: changes[role] };
    this.invariants('grant before start');
    const p = permitLeft(h.permit, this.stamp(h));
    if (!p.live || p.token !== tok) return false;
    const o = this.hosts[other];
    if (permitLeft(o.permit, this.stamp(o)).live && o.alive)
      this.violate(`start of ${h.name} while ${o.name}'s permit is live and not confirmed stopped`);
    h.running = true;
    this.say(`failover ${w.name}: started ${h.name} with token ${tok}`);
    this.invariants('start');
    return true;
  }

  apply(a: Action): void {
    const n = this.ws.length;
    switch (a.k) {
      case 'advance':
        return this.advance(a.dt);
      case 'sever': // both directions
        this.apply({ k: 'cut', from: a.from, to: a.to });
        return this.apply({ k: 'cut', from: a.to, to: a.from });
      case 'cut':
      case 'heal': {
        if (!this.byName(a.from) || !this.byName(a.to) || a.from === a.to) return;
        if (a.k === 'cut') this.cuts.add(`${a.from}>${a.to}`);
        else this.cuts.delete(`${a.from}>${a.to}`);
        return this.say(`${a.k} ${a.from}>${a.to}`);
      }
      case 'check':
        return this.check(a.w, a.lead, a.kill);
      case 'failover':
        return this.failover(a.w, a.lead, a.kill);
      case 'cycle': // the witness's cron line: check, then failover --auto, as the leader
        this.check(a.w, true, 9);
        this.failover(a.w, true, a.kill);
        return this.advance(5);
      case 'witness-down':
        this.ws[a.w % n]!.alive = false;
        return this.say(`W${a.w % n} down`);
      case 'witness-up':
      case 'witness-replace': {
        const w = this.ws[a.w % n]!;
        if (w.alive && a.k === 'witness-up') return;
        Object.assign(w, { alive: true, boot: `${w.name}-boot-${this.seq++}`, bootAt: this.t });
        if (a.k === 'witness-replace') Object.assign(w, { journal: {}, local: initialState(this.wall(w)) });
        return this.say(`${w.name} ${a.k === 'witness-up' ? 'rebooted' : 'replaced'}`);
      }
      case 'quorum':
        this.ws[a.w % n]!.quorum = !this.ws[a.w % n]!.quorum;
        return;
      case 'host-down': {
        const h = this.hosts[a.h];
        Object.assign(h, { alive: false, running: false, stopAt: null });
        return this.say(`${h.name} down (kill -9 of the host)`);
      }
      case 'host-up': {
        const h = this.hosts[a.h];
        if (h.alive) return;
        Object.assign(h, {
          alive: true,
          boot: `${h.name}-boot-${this.seq++}`,
          bootAt: this.t,
          nextTick: this.t + 1,
          minute: this.t,
        });
        return this.say(`${h.name} rebooted`);
      }
      case 'clock': {
        const m = this.byName(a.m);
        if (m) m.wallOffset += a.d;
        return this.say(`${a.m}'s wall clock stepped ${a.d} s`);
      }
      case 'rebuild': {
        const w = this.ws[a.w % n]!;
        const st = { ...initialState(this.wall(w)), rebuiltAt: this.wall(w).toISOString(), rebuiltFrom: 'x' };
        if (this.o.etcd) this.shared = st;
        w.local = st;
        return this.say(`${w.name}: state.json rebuilt`);
      }
      case 'loopback':
        this.loopback = !this.loopback;
        return;
      case 'stopSpeed':
        this.stopFrac = a.f;
        return;
    }
  }
}
