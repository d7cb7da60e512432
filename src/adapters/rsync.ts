// The only module that runs rsync. Options are built with the `rsync` npm
// builder; the process is spawned by us with shell:false, because the
// wrapper's execute() runs /bin/sh with escaping that has holes
// (shared/notes/dependencies.md). Paths, filters and the ssh command are
// appended here as separate argv entries, never through a shell, after `--`.
// rsync's ssh gets the same host-key policy as hactl's own SSH.
import { createRequire } from 'node:module';
import type { HostConfig } from '../config/types.js';
import { runProcess, type ProcessResult } from './process.js';
import { rshWord, sshPathProblem, sshPathValue } from './shell.js';
import { shareOptions, type SshShare } from './ssh-master.js';

const require = createRequire(import.meta.url);

export interface RsyncEndpoint {
  host?: HostConfig; // absent: a local path
  path: string;
}

export interface RsyncJob {
  from: RsyncEndpoint;
  to: RsyncEndpoint;
  /** Single-letter flags for the builder, e.g. 'a' (never 'e'). */
  flags?: string;
  /** Long options without a value (e.g. 'delete', 'update'), through the builder. */
  options?: string[];
  /** Long options with a value: kept as one argv entry `--name=value`, never quoted. */
  values?: Array<[string, string]>;
  // --filter rules in order, e.g. ['+ /agents/*/memory/**', '- *']
  // (a line comment: a star-slash would end a block comment).
  filters?: string[];
  connectTimeout: number;
  /** rsync's own I/O timeout (--timeout) in seconds. */
  ioTimeout: number;
  /** Hard deadline for the whole run; the process group is killed after it. */
  deadline: number;
  onLine?: (line: string) => void;
  /** OpenSSH connection sharing (src/adapters/ssh-master.ts); absent: a connection of its own. */
  share?: SshShare;
}

export interface RsyncResult extends ProcessResult {
  argv: string[];
}

/**
 * The ssh command rsync runs: strict host keys, our key and known_hosts, BatchMode, a connect timeout.
 * `-F none`: no ~/.ssh/config nor /etc/ssh/ssh_config, which hactl's own SSH (ssh2) never reads either,
 * so both reach the same host with the same settings (a Host block's Port or ProxyCommand would not).
 * An argv for ssh itself (no shell): the key and known_hosts are option values, quoted for OpenSSH
 * (shell.ts sshPathValue), so a path with spaces, quotes, $ or % reaches ssh as it is. The key goes
 * as `-o IdentityFile=`, not `-i`: ssh expands %-tokens in both, and only an option value can
 * escape them. A path ssh cannot take at all is refused at config load (config/ssh-paths.ts).
 */
export function sshArgv(host: HostConfig, connectTimeout: number, share?: SshShare): string[] {
  for (const [what, p] of [
    ['key', host.key],
    ['knownHosts', host.knownHosts],
  ] as const) {
    const why = sshPathProblem(p);
    if (why) throw new Error(`hosts.${host.name}.${what}: ${JSON.stringify(p)} ${why}`);
  }
  return [
    'ssh',
    '-F',
    'none',
    '-p',
    String(host.port),
    '-o',
    `IdentityFile=${sshPathValue(host.key)}`,
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${sshPathValue(host.knownHosts)}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `ConnectTimeout=${Math.ceil(connectTimeout)}`,
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=2',
    ...shareOptions(share),
    '-l',
    host.user,
  ];
}

/**
 * rsync's -e value: rsync splits it on spaces itself (no shell), honouring quotes; each word of the
 * ssh argv is quoted for that (shell.ts rshWord), so any path reaches ssh as the one argument it is.
 */
export function rshValue(argv: readonly string[]): string {
  return argv.map(rshWord).join(' ');
}

function endpoint(e: RsyncEndpoint): string {
  if (!e.host) return e.path;
  // With --protect-args the remote path is not split or globbed by the remote shell.
  return `${e.host.address.includes(':') ? `[${e.host.address}]` : e.host.address}:${e.path}`;
}

/**
 * rsync's quick check compares whole seconds by default: a file rewritten with the same size within
 * the second of the last copy would be skipped, and the stale copy kept (a memory file, a snapshot).
 * A negative window makes it compare nanoseconds too (receivers from rsync 3.1.3, 2018).
 */
export const EXACT_TIMES = '--modify-window=-1';

/** The argv (after 'rsync') for a job. Exported for tests: what reaches rsync, exactly. */
export function rsyncArgv(job: RsyncJob): string[] {
  const Rsync = require('rsync') as new () => {
    flags(f: string): unknown;
    set(k: string, v?: string): unknown;
    args(): string[];
  };
  const b = new Rsync();
  if (job.flags) {
    if (/[^A-Za-z]/.test(job.flags) || job.flags.includes('e')) throw new Error(`bad rsync flags ${job.flags}`);
    b.flags(job.flags);
  }
  for (const o of job.options ?? []) {
    if (!/^[a-z][a-z-]*$/.test(o)) throw new Error(`bad rsync option ${o}`);
    b.set(o);
  }
  const argv = [...b.args()];
  for (const [k, v] of job.values ?? []) {
    if (!/^[a-z][a-z-]*$/.test(k)) throw new Error(`bad rsync option ${k}`);
    argv.push(`--${k}=${v}`);
  }
  for (const f of job.filters ?? []) argv.push(`--filter=${f}`);
  argv.push('--protect-args', EXACT_TIMES, `--timeout=${Math.max(1, Math.ceil(job.ioTimeout))}`);
  const remote = job.from.host ?? job.to.host;
  if (job.from.host && job.to.host)
    throw new Error('rsync cannot copy between two remote hosts: run it on one of them');
  if (remote) argv.push(`--rsh=${rshValue(sshArgv(remote, job.connectTimeout, job.share))}`);
  argv.push('--', endpoint(job.from), endpoint(job.to));
  return argv;
}

/** Runs rsync with shell:false, drains both pipes, enforces the deadline. */
export async function runRsync(job: RsyncJob): Promise<RsyncResult> {
  const argv = rsyncArgv(job);
  const r = await runProcess('rsync', argv, { deadline: job.deadline, onLine: job.onLine });
  return { ...r, argv };
}

/** What an rsync exit code means, for messages. */
export function rsyncExitMeaning(code: number | null): string {
  const m: Record<number, string> = {
    0: 'ok',
    1: 'syntax or usage error',
    2: 'protocol incompatibility',
    3: 'errors selecting input/output files',
    5: 'error starting client-server protocol',
    10: 'error in socket I/O',
    11: 'error in file I/O',
    12: 'error in the protocol data stream',
    20: 'killed by a signal',
    23: 'partial transfer due to error',
    24: 'partial transfer: source files vanished',
    25: 'the --max-delete limit stopped deletions',
    30: 'timeout in data send/receive',
    35: 'timeout waiting for daemon connection',
    255: 'ssh failed (unreachable, auth or host key)',
  };
  return code === null ? 'killed' : (m[code] ?? `exit ${code}`);
}
