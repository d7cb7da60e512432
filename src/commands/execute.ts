// Carries out the steps of a plan (src/core/decide.ts) with the adapters.
// Each step reports what it did and how long it took; configured waits
// (settle, verify polling) are counted apart from hactl's own time.
import type { Config, Role } from '../config/types.js';
import type { Step } from '../core/model.js';
import { describeStep } from '../core/decide.js';
import { label } from '../core/model.js';
import { detachedExited, probeHealth, runMethod, waitReady, waitStopped } from '../adapters/gateway.js';
import { SshError, type SshSession } from '../adapters/ssh.js';
import type { Reporter } from '../output.js';
import { openSession } from './observe.js';
import { runMemoryStep } from '../memory/steps.js';

export interface StepResult {
  op: Step['op'];
  role?: Role;
  ok: boolean;
  detail: string;
  ms: number;
  waitMs?: number; // part of ms spent in configured waits
  methods?: MethodRun[]; // start/stop methods tried, in order
}

export interface MethodRun {
  name: string;
  ok: boolean;
  ms: number; // the method's own command on the host (not the wait for ready)
}

export interface ExecResult {
  ok: boolean;
  failedStep?: StepResult;
  steps: StepResult[];
  gapMs?: number; // from the old gateway stopped (or fence) to the new one ready
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Executor {
  private sessions = new Map<Role, Promise<SshSession>>();
  constructor(private readonly config: Config, private readonly out: Reporter) {}

  /** One SSH session per role, opened once (a failed open stays failed for this run: no second wait). */
  session(role: Role): Promise<SshSession> {
    let s = this.sessions.get(role);
    if (!s) {
      s = openSession(this.config, this.config.hosts[this.config.pair[role]]!);
      this.sessions.set(role, s);
      s.catch(() => undefined); // handled where it is awaited
    }
    return s;
  }

  /** Opens the sessions a plan needs in parallel, ahead of its steps (errors surface in the step). */
  prefetch(steps: Step[]): void {
    for (const st of steps) if ('role' in st) this.session(st.role).catch(() => undefined);
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.close(), () => undefined)));
  }

  private gw(role: Role) {
    return this.config.hosts[this.config.pair[role]]!.gateway;
  }

  /** Stop methods in order until the gateway no longer answers. */
  async stopGateway(role: Role): Promise<{ ok: boolean; detail: string; waitMs: number }> {
    const t = this.config.thresholds;
    const s = await this.session(role);
    const gw = this.gw(role);
    const tried: string[] = [];
    let waitMs = 0;
    const first = await waitStopped(s, gw, 0.01, t.pollInterval, t.commandTimeout);
    if (first.stopped) return { ok: true, detail: `gateway was not running (${first.detail})`, waitMs };
    for (const m of gw.stop) {
      const r = await runMethod(s, m, gw, t.commandTimeout + t.stopDeadline, t.stopDeadline);
      tried.push(r.detail);
      const w = await waitStopped(s, gw, r.ok ? t.stopDeadline : 0.01, t.pollInterval, t.commandTimeout);
      waitMs += w.ms;
      if (w.stopped) return { ok: true, detail: `stopped by ${m.name} [${tried.join('; ')}]`, waitMs };
    }
    return { ok: false, detail: `gateway still answers after every stop method [${tried.join('; ')}]`, waitMs };
  }

  /** Start methods in order; a method counts only when the gateway then reports started and ready. */
  async startGateway(role: Role): Promise<{ ok: boolean; detail: string; waitMs: number; method?: string; methods: MethodRun[] }> {
    const t = this.config.thresholds;
    const s = await this.session(role);
    const gw = this.gw(role);
    const tried: string[] = [];
    const methods: MethodRun[] = [];
    let waitMs = 0;
    for (const m of gw.start) {
      this.out.progress(`${label(this.config, role)}: start method ${m.name}`);
      const m0 = Date.now();
      const r = await runMethod(s, m, gw, t.commandTimeout, t.stopDeadline);
      methods.push({ name: m.name, ok: r.ok, ms: Date.now() - m0 });
      if (!r.ok) {
        tried.push(r.detail);
        continue;
      }
      this.out.progress(`${label(this.config, role)}: waiting up to ${t.verifyDeadline} s for started and ready`);
      const ready = await waitReady(s, gw, t.verifyDeadline, t.pollInterval, t.commandTimeout, m.detached ? () => detachedExited(s, gw, t.commandTimeout) : undefined);
      waitMs += ready.ms;
      if (ready.healthy) return { ok: true, detail: `started by ${m.name}, ready after ${(ready.ms / 1000).toFixed(1)} s${tried.length ? ` [${tried.join('; ')}]` : ''}`, waitMs, method: m.name, methods };
      methods[methods.length - 1]!.ok = false;
      tried.push(`${m.name}: ${ready.detail}`);
    }
    return { ok: false, detail: `no start method worked [${tried.join('; ')}]`, waitMs, methods };
  }

  async run(steps: Step[], record: (serving: Role) => void): Promise<ExecResult> {
    const results: StepResult[] = [];
    let stoppedAt: number | undefined;
    let gapMs: number | undefined;
    this.prefetch(steps);
    for (const step of steps) {
      this.out.detail(`- ${describeStep(this.config, step)}`);
      const t0 = Date.now();
      let r: Omit<StepResult, 'ms' | 'op'>;
      try {
        r = await this.step(step, record);
      } catch (e) {
        const msg = e instanceof SshError ? `${e.kind}: ${e.message}` : (e as Error).message;
        r = { ok: false, detail: msg, role: 'role' in step ? step.role : undefined };
      }
      const res: StepResult = { op: step.op, ...r, ms: Date.now() - t0 };
      if ((step.op === 'fence' || step.op === 'stop') && res.ok) stoppedAt = Date.now();
      if (step.op === 'start' && res.ok && stoppedAt) gapMs = Date.now() - stoppedAt;
      results.push(res);
      this.out.detail(`    ${res.ok ? 'ok' : 'FAILED'} (${(res.ms / 1000).toFixed(1)} s): ${res.detail}`);
      if (!res.ok) return { ok: false, failedStep: res, steps: results, gapMs };
    }
    return { ok: true, steps: results, gapMs };
  }

  private async step(step: Step, record: (serving: Role) => void): Promise<Omit<StepResult, 'ms' | 'op'>> {
    switch (step.op) {
      case 'fence': {
        // A host that does not answer cannot be fenced; a dead host serves nobody.
        let s: SshSession;
        try {
          s = await this.session(step.role);
        } catch (e) {
          if (e instanceof SshError && (e.kind === 'unreachable' || e.kind === 'ssh-timeout')) return { ok: true, role: step.role, detail: `not fenced: host does not answer (${e.kind})` };
          throw e;
        }
        const r = await this.stopGateway(step.role);
        if (r.ok) return { ok: true, role: step.role, detail: r.detail, waitMs: r.waitMs };
        // A gateway that will not stop but no longer serves (wedged, not ready) is reported and passed:
        // the failover is what it needs. One that still serves would make two pollers: stop here.
        const t = this.config.thresholds;
        const still = await probeHealth(s, this.gw(step.role), t.commandTimeout);
        if (still.healthy) return { ok: false, role: step.role, detail: `cannot fence: its gateway still serves and would not stop (two pollers on one bot token): ${r.detail}`, waitMs: r.waitMs };
        return { ok: step.why !== 'second gateway', role: step.role, detail: `WARNING: ${r.detail}; it no longer serves (${still.detail})`, waitMs: r.waitMs };
      }
      case 'stop': {
        const r = await this.stopGateway(step.role);
        return { ...r, role: step.role };
      }
      case 'settle':
        await sleep(step.seconds * 1000);
        return { ok: true, detail: `waited ${step.seconds} s`, waitMs: step.seconds * 1000 };
      case 'start': {
        const r = await this.startGateway(step.role);
        return { ok: r.ok, role: step.role, detail: r.detail, waitMs: r.waitMs, methods: r.methods };
      }
      case 'verify': {
        const t = this.config.thresholds;
        // The start step already waited for /startupz and the probe; this is the independent
        // re-check of the probe alone, on the recorded side, right before it is recorded.
        const r = await probeHealth(await this.session(step.role), this.gw(step.role), t.commandTimeout);
        return { ok: r.healthy, role: step.role, detail: r.detail };
      }
      case 'record':
        record(step.serving);
        return { ok: true, detail: `${step.serving} recorded as serving` };
      case 'sync-last-chance':
      case 'sync-back':
        return runMemoryStep(this.config, step, this.out);
      case 'alert':
        return { ok: true, detail: 'alert queued' };
      case 'postgres':
        return (await import('../postgres/steps.js')).postgresStep(this.config, step.action);
    }
  }
}
