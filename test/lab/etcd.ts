// A real etcd cluster for tests and the demo: members on 127.0.3.x (one address each, so a
// member can be told apart in ss and cut alone), data directories in a temp dir. Debian's
// etcd-server 3.4 (scripts/setup.sh installs it).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './lab.js';

export interface Member {
  name: string;
  address: string;
  clientPort: number;
  peerPort: number;
  proc?: ChildProcess;
}

/**
 * Where the members run. By default on 127.0.3.1..n with free ports, in this namespace. In the
 * partition lab (test/lab/netns.ts), each member gets a node's address and the standard ports,
 * and wrap() runs a member (or, for member null, the test's etcdctl) inside a namespace.
 */
export interface Placement {
  addresses?: string[];
  wrap?: (member: string | null, argv: string[]) => string[];
}

export class EtcdLab {
  private constructor(
    readonly dir: string,
    readonly members: Member[],
    private readonly cluster: string,
    private readonly wrap: (member: string | null, argv: string[]) => string[],
  ) {}

  static async start(n = 3, place: Placement = {}): Promise<EtcdLab> {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-etcd-'));
    const members: Member[] = [];
    for (let i = 1; i <= n; i++) {
      const address = place.addresses?.[i - 1] ?? `127.0.3.${i}`;
      const [clientPort, peerPort] = place.addresses
        ? [2379, 2380]
        : [await freePort(address), await freePort(address)];
      members.push({ name: `m${i}`, address, clientPort, peerPort });
    }
    const cluster = members.map((m) => `${m.name}=http://${m.address}:${m.peerPort}`).join(',');
    const lab = new EtcdLab(dir, members, cluster, place.wrap ?? ((_m, argv) => argv));
    process.once('exit', () => lab.killAll());
    for (const m of members) lab.spawnMember(m);
    await lab.waitHealthy();
    return lab;
  }

  get endpoints(): string[] {
    return this.members.map((m) => this.url(m));
  }
  url(m: Member): string {
    return `http://${m.address}:${m.clientPort}`;
  }
  member(name: string): Member {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no etcd member ${name}`);
    return m;
  }

  private spawnMember(m: Member): void {
    const log = openSync(join(this.dir, `${m.name}.log`), 'a');
    const peer = `http://${m.address}:${m.peerPort}`;
    const [file, ...args] = this.wrap(m.name, [
      'etcd',
      ...['--name', m.name, '--data-dir', join(this.dir, m.name)],
      ...['--listen-client-urls', this.url(m), '--advertise-client-urls', this.url(m)],
      ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
      ...['--initial-cluster', this.cluster, '--initial-cluster-state', 'new'],
      ...['--initial-cluster-token', `hactl-${process.pid}`, '--logger', 'zap', '--log-outputs', 'stderr'],
    ]);
    m.proc = spawn(file!, args, { stdio: ['ignore', log, log] });
  }

  /** etcdctl endpoint health on the given members (all by default), each within 2 s; retried for up to ms. */
  async waitHealthy(members = this.members, ms = 20_000): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      try {
        this.etcdctl(['endpoint', 'health'], members);
        return;
      } catch (e) {
        if (Date.now() - t0 > ms)
          throw new Error(`etcd not healthy after ${ms} ms: ${(e as Error).message}`, { cause: e });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  etcdctl(args: string[], members = this.members.filter((m) => m.proc)): string {
    const [file, ...argv] = this.wrap(null, [
      'etcdctl',
      ...['--endpoints', members.map((m) => this.url(m)).join(','), ...args],
    ]);
    return execFileSync(file!, argv, {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** A member dies at once (kill -9); its data stays, so restart() brings it back. */
  kill(name: string): void {
    const m = this.member(name);
    m.proc?.kill('SIGKILL');
    m.proc = undefined;
  }

  async restart(name: string): Promise<void> {
    const m = this.member(name);
    if (!m.proc) this.spawnMember(m);
    await this.waitHealthy([m]);
  }

  killAll(): void {
    for (const m of this.members) {
      m.proc?.kill('SIGKILL');
      m.proc = undefined;
    }
  }

  async stop(): Promise<void> {
    const exits = this.members.map((m) => (m.proc ? new Promise((r) => m.proc!.once('exit', r)) : null));
    this.killAll();
    await Promise.all(exits);
    if (!process.env.HACTL_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
