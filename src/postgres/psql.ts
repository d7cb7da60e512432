// Adapter: psql on a host, over hactl's SSH session, through the configured
// argv (native psql, or `docker exec -i CONTAINER psql ...`). Every word of the
// argv and the database name pass shq; SQL goes on psql's standard input through
// the SSH channel (channel.ts), never on a command line and never in a file on
// the host, however long it is. psql runs with -X (no ~/.psqlrc) -A -t -q (bare
// values, one per line) and ON_ERROR_STOP, so a failed statement fails the run
// (and rolls back the open transaction). Output is collected as Buffers and
// decoded once, at its end: a character split across SSH packets stays whole.
import type { PostgresConfig } from '../config/types.js';
import { shArgs, shq } from '../adapters/shell.js';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { SshError, type SshSession } from '../adapters/ssh.js';
import { remoteDeadline } from '../adapters/shell.js';
import { sshArgv } from '../adapters/rsync.js';
import { RemoteChannel } from './channel.js';

/** A byte stream fed into another psql's input, and how it ended. */
export interface StreamFeed {
  stream: NodeJS.ReadableStream;
  done: Promise<void>;
  kill?: () => void;
}
/** What a source psql reads: SQL text, and streams (each opened when its turn comes), in order. */
export type SourceInput = Array<string | (() => StreamFeed)>;

/**
 * Writes the parts in order, with backpressure; ends the input after the last.
 * Rejects when a stream failed; stops quietly when the reader went away (its
 * exit status says why).
 */
async function feed(to: Writable, parts: SourceInput): Promise<void> {
  const gone = () => to.destroyed || to.writableEnded;
  const write = (b: Buffer | string) =>
    new Promise<void>((resolve) => {
      if (gone() || to.write(b)) return resolve();
      const go = () => {
        to.off('drain', go);
        to.off('close', go);
        resolve();
      };
      to.on('drain', go);
      to.on('close', go);
    });
  for (const part of parts) {
    if (gone()) return;
    if (typeof part === 'string') {
      await write(part);
      continue;
    }
    const f = part();
    try {
      for await (const chunk of f.stream) {
        if (gone()) break;
        await write(chunk as Buffer);
      }
      if (gone()) {
        f.kill?.();
        return;
      }
      await f.done;
    } catch (e) {
      f.kill?.();
      throw e;
    }
  }
  to.end();
}

export class PsqlError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
  }
}

export function psqlArgv(c: PostgresConfig, host: string): string[] {
  return c.hosts[host]?.psql ?? c.psql;
}

const lines = (out: string): string[] => {
  const s = out.replace(/\n$/, '');
  return s === '' ? [] : s.split('\n');
};
const tail = (stderr: string, stdout = '') => stderr.trim().split('\n').slice(-3).join(' | ') || stdout.trim();

export class Psql {
  constructor(
    readonly session: SshSession,
    private readonly c: PostgresConfig,
    private readonly what = 'psql',
    private readonly timeout = c.timeout,
  ) {}

  get host(): string {
    return this.session.host.name;
  }

  /** The same psql with its own deadline (seconds) and description. */
  with(what: string, timeout = this.timeout): Psql {
    return new Psql(this.session, this.c, what, timeout);
  }

  command(): string {
    const argv = psqlArgv(this.c, this.host);
    return `${shArgs(argv)} -X -A -t -q -v ON_ERROR_STOP=1 -d ${shq(this.c.database)}`;
  }

  /** Runs the SQL; stdout as bytes, untouched. Throws PsqlError naming host and command. */
  async bytes(sql: string, onData?: (b: Buffer) => void): Promise<Buffer> {
    const out: Buffer[] = [];
    const ch = await RemoteChannel.open(this.session, this.command(), this.timeout, onData ?? ((b) => out.push(b)));
    await ch.write(sql);
    ch.end();
    const r = await ch.done;
    const stdout = Buffer.concat(out);
    if (r.code !== 0) throw this.fail(tail(r.stderr, stdout.toString('utf8')), r.code);
    return stdout;
  }

  /** Runs the SQL; returns psql's output lines. Throws PsqlError naming host and command. */
  async run(sql: string): Promise<string[]> {
    return lines((await this.bytes(sql)).toString('utf8'));
  }

  /** Runs SQL that prints exactly one JSON value per line, `n` lines. */
  async json<T>(sql: string, n = 1): Promise<T[]> {
    const got = await this.run(sql);
    if (got.length !== n)
      throw new PsqlError(this.host, `${this.host}: ${this.what}: expected ${n} line(s) from psql, got ${got.length}`);
    return got.map((l) => JSON.parse(l) as T);
  }

