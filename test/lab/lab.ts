// The lab: a local simulated cluster of real parts, for the tests and the demo.
// - one real OpenSSH sshd per simulated host, each on its own 127.0.0.x address,
//   with its own HOME and PATH (sshd SetEnv), host keys and a client key;
// - on each host a stand-in `openclaw` (fake-openclaw.mjs) with a real HTTP listener;
// - a fake Telegram Bot API server; the witness is this process.
// Faults: crash a gateway, kill a host (sshd + gateway), hang SSH (a listener
// that accepts and never speaks), change a host key.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { FakeTelegram } from './telegram.js';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const FAKE = join(ROOT, 'test/lab/fake-openclaw.mjs');
export const TOKEN = '123456:LAB-secret-token-value';

export interface HostSpec {
  name: string;
  address: string;
  gatewayPort?: number;
}

export class LabHost {
  sshd?: ChildProcess;
  hang?: { server: Server; sockets: Socket[] };
  /** The PATH sshd gives logins here, instead of the lab's (a host missing a program). */
  path?: string;
  constructor(
    readonly lab: Lab,
    readonly name: string,
    readonly address: string,
    readonly sshPort: number,
    readonly gatewayPort: number,
    readonly dir: string,
  ) {}
  get home() {
    return join(this.dir, 'home');
  }
  get openclawDir() {
    return join(this.home, '.openclaw');
  }

  writeSshdConfig(): void {
    const extra = this.lab.extraPath ? this.lab.extraPath + ':' : '';
    const path = this.path ?? `${join(this.home, 'bin')}:${extra}/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`;
    writeFileSync(
      join(this.dir, 'sshd_config'),
      [
        `ListenAddress ${this.address}:${this.sshPort}`,
        `HostKey ${join(this.dir, 'host_ed25519')}`,
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(this.lab.dir, 'client_ed25519.pub')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'StrictModes no',
        'MaxStartups 50',
        'LogLevel ERROR',
        `SetEnv HOME=${this.home} PATH=${path} LAB_HOST=${this.name}`,
        '',
      ].join('\n'),
    );
  }

  async startSshd(): Promise<void> {
    await this.stopHang();
    if (this.sshd && this.sshd.exitCode === null) return;
    this.writeSshdConfig();
    const log = join(this.dir, 'sshd.log');
    const child = spawn('/usr/sbin/sshd', ['-f', join(this.dir, 'sshd_config'), '-D', '-e'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d) => {
      try {
        appendFileSync(log, d);
      } catch {
        /* the lab dir is already gone */
      }
    });
    this.sshd = child;
    await waitPort(this.address, this.sshPort, 5000);
  }

  async stopSshd(): Promise<void> {
    const c = this.sshd;
    if (!c || c.exitCode !== null || c.signalCode) return;
    const done = new Promise((r) => c.once('exit', r));
    // A host that dies, or restarts sshd with a new key, takes its open connections with it. SIGTERM
    // stops only sshd's listener; the connections it forked (an OpenSSH ControlMaster's among them)
    // would keep the "dead" host reachable, which no real power loss does. The programs started in a
    // session of their own (a detached gateway) are not connections and stay.
    const sessions = c.pid ? frozenSessions(c.pid) : [];
    c.kill('SIGKILL');
    await done;
    this.sshd = undefined;
    killAll(sessions);
  }

  /** Closes every open SSH connection to this host (hactl's shared masters end with them). */
  dropConnections(): void {
    const c = this.sshd;
    if (!c?.pid || c.exitCode !== null || c.signalCode) return;
    killAll(frozenSessions(c.pid));
    killAll([c.pid], 'SIGCONT');
  }

