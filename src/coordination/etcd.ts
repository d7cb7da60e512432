// The etcd adapter (etcd3, gRPC): the only module that talks to etcd (longer than 300 lines because
// of that: every etcd call is here). Leadership is a
// lease-bound key created only if absent (a create-revision compare), so a dead or cut-off
// leader's key vanishes with its lease; every shared write is one transaction that also
// compares the leader key's create revision with ours, so a witness that lost leadership can
// never write. Every call has a deadline: a witness that cannot reach a quorum learns it
// within `timeout`, never hangs.
import { readFileSync } from 'node:fs';
import net, { type Socket } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Etcd3, IOptions, Lease, LeaseClient } from 'etcd3';
import { InterceptingCall, ListenerBuilder, status, type Interceptor } from '@grpc/grpc-js';
import type { EtcdConfig } from '../config/types.js';
import type { SharedRecord } from './store.js';
import { keepaliveAnswered, leaseGranted, renewalTimes, type LeaseLife } from './plan.js';
import { monotonicMs } from '../adapters/clock.js';

export class NoQuorumError extends Error {}

/**
 * A unary call's try cancelled after `ms` on the monotonic clock (a timer), with DEADLINE_EXCEEDED
 * as grpc-js's own deadline would: the client then tries another member.
 */
export function tryBound(ms: number): Interceptor {
  return (options, nextCall) => {
    const call = new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        const timer = setTimeout(
          () => call.cancelWithStatus(status.DEADLINE_EXCEEDED, `no answer within ${ms} ms`),
          ms,
        );
        const done = new ListenerBuilder()
          .withOnReceiveStatus((st, on) => {
            clearTimeout(timer);
            on(st);
          })
          .build();
        next(metadata, done);
      },
    });
    return call;
  };
}

