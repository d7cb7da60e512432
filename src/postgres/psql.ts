// Adapter: psql on a host, over hactl's SSH session, through the configured
// argv (native psql, or `docker exec -i CONTAINER psql ...`). Every word of the
// argv and the database name pass shq; SQL goes on psql's stdin, never on a
// command line. psql runs with -X (no ~/.psqlrc) -A -t -q (bare values, one per
// line) and ON_ERROR_STOP, so a failed statement fails the run (and rolls back
// the open transaction). SQL longer than one shell argument may be (Linux caps
// one argument at 128 KiB) is first written in pieces to a private temporary
// file on the host, then fed from there.
import type { PostgresConfig } from '../config/types.js';
import { shArgs, shq } from '../adapters/shell.js';
import type { SshSession } from '../adapters/ssh.js';

export class PsqlError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
  }
}

const INLINE_MAX = 48 * 1024; // bytes of SQL sent inside the script itself
const PIECE_CHARS = 16 * 1024; // shq may make one char four; UTF-8 up to four bytes
/** psql's answers may be row data and digests of whole tables: more than a probe's 1 MiB, still bounded. */
const OUTPUT = { cap: 256 * 1024 * 1024 };

export function psqlArgv(c: PostgresConfig, host: string): string[] {
  return c.hosts[host]?.psql ?? c.psql;
}

export class Psql {
  constructor(
    private readonly session: SshSession,
    private readonly c: PostgresConfig,
    private readonly what = 'psql',
  ) {}

  get host(): string {
    return this.session.host.name;
  }

  private command(): string {
    const argv = psqlArgv(this.c, this.host);
    return `${shArgs(argv)} -X -A -t -q -v ON_ERROR_STOP=1 -d ${shq(this.c.database)}`;
  }

  /** Runs the SQL; returns psql's output lines. Throws PsqlError naming host and command. */
  async run(sql: string): Promise<string[]> {
    const t = this.c.timeout;
    let r;
    if (Buffer.byteLength(sql) <= INLINE_MAX) {
      r = await this.session.run(`printf '%s' ${shq(sql)} | ${this.command()}`, t, OUTPUT);
    } else {
      const made = await this.session.run('umask 077 && mktemp "${TMPDIR:-/tmp}/hactl-sql.XXXXXXXX"', t);
      const file = made.stdout.trim();
      if (made.code !== 0 || !file) throw this.fail(`cannot make a temporary file: ${made.stderr.trim()}`, made.code);
      try {
        for (let i = 0; i < sql.length; i += PIECE_CHARS) {
          const w = await this.session.run(`printf '%s' ${shq(sql.slice(i, i + PIECE_CHARS))} >> ${shq(file)}`, t);
          if (w.code !== 0) throw this.fail(`cannot write ${file}: ${w.stderr.trim()}`, w.code);
        }
        r = await this.session.run(`${this.command()} < ${shq(file)}`, t, OUTPUT);
      } finally {
        await this.session.run(`rm -f ${shq(file)}`, t).catch(() => undefined);
      }
    }
    if (r.code !== 0) throw this.fail(r.stderr.trim().split('\n').slice(-3).join(' | ') || r.stdout.trim(), r.code);
    const out = r.stdout.replace(/\n$/, '');
    return out === '' ? [] : out.split('\n');
  }

  /** Runs SQL that prints exactly one JSON value per line, `n` lines. */
  async json<T>(sql: string, n = 1): Promise<T[]> {
    const lines = await this.run(sql);
    if (lines.length !== n)
      throw new PsqlError(
        this.host,
        `${this.host}: ${this.what}: expected ${n} line(s) from psql, got ${lines.length}`,
      );
    return lines.map((l) => JSON.parse(l) as T);
  }

  private fail(detail: string, code: number | null): PsqlError {
    // Only the program's name: the rest of the argv may hold a connection string.
    const prog = psqlArgv(this.c, this.host)[0];
    return new PsqlError(
      this.host,
      `${this.host}: ${this.what} (${prog} ..., database ${this.c.database}) failed with exit ${code}: ${detail}`,
    );
  }
}
