// Fault helpers for test/faults: a HostConfig that reaches a lab host through
// another endpoint (a relay or a fault server), and TCP servers that misbehave
// in the ways SSH servers do when things break.
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Lab, LabHost } from './lab.ts';

/** The config hactl's SshSession takes for `host`, reached at `via` (known_hosts gets that endpoint too). */
export function hostVia(lab: Lab, host: LabHost, via: { address: string; port: number }): any {
  const kh = join(lab.dir, 'known_hosts');
  const key = readFileSync(join(host.dir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  const entry = `[${via.address}]:${via.port} `;
  if (!readFileSync(kh, 'utf8').includes(entry)) appendFileSync(kh, `${entry}${key}\n`);
  return {
    name: host.name,
    address: via.address,
    port: via.port,
    user: 'root',
    key: join(lab.dir, 'client_ed25519'),
    knownHosts: kh,
    gateway: { port: host.gatewayPort },
  };
}

/** A TCP server on 127.0.0.1 whose connections get `onConn`; closed with stop(). */
export class FaultServer {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;
  constructor(private readonly onConn: (s: Socket, later: (fn: () => void, ms: number) => void) => void) {}

  async start(): Promise<this> {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.on('error', () => undefined).on('close', () => this.sockets.delete(s));
      this.onConn(s, (fn, ms) => {
        const t = setTimeout(() => {
          this.timers.delete(t);
          fn();
        }, ms);
        this.timers.add(t);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}

/** Accepts and never sends a byte. */
export const silentServer = () => new FaultServer(() => undefined);

/** Sends an SSH banner one byte at a time, `totalMs` for the whole line (never a key exchange). */
export function tricklingBanner(totalMs = 60_000): FaultServer {
  const banner = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n';
  return new FaultServer((s, later) => {
    const step = totalMs / banner.length;
    let i = 0;
    const next = () => {
      if (s.destroyed || i >= banner.length) return;
      s.write(banner[i++]!);
      later(next, step);
    };
    next();
  });
}

/**
 * A real SSH server (ssh2's Server) that completes the handshake, accepts any key and answers
 * keepalives, but never answers a session request: the exec of a remote command never starts.
 * Its host key is `hostKeyFile` (a lab host's), so hactl's strict host-key check passes.
 */
export async function stuckSshServer(hostKeyFile: string): Promise<{ port: number; stop(): Promise<void> }> {
  const { Server } = (await import('ssh2')).default as any;
  const clients = new Set<any>();
  const server = new Server({ hostKeys: [readFileSync(hostKeyFile)] }, (client: any) => {
    clients.add(client);
    client.on('error', () => undefined).on('close', () => clients.delete(client));
    client.on('authentication', (ctx: any) => ctx.accept());
    client.on('ready', () => client.on('session', () => undefined /* neither accept nor reject */));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    stop: async () => {
      for (const c of clients) c.end();
      await new Promise((r) => server.close(r));
    },
  };
}
