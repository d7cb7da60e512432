// Adapter: psql on a host, over hactl's SSH session, through the configured
// argv (native psql, or `docker exec -i CONTAINER psql ...`). Every word of the
// argv and the database name pass shq; SQL goes on psql's standard input through
// the SSH channel (SshSession.exec, or an OpenSSH client in pipeFrom), never on
// a command line and never in a file on the host, however long it is. psql runs with -X (no ~/.psqlrc) -A -t -q (bare
// values, one per line) and ON_ERROR_STOP, so a failed statement fails the run
// (and rolls back the open transaction). Output is collected as Buffers and
// decoded once, at its end: a character split across SSH packets stays whole.
import type { PostgresConfig } from '../config/types.js';
import { shArgs, shq } from '../adapters/shell.js';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { SshError, SshSession } from '../adapters/ssh.js';
import { remoteDeadline } from '../adapters/shell.js';
import { sshArgv } from '../adapters/rsync.js';
import type { HostConfig } from '../config/types.js';
import type { SshShare } from '../adapters/ssh-master.js';
import type { TargetAnswer } from './answer.js';

/**
 * Where a psql runs: an open ssh2 session (bytes, run, json go through it), or
 * only the host, for the OpenSSH clients (pipeFrom, stream), which share one
 * connection per host through the master when `share` is given.
 */
export interface PsqlLink {
  host: HostConfig;
  session?: SshSession;
  share?: SshShare;
}

/** A byte stream fed into another psql's input, and how it ended. */
export interface StreamFeed {
  stream: NodeJS.ReadableStream;
  done: Promise<void>;
  kill?: () => void;
}
/**
 * What a source psql reads, in order: SQL text, streams (each opened when its
 * turn comes) and SQL text that can only be built when its turn comes.
 */
