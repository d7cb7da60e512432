// A local HTTP receiver on 127.0.0.1 for webhooks and dead-man pings: it records
// every request it accepts (method, path, headers, parsed JSON body) and answers
// as told: 'ok' (204), 'fail' (500, not recorded) or 'hang' (never answers).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

export class Receiver {
  readonly got: Received[] = [];
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  /** Paths answered 500, with a body that echoes the path (error bodies must be redacted). */
  readonly failing = new Set<string>();
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        if (this.mode === 'hang') return;
        let body: any = raw;
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          /* kept as text */
        }
        const fail = this.mode === 'fail' || this.failing.has(req.url ?? '');
        if (!fail) this.got.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        res.writeHead(fail ? 500 : 204);
        res.end(fail ? `no such hook ${req.url}` : undefined);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Requests to one path. */
  at(path: string): Received[] {
    return this.got.filter((g) => g.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
