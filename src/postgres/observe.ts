// Observing the PostgreSQL pair: what the subscription and its slot look like
// (for check), and which rows each side holds, by key and content digest (for
// the sync-back). Effects only through the SSH sessions and psql.
import type { Config, Role } from '../config/types.js';
import { SshError, SshSession } from '../adapters/ssh.js';
import { Psql, PsqlError } from './psql.js';
import { publishedSql, rowDigestsSql, slotSql, subscriptionSql } from './sql.js';
import type { Digests, ReplicationObservation, RowsObservation, Seen, SlotSeen, SubscriptionSeen } from './model.js';

export type { Digests, ReplicationObservation, RowsObservation } from './model.js';

/** A session per role, or why it could not be opened. */
export type PgSessions = Record<Role, SshSession | SshError>;

/** Opens sessions to the roles asked for, in parallel; a role not asked for holds an error saying so. */
export async function openPgSessions(config: Config, roles: Role[] = ['primary', 'standby']): Promise<PgSessions> {
  const t = config.thresholds;
  const open = async (r: Role): Promise<SshSession | SshError> => {
    if (!roles.includes(r))
      return new SshError(
        'unreachable',
        config.pair[r],
        `${config.pair[r]}: not contacted (it did not answer SSH, or this step does not need it)`,
      );
    return SshSession.open(config.hosts[config.pair[r]]!, t.connectTimeout, t.commandTimeout).catch((e: unknown) =>
      e instanceof SshError ? e : new SshError('unreachable', config.pair[r], (e as Error).message),
    );
  };
  const [primary, standby] = await Promise.all([open('primary'), open('standby')]);
  return { primary, standby };
}

export async function closePgSessions(s: PgSessions): Promise<void> {
  await Promise.all(Object.values(s).map((x) => (x instanceof SshSession ? x.close() : undefined)));
}

/** The session for a role, or throws its SshError. */
export function sessionOf(s: PgSessions, role: Role): SshSession {
  const x = s[role];
  if (x instanceof SshSession) return x;
  throw x;
}

async function seen<T>(
  s: SshSession | SshError,
  run: (p: Psql) => Promise<T>,
  config: Config,
  what: string,
): Promise<Seen<T>> {
  if (!(s instanceof SshSession)) return { ok: false, reachable: false, error: `${s.kind}: ${s.message}` };
  try {
    return { ok: true, value: await run(new Psql(s, config.postgres!, what)) };
  } catch (e) {
    if (e instanceof SshError) return { ok: false, reachable: false, error: `${e.kind}: ${e.message}` };
    if (e instanceof PsqlError || e instanceof SyntaxError) return { ok: false, reachable: true, error: e.message };
    throw e;
  }
}

/** Never throws for a host or database problem: that becomes part of the observation. */
export async function observeReplication(config: Config, sessions: PgSessions): Promise<ReplicationObservation> {
  const c = config.postgres!;
  const standby = await seen(
    sessions.standby,
    async (p) => (await p.json<SubscriptionSeen>(subscriptionSql(c)))[0]!,
    config,
    'reading the subscription',
  );
  const slot = (standby.ok && standby.value.slot) || c.subscription;
  const published: Array<[string, string]> = [];
  const primary = await seen(
    sessions.primary,
    async (p) => {
      const [s] = await p.json<SlotSeen>(slotSql(slot));
      published.push(...(await p.json<Array<[string, string]>>(publishedSql(c, 'primary')))[0]!);
      return s!;
    },
    config,
    'reading the replication slot',
  );
  await seen(
    sessions.standby,
    async (p) => published.push(...(await p.json<Array<[string, string]>>(publishedSql(c, 'standby')))[0]!),
    config,
    'reading the subscribed tables',
  );
  const uniq = new Map(published.map((t) => [JSON.stringify(t), t]));
  return { standby, primary, slot, published: [...uniq.values()] };
}

/** COPY text format's escapes (a key is jsonb text: only its backslashes are escaped in practice). */
const ESC: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' };
const unescapeCopy = (f: string): string => (f.includes('\\') ? f.replace(/\\(.)/g, (_, x: string) => ESC[x] ?? x) : f);

/**
 * Splits a byte stream into lines and decodes each line once, whole: a line
 * ends at a 0x0A byte, which is never part of a multi-byte UTF-8 character.
 */
export class LineReader {
  private rest: Buffer = Buffer.alloc(0);
  constructor(private readonly onLine: (line: string) => void) {}
  push(b: Buffer): void {
    let buf = this.rest.length ? Buffer.concat([this.rest, b]) : b;
    let at = 0;
    for (let nl = buf.indexOf(10, at); nl >= 0; nl = buf.indexOf(10, at)) {
      this.onLine(buf.toString('utf8', at, nl));
      at = nl + 1;
    }
    buf = buf.subarray(at);
    this.rest = Buffer.from(buf); // a copy: the channel's chunk is let go
  }
  end(): void {
    if (this.rest.length) this.onLine(this.rest.toString('utf8'));
    this.rest = Buffer.alloc(0);
  }
}

/** A reader of digest lines (rowDigestsSql) into maps per table, key -> md5. */
export function digestReader(tables: number): { reader: LineReader; digests: Digests } {
  const digests: Digests = Array.from({ length: tables }, () => new Map<string, string>());
  const reader = new LineReader((line) => {
    if (!line) return;
    const a = line.indexOf('\t');
    const b = line.indexOf('\t', a + 1);
    digests[Number(line.slice(0, a))]?.set(unescapeCopy(line.slice(b + 1)), line.slice(a + 1, b));
  });
  return { reader, digests };
}

async function digests(config: Config, session: SshSession): Promise<Digests> {
  const p = new Psql(session, config.postgres!, 'reading row digests');
  const d = digestReader(config.postgres!.tables.length);
  await p.bytes(rowDigestsSql(config.postgres!), (b) => d.reader.push(b));
  d.reader.end();
  return d.digests;
}

/** Both sides' rows by key and digest. Throws (SshError, PsqlError) when a side cannot be read. */
export async function observeRows(config: Config, sessions: PgSessions): Promise<RowsObservation> {
  // Both sessions first: a side that did not answer throws before anything is read from the other.
  const p = sessionOf(sessions, 'primary');
  const st = sessionOf(sessions, 'standby');
  const [primary, standby] = await Promise.all([digests(config, p), digests(config, st)]);
  return { primary, standby };
}
