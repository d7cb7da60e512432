// Carries out a plan (plan.ts) through the adapters and returns what each step did. It decides
// nothing: the order, the fallbacks and the rollback are in the plan; the serving permits' effects
// are in permits.ts. Configured waits (settle, polling) are counted apart from hactl's own time.
// Longer than 300 lines because each step's adapter calls and their failure words sit together here.
import type { Config, Method, Role } from '../config/types.js';
import type { Clock } from '../adapters/clock.js';
import { sleep } from '../adapters/clock.js';
import { Gateway } from '../adapters/gateway.js';
import { SshError, type SshSession } from '../adapters/ssh.js';
import type { MethodRun, Outcome, Plan, RunResult, Step } from '../core/model.js';
import { isReachable, label } from '../core/model.js';
import { describeStep } from './describe.js';
import { openSession } from './observe.js';
import {
  beforeStart,
  markRevoked,
  permitEndsIn,
  permittedNow,
  revokeBefore,
  revokeIfGone,
  unconfirmed,
} from './permits.js';
import type { RunFencing } from './permits.js';

export interface RunIO {
  progress(msg: string): void;
  detail(msg: string): void;
  /** Aborted: this run may no longer act (the etcd lead was lost); no further step starts, no rollback. */
  signal?: AbortSignal;
  /** Records the step about to run (etcd's intent, issue 21 item 10); false: it may not run. */
  step?: (s: StepMark) => Promise<boolean>;
}

/** The step a run is about to carry out (its index in the plan), and the permit token of its start. */
export interface StepMark {
  i: number;
  op: string;
  role?: Role;
  kind?: string;
  token?: number;
}

/** The memory steps are carried out by the memory domain. */
export type MemoryStep = (
  step: Extract<Step, { op: 'sync-last-chance' | 'sync-back' }>,
) => Promise<{ ok: boolean; detail: string }>;

/** The PostgreSQL steps are carried out by the postgres domain. */
export type PostgresStep = (action: Extract<Step, { op: 'postgres' }>['action']) => Promise<Done>;

type Done = Omit<Outcome, 'ms' | 'op'>;
const isDown = (e: unknown): e is SshError =>
  e instanceof SshError && (e.kind === 'unreachable' || e.kind === 'ssh-timeout');

export class Runner {
  private sessions = new Map<Role, Promise<SshSession>>();
  private memoryLock: Awaited<ReturnType<typeof beforeStart>>['lock'];
  /** The plan's cause: a host the last check could not reach is not waited for past its permit's end. */
  private unreached = false;
  /** Sides that passed their fence by their permit's end (their guard fenced them): no blind settle. */
  private byPermit = new Set<Role>();
  constructor(
    private readonly config: Config,
    private readonly io: RunIO,
    private readonly clock: Clock,
    private readonly memory: MemoryStep,
    private readonly postgres: PostgresStep,
    private readonly fencing?: RunFencing,
  ) {}

  /** One SSH session per role, opened once (a failed open stays failed for this run: no second wait). */
  private session(role: Role): Promise<SshSession> {
    let s = this.sessions.get(role);
    if (!s) {
      s = openSession(this.config, this.config.hosts[this.config.pair[role]]!);
      this.sessions.set(role, s);
      s.catch(() => undefined); // handled where it is awaited
    }
    return s;
  }

  private async gateway(role: Role): Promise<Gateway> {
    const gw = this.config.hosts[this.config.pair[role]]!.gateway;
    return new Gateway(await this.session(role), gw, this.config.thresholds, this.clock);
  }

