// The check's probes over a warm OpenSSH master (issue 12 #8): sync-memory's rsync leaves one per host
// (src/adapters/ssh-master.ts, ControlPersist), and a command through it costs a local mux exchange
// instead of a handshake. Only a master that answers the mux hello is used (a stopped one does not hang
// the check); the client keeps rsync's strict options, and the socket's name already depends on the
// address, user, key and known_hosts content, so a master trusted under other settings is never found.
// A transport failure through the master (ssh exit 255, no answer, the local deadline) sets its socket
// aside: the confirming retry then opens a fresh connection (ssh2), a second independent transport.
// Neither ssh2 nor anything heavy is loaded here: this is the warm path.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { HostConfig } from '../config/types.js';
import { runProcess } from './process.js';
import { sshArgv } from './rsync.js';
import { remoteDeadline } from './shell.js';
import { SshError, type RemoteSession, type RunOptions, type RunResult } from './ssh.js';
import { CONTROL_PERSIST, controlPathFor, masterAnswers, setAside } from './ssh-master.js';
import { newNonce, settleRun, withExitStatus } from './remote-run.js';
import { describeCommand, OUTPUT_CAP } from './bytes.js';

/** The first line every command prints on the host: proof that the shared connection still carries. */
const MARK = 'hactl-mux-up';

export class MuxSession implements RemoteSession {
  private readonly stop = new AbortController();
  private asideDone = false;
  private constructor(
    readonly host: HostConfig,
    private readonly controlPath: string,
    private readonly connectTimeout: number,
    private readonly commandTimeout: number,
  ) {}

  /** A session through the host's master when one answers; a hung master's socket is set aside. */
  static async attach(
    stateDir: string,
    host: HostConfig,
    connectTimeout: number,
    commandTimeout: number,
  ): Promise<MuxSession | undefined> {
    const path = controlPathFor(stateDir, host);
    if (!path) return undefined;
    const state = await masterAnswers(path);
    if (state === 'hung') setAside(path);
    return state === 'yes' ? new MuxSession(host, path, connectTimeout, commandTimeout) : undefined;
  }

  /**
   * Runs a script on the host under a remote deadline and a local one. A dead link would only show when
   * the master's keepalives give up (10-15 s): the command must print MARK within the connect timeout,
   * the deadline a new connection has for its handshake, or it is an ssh-timeout.
   */
  async run(script: string, timeoutSec = this.commandTimeout, opts: RunOptions = {}): Promise<RunResult> {
    const label = `${this.host.name} (${this.host.user}@${this.host.address}:${this.host.port})`;
    if (this.stop.signal.aborted) throw new SshError('unreachable', this.host.name, `${label}: session closed`);
    const mux = ['-o', 'ControlMaster=no', '-o', `ControlPath=${this.controlPath}`];
    const nonce = newNonce();
    const remote = withExitStatus(`printf '%s\\n' ${MARK}; ${remoteDeadline(script, timeoutSec)}`, nonce);
    const argv = [...sshArgv(this.host, this.connectTimeout).slice(1), ...mux, '--', this.host.address, remote];
    const silent = new AbortController();
    const quiet = setTimeout(() => silent.abort(), this.connectTimeout * 1000);
    const stopAll = () => silent.abort();
    this.stop.signal.addEventListener('abort', stopAll, { once: true });
    const onLine = (l: string) => l === MARK && clearTimeout(quiet);
    const localSec = timeoutSec + 7;
    let r;
    try {
      const what = `${this.host.name} ${opts.what ?? describeCommand(script)}`;
      // The cap counts MARK's line too: a few bytes more than the script's own.
      r = await runProcess('ssh', argv, {
        deadline: localSec,
        onLine,
        signal: silent.signal,
        cap: opts.cap ?? OUTPUT_CAP,
        what,
      });
    } finally {
      clearTimeout(quiet);
      this.stop.signal.removeEventListener('abort', stopAll);
    }
    const up = r.stdout.startsWith(`${MARK}\n`);
    const fail = (kind: SshError['kind'], why: string) => {
      this.setAside();
      return new SshError(kind, this.host.name, `${label}: ${why} (through the shared connection)`);
    };
    if (this.stop.signal.aborted) throw new SshError('unreachable', this.host.name, `${label}: session closed`);
    if (r.timedOut) throw fail('ssh-timeout', `remote command did not finish within ${localSec} s (local deadline)`);
    if (!up && silent.signal.aborted) throw fail('ssh-timeout', `no answer within ${this.connectTimeout} s`);
    const stdout = up ? r.stdout.slice(MARK.length + 1) : r.stdout;
    const raw = { transport: 'openssh' as const, code: r.code, signal: r.signal, stdout, stderr: r.stderr };
    const done = settleRun(raw, nonce);
    if (!done.ok) throw fail(done.kind, `${done.why} (known_hosts: ${this.host.knownHosts})`);
    return { code: done.code, signal: done.signal, stdout: done.stdout, stderr: done.stderr, ms: Math.round(r.ms) };
  }

  /** Stops the commands still running (each is an ssh process of its own); the master stays. */
  async close(): Promise<void> {
    this.stop.abort();
  }

  private setAside(): void {
    if (this.asideDone) return;
    this.asideDone = true;
    setAside(this.controlPath);
  }
}

/**
 * After a check that found no master for a host it reached: opens one in the background for the next
 * probes (check --watch probes every 30 s; sync-memory without changes never reaches the standby), and
 * does not wait for it. It is the ssh rsync runs (strict host keys, ControlMaster=auto: a master that
 * appeared meanwhile is used, not doubled); its handshake is bounded by `timeout` as well as ConnectTimeout.
 */
export function leaveMaster(stateDir: string, host: HostConfig, connectTimeout: number): void {
  const controlPath = controlPathFor(stateDir, host);
  if (!controlPath) return;
  const ssh = sshArgv(host, connectTimeout, { controlPath, persist: CONTROL_PERSIST });
  const bound = String(Math.ceil(connectTimeout) + 10);
  try {
    mkdirSync(dirname(controlPath), { recursive: true, mode: 0o700 });
    const c = spawn('timeout', ['-s', 'KILL', bound, ...ssh, '--', host.address, 'true'], {
      detached: true,
      stdio: 'ignore',
    });
    c.on('error', () => undefined);
    c.unref();
  } catch {
    /* no master this time: the next check opens a connection of its own, as this one did */
  }
}
