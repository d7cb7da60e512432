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
import { CONTROL_PERSIST, controlOption, controlPathFor, masterAnswers, setAside } from './ssh-master.js';
import { exitStatusOf, newNonce, settleRun, withExitStatus } from './remote-run.js';
import { describeCommand, OUTPUT_CAP, OutputCapError } from './bytes.js';

/** The first line every command prints on the host: proof that the shared connection still carries. */
const MARK = 'hactl-mux-up';

interface Job {
  script: string;
  timeoutSec: number;
  opts: RunOptions;
  nonce: string;
  resolve: (r: RunResult) => void;
  reject: (e: unknown) => void;
}

/**
 * One stream of several jobs cut at their separators: job i's bytes lie between `\nSEP(i)\n` and the
 * next job's separator (whose leading newline is ours). A job whose separator never came got nothing.
 */
function split(s: string, n: number, sep: (i: number) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const open = `\n${sep(i)}\n`;
    const at = s.indexOf(open);
    if (at < 0) {
      out.push('');
      continue;
    }
    const from = at + open.length;
    const next = i + 1 < n ? s.indexOf(`\n${sep(i + 1)}\n`, from) : -1;
    out.push(next < 0 ? s.slice(from) : s.slice(from, next));
  }
  return out;
}

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

  /** Runs asked for in this turn of the event loop, sent together (see run). */
  private batch: Job[] = [];
  /** ssh clients started: a test's count. */
  spawned = 0;

  /**
   * Runs a script on the host under a remote deadline and a local one. A dead link would only show when
   * the master's keepalives give up (10-15 s): the command must print MARK within the connect timeout,
   * the deadline a new connection has for its handshake, or it is an ssh-timeout.
   * Runs asked for in the same turn of the event loop (check's probe and health read of one host) go
   * through one ssh client, one after the other on the host, each with its own deadline, status and cap:
   * an ssh client costs the witness more CPU than anything else in a warm check (issue 25).
   */
  run(script: string, timeoutSec = this.commandTimeout, opts: RunOptions = {}): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      this.batch.push({ script, timeoutSec, opts, resolve, reject, nonce: newNonce() });
      if (this.batch.length === 1)
        setImmediate(() => {
          const jobs = [...this.batch.filter((j) => !j.opts.behind), ...this.batch.filter((j) => j.opts.behind)];
          this.batch = [];
          this.runAll(jobs).catch((e: unknown) => jobs.forEach((j) => j.reject(e)));
        });
    });
  }

  private async runAll(jobs: Job[]): Promise<void> {
    const label = `${this.host.name} (${this.host.user}@${this.host.address}:${this.host.port})`;
    if (this.stop.signal.aborted) throw new SshError('unreachable', this.host.name, `${label}: session closed`);
    const mux = ['-o', 'ControlMaster=no', '-o', controlOption(this.controlPath)];
    // One job: as it always ran. Several: each starts with a separator on both streams (a newline first,
    // so that the previous job's last bytes stay its own), unforgeable as the status marker is.
    const sep = newNonce();
    const mark = (i: number) => `hactl-job-${sep}-${i}`;
    const parts = jobs.map((j, i) => {
      const run = withExitStatus(remoteDeadline(j.script, j.timeoutSec), j.nonce, i === jobs.length - 1);
      return jobs.length === 1 ? run : `printf '\\n%s\\n' ${mark(i)}; printf '\\n%s\\n' ${mark(i)} >&2; ${run}`;
    });
    const remote = `printf '%s\\n' ${MARK}; ${parts.join('; ')}`;
    const argv = [...sshArgv(this.host, this.connectTimeout).slice(1), ...mux, '--', this.host.address, remote];
    const silent = new AbortController();
    const quiet = setTimeout(() => silent.abort(), this.connectTimeout * 1000);
    const stopAll = () => silent.abort();
    this.stop.signal.addEventListener('abort', stopAll, { once: true });
    const onLine = (l: string) => l === MARK && clearTimeout(quiet);
    const localSec = jobs.reduce((t, j) => t + j.timeoutSec, 0) + 7;
    const what = `${this.host.name} ${jobs.map((j) => j.opts.what ?? describeCommand(j.script)).join(' + ')}`;
    const cap = jobs.reduce((t, j) => t + (j.opts.cap ?? OUTPUT_CAP), 0);
    let r;
    try {
      this.spawned++;
      r = await runProcess('ssh', argv, { deadline: localSec, onLine, signal: silent.signal, cap, what });
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
    const outs = jobs.length === 1 ? [stdout] : split(stdout, jobs.length, mark);
    const errs = jobs.length === 1 ? [r.stderr] : split(r.stderr, jobs.length, mark);
    let failed: SshError | undefined;
    jobs.forEach((j, i) => {
      const raw = { transport: 'openssh' as const, code: r.code, signal: r.signal, stdout: outs[i]!, stderr: errs[i]! };
      // One of several without its status line: the command ended before it did (a dead link).
      const cut = jobs.length > 1 && exitStatusOf(errs[i]!, j.nonce).status === undefined;
      const done = cut ? settleRun({ ...raw, code: 255 }, j.nonce) : settleRun(raw, j.nonce);
      if (!done.ok) return j.reject((failed ??= fail(done.kind, `${done.why} (known_hosts: ${this.host.knownHosts})`)));
      const cap = j.opts.cap ?? OUTPUT_CAP;
      if (Buffer.byteLength(done.stdout) > cap || Buffer.byteLength(done.stderr) > cap)
        return j.reject(new OutputCapError(cap, `${this.host.name} ${j.opts.what ?? describeCommand(j.script)}`));
      j.resolve({
        code: done.code,
        signal: done.signal,
        stdout: done.stdout,
        stderr: done.stderr,
        ms: Math.round(r.ms),
      });
    });
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