  async close(): Promise<void> {
    this.memoryLock?.release();
    this.memoryLock = undefined;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.close()).catch(() => undefined)));
  }

  /** Runs the plan; on a failure whose onFail is 'rollback', runs the plan's rollback. */
  async run(plan: Plan): Promise<RunResult> {
    // Open the sessions the plan needs in parallel, ahead of its steps (errors surface in the step).
    if (!this.io.signal?.aborted)
      for (const st of plan.steps) if ('role' in st && st.role) this.session(st.role).catch(() => undefined);
    this.unreached = plan.cause !== 'by hand' && !isReachable(plan.cause);
    const main = await this.sequence(plan.steps, true);
    if (main.ok || main.failed?.policy !== 'rollback' || !plan.rollback.length || this.io.signal?.aborted) {
      return { ok: main.ok, outcomes: main.outcomes, failed: main.failed?.outcome, gapMs: main.gapMs };
    }
    this.io.progress('rolling back');
    const rb = await this.sequence(plan.rollback);
    return {
      ok: false,
      outcomes: main.outcomes,
      failed: main.failed.outcome,
      rollback: rb.outcomes,
      gapMs: main.gapMs,
    };
  }

  private at = 0;
  private async sequence(steps: Step[], main = false) {
    const outcomes: Outcome[] = [];
    let stoppedAt: number | undefined;
    let gapMs: number | undefined;
    for (const [i, step] of steps.entries()) {
      const role = 'role' in step ? step.role : undefined;
      this.at = i;
      const unmarked = main && this.io.step && !(await this.io.step({ i, op: step.op, role }));
      if (this.io.signal?.aborted || unmarked) {
        const why = unmarked ? 'its step could not be recorded in etcd first' : String(this.io.signal!.reason);
        const o: Outcome = { op: step.op, ok: false, detail: `not started: ${why}`, ms: 0 };
        outcomes.push(o);
        return { ok: false, outcomes, failed: { outcome: o, policy: 'abort' as const }, gapMs };
      }
      this.io.detail(`- ${describeStep(this.config, step)}`);
      const t0 = this.clock.ms();
      let r: Done;
      try {
        r = await this.step(step);
      } catch (e) {
        const msg = e instanceof SshError ? `${e.kind}: ${e.message}` : (e as Error).message;
        r = {
          ok: false,
          detail: msg,
          role: 'role' in step ? step.role : undefined,
          unreachable: isDown(e) || undefined,
        };
      }
      const o: Outcome = { op: step.op, ...r, ms: Math.round(this.clock.ms() - t0) };
      if ((step.op === 'fence' || step.op === 'stop') && o.ok) stoppedAt = this.clock.ms();
      if (step.op === 'start' && o.ok && stoppedAt !== undefined) gapMs = Math.round(this.clock.ms() - stoppedAt);
      outcomes.push(o);
      this.io.detail(`    ${o.ok ? 'ok' : 'FAILED'} (${(o.ms / 1000).toFixed(1)} s): ${o.detail}`);
      // A host that does not answer passes where the plan says so (its memory is then alerted as lost).
      const passes =
        step.onFail === 'continue' || (o.unreachable && step.op === 'sync-back' && step.unreachable === 'continue');
      if (!o.ok && !passes) return { ok: false, outcomes, failed: { outcome: o, policy: step.onFail }, gapMs };
    }
    return { ok: true, outcomes, gapMs };
  }

  private async step(step: Step): Promise<Done> {
    switch (step.op) {
      case 'preflight': {
        const r = await (await this.gateway(step.role)).preflight();
        return { ...r, role: step.role };
      }
      case 'fence':
      case 'stop':
        return this.fence(step);
      case 'settle':
        return this.settle(step);
      case 'start': {
        const r = await this.start(step);
        const on = { gateway: () => this.gateway(step.role), session: () => this.session(step.role) };
        if (!r.ok) await revokeIfGone(this.config, this.fencing, step.role, on);
        return r;
      }
      case 'verify': {
        // The independent re-check of the probe alone, on the recorded side, right before it is recorded.
        const r = await (await this.gateway(step.role)).probe();
        return { ok: r.healthy, role: step.role, detail: r.detail };
      }
      case 'record':
        return { ok: true, detail: `${step.serving} recorded as serving` };
      case 'sync-back':
        if (step.unreachable === 'continue') {
          // The plan goes on without the memory of a host that does not answer: say so.
          const down = await this.session(step.from).then(
            () => undefined,
            (e: unknown) => (isDown(e) ? e : undefined),
          );
          if (down)
            return { ok: false, unreachable: true, role: step.from, detail: `not synced back: ${down.message}` };
        }
        return this.memory(step);
      case 'sync-last-chance':
        return this.memory(step);
      case 'postgres':
        return this.postgres(step.action);
    }
  }

  private async fence(step: Extract<Step, { op: 'fence' | 'stop' }>): Promise<Done> {
    const role = step.role;
    const passes = async (why: string): Promise<Done> => {
      const r = await unconfirmed(this.config, this.fencing, role, why, this.io);
      if (r.ok && this.fencing) this.byPermit.add(role);
      return r;
    };
    if (step.unreachable === 'stopped' && (await this.answersBeforePermitEnds(role)) === false)
      return passes(`host does not answer yet (the last check could not reach it), and its permit is over`);
    let gw: Gateway;
    try {
      gw = await this.gateway(role);
    } catch (e) {
      if (isDown(e) && step.unreachable === 'stopped') return passes(`host does not answer (${e.kind})`);
      if (isDown(e) && step.unreachable === 'left') {
        const left = 'left to its guard, whose permit no check renews now';
        return { ok: true, role, unreachable: true, detail: `not fenced: host does not answer (${e.kind}); ${left}` };
      }
      throw e;
    }
    const revoked = this.fencing ? await revokeBefore(this.config, this.fencing, await this.session(role)) : '';
    const r = await this.stopGateway(gw);
    if (r.ok) markRevoked(this.fencing, role);
    return { ...r, detail: `${r.detail}${revoked}`, role };
  }

  /**
   * A host the last check could not reach, under the permit rule: whether its session opens (or
   * fails) before its permit is over by this witness's clock (true), or not (false): its guard
   * fenced it before that end, so the fence need not sit out connectTimeout for a host that is gone
   * (a dead host's connect costs the whole timeout, in series after the wait). Undefined: no race
   * (no permits, a host that answered at the last check, a permit that cannot be dated).
   */
  private async answersBeforePermitEnds(role: Role): Promise<boolean | undefined> {
    if (!this.unreached) return undefined;
    const left = permitEndsIn(this.config, this.fencing, role);
    if (left === null) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const ended = new Promise<false>((r) => (timer = setTimeout(() => r(false), left * 1000)));
    const settled = this.session(role).then(
      () => true as const,
      () => true as const,
    );
    try {
      return await Promise.race([settled, ended]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stop methods in order until the gateway's process is gone, whatever its HTTP answer
   * (a gateway that accepts and never answers still polls Telegram).
   */
  private async stopGateway(gw: Gateway): Promise<{ ok: boolean; detail: string; waitMs: number }> {
    const t = this.config.thresholds;
    const tried: string[] = [];
    let waitMs = 0;
    const first = await gw.gone();
    if (first.gone)
      return { ok: true, detail: 'gateway was not running (no process on its port, no run of hactl)', waitMs };
    for (const m of gw.gw.stop) {
      const r = await gw.runMethod(m, t.stopDeadline);
      tried.push(r.detail);
      if (r.absent) continue; // nothing ran: nothing to wait for
      const w = await gw.waitGone(r.ok ? t.stopDeadline : 0.01);
      waitMs += w.ms;
      if (w.gone) return { ok: true, detail: `stopped by ${m.name}, verified gone [${tried.join('; ')}]`, waitMs };
    }
    const still = await gw.gone();
    return {
      ok: false,
      detail: `cannot stop the gateway: ${still.detail} after every stop method [${tried.join('; ')}]`,
      waitMs,
    };
  }

  /**
   * Settle: from the moment the stopped side's gateway process is seen gone and its port free,
   * bounded by the configured seconds. A side that cannot be observed (its host does not
   * answer) is given the whole bound.
   */
  private async settle(step: Extract<Step, { op: 'settle' }>): Promise<Done> {
    const bound = step.seconds;
    const t0 = this.clock.ms();
    const waited = (): number => Math.round(this.clock.ms() - t0);
    const full = async (why: string): Promise<Done> => {
      await sleep(Math.max(0, bound * 1000 - waited()));
      return { ok: true, detail: `waited the whole ${bound} s: ${why}`, waitMs: waited() };
    };
    if (step.role === undefined) return full('no side to watch');
    if (this.byPermit.has(step.role)) {
      // Its permit is over: its guard stopped its gateway and saw it gone and its port free before
      // that end (src/fencing/rule.ts fenceLead), which is what settle waits for. A blind sleep
      // here only delayed the start (docs/partitions.md "RTO timeline").
      const L = label(this.config, step.role);
      const detail = `${L} passed by its permit's end: its guard saw its gateway gone before that end`;
      return { ok: true, detail, waitMs: 0 };
    }
    let gw: Gateway;
    try {
      gw = await this.gateway(step.role);
    } catch (e) {
      if (isDown(e)) return full(`${label(this.config, step.role)} cannot be observed (${e.kind})`);
      throw e;
    }
    const L = label(this.config, step.role);
    let g: { gone: boolean; detail: string };
    try {
      g = await gw.waitGone(bound);
    } catch (e) {
      return full(`${L} cannot be observed (${e instanceof SshError ? e.kind : (e as Error).message})`);
    }
    const s = (waited() / 1000).toFixed(1);
    if (g.gone) {
      const detail = `${L}'s gateway gone and port ${gw.gw.port} free after ${s} s (bound ${bound} s)`;
      return { ok: true, detail, waitMs: waited() };
    }
    // Verified gone by the stop, running again now (a supervisor restarted it?): never two pollers.
    return {
      ok: false,
      role: step.role,
      detail: `${L}'s gateway is back after its stop: ${g.detail}`,
      waitMs: waited(),
    };
  }

  /**
   * A gateway already on the host about to start (an earlier leader's launch, its run killed or cut
   * off from etcd mid-failover: issue 21 item 10) is never launched a second time, and no readiness
   * is read as this run's own: it serves on only under the live permit this run granted (`token`),
   * once ready; else it is stopped and the start methods run. Null: nothing there.
   */
  private async adopt(
    gw: Gateway,
    role: Role,
    token: number | undefined,
  ): Promise<(Done & { final?: boolean }) | null> {
    const present = await gw.gone();
    if (present.gone) return null;
    const L = label(this.config, role);
    const denied = token === undefined ? null : await permittedNow(this.config, await this.session(role), token);
    if (denied) return { ok: false, role, final: true, detail: `${L} not started: a gateway runs there; ${denied}` };
    const ready = await gw.waitReady(this.config.thresholds.verifyDeadline, false);
    const under = token === undefined ? '' : ` under this run's permit ${token}`;
    if (ready.healthy)
      return {
        ok: true,
        role,
        waitMs: ready.ms,
        detail: `not launched again: a gateway was already running (${present.detail}), ready${under}`,
      };
    const stopped = await this.stopGateway(gw);
    const detail = `a gateway already running was not ready (${ready.detail}): ${stopped.detail}`;
    return { ok: false, role, final: !stopped.ok, waitMs: ready.ms + stopped.waitMs, detail };
  }

  /** The plan's start methods in order; a method counts only when the gateway then reports started and ready. */
  private async start(step: Extract<Step, { op: 'start' }>): Promise<Done> {
    const t = this.config.thresholds;
    const role = step.role;
    const gw = await this.gateway(role);
    const tried: string[] = [];
    const methods: MethodRun[] = [];
    let waitMs = 0;
    const L = label(this.config, role);
    const fail = (detail: string): Done => ({
      ok: false,
      role,
      detail: `${detail} [${tried.join('; ')}]`,
      waitMs,
      methods,
    });
    // The memory domain, then the permit: no push lands here once it starts (src/failover/permits.ts).
    const io = { progress: (m: string) => this.io.progress(m), ms: () => this.clock.ms() };
    const pre = await beforeStart(this.config, this.fencing, role, () => this.session(role), io, this.memoryLock);
    this.memoryLock ??= pre.lock;
    if (pre.error) return fail(`${L} not started: ${pre.error}`);
    if (
      pre.token !== undefined &&
      this.io.step &&
      !(await this.io.step({ i: this.at, op: 'start', role, token: pre.token }))
    )
      return fail(`${L} not started: its permit's token could not be recorded in etcd first`);
    const adopted = await this.adopt(gw, role, pre.token);
    if (adopted) {
      const { final, ...r } = adopted;
      waitMs += r.waitMs ?? 0;
      if (r.ok || final) return { ...r, waitMs, methods };
      tried.push(r.detail);
    }
    for (const name of step.methods) {
      const m = gw.gw.start.find((x) => x.name === name) as Method;
      const denied =
        pre.token === undefined ? null : await permittedNow(this.config, await this.session(role), pre.token);
      if (denied) return fail(`${L} not started: ${denied}`);
      this.io.progress(`${L}: start method ${m.name}`);
      const m0 = this.clock.ms();
      const r = await gw.runMethod(m);
      methods.push({ name: m.name, ok: r.ok, ms: Math.round(this.clock.ms() - m0), ...(r.absent && { absent: true }) });
      if (!r.ok) {
        tried.push(r.detail);
        continue;
      }
      this.io.progress(`${L}: waiting up to ${t.verifyDeadline} s for started and ready`);
      const ready = await gw.waitReady(t.verifyDeadline, !!m.detached);
      waitMs += ready.ms;
      if (ready.healthy) {
        const before = tried.length ? ` [${tried.join('; ')}]` : '';
        const detail = `started by ${m.name}, ready after ${(ready.ms / 1000).toFixed(1)} s${before}`;
        return { ok: true, role, detail, waitMs, methods };
      }
      methods[methods.length - 1]!.ok = false;
      tried.push(`${m.name}: ${ready.detail}`);
      // step.missed is 'stop-then-next': what this method started must be gone before the next.
      this.io.progress(`${L}: ${m.name} missed the deadline; stopping what it started`);
      const stopped = await this.stopGateway(gw);
      waitMs += stopped.waitMs;
      tried.push(`stopped after ${m.name}: ${stopped.detail}`);
      if (!stopped.ok)
        return fail(`${m.name} started but is not ready and could not be stopped: not trying another method`);
    }
    return fail('no start method worked');
  }
}
