// Adapter: one remote command over an open SshSession as a byte stream, with
// its standard input open. SshSession.run (src/adapters/ssh.ts) takes a script
// and returns decoded text; the PostgreSQL copy needs more: SQL and row data go
// on psql's stdin (never argv, never a temporary file), row data flows from one
// host's stdout to the other's stdin with backpressure, and output is kept as
// Buffers and decoded once, at its end. The ssh2 connection is the session's own
// (no second handshake, same host-key checks); the channel runs under the same
// deadlines as run(): `timeout -k` on the host and a local timer here.
import type { SshSession } from '../adapters/ssh.js';
import { SshError } from '../adapters/ssh.js';
import { remoteDeadline } from '../adapters/shell.js';

/** ssh2's ClientChannel, as far as it is used here (a Duplex: write = remote stdin, data = remote stdout). */
export interface RawChannel {
  write(b: Buffer | string): boolean;
  end(b?: Buffer | string): void;
  once(ev: 'drain', fn: () => void): unknown;
  on(ev: string, fn: (...a: never[]) => void): unknown;
  pause(): void;
  resume(): void;
  stderr: { on(ev: string, fn: (d: Buffer) => void): unknown };
  close?: () => void;
  destroy?: () => void;
}
interface Conn {
  spawn(cmd: string, params?: string[] | null, opts?: object): Promise<RawChannel>;
}

export interface Exit {
  code: number | null;
  /** stderr, decoded once at its end. */
  stderr: string;
}

/**
 * A remote command with open stdin. `onData` receives stdout as it comes
 * (Buffers, never decoded here); `done` settles when the channel closes:
 * with the exit status, or an SshError (link lost, local deadline).
 */
export class RemoteChannel {
  private constructor(
    readonly host: string,
    private readonly ch: RawChannel,
    readonly done: Promise<Exit>,
  ) {}

  static async open(
    session: SshSession,
    script: string,
    timeoutSec: number,
    onData: (b: Buffer) => void,
  ): Promise<RemoteChannel> {
    // The session keeps its ssh2 connection private; this adapter is the one other user (see the header).
    const conn = (session as unknown as { conn: Conn }).conn;
    const host = session.host.name;
    const label = `${host} (${session.host.user}@${session.host.address}:${session.host.port})`;
    const localSec = timeoutSec + 7;
    let ch: RawChannel | undefined;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        try {
          ch?.close?.();
          ch?.destroy?.();
        } catch {
          /* already closed */
        }
        reject(new SshError('ssh-timeout', host, `${label}: remote command did not finish within ${localSec} s`));
      }, localSec * 1000);
    });
    expired.catch(() => undefined);
    try {
      ch = await Promise.race([conn.spawn(remoteDeadline(script, timeoutSec), null), expired]);
    } catch (e) {
      clearTimeout(timer);
      throw e instanceof SshError ? e : new SshError('unreachable', host, `${label}: ${(e as Error).message}`);
    }
    const c = ch;
    const err: Buffer[] = [];
    c.stderr.on('data', (d: Buffer) => err.push(d));
    c.on('data', (d: Buffer) => onData(d));
    const closed = new Promise<Exit>((resolve, reject) => {
      c.on('close', (code?: number | null) => {
        if (code === undefined)
          reject(new SshError('unreachable', host, `${label}: connection lost during a remote command`));
        else resolve({ code, stderr: Buffer.concat(err).toString('utf8') });
      });
      c.on('error', (e: Error) => reject(new SshError('unreachable', host, `${label}: ${e.message}`)));
    });
    const done = Promise.race([closed, expired]).finally(() => clearTimeout(timer));
    done.catch(() => undefined);
    return new RemoteChannel(host, c, done);
  }

  /** Writes to the remote stdin, waiting while the channel's window is full. */
  async write(b: Buffer | string): Promise<void> {
    if (!this.ch.write(b)) await new Promise<void>((r) => this.ch.once('drain', r));
  }

  /** Writes without waiting; false: wait for onceDrain before the next. */
  push(b: Buffer | string): boolean {
    return this.ch.write(b);
  }
  onceDrain(fn: () => void): void {
    this.ch.once('drain', fn);
  }

  /** End of the remote stdin. */
  end(): void {
    this.ch.end();
  }

  pause(): void {
    this.ch.pause();
  }
  resume(): void {
    this.ch.resume();
  }

  kill(): void {
    try {
      this.ch.close?.();
      this.ch.destroy?.();
    } catch {
      /* already closed */
    }
  }
}
