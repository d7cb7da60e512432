// A partition lab of real network namespaces: each node is a namespace with loopback up and one
// veth link to a bridge that lives in the lab's own "switch" namespace. No namespace has a default
// route, and the lab's addresses (10.213.0.0/24) exist only inside these namespaces, so nothing a
// test sends can leave the machine: a cut link is a dead end, never a detour through the host.
// Every party (sshd, gateways, the witness, the test's own probes) is started inside a node with
// `ip netns exec`; the test process itself only drives.
//   cut(a, b) / heal(a, b): nftables drops of a <-> b inside both nodes (packets vanish: connects time out)
//   isolate(n) / rejoin(n): the node's switch port taken down (a pulled cable)
// Names carry a random prefix, so parallel runs never clash; destroy() removes every namespace (and
// with it every veth and rule), is idempotent, and also runs at process exit.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const SUBNET = '10.213.0';

export interface NetNode {
  name: string;
  ns: string;
  address: string;
  /** The switch-side end of the node's veth. */
  port: string;
  index: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const ip = (args: string[]): string =>
  execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export class NetnsLab {
  readonly nodes = new Map<string, NetNode>();
  readonly switchNs: string;
  private destroyed = false;
  private readonly onExit = () => this.destroy();

  private constructor(readonly prefix: string) {
    this.switchNs = `${prefix}-sw`;
  }

  /** A new lab: the switch namespace with its bridge. */
  static create(): NetnsLab {
    const lab = new NetnsLab(`hl${randomBytes(3).toString('hex')}`);
    process.once('exit', lab.onExit);
    try {
      ip(['netns', 'add', lab.switchNs]);
      lab.inNs(lab.switchNs, ['ip', 'link', 'set', 'lo', 'up']);
      lab.inNs(lab.switchNs, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
      lab.inNs(lab.switchNs, ['ip', 'link', 'set', 'br0', 'up']);
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  private inNs(ns: string, argv: string[], input?: string): string {
    return execFileSync('ip', ['netns', 'exec', ns, ...argv], {
      encoding: 'utf8',
      input,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  }

  node(name: string): NetNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no lab node ${name}`);
    return n;
  }

  /** A namespace with loopback up and an address on the lab's bridge; no default route. */
  addNode(name: string): NetNode {
    if (!/^[a-z0-9]{1,8}$/.test(name)) throw new Error(`lab node name ${name}: 1-8 of [a-z0-9]`);
    const index = this.nodes.size + 1;
    if (index > 250) throw new Error('at most 250 lab nodes');
    const n: NetNode = {
      name,
      ns: `${this.prefix}-${name}`,
      address: `${SUBNET}.${index + 1}`,
      port: `p${index}`,
      index,
    };
    ip(['netns', 'add', n.ns]);
    this.nodes.set(name, n);
    const sw = (argv: string[]) => this.inNs(this.switchNs, argv);
    sw(['ip', 'link', 'add', n.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns]);
    sw(['ip', 'link', 'set', n.port, 'master', 'br0']);
    sw(['ip', 'link', 'set', n.port, 'up']);
    const at = (argv: string[]) => this.inNs(n.ns, argv);
    at(['ip', 'link', 'set', 'lo', 'up']);
    at(['ip', 'addr', 'add', `${n.address}/24`, 'dev', 'eth0']);
    at(['ip', 'link', 'set', 'eth0', 'up']);
    // The table that cut() fills: drops in and out, counted.
    this.nft(
      n,
      'add table inet lab\n' +
        'add chain inet lab in { type filter hook input priority 0; }\n' +
        'add chain inet lab out { type filter hook output priority 0; }\n',
    );
    return n;
  }

  private nft(n: NetNode, script: string): void {
    this.inNs(n.ns, ['nft', '-f', '-'], script);
  }

  /** argv run inside a node: for spawn/exec and for tools that take a command line. */
  argv(node: string, argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.node(node).ns, ...argv];
  }

  /** Runs argv inside a node, to the end (with a deadline); never throws on a non-zero exit. */
  exec(node: string, argv: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
      const c = this.spawn(node, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env });
      let stdout = '';
      let stderr = '';
      c.stdout!.on('data', (d) => (stdout += d));
      c.stderr!.on('data', (d) => (stderr += d));
      const t = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
      c.on('close', (code, signal) => {
        clearTimeout(t);
        resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
      });
    });
  }

  /** Starts argv inside a node (`ip netns exec` execs it: the child's pid is the program's own). */
  spawn(node: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const [file, ...rest] = this.argv(node, argv);
    return spawn(file!, rest, opts);
  }

  /** Whether a TCP connect from `node` to address:port succeeds within ms (run inside the node). */
  async canConnect(node: string, address: string, port: number, ms = 1500): Promise<boolean> {
    const js =
      `const s=require('net').connect(${port},${JSON.stringify(address)},()=>process.exit(0));` +
      `s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),${ms});`;
    return (await this.exec(node, [process.execPath, '-e', js], { timeoutMs: ms + 5000 })).code === 0;
  }

  /** a and b no longer hear each other (both directions, dropped silently); the rest of the lab still does. */
  cut(a: string, b: string): void {
    const [x, y] = [this.node(a), this.node(b)];
    for (const [me, them] of [
      [x, y],
      [y, x],
    ] as const) {
      this.nft(
        me,
        `add rule inet lab in ip saddr ${them.address} counter drop comment "cut-${them.name}"\n` +
          `add rule inet lab out ip daddr ${them.address} counter drop comment "cut-${them.name}"\n`,
      );
    }
  }

  /** Undoes cut(a, b). */
  heal(a: string, b: string): void {
    const [x, y] = [this.node(a), this.node(b)];
    for (const [me, them] of [
      [x, y],
      [y, x],
    ] as const) {
      for (const chain of ['in', 'out']) {
        const listing = this.inNs(me.ns, ['nft', '-a', 'list', 'chain', 'inet', 'lab', chain]);
        for (const m of listing.matchAll(new RegExp(`comment "cut-${them.name}" # handle (\\d+)`, 'g')))
          this.nft(me, `delete rule inet lab ${chain} handle ${m[1]}\n`);
      }
    }
  }

  /** The node's cable pulled: its switch port goes down. */
  isolate(node: string): void {
    this.inNs(this.switchNs, ['ip', 'link', 'set', this.node(node).port, 'down']);
  }

  rejoin(node: string): void {
    this.inNs(this.switchNs, ['ip', 'link', 'set', this.node(node).port, 'up']);
  }

  /**
   * Every cut undone and every cable back, whoever made them: a test that ends mid-partition (a split it
   * never heals) must not leave the next one with links it does not know are down.
   */
  healAll(): void {
    for (const n of this.nodes.values()) {
      for (const chain of ['in', 'out']) {
        const listing = this.inNs(n.ns, ['nft', '-a', 'list', 'chain', 'inet', 'lab', chain]);
        for (const m of listing.matchAll(/comment "cut-[^"]*" # handle (\d+)/g))
          this.nft(n, `delete rule inet lab ${chain} handle ${m[1]}\n`);
      }
      this.rejoin(n.name);
    }
  }

  /** Packets the cut rules dropped in a node (proof that a cut was exercised). */
  dropped(node: string): number {
    const listing = this.inNs(this.node(node).ns, ['nft', 'list', 'table', 'inet', 'lab']);
    return [...listing.matchAll(/counter packets (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  }

  /**
   * Leak check: every namespace of the lab has no default route and cannot route to an address
   * outside the lab; the lab's addresses are not routed in the host's own namespace.
   * Returns the problems found ([] when the lab is sealed).
   */
  leaks(): string[] {
    const problems: string[] = [];
    for (const ns of [this.switchNs, ...[...this.nodes.values()].map((n) => n.ns)]) {
      const routes = this.inNs(ns, ['ip', 'route', 'show', 'default']).trim();
      if (routes) problems.push(`${ns} has a default route: ${routes}`);
      try {
        const r = this.inNs(ns, ['ip', 'route', 'get', '1.1.1.1']);
        problems.push(`${ns} routes to 1.1.1.1: ${r.trim()}`);
      } catch {
        /* unreachable: as it must be */
      }
    }
    const host = ip(['route', 'show', 'to', 'match', `${SUBNET}.2`]).trim();
    if (host.includes(SUBNET)) problems.push(`the host routes the lab subnet itself: ${host}`);
    return problems;
  }

  /** Removes every namespace of the lab (their veths and rules go with them). Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener('exit', this.onExit);
    for (const ns of [...[...this.nodes.values()].map((n) => n.ns), this.switchNs]) {
      try {
        ip(['netns', 'pids', ns])
          .split('\n')
          .filter(Boolean)
          .forEach((pid) => {
            try {
              process.kill(Number(pid), 'SIGKILL');
            } catch {
              /* gone */
            }
          });
      } catch {
        /* no such namespace */
      }
      try {
        ip(['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  }
}

/** Namespaces of labs whose process died without cleaning up (for a sweep by hand or in CI). */
export function strayLabs(): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => /^hl[0-9a-f]{6}-/.test(n));
}
