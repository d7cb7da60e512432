// The partition lab with several witnesses on real etcd 3.4 (issue 21): the pair of test/lab/partition.ts
// (a primary and a standby, each with a real sshd and the stand-in gateway, and the Telegram
// stand-in), plus three witnesses, each in its own namespace running one etcd member beside its
// hactl (a witness machine is an etcd member). No namespace has a default route
// (test/lab/netns.ts). Each party runs as its cron would: each witness `check --watch` (it hands a
// confirmed failure to `failover --auto`), each gateway host `guard --watch`, respawned when they
// end, like a cron line each minute.
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PartitionLab, type PHost } from '../lab/partition.ts';
import { EtcdLab } from '../lab/etcd.ts';
import { deepMerge, ROOT, TOKEN } from '../lab/lab.ts';
import { overlaps, pollWindows, type PollWindow } from '../lab/windows.ts';
import type { LabHost } from '../lab/lab.ts';

export const WITNESSES = ['witness', 'w2', 'w3'] as const;
export type Witness = (typeof WITNESSES)[number];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Cron {
  node: string;
  args: string[];
  env: Record<string, string>;
  proc?: ChildProcess;
  stopped: boolean;
  runs: number;
}

export class EtcdPair {
  readonly lab = new PartitionLab();
  etcd!: EtcdLab;
  prefix = '/hactl/r0';
  private round = 0;
  private crons: Cron[] = [];
  readonly log: string[] = [];
  t0 = Date.now();

