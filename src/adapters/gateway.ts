// Everything hactl does to a gateway on one host: probe it, run a start or stop
// method, wait for it to be ready or gone. The shell text is in remote-scripts.ts;
// this module runs it over a RemoteSession (ssh2 or a shared OpenSSH master) and reads the answers.
import type { GatewayConfig, HttpProbe, Method, Thresholds } from '../config/types.js';
import type { Clock } from './clock.js';
import { sleep } from './clock.js';
import type { RemoteSession } from './ssh.js';
import * as scripts from './remote-scripts.js';
import { ConfigError } from '../errors.js';
import { formatBytes, OutputCapError } from './bytes.js';

export interface ProbeResult {
  healthy: boolean;
  detail: string;
}

export interface MethodResult {
  ok: boolean;
  detail: string;
  /** The method cannot work on this host (program not found, `requires` failed): it did not run. */
  absent?: boolean;
}

function urlOf(p: HttpProbe, gw: GatewayConfig): string {
  return p.url.replace('{port}', String(gw.port));
}

/** Reads an httpGet script's output against a probe: status, and the JSON fields it requires. */
export function judgeHttp(p: HttpProbe, u: string, stdout: string, stderr: string): ProbeResult {
  const i = stdout.lastIndexOf(scripts.HTTP_MARK);
  const status =
    i >= 0
      ? Number(
          stdout
            .slice(i + scripts.HTTP_MARK.length)
            .trim()
            .split(/\s/)[0],
        )
      : 0;
  const body = (i >= 0 ? stdout.slice(0, i) : stdout).trim();
  if (!status) {
    const why = (stderr.trim().split('\n').pop() || 'not listening').slice(0, 120);
    return { healthy: false, detail: `${u}: no answer (${why})` };
  }
  if (status !== p.status)
    return { healthy: false, detail: `${u}: HTTP ${status} (want ${p.status}) ${body.slice(0, 120)}` };
  if (p.json) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return { healthy: false, detail: `${u}: HTTP ${status} but the body is not JSON: ${body.slice(0, 80)}` };
    }
    for (const [k, v] of Object.entries(p.json)) {
      if (JSON.stringify(parsed[k]) !== JSON.stringify(v)) {
        return { healthy: false, detail: `${u}: ${k}=${JSON.stringify(parsed[k])} (want ${JSON.stringify(v)})` };
      }
    }
  }
  return { healthy: true, detail: `${u}: HTTP ${status}` };
}

/** The line of a command's output that says why: the last one naming a reason or error, else the last. */
export function lastLine(s: string): string {
  const lines = s
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const why = lines.filter((l) => /reason|error|fail|disabled|denied|refused|not found|no such/i.test(l)).pop();
  return (why ?? lines.pop() ?? '').slice(0, 240);
}

const onHost = (code: number | null): string => (code === 124 ? ' (timed out on the host)' : '');

/**
 * Refuses a gateway config whose values cannot reach a shell safely: env keys must be
 * shell names (values are quoted; a key cannot be). Exit 78, naming host and key.
 */
export function checkGatewayConfig(host: string, gw: GatewayConfig): void {
  const envs: Array<[string, Record<string, string> | undefined]> = [
    ['gateway.env', gw.env],
    ...[...gw.start, ...gw.stop].map((m): [string, Record<string, string> | undefined] => [
      `gateway method ${m.name} env`,
      m.env,
    ]),
  ];
  const bad = envs.flatMap(([where, env]) =>
    Object.keys(env ?? {})
      .filter((k) => !scripts.ENV_KEY.test(k))
      .map(
        (k) =>
          `hosts.${host}: ${where}: key ${JSON.stringify(k)} is not a shell variable name (${scripts.ENV_KEY.source})`,
      ),
  );
  if (bad.length) throw new ConfigError(bad, 'use names of letters, digits and _ (not starting with a digit)');
}

/** One host's gateway, reached through an open SSH session. */
export class Gateway {
  constructor(
    private readonly s: Pick<RemoteSession, 'run' | 'host'>,
    readonly gw: GatewayConfig,
    private readonly t: Thresholds,
    private readonly clock: Clock,
  ) {
    checkGatewayConfig(s.host.name, gw);
  }