  /** The gateway's own pid, if it runs. */
  gatewayPid(): number {
    const f = join(this.openclawDir, 'fake-gateway.pid');
    if (!existsSync(f)) return 0;
    const pid = Number(readFileSync(f, 'utf8'));
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return 0;
    }
  }

  setFake(settings: Record<string, unknown>): void {
    mkdirSync(this.openclawDir, { recursive: true });
    writeFileSync(
      join(this.openclawDir, 'fake.json'),
      JSON.stringify({ port: this.gatewayPort, startupMs: 300, ...settings }),
    );
  }

  /** Start the gateway as the host itself would (boot, by hand): not through hactl. */
  async startGateway(): Promise<void> {
    if (this.gatewayPid()) return;
    const out = join(this.openclawDir, 'lab-gateway.log');
    mkdirSync(this.openclawDir, { recursive: true });
    const c = spawn(FAKE, ['gateway', 'run'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, HOME: this.home, LAB_HOST: this.name },
    });
    c.unref();
    void out;
    await waitHttp(this.gatewayPort, '/readyz', 10000);
  }

  /** SIGKILL the gateway: a crash. */
  crashGateway(): void {
    const pid = this.gatewayPid();
    // A SIGKILL leaves no line in the stand-in's poll-window log: the lab notes it (test/lab/windows.ts).
    if (pid)
      appendFileSync(
        join(this.openclawDir, 'poll-windows.log'),
        JSON.stringify({ event: 'kill', at: Date.now(), pid }) + '\n',
      );
    if (pid) process.kill(pid, 'SIGKILL');
    try {
      rmSync(join(this.openclawDir, 'fake-gateway.pid'));
    } catch {
      /* none */
    }
  }

  /** Power loss: the gateway and sshd die. */
  async kill(): Promise<void> {
    this.crashGateway();
    await this.stopSshd();
  }

  /** SSH hangs: something accepts TCP on the SSH port and never speaks. */
  async hangSsh(): Promise<void> {
    await this.stopSshd();
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(this.sshPort, this.address, r));
    this.hang = { server, sockets };
  }

  async stopHang(): Promise<void> {
    if (!this.hang) return;
    this.hang.sockets.forEach((s) => s.destroy());
    await new Promise((r) => this.hang!.server.close(r));
    this.hang = undefined;
  }

  /** A new host key (reinstalled machine, or an impostor): known_hosts no longer matches. */
  async changeHostKey(): Promise<void> {
    await this.stopSshd();
    rmSync(join(this.dir, 'host_ed25519'), { force: true });
    rmSync(join(this.dir, 'host_ed25519.pub'), { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, 'host_ed25519')]);
    await this.startSshd();
  }

  calls(): string[] {
    const f = join(this.openclawDir, 'fake-calls.log');
    return existsSync(f)
      ? readFileSync(f, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => l.replace(/^\S+ /, ''))
      : [];
  }
}

export interface HactlResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export class Lab {
  readonly hosts = new Map<string, LabHost>();
  telegram = new FakeTelegram();
  extraPath = '';
  private constructor(readonly dir: string) {}