/** Rejects with NoQuorumError when the promise is not settled within ms. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoQuorumError(`${what}: no answer within ${ms / 1000}s`)), ms);
  });
  return Promise.race([p, late])
    .catch((e: unknown) => {
      throw e instanceof NoQuorumError ? e : new NoQuorumError(`${what}: ${(e as Error).message.split('\n')[0]}`);
    })
    .finally(() => clearTimeout(timer));
}

/** "host:port" of an endpoint URL (etcd's default port 2379). */
const target = (endpoint: string): string => {
  const u = new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`);
  return `${u.hostname.replace(/^\[|\]$/g, '')}:${u.port || 2379}`;
};

/** TCP connects to etcd endpoints still under way, and how many open clients use each endpoint. */
const attempts = new Set<{ socket: Socket; target: string }>();
const users = new Map<string, number>();
let wrapped = false;

/** Ends the connects to endpoints no open client uses. */
function endAttempts(): void {
  for (const a of attempts) if (!users.get(a.target)) a.socket.destroy();
}

/**
 * Each net.connect() to an etcd endpoint is noted until it connects or closes; one to an
 * endpoint no open client uses (grpc-js starting a reconnect after close()) is ended at once.
 * grpc-js calls net.connect({ host, port }) on the shared module object; every other connect
 * passes untouched.
 */
function watchConnects(targets: Set<string>): void {
  for (const t of targets) users.set(t, (users.get(t) ?? 0) + 1);
  if (wrapped) return;
  wrapped = true;
  const connect = net.connect.bind(net) as (...a: unknown[]) => Socket;
  net.connect = ((...args: unknown[]) => {
    const socket = connect(...args);
    const o = args[0] as { host?: string; port?: number } | undefined;
    const t = typeof o === 'object' && o ? `${o.host ?? 'localhost'}:${o.port}` : '';
    if (users.has(t)) {
      const a = { socket, target: t };
      attempts.add(a);
      const done = () => attempts.delete(a);
      socket.once('connect', done).once('close', done);
      if (!users.get(t)) socket.destroy();
    }
    return socket;
  }) as typeof net.connect;
}

/**
 * One keepalive of lease `id` to one member, bounded by `ms` on this witness's monotonic clock (a
 * timer, then the stream is cancelled): the TTL etcd says is left.
 */
export function keepaliveOn(member: Pick<LeaseClient, 'leaseKeepAlive'>, id: string, ms: number): Promise<number> {
  let done = false;
  let stream: { cancel(): void } | undefined;
  const answer = member.leaseKeepAlive().then((s) => {
    stream = s;
    if (done) s.cancel(); // the try ended before its stream opened
    return new Promise<number>((resolve, reject) => {
      s.on('data', (r: { TTL: string }) => resolve(Number(r.TTL)));
      s.on('error', reject);
      s.on('end', () => reject(new Error('the stream ended unanswered')));
      s.write({ ID: id });
    });
  });
  return within(answer, ms, 'etcd: keepalive').finally(() => {
    done = true;
    stream?.cancel();
  });
}

export interface Leadership {
  leader: boolean;
  /** Who holds the key (this witness when leader). */
  holder: string;
}

export class EtcdCoordinator {
  private lease?: Lease;
  private createRev?: string;
  /** Until when the lease is surely alive on the server, on the monotonic clock (plan.ts LeaseLife). */
  private life: LeaseLife = { validUntil: 0 };
  get validUntil(): number {
    return this.life.validUntil;
  }
  private granted = false;
  private constructor(
    private readonly client: Etcd3,
    readonly prefix: string,
    readonly name: string,
    private readonly ttl: number,
    private readonly ms: number,
    private readonly targets = new Set<string>(),
    /** One lease client per member, for the keepalives (renew). */
    private readonly members: Array<{ lease: LeaseClient; close: () => void }> = [],
  ) {}

  /** times: the lease TTL (whole seconds) and the deadline of each call (src/coordination/plan.ts etcdTimes). */
  static async open(
    cfg: EtcdConfig,
    times: { ttl: number; timeoutMs: number },
    configFile: string,
    prefix: string,
    name: string,
  ): Promise<EtcdCoordinator> {
    const { Etcd3, LeaseClient } = await import('etcd3');
    const base = dirname(resolve(configFile));
    const pem = (p?: string) => (p ? readFileSync(isAbsolute(p) ? p : resolve(base, p)) : undefined);
    const ca = pem(cfg.ca);
    const { ConnectionPool } = await import('etcd3/lib/connection-pool.js');
    const ms = times.timeoutMs;
    const options: IOptions = {
      hosts: cfg.endpoints,
      credentials: ca ? { rootCertificate: ca, privateKey: pem(cfg.key), certChain: pem(cfg.cert) } : undefined,
      // Each try of a unary call has a third of the deadline: a member that drops packets (cut
      // off, or alone without quorum) costs one try, and the client's retries go to the others
      // within the deadline. The try's bound is a timer (the monotonic clock) that cancels it, not
      // grpc-js's deadline, which is a wall-clock instant; `within` bounds the whole call.
      // Keepalives are bounded by their own timer (keepaliveOn).
      defaultCallOptions: (c) => (c.isStream ? {} : { interceptors: [tryBound(Math.max(300, ms / 3))] }),
    };
    const client = new Etcd3(options);
    // etcd3's own keepalive keeps one stream on one member, and gives it up only after a whole TTL
    // without an answer: when that member drops packets, the lease lapses first (a third of the
    // time with one of three members cut off). Here each renewal goes to every member at once.
    const members = cfg.endpoints.map((h) => {
      const pool = new ConnectionPool({ ...options, hosts: [h] });
      return { lease: new LeaseClient(pool), close: () => pool.close() };
    });
    const targets = new Set(cfg.endpoints.map(target));
    watchConnects(targets);
    return new EtcdCoordinator(client, prefix, name, times.ttl, ms, targets, members);
  }

  /** The lead of one domain: PREFIX/leader/<lock name> (cluster, memory, backup-<tier>). */
  private leaderKey = '';
  private recordKey(name: string): string {
    return `${this.prefix}/records/${name}`;
  }

  /** One try: the key is ours if nobody holds it. Not the leader: the lease is revoked at once. */
  async campaign(domain: string, onLost: (why: string) => void): Promise<Leadership> {
    this.leaderKey = `${this.prefix}/leader/${domain}`;
    const lease = this.client.lease(this.ttl, { autoKeepAlive: false });
    this.lease = lease;
    lease.on('lost', () => undefined); // the watchdog below decides, on our own clock
    const sentAt = monotonicMs();
    const id = await within(lease.grant(), this.ms, 'etcd: lease grant');
    this.granted = true;
    this.life = leaseGranted(sentAt, this.ttl);
    this.renew(lease, id, sentAt);
    const r = await within(
      this.client
        .if(this.leaderKey, 'Create', '==', 0)
        .then(this.client.put(this.leaderKey).value(this.name).lease(id))
        .else(this.client.get(this.leaderKey))
        .commit(),
      this.ms,
      'etcd: campaign',
    );
    if (r.succeeded) {
      this.createRev = String(r.header.revision);
      this.watchdog(onLost);
      return { leader: true, holder: this.name };
    }
    const kv = r.responses[0]?.response_range?.kvs?.[0];
    await this.resign();
    return { leader: false, holder: kv ? Buffer.from(kv.value).toString() : '(gone)' };
  }

  /** Patroni's rule: a leader that cannot renew stops before its lease can expire on the server. */
  private watchdog(onLost: (why: string) => void): void {
    const tick = () => {
      if (!this.createRev) return;
      const left = this.life.validUntil - monotonicMs();
      if (left <= 250) return onLost(`etcd: the leader lease was not renewed for ${this.ttl}s`);
      setTimeout(tick, Math.min(left - 200, 1000)).unref();
    };
    setTimeout(tick, 200).unref();
  }

  /**
   * Renews the lease from its grant until it is given back: each round sends one keepalive to every
   * member at once and the first answer counts (plan.ts LeaseLife, renewalTimes). A round is due a
   * third of the TTL after the last one sent (the grant's request first: a grant that took long is
   * renewed at once), the next at once after a round nobody answered.
   */
  private renew(lease: Lease, id: string, grantSent: number): void {
    const { everyMs, tryMs } = renewalTimes(this.ttl, this.ms);
    const round = async (): Promise<void> => {
      if (this.lease !== lease || this.closed) return;
      const sentAt = monotonicMs();
      const ttl = await Promise.any(this.members.map((m) => keepaliveOn(m.lease, id, tryMs))).catch(() => undefined);
      if (ttl !== undefined) this.life = keepaliveAnswered(this.life, sentAt, ttl);
      const next = ttl === undefined ? 50 : Math.max(0, sentAt + everyMs - monotonicMs());
      setTimeout(() => void round(), next).unref();
    };
    setTimeout(() => void round(), Math.max(0, grantSent + everyMs - monotonicMs())).unref();
  }

  /** The shared records (name -> text and mod revision). */
  async read(names: string[]): Promise<Map<string, SharedRecord>> {
    const res = await within(this.client.getAll().prefix(`${this.prefix}/records/`).exec(), this.ms, 'etcd: read');
    const out = new Map<string, SharedRecord>();
    for (const n of names) out.set(n, { text: null, rev: '0' });
    for (const kv of res.kvs) {
      const name = Buffer.from(kv.key).toString().slice(`${this.prefix}/records/`.length);
      if (out.has(name)) out.set(name, { text: Buffer.from(kv.value).toString(), rev: String(kv.mod_revision) });
    }
    return out;
  }

  /**
   * Writes the changed records in one transaction: each record's mod revision must be the one
   * read, and (asLeader) the leader key must still be ours. False: another witness acted (or we
   * lost the lead).
   */
  async write(changes: Array<{ name: string; text: string; rev: string }>, asLeader = true): Promise<boolean> {
    if (asLeader && !this.createRev) return false;
    const [first, ...rest] = changes;
    if (!first) return true;
    let txn = asLeader
      ? this.client
          .if(this.leaderKey, 'Create', '==', this.createRev!)
          .and(this.recordKey(first.name), 'Mod', '==', first.rev)
      : this.client.if(this.recordKey(first.name), 'Mod', '==', first.rev);
    for (const c of rest) txn = txn.and(this.recordKey(c.name), 'Mod', '==', c.rev);
    const r = await within(
      txn.then(...changes.map((c) => this.client.put(this.recordKey(c.name)).value(c.text))).commit(),
      this.ms,
      'etcd: compare-and-swap',
    );
    return r.succeeded;
  }

  /** PREFIX/intent/<domain>: what the leader of a domain set out to do, until its records are shared. */
  private intentKey(): string {
    return this.leaderKey.replace('/leader/', '/intent/');
  }

  /** The intent an earlier leader left (null: none, every leader so far finished or did nothing). */
  async readIntent(): Promise<string | null> {
    const v = await within(this.client.get(this.intentKey()).string(), this.ms, 'etcd: read intent');
    return v ?? null;
  }

  /** Writes (or, null, clears) this leader's intent, only while the leader key is ours. */
  async writeIntent(text: string | null): Promise<boolean> {
    if (!this.createRev) return false;
    const key = this.intentKey();
    const op = text === null ? this.client.delete().key(key) : this.client.put(key).value(text);
    const r = await within(
      this.client.if(this.leaderKey, 'Create', '==', this.createRev).then(op).commit(),
      this.ms,
      'etcd: intent',
    );
    return r.succeeded;
  }

  /** PREFIX/grant/<domain>/: grants its leaders recorded before sending them, until their state is shared. */
  private grantPrefix(): string {
    return this.leaderKey.replace('/leader/', '/grant/') + '/';
  }

  /** The grants an earlier leader recorded and never followed with its shared state (role -> text). */
  async readGrants(): Promise<Map<string, string>> {
    const p = this.grantPrefix();
    const res = await within(this.client.getAll().prefix(p).exec(), this.ms, 'etcd: read grants');
    return new Map(
      res.kvs.map((kv) => [Buffer.from(kv.key).toString().slice(p.length), Buffer.from(kv.value).toString()]),
    );
  }

  /** Records a grant before it is sent, only while the leader key is ours (false: do not send it). */
  async writeGrant(role: string, text: string): Promise<boolean> {
    if (!this.createRev) return false;
    const r = await within(
      this.client
        .if(this.leaderKey, 'Create', '==', this.createRev)
        .then(this.client.put(this.grantPrefix() + role).value(text))
        .commit(),
      this.ms,
      'etcd: record grant',
    );
    return r.succeeded;
  }

  /** Clears the recorded grants once this leader's state (holding them) is shared. */
  async clearGrants(): Promise<boolean> {
    if (!this.createRev) return false;
    const r = await within(
      this.client
        .if(this.leaderKey, 'Create', '==', this.createRev)
        .then(this.client.delete().prefix(this.grantPrefix()))
        .commit(),
      this.ms,
      'etcd: clear grants',
    );
    return r.succeeded;
  }

  /** Gives the lead back at once (the next run of any witness may take it). */
  async resign(): Promise<void> {
    this.createRev = undefined;
    const lease = this.lease;
    this.lease = undefined;
    // A lease never granted (etcd out of reach) has nothing to give back.
    if (lease && this.granted) await within(lease.revoke(), this.ms, 'etcd: resign').catch(() => undefined);
  }

  /**
   * Closes the client, and every connection attempt still under way. grpc-js (1.14,
   * transport.js tcpConnect) does not keep the socket of a TCP connect it started, its
   * shutdown() closes sessions only, and it may start one more attempt after close(): an attempt
   * to a member that drops packets stays open until the kernel gives up its SYN retries (about 2
   * minutes), and a connect request keeps the process alive whatever unref() says (the old
   * process.exit timer). Here such attempts are ended, and later ones at once (watchConnects).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
    for (const m of this.members) m.close();
    for (const t of this.targets) users.set(t, (users.get(t) ?? 1) - 1);
    endAttempts();
  }
  private closed = false;

  /** The lease's id (decimal), for tests and messages. */
  async leaseId(): Promise<string | undefined> {
    return this.lease?.grant();
  }
}
