// A plain TCP relay between hactl and a lab sshd, as a jump host, NAT or VPN
// hop would be. It coalesces: bytes from each side are buffered and written on
// a short timer, so several SSH packets (channel success, data, exit-status,
// close) arrive in one segment, which loopback alone never does. It can also
// drop every connection at once (a link that dies mid-command).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class Relay {
  private server?: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  port = 0;
  /** Connections relayed so far. */
  accepted = 0;

  constructor(
    readonly target: { address: string; port: number },
    readonly flushMs = 5,
    readonly listenAddress = '127.0.0.1',
  ) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      this.accepted++;
      const upstream = connect(this.target.port, this.target.address);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const end = () => { client.destroy(); upstream.destroy(); this.pairs.delete(pair); };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      this.pipe(client, upstream);
      this.pipe(upstream, client);
    });
    await new Promise<void>((r) => this.server!.listen(0, this.listenAddress, r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Buffer what `from` sends and hand it to `to` in one write per flush interval. */
  private pipe(from: Socket, to: Socket): void {
    let chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    from.on('data', (d: Buffer) => {
      chunks.push(d);
      timer ??= setTimeout(() => {
        timer = undefined;
        const all = Buffer.concat(chunks);
        chunks = [];
        if (!to.destroyed) to.write(all);
      }, this.flushMs);
    });
    from.on('end', () => {
      const flush = () => {
        if (chunks.length && !to.destroyed) to.write(Buffer.concat(chunks));
        chunks = [];
        to.end();
      };
      if (timer) setTimeout(flush, this.flushMs + 1);
      else flush();
    });
  }

  /** Cut every relayed connection now (RST both ways), as a dead link would. */
  dropAll(): number {
    const n = this.pairs.size;
    for (const [a, b] of this.pairs) { a.resetAndDestroy(); b.resetAndDestroy(); }
    this.pairs.clear();
    return n;
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise((r) => this.server?.close(r));
  }
}
