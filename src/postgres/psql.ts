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
import type { SshSession } from '../adapters/ssh.js';
import { RemoteChannel } from './channel.js';

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
   * Streams `sourceSql`'s output on `source` into this psql's stdin, between
   * `head` and `tail`, with backpressure: the witness holds at most a window of
   * bytes, never the rows. When the source fails, `tail` (the COMMIT) is never
   * sent: this psql reaches the end of its input inside the transaction, which
   * PostgreSQL rolls back. Returns this psql's output lines.
   */
  async pipeFrom(source: Psql, sourceSql: string, head: string, tailSql: string): Promise<string[]> {
    const out: Buffer[] = [];
    const tgt = await RemoteChannel.open(this.session, this.command(), this.timeout, (b) => out.push(b));
    let src: RemoteChannel | undefined;
    try {
      await tgt.write(head);
      src = await RemoteChannel.open(source.session, source.command(), source.timeout, (b) => {
        if (!tgt.push(b)) {
          src?.pause();
          tgt.onceDrain(() => src?.resume());
        }
      });
      // The target stops early (a failed statement): stop the source too.
      tgt.done.then(
        () => src?.kill(),
        () => src?.kill(),
      );
      await src.write(sourceSql);
      src.end();
      const s = await src.done.catch((e: unknown) => ({ code: null, stderr: (e as Error).message }));
      if (s.code !== 0) {
        tgt.end();
        const t = await tgt.done.catch((e: unknown) => ({ code: null, stderr: (e as Error).message }));
        // The target failed first (and the source was stopped for it): its error is the cause.
        if (t.code !== 0) throw this.fail(tail(t.stderr, Buffer.concat(out).toString('utf8')), t.code);
        throw source.fail(tail(s.stderr), s.code);
      }
      await tgt.write(tailSql);
      tgt.end();
    } catch (e) {
      tgt.kill();
      src?.kill();
      throw e;
    }
    const r = await tgt.done;
    const stdout = Buffer.concat(out).toString('utf8');
    if (r.code !== 0) throw this.fail(tail(r.stderr, stdout), r.code);
    return lines(stdout);
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
