// A local HTTP server speaking the part of the Telegram Bot API hactl uses
// (sendMessage), so alerts can be asserted. Modes make it fail as the real one
// does: 401 (revoked token), 409 (conflict), 429 with retry_after, 500, 502, a
// hang (accepts, never answers); `delayMs` slows every answer.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Sent {
  token: string;
  chatId: string;
  text: string;
  at: number;
}
export type Mode = 'ok' | 'fail' | 'hang' | 'unauthorized' | 'conflict' | 'ratelimit' | 'server-error';

export class FakeTelegram {
  readonly sent: Sent[] = [];
  mode: Mode = 'ok';
  /** retry_after (s) for 'ratelimit'. */
  retryAfter = 1;
  /** Every answer waits this long (concurrency tests widen their windows with it). */
  delayMs = 0;
  /** Texts longer than this (UTF-16 units, as Telegram counts) get the real 400 "message is too long". */
  maxLength = Infinity;
  /** Requests seen, whatever the answer. */
  requests = 0;
  private server!: Server;
  url = '';

  /** host: where it listens (a partition lab's Telegram node listens on its lab address). */
  async start(host = '127.0.0.1', port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () =>
        setTimeout(() => {
          this.requests++;
          const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
          if (this.mode === 'hang') return; // never answers
          const reply = (code: number, obj: unknown) => {
            res.writeHead(code, { 'content-type': 'application/json' });
            res.end(JSON.stringify(obj));
          };
          if (!m) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
          if (this.mode === 'fail') return reply(502, { ok: false, error_code: 502, description: 'Bad Gateway' });
          if (this.mode === 'unauthorized')
            return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
          if (this.mode === 'conflict') {
            return reply(409, {
              ok: false,
              error_code: 409,
              description: 'Conflict: terminated by other getUpdates request',
            });
          }
          if (this.mode === 'ratelimit') {
            return reply(429, {
              ok: false,
              error_code: 429,
              description: `Too Many Requests: retry after ${this.retryAfter}`,
              parameters: { retry_after: this.retryAfter },
            });
          }
          if (this.mode === 'server-error')
            return reply(500, { ok: false, error_code: 500, description: 'Internal Server Error' });
          const ct = req.headers['content-type'] ?? '';
          const params: Record<string, string> = ct.includes('json')
            ? JSON.parse(body || '{}')
            : Object.fromEntries(new URLSearchParams(body));
          if (m[2] !== 'sendMessage')
            return reply(400, { ok: false, error_code: 400, description: `method ${m[2]} not faked` });
          if (String(params.text).length > this.maxLength)
            return reply(400, { ok: false, error_code: 400, description: 'Bad Request: message is too long' });
          this.sent.push({ token: m[1]!, chatId: String(params.chat_id), text: String(params.text), at: Date.now() });
          reply(200, {
            ok: true,
            result: {
              message_id: this.sent.length,
              date: Math.floor(Date.now() / 1000),
              chat: { id: Number(params.chat_id) || 0, type: 'private' },
              text: params.text,
            },
          });
        }, this.delayMs),
      );
    });
    await new Promise<void>((r) => this.server.listen(port, host, r));
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  texts(): string[] {
    return this.sent.map((s) => s.text);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
