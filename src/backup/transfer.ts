// One rsync of a tier's source into a folder at its destination. rsync runs on
// the witness when at most one side is remote (through src/adapters/rsync.ts),
// on the host itself when both sides are on one host, and on the destination
// host, pulling over SSH, when both are remote hosts (rsync cannot copy between
// two remote hosts).
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { shArgs, sshPathProblem } from '../adapters/shell.js';
import { EXACT_TIMES, rshValue, runRsync, rsyncExitMeaning, sshArgv } from '../adapters/rsync.js';
import { parseItemized, rsyncSaid } from '../adapters/rsync-itemize.js';
import type { SshShare } from '../adapters/ssh-master.js';
import type { Place } from './places.js';
import { rsyncStats } from './plan.js';
import type { Resolved } from './types.js';

export interface TransferResult {
  ok: boolean;
  code: number | null;
  detail: string;
  /** What rsync says the source held, counted by the one rule (plan.rsyncStats). */
  files?: number;
  size?: number;
  sent: number;
  /** Files in rsync's list that were gone when it came to copy them (exit 24: live data). */
  vanished: number;
  changed: string[];
  timedOut: boolean;
  stderr: string;
}

export interface TransferJob {
  /** Relative to the destination folder. */
  linkDest?: string;
  filters: string[];
  /** Checksum and dry-run: a deep verify. */
  verify?: boolean;
  rsyncPath?: string;
  /** rsync's ssh shares its connection (src/adapters/ssh-master.ts) with the steps after the copy. */
  share?: SshShare;
}

interface Raw {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  signal?: string | null;
}

function result(raw: Raw, deadline: number): TransferResult {
  const { code, stdout, stderr, timedOut } = raw;
  const ok = !timedOut && (code === 0 || code === 24);
  const items = parseItemized(stdout);
  const err = rsyncSaid(stderr);
  const why = code === null ? `killed by ${raw.signal}` : `exit ${code} (${rsyncExitMeaning(code)})`;
  const late = `no result within the ${deadline} s deadline; rsync was stopped`;
  const detail = ok ? 'ok' : timedOut ? late : `rsync ${why}${err ? `: ${err}` : ''}`;
  const vanished = (stderr.match(/file has vanished: /g) ?? []).length;
  const stats = rsyncStats(stdout);
  return { ok, code, timedOut, stderr, vanished, ...stats, sent: items.bytes, changed: items.changed, detail };
}

/**
 * The ssh rsync runs on the destination host to pull from the source host: the tier's `via` key there.
 * Quoted for rsync's -e like every rsync's ssh (adapters/rsync.ts rshValue), then as a whole for the
 * destination's shell (shArgs). A path OpenSSH cannot take is refused at config load; this is the
 * last word for a config that reached here another way.
 */
function hopRsh(config: Config, r: Resolved): string {
  const src = r.src.host!;
  const via = r.tier.via!;
  for (const [what, p] of [
    ['key', via.key],
    ['knownHosts', via.knownHosts],
  ] as const) {
    const why = sshPathProblem(p);
    if (why)
      throw new ConfigError([`${config.file}: backup tier ${r.tier.name}: via.${what} ${JSON.stringify(p)} ${why}`]);
  }
  return rshValue(sshArgv({ ...src, key: via.key, knownHosts: via.knownHosts }, config.thresholds.connectTimeout));
}

/** rsync from the tier's source into `destDir` (a path at the destination). */
export async function transfer(
  config: Config,
  r: Resolved,
  destDir: string,
  job: TransferJob,
  dst: Place,
): Promise<TransferResult> {
  const b = config.backup;
  const opts = ['stats', 'itemize-changes', ...(job.verify ? ['checksum', 'dry-run'] : ['delete'])];
  const values: Array<[string, string]> = job.linkDest ? [['link-dest', job.linkDest]] : [];
  const sameHost = r.src.host && r.dst.host && r.src.host.name === r.dst.host.name;
  if (!sameHost && !(r.src.host && r.dst.host)) {
    const res = await runRsync({
      from: { host: r.src.host, path: `${r.src.path}/` },
      to: { host: r.dst.host, path: `${destDir}/` },
      flags: 'a',
      options: opts,
      values: [...values, ['rsync-path', job.rsyncPath ?? 'cd "$HOME" && rsync']],
      filters: job.filters,
      connectTimeout: config.thresholds.connectTimeout,
      ioTimeout: b.ioTimeout,
      deadline: b.deadline,
      share: job.share,
    });
    return result(res, b.deadline);
  }
  // Both on one host, or two remote hosts: rsync runs on the destination host.
  const argv = ['rsync', '-a', ...opts.map((o) => `--${o}`), ...values.map(([k, v]) => `--${k}=${v}`)];
  argv.push(...job.filters.map((f) => `--filter=${f}`), '--protect-args', EXACT_TIMES);
  argv.push(`--timeout=${Math.ceil(b.ioTimeout)}`);
  let from = `${r.src.path}/`;
  if (!sameHost) {
    const a = r.src.host!.address;
    argv.push(`--rsh=${hopRsh(config, r)}`, '--rsync-path=cd "$HOME" && rsync');
    from = `${a.includes(':') ? `[${a}]` : a}:${from}`;
  }
  argv.push('--', from, `${destDir}/`);
  const res = await dst.exec(shArgs(argv), b.deadline);
  const timedOut = res.code === 124;
  const signal = timedOut ? 'timeout' : res.signal;
  return result({ ...res, code: timedOut ? null : res.code, timedOut, signal }, b.deadline);
}