  static async start(
    specs: HostSpec[] = [
      { name: 'primary', address: '127.0.0.2' },
      { name: 'standby', address: '127.0.0.3' },
    ],
    opts: { extraPath?: string } = {},
  ): Promise<Lab> {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const lab = new Lab(mkdtempSync(join(tmpdir(), 'hactl-lab-')));
    lab.extraPath = opts.extraPath ?? '';
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(lab.dir, 'client_ed25519')]);
    for (const s of specs) {
      const dir = join(lab.dir, s.name);
      mkdirSync(join(dir, 'home', 'bin'), { recursive: true });
      symlinkSync(FAKE, join(dir, 'home', 'bin', 'openclaw'));
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
      const host = new LabHost(
        lab,
        s.name,
        s.address,
        await freePort(s.address),
        s.gatewayPort ?? (await freePort('127.0.0.1')),
        dir,
      );
      host.setFake({});
      lab.hosts.set(s.name, host);
    }
    lab.writeKnownHosts();
    await Promise.all([...lab.hosts.values()].map((h) => h.startSshd()));
    await lab.telegram.start();
    process.once('exit', () => lab.killAllSync());
    return lab;
  }

  host(name: string): LabHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no lab host ${name}`);
    return h;
  }

  /** known_hosts as it was when the lab was set up (a changed key no longer matches). */
  writeKnownHosts(): void {
    const lines = [...this.hosts.values()].map((h) => {
      const key = readFileSync(join(h.dir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
      return `[${h.address}]:${h.sshPort} ${key}`;
    });
    writeFileSync(join(this.dir, 'known_hosts'), lines.join('\n') + '\n');
  }

  /** A config for this lab: short waits so tests run in seconds. */
  config(overrides: Record<string, any> = {}, stateDir = join(this.dir, 'state')): Record<string, any> {
    const hosts: Record<string, any> = {};
    for (const h of this.hosts.values()) {
      hosts[h.name] = {
        address: h.address,
        port: h.sshPort,
        user: 'root',
        key: join(this.dir, 'client_ed25519'),
        knownHosts: join(this.dir, 'known_hosts'),
        gateway: { port: h.gatewayPort },
      };
    }
    return deepMerge(
      {
        stateDir,
        hosts,
        pair: { primary: 'primary', standby: 'standby' },
        gateway: {
          // The lab has no systemd: systemctl fails, `openclaw gateway start` says the service is disabled,
          // the detached run works. The default order is exercised as it is.
        },
        thresholds: {
          connectTimeout: 2,
          commandTimeout: 5,
          retryDelay: 0.5,
          verifyDeadline: 10,
          stopDeadline: 5,
          settle: 0.2,
          pollInterval: 0.2,
          cooldown: 0,
          healthyFor: 0, // lab runs are seconds apart; test/e2e/operator-json.test.ts tests healthyFor
          lockLease: 120,
        },
        alerts: { prefix: '[lab]', telegram: { chatId: 4242, apiRoot: this.telegram.url, timeout: 2 } },
        // The lab shares a loaded machine: load and disk warnings would change every check's exit
        // code. Tests of resource warnings switch them on (test/e2e/operator-health.test.ts).
        resources: { enabled: false },
      },
      overrides,
    );
  }

  writeConfig(overrides: Record<string, any> = {}, name = 'hactl.yaml'): string {
    const file = join(this.dir, name);
    writeFileSync(file, stringify(this.config(overrides)));
    return file;
  }

  /** Runs the built CLI as cron would (no TTY). */
  hactl(args: string[], env: Record<string, string | undefined> = {}): Promise<HactlResult> {
    const t0 = Date.now();
    return new Promise((resolveRun) => {
      const c = spawn(process.execPath, [join(ROOT, 'bin/hactl'), ...args], {
        cwd: this.dir,
        env: { ...process.env, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: join(this.dir, 'hactl.yaml'), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (code) => resolveRun({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 }));
    });
  }

  state(stateDir = join(this.dir, 'state')): any {
    return JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
  }

  history(stateDir = join(this.dir, 'state')): any[] {
    const f = join(stateDir, 'history.jsonl');
    return existsSync(f)
      ? readFileSync(f, 'utf8')
          .split('\n')
          .filter(Boolean) // empty lines pad a line to the next page (src/state/files.ts appendLine)
          .map((l) => JSON.parse(l))
      : [];
  }

  /** Back to "primary serving, standby idle", with a fresh state directory. */
  async reset(): Promise<void> {
    for (const h of this.hosts.values()) {
      h.crashGateway();
      await h.stopHang();
      h.setFake({});
      rmSync(join(h.openclawDir, 'fake-calls.log'), { force: true });
      rmSync(join(h.openclawDir, 'poll-windows.log'), { force: true });
      rmSync(join(h.home, '.openclaw', 'hactl'), { recursive: true, force: true });
      await h.startSshd();
    }
    this.writeKnownHosts();
    // A fresh state directory loses hactl's master sockets: their connections go too.
    for (const h of this.hosts.values()) h.dropConnections();
    rmSync(join(this.dir, 'state'), { recursive: true, force: true });
    this.telegram.sent.length = 0;
    this.telegram.mode = 'ok';
    this.writeConfig();
  }

  /** Every process whose HOME is inside the lab (gateways started over SSH), then sshd. */
  killAllSync(): void {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const env = readFileSync(`/proc/${pid}/environ`, 'utf8');
        if (env.includes(`HOME=${this.dir}/`) && Number(pid) !== process.pid) process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone or not ours */
      }
    }
    for (const h of this.hosts.values()) {
      h.dropConnections();
      try {
        h.sshd?.kill('SIGKILL');
      } catch {
        /* gone */
      }
      h.hang?.server.close();
    }
  }

  async stop(): Promise<void> {
    this.killAllSync();
    for (const h of this.hosts.values()) await h.stopHang();
    await this.telegram.stop();
    if (!process.env.HACTL_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}

function killAll(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

/**
 * Every connection process sshd `listener` forked, read while the listener is stopped (SIGSTOP; the caller
 * kills it or sends SIGCONT): it accepts and forks no connection between this read and the kill. Every
 * child counts, whatever its name: a connection just accepted runs as "/usr/sbin/sshd ... -R" (its re-exec)
 * for a few ms before it names itself "sshd: ...", and one missed there (hactl's background ControlMaster,
 * connecting as a check exits) kept a "dead" host reachable under CI's load.
 */
function frozenSessions(listener: number): number[] {
  try {
    process.kill(listener, 'SIGSTOP');
  } catch {
    return [];
  }
  waitStopped(listener);
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const ppid = /PPid:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (Number(ppid) === listener) out.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Until /proc says `pid` is stopped (a signal is delivered asynchronously), bounded at ~1 s. */
function waitStopped(pid: number): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 1000; i++) {
    try {
      if (/State:\s*T/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) return;
    } catch {
      return;
    }
    Atomics.wait(cell, 0, 0, 1);
  }
}

export function deepMerge(a: any, b: any): any {
  if (Array.isArray(b) || typeof b !== 'object' || b === null) return b;
  const out: any = { ...(typeof a === 'object' && a && !Array.isArray(a) ? a : {}) };
  for (const [k, v] of Object.entries(b)) out[k] = v === undefined ? undefined : deepMerge(out[k], v);
  return out;
}

export function freePort(address: string): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, address, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

async function waitPort(address: string, port: number, ms: number): Promise<void> {
  const { connect } = await import('node:net');
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, address, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${address}:${port} after ${ms} ms`);
}

export async function waitHttp(port: number, path: string, ms: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      if (r.status === 200) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`127.0.0.1:${port}${path} not 200 after ${ms} ms`);
}
