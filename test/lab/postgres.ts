// Real PostgreSQL clusters for the tests: Debian's binaries, initdb into a
// temporary directory, one port on loopback, wal_level=logical. The server
// runs as the `postgres` user (it refuses root); psql connects over TCP to
// 127.0.0.1, which is how psql on a lab host (sshd as root) reaches "its" cluster.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './lab.js';

const BIN = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'].find((d) =>
  existsSync(join(d, 'initdb')),
);

export function havePostgres(): boolean {
  return !!BIN && spawnSync('id', ['-u', 'postgres']).status === 0 && spawnSync('psql', ['--version']).status === 0;
}

function pgUser(): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  };
}

export class PgCluster {
  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
  ) {}
  get data() {
    return join(this.dir, 'data');
  }

  /** `settings`: extra postgresql.conf lines, e.g. {timezone: "'Europe/Berlin'"}. */
  static async create(name: string, settings: Record<string, string> = {}): Promise<PgCluster> {
    if (!BIN) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)');
    const dir = mkdtempSync(join(tmpdir(), `hactl-pg-${name}-`));
    chmodSync(dir, 0o755);
    const { uid, gid } = pgUser();
    mkdirSync(join(dir, 'data'), { mode: 0o700 });
    chownSync(join(dir, 'data'), uid, gid);
    chownSync(dir, uid, gid);
    const c = new PgCluster(name, dir, await freePort('127.0.0.1'));
    c.asPostgres(join(BIN, 'initdb'), [
      '-D',
      c.data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
      '--no-instructions',
    ]);
    writeFileSync(
      join(c.data, 'postgresql.auto.conf'),
      [
        `port = ${c.port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'wal_level = logical',
        'fsync = off',
        'max_wal_senders = 10',
        'max_replication_slots = 10',
        "log_min_messages = 'warning'",
        ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`),
        '',
      ].join('\n'),
    );
    c.start();
    process.once('exit', () => c.stopSync('immediate'));
    return c;
  }

  private asPostgres(cmd: string, args: string[]): string {
    const r = spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], {
      encoding: 'utf8',
      cwd: this.dir,
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  start(): void {
    this.asPostgres(join(BIN!, 'pg_ctl'), [
      '-D',
      this.data,
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      '-t',
      '30',
      'start',
    ]);
  }

  /** A crash (immediate) or a clean stop (fast). */
  stopSync(mode: 'fast' | 'immediate' = 'fast'): void {
    if (!existsSync(join(this.data, 'postmaster.pid'))) return;
    try {
      this.asPostgres(join(BIN!, 'pg_ctl'), ['-D', this.data, '-m', mode, '-w', '-t', '30', 'stop']);
    } catch {
      /* already down */
    }
  }

  /** Runs SQL as the superuser; returns psql's unaligned, tuples-only output. */
  sql(sql: string, db = 'memu'): string {
    const r = spawnSync(
      'psql',
      [
        '-X',
        '-A',
        '-t',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-U',
        'postgres',
        '-d',
        db,
      ],
      { input: sql, encoding: 'utf8', timeout: 30_000 },
    );
    if (r.status !== 0) throw new Error(`psql on ${this.name}: exit ${r.status}: ${r.stderr}`);
    return r.stdout.trim();
  }

  /**
   * md5 of `COPY (SELECT * FROM table ORDER BY key) TO STDOUT`, read as bytes
   * (never decoded), in UTC: equal on two clusters iff they hold the same bytes.
   */
  copyMd5(qualified: string, orderBy: string, db = 'memu'): string {
    const r = spawnSync(
      'psql',
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', db],
      {
        input: `COPY (SELECT * FROM ${qualified} ORDER BY ${orderBy}) TO STDOUT`,
        env: { ...process.env, PGTZ: 'UTC' },
        timeout: 30_000,
        maxBuffer: 1 << 28,
      },
    );
    if (r.status !== 0) throw new Error(`psql on ${this.name}: exit ${r.status}: ${r.stderr.toString()}`);
    return createHash('md5').update(r.stdout).digest('hex');
  }

  /** One table's rows as sorted JSON lines (content, not counts). */
  rows(qualified: string, db = 'memu'): string[] {
    const out = this.sql(`SELECT to_jsonb(r)::text FROM ${qualified} r ORDER BY 1`, db);
    return out ? out.split('\n') : [];
  }

  destroy(): void {
    this.stopSync('immediate');
    if (!process.env.HACTL_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** psql on a lab host reaching this cluster (the argv of the postgres config). */
export function psqlArgv(c: PgCluster): string[] {
  return ['psql', '-h', '127.0.0.1', '-p', String(c.port), '-U', 'postgres'];
}

/**
 * A stand-in for `docker exec -i CONTAINER CMD...` on a lab host: checks the
 * container name and runs CMD with PGHOST/PGPORT pointing at the cluster.
 */
export function installFakeDocker(binDir: string, container: string, c: PgCluster): void {
  writeFileSync(
    join(binDir, 'docker'),
    [
      '#!/bin/sh',
      '[ "$1" = exec ] || { echo "fake docker: only exec" >&2; exit 125; }; shift',
      '[ "$1" = -i ] || { echo "fake docker: stdin needs -i" >&2; exit 125; }; shift',
      `[ "$1" = '${container}' ] || { echo "Error: No such container: $1" >&2; exit 1; }; shift`,
      `PGHOST=127.0.0.1 PGPORT=${c.port} PGUSER=postgres exec "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
}

/** The seed's replication: the primary publishes, the standby subscribes. */
export function setupReplication(
  primary: PgCluster,
  standby: PgCluster,
  schemaSql: string,
  pub = 'memu_pub',
  sub = 'memu_sub',
): void {
  for (const c of [primary, standby]) {
    c.sql('CREATE DATABASE memu', 'postgres');
    c.sql(schemaSql);
  }
  primary.sql(`CREATE PUBLICATION ${pub} FOR ALL TABLES`);
  standby.sql(
    `CREATE SUBSCRIPTION ${sub} CONNECTION 'host=127.0.0.1 port=${primary.port} user=postgres dbname=memu' ` +
      `PUBLICATION ${pub}`,
  );
}

/** Waits (bounded) until `probe` holds; replication is asynchronous. */
export async function until(probe: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (probe()) return;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
