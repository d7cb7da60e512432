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

/** Digest lines ([table index, key, md5], one per row: rowDigestsSql) as maps per table. */
export function parseDigests(text: string, tables: number): Digests {
  const out: Digests = Array.from({ length: tables }, () => new Map<string, string>());
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [i, k, h] = JSON.parse(line) as [number, string, string];
    out[i]?.set(k, h);
  }
  return out;
}

async function digests(config: Config, session: SshSession): Promise<Digests> {
  const p = new Psql(session, config.postgres!, 'reading row digests');
  return parseDigests(
    (await p.bytes(rowDigestsSql(config.postgres!))).toString('utf8'),
    config.postgres!.tables.length,
  );
}

/** Both sides' rows by key and digest. Throws (SshError, PsqlError) when a side cannot be read. */
export async function observeRows(config: Config, sessions: PgSessions): Promise<RowsObservation> {
  // Both sessions first: a side that did not answer throws before anything is read from the other.
  const p = sessionOf(sessions, 'primary');
  const st = sessionOf(sessions, 'standby');
  const [primary, standby] = await Promise.all([digests(config, p), digests(config, st)]);
  return { primary, standby };
}