  private async http(p: HttpProbe): Promise<ProbeResult> {
    const u = urlOf(p, this.gw);
    const timeout = this.t.commandTimeout;
    const over = `${u}: body over ${formatBytes(scripts.HTTP_BODY_CAP)} cap`;
    let r;
    try {
      // The body's cap and a little more for curl's own lines: a body past it was not cut by curl.
      const cap = scripts.HTTP_BODY_CAP + 4096;
      r = await this.s.run(scripts.httpGet(u, Math.max(1, Math.floor(timeout - 1))), timeout, {
        cap,
        what: `GET ${u}`,
      });
    } catch (e) {
      if (e instanceof OutputCapError) return { healthy: false, detail: `${over} (read stopped there)` };
      throw e;
    }
    if (r.code === 124 || r.code === 137)
      return { healthy: false, detail: `${u}: probe timed out on the host after ${timeout} s` };
    if (r.code === scripts.BODY_OVER_CAP) return { healthy: false, detail: over };
    return judgeHttp(p, u, r.stdout, r.stderr);
  }

  /** The configured health probe: HTTP and/or command; both must pass when both are set. */
  async probe(): Promise<ProbeResult> {
    const details: string[] = [];
    const { http, command } = this.gw.probe;
    if (http) {
      const r = await this.http(http);
      if (!r.healthy) return r;
      details.push(r.detail);
    }
    if (command) {
      let r;
      try {
        r = await this.s.run(scripts.probeCommand(command.run, this.gw.env), this.t.commandTimeout, {
          what: `\`${command.run}\``,
        });
      } catch (e) {
        // The host answered; its probe printed more than any probe should: the gateway's failure, not the host's.
        if (e instanceof OutputCapError) return { healthy: false, detail: e.message };
        throw e;
      }
      const out = r.stdout + r.stderr;
      if (r.code !== 0)
        return {
          healthy: false,
          detail: `\`${command.run}\` exited ${r.code ?? r.signal}${onHost(r.code)}: ${lastLine(out)}`,
        };
      if (command.match && !new RegExp(command.match, 'i').test(out)) {
        return {
          healthy: false,
          detail: `\`${command.run}\` output does not match /${command.match}/: ${lastLine(out)}`,
        };
      }
      details.push(`\`${command.run}\` ok`);
    }
    return { healthy: true, detail: details.join('; ') || 'no probe configured' };
  }

  /** The script of a start or stop method. */
  private methodScript(m: Method): string {
    const env = { ...this.gw.env, ...(m.env ?? {}) };
    if (m.run) return scripts.runCommand(m.run, env, needsOf(m));
    if (m.detached) return scripts.detachedStart(m.detached, this.gw.runDir, env, needsOf(m));
    if (m.portOwner) return scripts.portOwnerStop(this.gw.port, this.t.stopDeadline);
    return scripts.pidfileStop(this.gw.runDir, this.t.stopDeadline);
  }

  /** Runs one start or stop method; `extra` seconds on top of the command timeout (stops wait for SIGTERM). */
  async runMethod(m: Method, extra = 0): Promise<MethodResult> {
    const r = await this.s.run(this.methodScript(m), this.t.commandTimeout + extra);
    const out = (r.stdout + r.stderr).trim();
    const absent = r.code === 3 ? out.split('\n').find((l) => l.startsWith(scripts.ABSENT_MARK)) : undefined;
    if (absent !== undefined) {
      const why = absent.slice(scripts.ABSENT_MARK.length).trim() || 'its requires test failed';
      return { ok: false, absent: true, detail: `${m.name}: absent (${why})` };
    }
    if (r.code === 0) return { ok: true, detail: `${m.name}: ok${out ? ` (${lastLine(out)})` : ''}` };
    return {
      ok: false,
      detail: `${m.name}: exit ${r.code ?? r.signal}${onHost(r.code)}${out ? `: ${lastLine(out)}` : ''}`,
    };
  }

  /** For a detached run: the log's tail once the process hactl started has exited, else undefined. */
  async detachedExited(): Promise<string | undefined> {
    const r = await this.s.run(scripts.detachedAlive(this.gw.runDir), this.t.commandTimeout);
    return r.code === 0 ? undefined : (r.stdout + r.stderr).trim().replace(/\s*\n\s*/g, ' | ');
  }

