// OpenSSH connection sharing (ControlMaster) for rsync's ssh: the first ssh to a host becomes a
// background master (ControlPersist) and later ones, within this run and the next cron runs, reuse
// its authenticated connection instead of a new handshake (issue 12 #4, #7). The sockets live in
// <stateDir>/cm (0700). The socket's name is a hash of everything that decides whom we trust:
// address, port, user, key file, known_hosts path and its content; so a master opened under
// other settings or an older known_hosts is never reused, and every new connection is checked
// strictly against the configured known_hosts (StrictHostKeyChecking stays yes).
// A master that is gone leaves a socket nobody answers: ssh itself replaces it. A master that
// hangs (stopped, wedged) would hang its clients, whose mux handshake has no timeout: before a
// run uses a socket, its master must answer the mux hello within a second, or the socket is
// moved out of the way and this run opens a new master.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import type { HostConfig } from '../config/types.js';
import { describeCommand, OUTPUT_CAP } from './bytes.js';
import { sshPathProblem, sshPathValue } from './shell.js';

export interface SshShare {
  controlPath: string;
  /** Seconds the master stays after its last client. */
  persist: number;
}

/** With memory every minute, a master outlives the gap between two runs. */
export const CONTROL_PERSIST = 120;
/** A unix socket's path has at most 107 bytes; ssh adds a temporary suffix while it binds. */
const MAX_SOCKET_PATH = 80;

/**
 * The socket for this host under stateDir, or undefined when the path cannot be used: too long for a unix
 * socket, or one OpenSSH cannot be given at all (sshPathProblem). Any other path works: every ssh option
 * that names it goes through sshPathValue (controlOption), and rsync's -e quotes each word (rshValue).
 */
export function controlPathFor(stateDir: string, host: HostConfig): string | undefined {
  let trust = '';
  try {
    trust = readFileSync(host.knownHosts, 'utf8');
  } catch {
    /* ssh reports the missing file itself */
  }
  const id = JSON.stringify([host.address, host.port, host.user, host.key, host.knownHosts, trust]);
  const path = join(resolve(stateDir), 'cm', createHash('sha256').update(id).digest('hex').slice(0, 20));
  return path.length <= MAX_SOCKET_PATH && !sshPathProblem(path) ? path : undefined;
}

/** `ControlPath=VALUE` for ssh's -o: quoted as OpenSSH reads option values (a space, a quote, a %). */
export function controlOption(controlPath: string): string {
  return `ControlPath=${sshPathValue(controlPath)}`;
}

/** Does a master answer on this socket? MUX_MSG_HELLO (PROTOCOL.mux): length, type 1, version 4. */
export function masterAnswers(path: string, timeoutMs = 1000): Promise<'yes' | 'none' | 'hung'> {
  return new Promise((done) => {
    const s = connect(path);
    const finish = (r: 'yes' | 'none' | 'hung') => {
      clearTimeout(timer);
      s.destroy();
      done(r);
    };
    const timer = setTimeout(() => finish('hung'), timeoutMs);
    s.on('connect', () => {
      const hello = Buffer.alloc(12);
      hello.writeUInt32BE(8, 0);
      hello.writeUInt32BE(1, 4);
      hello.writeUInt32BE(4, 8);
      s.write(hello);
    });
    s.on('data', () => finish('yes'));
    s.on('error', () => finish('none'));
    s.on('close', () => finish('none'));
  });
}

/**
 * The sharing settings for a connection to `host`, with the socket ready to use: a socket whose master
 * does not answer is moved aside (ssh then starts a new master there). Undefined: no sharing.
 */
export async function prepareShare(stateDir: string, host: HostConfig): Promise<SshShare | undefined> {
  const controlPath = controlPathFor(stateDir, host);
  if (!controlPath) return undefined;
  mkdirSync(join(resolve(stateDir), 'cm'), { recursive: true, mode: 0o700 });
  const state = await masterAnswers(controlPath);
  if (state !== 'yes') setAside(controlPath);
  return { controlPath, persist: CONTROL_PERSIST };
}

/**
 * Moves a socket out of the way, so the next ssh finds the name free and opens a new master (a new
 * connection). Renamed, not only removed: a wedged master keeps its listener.
 */
export function setAside(controlPath: string): void {
  const aside = `${controlPath}.stale`;
  try {
    renameSync(controlPath, aside);
    rmSync(aside, { force: true });
  } catch {
    /* no socket there: nothing to move */
  }
}

export { sshFailureKind } from './remote-run.js';

/** ssh options that share one connection per host (appended to the strict options of sshArgv). */
export function shareOptions(share: SshShare | undefined): string[] {
  if (!share) return [];
  return ['-o', 'ControlMaster=auto', '-o', controlOption(share.controlPath), '-o', `ControlPersist=${share.persist}`];
}

export interface MasterRun {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * One remote script over OpenSSH through the shared master (opened by rsync just before, so no handshake),
 * with the same strict options as rsync's ssh, a remote deadline (`timeout -k` there) and a local one.
 * ssh's own failures (exit 255) are thrown as SshError, as hactl's ssh2 sessions throw them.
 */
export async function runThroughMaster(
  host: HostConfig,
  share: SshShare | undefined,
  connectTimeout: number,
  script: string,
  timeoutSec: number,
): Promise<MasterRun> {
  const [{ sshArgv }, { runProcess }, { remoteDeadline }, { SshError }, run] = await Promise.all([
    import('./rsync.js'),
    import('./process.js'),
    import('./shell.js'),
    import('./ssh.js'),
    import('./remote-run.js'),
  ]);
  const nonce = run.newNonce();
  const argv = [
    ...sshArgv(host, connectTimeout, share).slice(1),
    '--',
    host.address,
    run.withExitStatus(remoteDeadline(script, timeoutSec), nonce),
  ];
  const what = `${host.name} ${describeCommand(script)}`;
  const r = await runProcess('ssh', argv, { deadline: timeoutSec + 7, what, cap: OUTPUT_CAP });
  const label = `${host.name} (${host.user}@${host.address}:${host.port})`;
  if (r.timedOut)
    throw new SshError(
      'ssh-timeout',
      host.name,
      `${label}: remote command did not finish within ${timeoutSec + 7} s (local deadline)`,
    );
  const done = run.settleRun(
    { transport: 'openssh', code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr },
    nonce,
  );
  if (!done.ok) throw new SshError(done.kind, host.name, `${label}: ${done.why} (known_hosts: ${host.knownHosts})`);
  return { code: done.code, signal: done.signal, stdout: done.stdout, stderr: done.stderr, ms: r.ms };
}