  async start(): Promise<void> {
    try {
      for (const w of WITNESSES) if (w !== 'witness') this.lab.net.addNode(w);
      await this.lab.start();
      this.etcd = await EtcdLab.start(3, {
        addresses: WITNESSES.map((w) => this.lab.net.node(w).address),
        // Member m<i> on witness i; the test's own etcdctl from the first witness.
        wrap: (m, argv) => this.lab.net.argv(m ? WITNESSES[Number(m.slice(1)) - 1]! : 'witness', argv),
      });
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  get hosts(): PHost[] {
    return [this.lab.hosts.primary, this.lab.hosts.standby];
  }
  private labHosts = () => this.hosts as unknown as LabHost[];
  stateDir = (w: Witness) => join(this.lab.dir, `state-${w}-${this.round}`);
  configOf = (w: Witness) => join(this.lab.dir, `${w}.yaml`);

  /** A new round: every gateway killed, every record cleared, a fresh etcd prefix; the primary serving, granted. */
  async reset(overrides: Record<string, unknown> = {}): Promise<void> {
    this.stopCrons();
    await this.lab.reset();
    this.round++;
    this.prefix = `/hactl/r${this.round}`;
    this.lab.writeConfigs(overrides);
    for (const w of WITNESSES) {
      const coordination = {
        etcd: { endpoints: this.etcd.endpoints, leaseTTL: '4s', timeout: '3s', name: w, prefix: this.prefix },
      };
      const cfg = deepMerge(this.lab.config(undefined, overrides), { stateDir: this.stateDir(w), coordination });
      writeFileSync(this.configOf(w), stringify(cfg));
    }
    await this.lab.startGateway('primary');
    this.t0 = Date.now();
    this.log.length = 0;
  }

  /** hactl on a witness, once, to its end. */
  hactl(w: Witness, args: string[]) {
    return this.lab.net.exec(w, [process.execPath, join(ROOT, 'bin/hactl'), ...args], {
      env: { PATH: process.env.PATH, HOME: this.lab.dir, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: this.configOf(w) },
      timeoutMs: 60_000,
    });
  }

  note(what: string): void {
    this.log.push(`${((Date.now() - this.t0) / 1000).toFixed(1)} s ${what}`);
  }

  /** Each witness's `check --watch` and each host's `guard --watch`, respawned when they end (cron). */
  startCrons(window = '110s', witnesses: readonly Witness[] = WITNESSES, guards = true): void {
    for (const w of witnesses)
      this.cron(w, ['check', '--watch', '--window', window, '-q'], {
        HOME: this.lab.dir,
        HACTL_CONFIG: this.configOf(w),
      });
    for (const h of guards ? this.hosts : [])
      this.cron(h.node, ['guard', '--watch', '--window', '55s', '-q'], {
        HOME: h.home,
        LAB_HOST: h.name,
        HACTL_CONFIG: join(h.dir, 'hactl.yaml'),
        PATH: `${join(h.home, 'bin')}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
      });
  }

  private cron(node: string, args: string[], env: Record<string, string>): void {
    const c: Cron = { node, args, env, stopped: false, runs: 0 };
    this.crons.push(c);
    const spawnOne = () => {
      if (c.stopped) return;
      c.runs++;
      const log = join(this.lab.dir, `cron-${node}.log`);
      c.proc = this.lab.net.spawn(node, [process.execPath, join(ROOT, 'bin/hactl'), ...args], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH, HACTL_TELEGRAM_TOKEN: TOKEN, ...env },
      });
      const write = (d: Buffer) => appendFileSync(log, d);
      c.proc.stdout!.on('data', write);
      c.proc.stderr!.on('data', write);
      c.proc.once('exit', () => {
        c.proc = undefined;
        if (!c.stopped) setTimeout(spawnOne, 500);
      });
    };
    spawnOne();
  }

  /** kill -9 of one party's cron'd hactl (its whole process group: a check --watch and the failover it runs). */
  killCron(node: string): boolean {
    const c = this.crons.find((x) => x.node === node && !x.stopped);
    if (!c) return false;
    c.stopped = true;
    if (c.proc?.pid)
      try {
        process.kill(-c.proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    this.note(`${node}'s hactl killed (kill -9)`);
    return true;
  }

  stopCrons(): void {
    for (const c of this.crons) {
      c.stopped = true;
      if (c.proc?.pid)
        try {
          process.kill(-c.proc.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    }
    this.crons = [];
  }

  /** Who holds the cluster lead now (the witness's name), read with etcdctl from a member that answers. */
  leader(): string {
    for (const m of this.etcd.members)
      try {
        return this.etcd.etcdctl(['get', `${this.prefix}/leader/cluster`, '--print-value-only'], [m]).trim();
      } catch {
        /* that member is cut off from the test's side */
      }
    return '';
  }

  sharedState(): any {
    for (const m of this.etcd.members)
      try {
        const out = this.etcd.etcdctl(['get', `${this.prefix}/records/state.json`, '--print-value-only'], [m]).trim();
        return out ? JSON.parse(out) : null;
      } catch {
        /* next member */
      }
    return null;
  }

  windows(): PollWindow[] {
    return this.labHosts().flatMap(pollWindows);
  }
  overlaps() {
    return overlaps(this.labHosts());
  }
  /** The host whose gateway serves now (an open window), or none. */
  serving(): string[] {
    return this.windows()
      .filter((w) => w.to === Infinity)
      .map((w) => w.host);
  }

  /** Waits (bounded) until `ok()`; returns whether it came. */
  async until(ok: () => boolean, ms: number): Promise<boolean> {
    const t = Date.now();
    while (Date.now() - t < ms) {
      if (ok()) return true;
      await sleep(500);
    }
    return ok();
  }

  /** Launches of the stand-in gateway (`gateway run`) on a host, each with its time (ms). */
  launches(h: PHost): number[] {
    const f = join(h.openclawDir, 'fake-calls.log');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => / gateway run$/.test(l))
      .map((l) => Date.parse(l.split(' ')[0]!));
  }

  /** The serving windows, in seconds from the round's start (for the printed timeline). */
  windowsFromStart(): string {
    const s = (ms: number) => (Number.isFinite(ms) ? ((ms - this.t0) / 1000).toFixed(1) : 'open');
    return this.windows()
      .sort((a, b) => a.from - b.from)
      .map((w) => `${w.host} ${s(w.from)}..${s(w.to)} s${w.to === Infinity ? '' : ` (${w.end})`}`)
      .join('; ');
  }

  cronLog(node: string): string {
    const f = join(this.lab.dir, `cron-${node}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  clearCronLogs(): void {
    for (const n of [...WITNESSES, 'primary', 'standby']) rmSync(join(this.lab.dir, `cron-${n}.log`), { force: true });
  }

  async destroyAsync(): Promise<void> {
    this.stopCrons();
    await this.etcd?.stop();
    this.lab.destroy();
  }
  destroy(): void {
    this.stopCrons();
    this.etcd?.killAll();
    this.lab.destroy();
  }
}