  /**
   * Runs `sourceSql` on `source` and feeds its output, as is, to this psql's
   * stdin: the source prints the target's whole script (copyOutSql), rows
   * included. The bytes go from one OpenSSH client's stdout to the other's
   * stdin through an OS pipe, never through this process: the witness holds
   * none of the rows, and the copy runs as fast as `ssh | ssh`. The target's
   * COMMIT is the source's last line: a source that fails or is cut off leaves
   * the target at the end of its input inside the transaction, which
   * PostgreSQL rolls back. Returns this psql's output lines.
   */
  async pipeFrom(source: Psql, sourceSql: string | SourceInput, connectTimeout: number): Promise<string[]> {
    const ssh = (p: Psql, stdin: 'pipe' | NodeJS.ReadableStream) => p.spawnSsh(stdin, connectTimeout);
    const a = ssh(source, 'pipe');
    const b = ssh(this, a.stdout!);
    // b has its own copy of the pipe: this process lets go of its end (else a's 'close' never comes).
    a.stdout!.destroy();
    const out: Buffer[] = [];
    const errA: Buffer[] = [];
    const errB: Buffer[] = [];
    b.stdout!.on('data', (d: Buffer) => out.push(d));
    a.stderr!.on('data', (d: Buffer) => errA.push(d));
    b.stderr!.on('data', (d: Buffer) => errB.push(d));
    const exit = (c: ReturnType<typeof spawn>) =>
      new Promise<number | null>((resolve) => {
        c.on('error', () => resolve(null));
        c.on('close', (code) => resolve(code));
      });
    const localSec = Math.max(source.timeout, this.timeout) + connectTimeout + 7;
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      a.kill('SIGKILL');
      b.kill('SIGKILL');
    }, localSec * 1000);
    a.stdin!.on('error', () => undefined); // the source stopped reading: its exit says why
    let fed: Error | undefined;
    const feeding = feed(a.stdin!, typeof sourceSql === 'string' ? [sourceSql] : sourceSql).catch((e: unknown) => {
      // A feed that failed must not let the source reach its COMMIT: both stop, nothing is committed.
      fed = e as Error;
      a.kill('SIGKILL');
      b.kill('SIGKILL');
    });
    const [ca, cb] = await Promise.all([exit(a), exit(b), feeding]).finally(() => clearTimeout(timer));
    if (fed) throw fed;
    const text = (x: Buffer[]) => Buffer.concat(x).toString('utf8');
    const stdout = text(out);
    if (late) throw this.fail(`did not finish within ${localSec} s (local deadline); nothing committed`, null);
    if (cb !== 0) {
      if (cb === 255) throw new SshError('unreachable', this.host, `${this.host}: ssh failed: ${tail(text(errB))}`);
      throw this.fail(tail(text(errB), stdout), cb);
    }
    if (ca !== 0) {
      if (ca === 255) throw new SshError('unreachable', source.host, `${source.host}: ssh failed: ${tail(text(errA))}`);
      throw source.fail(`${tail(text(errA))} (nothing committed on ${this.host})`, ca);
    }
    return lines(stdout);
  }

  /** This psql through the OpenSSH client (the same options and host-key checks as rsync's). */
  spawnSsh(stdin: 'pipe' | NodeJS.ReadableStream, connectTimeout: number): ChildProcess {
    return spawn(
      'ssh', // sshArgv's first word
      [
        ...sshArgv(this.session.host, connectTimeout).slice(1),
        this.session.host.address,
        remoteDeadline(this.command(), this.timeout),
      ],
      { stdio: [stdin as 'pipe', 'pipe', 'pipe'] },
    );
  }

  /**
   * Runs the SQL through the OpenSSH client and hands its stdout, unread, to
   * the caller (a feed of pipeFrom's source): the bytes pass this process as
   * a stream with backpressure, never held whole. `done` rejects when psql
   * or ssh fails.
   */
  stream(sql: string, connectTimeout: number): StreamFeed {
    const c = this.spawnSsh('pipe', connectTimeout);
    const err: Buffer[] = [];
    c.stderr!.on('data', (d: Buffer) => err.push(d));
    c.stdin!.on('error', () => undefined);
    c.stdin!.end(sql);
    const done = new Promise<void>((resolve, reject) => {
      c.on('error', (e) => reject(new SshError('unreachable', this.host, `${this.host}: ${e.message}`)));
      c.on('close', (code) => {
        const why = tail(Buffer.concat(err).toString('utf8'));
        if (code === 0) resolve();
        else if (code === 255) reject(new SshError('unreachable', this.host, `${this.host}: ssh failed: ${why}`));
        else reject(this.fail(why, code));
      });
    });
    done.catch(() => undefined);
    return { stream: c.stdout!, done, kill: () => c.kill('SIGKILL') };
  }

  fail(detail: string, code: number | null): PsqlError {
    // Only the program's name: the rest of the argv may hold a connection string.
    const prog = psqlArgv(this.c, this.host)[0];
    return new PsqlError(
      this.host,
      `${this.host}: ${this.what} (${prog} ..., database ${this.c.database}) failed with exit ${code}: ${detail}`,
    );
  }
}