  /** Polls until `started` says started and the health probe passes, or the deadline. */
  async waitReady(deadlineSec: number, detached: boolean): Promise<ProbeResult & { ms: number }> {
    const t0 = this.clock.ms();
    const poll = this.t.pollInterval * 1000;
    for (;;) {
      const died = detached ? await this.detachedExited() : undefined;
      if (died) return { healthy: false, detail: died, ms: this.clock.ms() - t0 };
      const started = await this.http(this.gw.started);
      const last = started.healthy ? await this.probe() : started;
      const ms = this.clock.ms() - t0;
      if (last.healthy) return { ...last, ms };
      if (ms + poll > deadlineSec * 1000)
        return { healthy: false, detail: `not ready within ${deadlineSec} s: ${last.detail}`, ms };
      await sleep(poll);
    }
  }

  /** Whether the gateway's process is gone (whatever its HTTP answer); else what still runs. */
  async gone(): Promise<{ gone: boolean; detail: string; unknown?: boolean }> {
    const r = await this.s.run(
      scripts.gatewayGone(this.gw.port, this.gw.runDir, urlOf(this.gw.alive, this.gw)),
      this.t.commandTimeout,
    );
    if (r.code === 0) return { gone: true, detail: 'no gateway process' };
    // Exit 2: the host cannot tell (ss failed): unknown, never "gone" (fencing fails closed).
    if (r.code === 2) return { gone: false, unknown: true, detail: lastLine(r.stdout + r.stderr) || 'unknown' };
    return { gone: false, detail: lastLine(r.stdout + r.stderr) || `gone check exited ${r.code ?? r.signal}` };
  }

  /** Polls `gone` until the deadline. */
  async waitGone(deadlineSec: number): Promise<{ gone: boolean; detail: string; ms: number }> {
    const t0 = this.clock.ms();
    const poll = this.t.pollInterval * 1000;
    for (;;) {
      const g = await this.gone();
      const ms = this.clock.ms() - t0;
      if (g.gone || ms + poll > deadlineSec * 1000) return { ...g, ms };
      await sleep(poll);
    }
  }

  /**
   * Whether this host can start a gateway, without starting one: the run directory can be
   * written, and at least one start method's program is found (a method whose program cannot
   * be read from its command counts as possible).
   */
  async preflight(): Promise<{ ok: boolean; detail: string }> {
    const programs = this.gw.start.map((m) => programOf(m.detached ?? m.run ?? ''));
    const known = [...new Set(programs.filter((p): p is string => !!p))];
    const r = await this.s.run(scripts.preflight(this.gw.runDir, known), this.t.commandTimeout);
    const out = (r.stdout + r.stderr).trim();
    if (r.code !== 0)
      return { ok: false, detail: `preflight exited ${r.code ?? r.signal}${onHost(r.code)}: ${lastLine(out)}` };
    const missing = out
      .split('\n')
      .filter((l) => l.startsWith('missing: '))
      .map((l) => l.slice(9));
    const possible = programs.filter((p) => !p || !missing.includes(p));
    if (!possible.length) return { ok: false, detail: `no start method can work: ${missing.join(', ')} not found` };
    const note = missing.length ? `; not found: ${missing.join(', ')}` : '';
    return { ok: true, detail: `the host answers, ${this.gw.runDir} writable${note}` };
  }
}

/**
 * What a start or stop method needs on the host before it runs: its `requires` test, and the
 * program of a one-command method (a command of several parts may set PATH itself first).
 */
export function needsOf(m: Method): scripts.Needs {
  const command = m.run ?? m.detached;
  const single = command !== undefined && !/;|&&|\|\||\n/.test(command);
  return { program: single ? programOf(command) : undefined, requires: m.requires };
}

/** The program a method's command runs: the first word of its last `;`/`&&` part, when it is a plain word. */
export function programOf(command: string): string | undefined {
  const last = command
    .split(/;|&&|\|\|/)
    .pop()!
    .trim();
  const word = last.split(/\s+/)[0] ?? '';
  return /^[\w./+-]+$/.test(word) && word !== 'exec' ? word : undefined;
}
