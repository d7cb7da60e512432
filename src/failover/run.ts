// Carries out a plan (plan.ts) through the adapters and returns what each step
// did. It decides nothing: the order, the fallbacks and the rollback are in the
// plan. Configured waits (settle, polling) are counted apart from hactl's own time.
import type { Config, Method, Role } from '../config/types.js';
import type { Clock } from '../adapters/clock.js';
import { sleep } from '../adapters/clock.js';
import { Gateway } from '../adapters/gateway.js';
import { SshError, type SshSession } from '../adapters/ssh.js';
import type { MethodRun, Outcome, Plan, RunResult, Step } from '../core/model.js';
import { label } from '../core/model.js';
import { describeStep } from './plan.js';
import { openSession } from './observe.js';

export interface RunIO {
  progress(msg: string): void;
  detail(msg: string): void;
}

/** The memory steps are carried out by the memory domain. */
export type MemoryStep = (
  step: Extract<Step, { op: 'sync-last-chance' | 'sync-back' }>,
) => Promise<{ ok: boolean; detail: string }>;

type Done = Omit<Outcome, 'ms' | 'op'>;
const isDown = (e: unknown): e is SshError =>
  e instanceof SshError && (e.kind === 'unreachable' || e.kind === 'ssh-timeout');

export class Runner {
  private sessions = new Map<Role, Promise<SshSession>>();
  constructor(
    private readonly config: Config,
    private readonly io: RunIO,
    private readonly clock: Clock,
    private readonly memory: MemoryStep,
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
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (s) => s.close(),
          () => undefined,
        ),
      ),
    );
  }

  /** Runs the plan; on a failure whose onFail is 'rollback', runs the plan's rollback. */
  async run(plan: Plan): Promise<RunResult> {
    // Open the sessions the plan needs in parallel, ahead of its steps (errors surface in the step).
    for (const st of plan.steps) if ('role' in st) this.session(st.role).catch(() => undefined);
    const main = await this.sequence(plan.steps);
    if (main.ok || main.failed?.policy !== 'rollback' || !plan.rollback.length) {
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

  private async sequence(steps: Step[]) {
    const outcomes: Outcome[] = [];
    let stoppedAt: number | undefined;
    let gapMs: number | undefined;
    for (const step of steps) {
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
      if (!o.ok && step.onFail !== 'continue')
        return { ok: false, outcomes, failed: { outcome: o, policy: step.onFail }, gapMs };
    }
    return { ok: true, outcomes, gapMs };
  }

  private async step(step: Step): Promise<Done> {
    switch (step.op) {
      case 'preflight':
        return { ok: true, role: step.role, detail: 'preflight not implemented' };
      case 'fence':
      case 'stop':
        return this.fence(step);
      case 'settle':
        await sleep(step.seconds * 1000);
        return { ok: true, detail: `waited ${step.seconds} s`, waitMs: step.seconds * 1000 };
      case 'start':
        return this.start(step);
      case 'verify': {
        // The start step already waited for `started` and the probe; this is the independent
        // re-check of the probe alone, on the recorded side, right before it is recorded.
        const r = await (await this.gateway(step.role)).probe();
        return { ok: r.healthy, role: step.role, detail: r.detail };
      }
      case 'record':
        return { ok: true, detail: `${step.serving} recorded as serving` };
      case 'sync-last-chance':
      case 'sync-back':
        return this.memory(step);
    }
  }

  private async fence(step: Extract<Step, { op: 'fence' | 'stop' }>): Promise<Done> {
    const role = step.role;
    let gw: Gateway;
    try {
      gw = await this.gateway(role);
    } catch (e) {
      if (isDown(e) && step.unreachable === 'stopped') {
        return { ok: true, role, unreachable: true, detail: `not fenced: host does not answer (${e.kind})` };
      }
      throw e;
    }
    const r = await this.stopGateway(gw);
    if (r.ok) return { ok: true, role, detail: r.detail, waitMs: r.waitMs };
    // A gateway that will not stop but no longer serves (wedged, not ready) may pass when the plan says so.
    // One that still serves would make two pollers: never.
    const still = await gw.probe();
    if (still.healthy) {
      return {
        ok: false,
        role,
        waitMs: r.waitMs,
        detail: `cannot stop: its gateway still serves and would not stop (two pollers on one bot token): ${r.detail}`,
      };
    }
    return {
      ok: step.wedged === 'pass',
      role,
      detail: `WARNING: ${r.detail}; it no longer serves (${still.detail})`,
      waitMs: r.waitMs,
    };
  }

  /** Stop methods in order until the gateway no longer answers. */
  private async stopGateway(gw: Gateway): Promise<{ ok: boolean; detail: string; waitMs: number }> {
    const t = this.config.thresholds;
    const tried: string[] = [];
    let waitMs = 0;
    const first = await gw.waitStopped(0.01);
    if (first.stopped) return { ok: true, detail: `gateway was not running (${first.detail})`, waitMs };
    for (const m of gw.gw.stop) {
      const r = await gw.runMethod(m, t.stopDeadline);
      tried.push(r.detail);
      const w = await gw.waitStopped(r.ok ? t.stopDeadline : 0.01);
      waitMs += w.ms;
      if (w.stopped) return { ok: true, detail: `stopped by ${m.name} [${tried.join('; ')}]`, waitMs };
    }
    return { ok: false, detail: `gateway still answers after every stop method [${tried.join('; ')}]`, waitMs };
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
    for (const name of step.methods) {
      const m = gw.gw.start.find((x) => x.name === name) as Method;
      this.io.progress(`${L}: start method ${m.name}`);
      const m0 = this.clock.ms();
      const r = await gw.runMethod(m);
      methods.push({ name: m.name, ok: r.ok, ms: Math.round(this.clock.ms() - m0) });
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
    }
    return { ok: false, role, detail: `no start method worked [${tried.join('; ')}]`, waitMs, methods };
  }
}
