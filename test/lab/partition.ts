// The partition scenarios' cluster (issue 16), on the netns lab (netns.ts): a witness, a primary, a
// standby and a Telegram stand-in, each in its own namespace on the lab bridge. Each host runs a real
// sshd and the stand-in gateway (fake-openclaw.mjs, listening on the LAN so its peer can probe it);
// the witness's hactl and each host's hactl guard run inside their namespaces. Nothing leaves the lab.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { NetnsLab } from './netns.ts';
import { deepMerge, ROOT, TOKEN, type HactlResult } from './lab.ts';

const FAKE = join(ROOT, 'test/lab/fake-openclaw.mjs');
const SSH_PORT = 2222;
const GW_PORT = 18789;
const TG_PORT = 8081;

export interface PHost {
  name: 'primary' | 'standby';
  node: string;
  address: string;
  dir: string;
  home: string;
  openclawDir: string;
  sshd?: ChildProcess;
}

export class PartitionLab {
  readonly net = NetnsLab.create();
  readonly dir = mkdtempSync(join(tmpdir(), 'hactl-part-'));
  readonly hosts: Record<'primary' | 'standby', PHost>;
  readonly witness: string;
  tgUrl = '';
  private tgLog: string;

  constructor() {
    try {
      this.witness = this.net.addNode('witness').name;
      const tg = this.net.addNode('tg');
      this.tgUrl = `http://${tg.address}:${TG_PORT}`;
      this.tgLog = join(this.dir, 'telegram.jsonl');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, 'client_ed25519')]);
      const host = (name: 'primary' | 'standby'): PHost => {
        const n = this.net.addNode(name);
        const dir = join(this.dir, name);
        const home = join(dir, 'home');
        mkdirSync(join(home, 'bin'), { recursive: true });
        symlinkSync(FAKE, join(home, 'bin', 'openclaw'));
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
        return { name, node: n.name, address: n.address, dir, home, openclawDir: join(home, '.openclaw') };
      };
      this.hosts = { primary: host('primary'), standby: host('standby') };
      const known = Object.values(this.hosts).map((h) => {
        const key = readFileSync(join(h.dir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
        return `[${h.address}]:${SSH_PORT} ${key}`;
      });
      writeFileSync(join(this.dir, 'known_hosts'), known.join('\n') + '\n');
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  private path(h: PHost): string {
    return `${join(h.home, 'bin')}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`;
  }

  async start(): Promise<void> {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    for (const h of Object.values(this.hosts)) {
      writeFileSync(
        join(h.dir, 'sshd_config'),
        [
          `ListenAddress 0.0.0.0:${SSH_PORT}`,
          `HostKey ${join(h.dir, 'host_ed25519')}`,
          `PidFile ${join(h.dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${join(this.dir, 'client_ed25519.pub')}`,
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PermitRootLogin prohibit-password',
          'UsePAM no',
          'StrictModes no',
          'LogLevel ERROR',
          `SetEnv HOME=${h.home} PATH=${this.path(h)} LAB_HOST=${h.name}`,
          '',
        ].join('\n'),
      );
      h.sshd = this.net.spawn(h.node, ['/usr/sbin/sshd', '-f', join(h.dir, 'sshd_config'), '-D', '-e'], {
        stdio: 'ignore',
      });
      this.setFake(h);
    }
    const tg = this.net.spawn(
      'tg',
      [
        process.execPath,
        '--import',
        'tsx',
        join(ROOT, 'test/lab/telegram-serve.ts'),
        '0.0.0.0',
        `${TG_PORT}`,
        this.tgLog,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT },
    );
    await new Promise<void>((resolve, reject) => {
      tg.stdout!.once('data', () => resolve());
      tg.once('exit', (c) => reject(new Error(`telegram stand-in exited ${c}`)));
    });
    for (const h of Object.values(this.hosts)) await this.waitPort(h.address, SSH_PORT);
    writeFileSync(join(this.dir, 'hactl.yaml'), stringify(this.config()));
  }

  private async waitPort(address: string, port: number): Promise<void> {
    for (let i = 0; i < 50; i++) {
      if (await this.net.canConnect(this.witness, address, port, 500)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nothing listens on ${address}:${port} in the lab`);
  }

  /** The stand-in gateway's settings; `bind` 127.0.0.1: its peer never sees it serving (issue 21 item 1). */
  setFake(h: PHost, bind = '0.0.0.0'): void {
    mkdirSync(h.openclawDir, { recursive: true });
    const fake = { port: GW_PORT, bind, startupMs: 300 };
    writeFileSync(join(h.openclawDir, 'fake.json'), JSON.stringify(fake));
  }

  /** The witness's config (`self` set: the config installed on that gateway host for its guard). */
  config(self?: 'primary' | 'standby', overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const hosts: Record<string, unknown> = {};
    for (const h of Object.values(this.hosts)) {
      hosts[h.name] = {
        address: h.address,
        port: SSH_PORT,
        user: 'root',
        key: join(this.dir, 'client_ed25519'),
        knownHosts: join(this.dir, 'known_hosts'),
        // One stop method: the guard's run stays short on a loaded machine (the default order is tested elsewhere).
        gateway: { port: GW_PORT, stop: [{ name: 'port-owner', portOwner: true }] },
      };
    }
    const stateDir = self ? join(this.hosts[self].dir, 'state') : join(this.dir, 'state');
    return deepMerge(
      {
        stateDir,
        hosts,
        pair: { primary: 'primary', standby: 'standby' },
        thresholds: {
          connectTimeout: 1,
          commandTimeout: 5,
          retryDelay: 0.2,
          verifyDeadline: 10,
          stopDeadline: 3,
          settle: 0.2,
          pollInterval: 0.2,
          cooldown: 0,
          lockLease: 120,
          // The witness renews on each probe: a 3 s cadence lets a 25 s lease pass the config's
          // check (fence lead 5 + 3 + 2 + 5 = 15 s, renewal gap 3 + 3 + 2 = 8 s).
          watchInterval: 3,
          watchWindow: 117,
        },
        guard: { lease: '25s', interval: '3s', ...(self ? { self } : {}) },
        // A loaded test machine must not turn every check into a warning (test/lab/lab.ts does the same).
        resources: { enabled: false },
        alerts: { prefix: '[lab]', telegram: { chatId: 4242, apiRoot: this.tgUrl, timeout: 1 } },
      },
      overrides,
    );
  }

  writeConfigs(overrides: Record<string, unknown> = {}): void {
    writeFileSync(join(this.dir, 'hactl.yaml'), stringify(this.config(undefined, overrides)));
    for (const h of Object.values(this.hosts))
      writeFileSync(join(h.dir, 'hactl.yaml'), stringify(this.config(h.name, overrides)));
  }

  private run(node: string, args: string[], env: Record<string, string>): Promise<HactlResult> {
    const t0 = Date.now();
    return this.net
      .exec(node, [process.execPath, join(ROOT, 'bin/hactl'), ...args], {
        env: { PATH: process.env.PATH, HACTL_TELEGRAM_TOKEN: TOKEN, ...env },
        timeoutMs: 60_000,
      })
      .then((r) => ({ ...r, ms: Date.now() - t0 }));
  }

  /** hactl on the witness, as its cron runs it. */
  hactl(args: string[], env: Record<string, string> = {}): Promise<HactlResult> {
    return this.run(this.witness, args, { HOME: this.dir, HACTL_CONFIG: join(this.dir, 'hactl.yaml'), ...env });
  }

  /** hactl guard on a gateway host, as its own cron runs it (its HOME, its config). */
  guard(role: 'primary' | 'standby', env: Record<string, string> = {}): Promise<HactlResult> {
    const h = this.hosts[role];
    return this.run(h.node, ['guard'], {
      HOME: h.home,
      PATH: this.path(h),
      LAB_HOST: h.name,
      HACTL_CONFIG: join(h.dir, 'hactl.yaml'),
      ...env,
    });
  }

  /** Starts the gateway on a host as the host itself would (boot): not through hactl. */
  async startGateway(role: 'primary' | 'standby'): Promise<void> {
    const h = this.hosts[role];
    const c = this.net.spawn(h.node, [FAKE, 'gateway', 'run'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, HOME: h.home, LAB_HOST: h.name },
    });
    c.unref();
    for (let i = 0; i < 50; i++) {
      const r = await this.net.exec(h.node, ['curl', '-fsS', '-m', '1', `http://127.0.0.1:${GW_PORT}/readyz`]);
      if (r.code === 0) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`${role}: the gateway did not get ready`);
  }

  /** Kills every gateway and clears every record: primary about to serve, standby idle. */
  async reset(): Promise<void> {
    // Every link of the lab, not only the three this class knows: a test may cut any pair (an etcd
    // member, a second witness) and end before it heals them.
    this.net.healAll();
    for (const h of Object.values(this.hosts)) {
      const pidFile = join(h.openclawDir, 'fake-gateway.pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8'));
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await this.net.exec(h.node, ['sh', '-c', `fuser -k -KILL ${GW_PORT}/tcp; true`]);
      for (const f of ['fake-gateway.pid', 'poll-windows.log', 'fake-calls.log', 'hactl'])
        rmSync(join(h.openclawDir, f), { recursive: true, force: true });
      rmSync(join(h.home, '.hactl'), { recursive: true, force: true });
      rmSync(join(h.dir, 'state'), { recursive: true, force: true });
    }
    rmSync(join(this.dir, 'state'), { recursive: true, force: true });
    rmSync(this.tgLog, { force: true });
    this.writeConfigs();
  }

  sent(): string[] {
    if (!existsSync(this.tgLog)) return [];
    return readFileSync(this.tgLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).text as string);
  }

  state(dir = join(this.dir, 'state')): any {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
  }

  history(dir = join(this.dir, 'state')): any[] {
    const f = join(dir, 'history.jsonl');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }

  destroy(): void {
    this.net.destroy();
    if (!process.env.HACTL_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