export type SourceInput = Array<string | (() => StreamFeed | Promise<string>)>;

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
    const got = part();
    if (got instanceof Promise) {
      await write(await got);
      continue;
    }
    const f = got;
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
  readonly link: PsqlLink;
  constructor(
    to: SshSession | PsqlLink,
    private readonly c: PostgresConfig,
    private readonly what = 'psql',
    private readonly timeout = c.timeout,
  ) {
    this.link = to instanceof SshSession ? { host: to.host, session: to } : to;
  }

  get host(): string {
    return this.link.host.name;
  }

  /** The same psql with its own deadline (seconds) and description. */
  with(what: string, timeout = this.timeout): Psql {
    return new Psql(this.link, this.c, what, timeout);
  }

  command(): string {
    const argv = psqlArgv(this.c, this.host);
    return `${shArgs(argv)} -X -A -t -q -v ON_ERROR_STOP=1 -d ${shq(this.c.database)}`;
  }

  /**
   * Runs the SQL (on psql's stdin, through SshSession.exec: its deadlines and caps); stdout goes to
   * `onData` as it comes, or, without it, is returned as bytes, untouched (capped at 1 MiB: what a
   * query prints here is small; row data streams). Throws PsqlError naming host and command.
   */
  async bytes(sql: string, onData?: (b: Buffer) => void): Promise<Buffer> {
    const session = this.link.session;
    if (!session) throw new Error(`${this.host}: ${this.what}: no SSH session open (internal)`);
    const ch = await session.exec(this.command(), this.timeout, onData, {
      what: `${psqlArgv(this.c, this.host)[0]} (${this.what})`,
    });
    if (!ch.write(sql)) await new Promise<void>((r) => ch.onceDrain(r));
    ch.end();
    const r = await ch.done;
    const stdout = ch.stdout();
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
   * stdin: the source prints the target's whole script (sql.ts
   * syncSourceSql), rows included. The bytes go from one OpenSSH client's
   * stdout to the other's stdin through an OS pipe, never through this
   * process: the witness holds none of the rows, and the copy runs as fast as
   * `ssh | ssh`. The target's COMMIT is the source's last line: a source that
   * fails or is cut off leaves the target at the end of its input inside the
   * transaction, which PostgreSQL rolls back. With `answer`, the start of the
   * target's output is its answer to what the source echoed to it first
   * (columns and digests, answer.ts), which the source's input reads back;
   * and with `relay` too, what the target prints after the answer's relay
   * mark is streamed into `relay` (a psql on the source's host: the way back,
   * sql.ts backSql). Returns this psql's output lines (after the answer), and
   * the relay's.
   */
  async pipeFrom(
    source: Psql,
    sourceSql: string | SourceInput,
    connectTimeout: number,
    answer?: TargetAnswer,
    relay?: Psql,
  ): Promise<{ target: string[]; relay: string[] }> {
    const ssh = (p: Psql, stdin: 'pipe' | NodeJS.ReadableStream) => p.spawnSsh(stdin, connectTimeout);
    const a = ssh(source, 'pipe');
    const b = ssh(this, a.stdout!);
    const c = relay && answer ? ssh(relay, 'pipe') : undefined;
    const outC: Buffer[] = [];
    const errC: Buffer[] = [];
    if (c) {
      c.stdin!.on('error', () => undefined);
      answer!.relayed.pipe(c.stdin!);
      c.stdout!.on('data', (d: Buffer) => outC.push(d));
      c.stderr!.on('data', (d: Buffer) => errC.push(d));
    }
    // b has its own copy of the pipe: this process lets go of its end (else a's 'close' never comes).
    a.stdout!.destroy();
    const out: Buffer[] = [];
    const errA: Buffer[] = [];
    const errB: Buffer[] = [];
    b.stdout!.on('data', (d: Buffer) => {
      if (!answer) return void out.push(d);
      if (!answer.push(d)) {
        b.stdout!.pause();
        answer.onDrain(() => b.stdout!.resume());
      }
    });
    const text = (x: Buffer[]) => Buffer.concat(x).toString('utf8');
    b.stdout!.on('close', () =>
      answer?.end(() => this.fail(`ended before its answer: ${tail(text(errB))}`, b.exitCode)),
    );
    a.stderr!.on('data', (d: Buffer) => errA.push(d));
    b.stderr!.on('data', (d: Buffer) => errB.push(d));
    const exit = (c: ReturnType<typeof spawn>) =>
      new Promise<number | null>((resolve) => {
        c.on('error', () => resolve(null));
        c.on('close', (code) => resolve(code));
      });
    const localSec = Math.max(source.timeout, this.timeout) + connectTimeout + 7;
    let late = false;
    const killAll = () => [a, b, c].forEach((x) => x?.kill('SIGKILL'));
    const timer = setTimeout(() => {
      late = true;
      killAll();
    }, localSec * 1000);
    a.stdin!.on('error', () => undefined); // the source stopped reading: its exit says why
    let fed: Error | undefined;
    const feeding = feed(a.stdin!, typeof sourceSql === 'string' ? [sourceSql] : sourceSql).catch((e: unknown) => {
      // A feed that failed must not let the source reach its COMMIT: both stop, nothing is committed.
      fed = e as Error;
      killAll();
    });
    const exitA = exit(a);
    void exitA.then(() => answer?.abandon());
    const [ca, cb, cc] = await Promise.all([exitA, exit(b), c ? exit(c) : 0, feeding]).finally(() =>
      clearTimeout(timer),
    );
    const stdout = answer ? answer.result().toString('utf8') : text(out);
    if (late) throw this.fail(`did not finish within ${localSec} s (local deadline); nothing committed`, null);
    // A side that failed says why; a feed that failed (a base file unreadable) only when both ran out.
    if (cb !== 0 && !(fed && cb === null)) {
      if (cb === 255) throw new SshError('unreachable', this.host, `${this.host}: ssh failed: ${tail(text(errB))}`);
      throw this.fail(tail(text(errB), stdout), cb);
    }
    if (ca !== 0 && !(fed && ca === null)) {
      if (ca === 255) throw new SshError('unreachable', source.host, `${source.host}: ssh failed: ${tail(text(errA))}`);
      throw source.fail(`${tail(text(errA))} (nothing committed on ${this.host})`, ca);
    }
    if (c && cc !== 0 && !(fed && cc === null)) {
      const why = tail(text(errC), text(outC));
      if (cc === 255) throw new SshError('unreachable', relay!.host, `${relay!.host}: ssh failed: ${why}`);
      throw relay!.fail(`${why} (the copy to ${this.host} was committed)`, cc);
    }
    if (fed) throw fed;
    return { target: lines(stdout), relay: lines(text(outC)) };
  }

  /** This psql through the OpenSSH client (the same options and host-key checks as rsync's). */
  spawnSsh(stdin: 'pipe' | NodeJS.ReadableStream, connectTimeout: number): ChildProcess {
    return spawn(
      'ssh', // sshArgv's first word
      [
        ...sshArgv(this.link.host, connectTimeout, this.link.share).slice(1),
        this.link.host.address,
        remoteDeadline(this.command(), this.timeout),
      ],
      { stdio: [stdin as 'pipe', 'pipe', 'pipe'] },
    );
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
