// The check's probes over a warm OpenSSH master (issue 12 #8): sync-memory's rsync leaves one per host
// (src/adapters/ssh-master.ts, ControlPersist), and a command through it costs a local mux exchange
// instead of a handshake. Only a master that answers the mux hello is used (a stopped one does not hang
// the check); the client keeps rsync's strict options, and the socket's name already depends on the
// address, user, key and known_hosts content, so a master trusted under other settings is never found.
// A transport failure through the master (ssh exit 255, no answer, the local deadline) sets its socket
// aside: the confirming retry then opens a fresh connection (ssh2), a second independent transport.
// Neither ssh2 nor anything heavy is loaded here: this is the warm path.
import { spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
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
  resolve: (r: RunResult) => void;
  reject: (e: unknown) => void;
}

/** Bytes a job's separators and status line add to its streams (they count against the process's cap). */
const FRAMING = 256;

/** Where job i's bytes begin in one stream: after `\nSEP(i)\n`, or -1 when its separator never came. */
function opening(s: string, sep: string): number {
  const open = `\n${sep}\n`;
  const at = s.indexOf(open);
  return at < 0 ? -1 : at + open.length;
}

/**
 * One stream of several jobs cut at their separators: job i's bytes lie between `\nSEP(i)\n` and the
 * next job's separator (whose leading newline is ours). A job whose separator never came got nothing.
 * No job can print another's separator: each is made of a secret only the host's shell holds (see runAll).
 */
function split(s: string, seps: string[]): string[] {
  return seps.map((sep, i) => {
    const from = opening(s, sep);
    if (from < 0) return '';
    const next = i + 1 < seps.length ? s.indexOf(`\n${seps[i + 1]}\n`, from) : -1;
    return next < 0 ? s.slice(from) : s.slice(from, next);
  });
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

  /**
   * A session through the host's master socket as it stands, without the hello (attach's): for a run that
   * must start its command before this process can wait for an answer (sync-memory's change scan, started
   * before its lock). A master that died and left its socket makes ssh connect on its own (slower, still
   * checked strictly); no socket: undefined.
   */
  static assume(
    stateDir: string,
    host: HostConfig,
    connectTimeout: number,
    commandTimeout: number,
  ): MuxSession | undefined {
    const path = controlPathFor(stateDir, host);
    try {
      if (!path || !statSync(path).isSocket()) return undefined;
    } catch {
      return undefined;
    }
    return new MuxSession(host, path, connectTimeout, commandTimeout);
  }

  /** One command through its own ssh client, started now (run() waits for the turn of the event loop). */
  runAlone(script: string, timeoutSec = this.commandTimeout, opts: RunOptions = {}): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      const job: Job = { script, timeoutSec, opts, resolve, reject };
      this.runAll([job]).catch(reject);
    });
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
      this.batch.push({ script, timeoutSec, opts, resolve, reject });
      if (this.batch.length === 1)
        setImmediate(() => {
          const jobs = [...this.batch.filter((j) => !j.opts.behind), ...this.batch.filter((j) => j.opts.behind)];
          this.batch = [];
          this.runAll(jobs).catch((e: unknown) => jobs.forEach((j) => j.reject(e)));
        });
    });
  }

  /**
   * The jobs through one ssh client. Each job's status marker and separators are made of a secret of its
   * own (remote-run.ts), sent on ssh's stdin and read by the host's shell into a variable before any job
   * runs: it is in no command line (/proc/PID/cmdline) and no environment, and every job's stdin is
   * /dev/null, so no job can print another's separator or status and settle its result.
   * The ssh client's cap is the sum of the jobs' caps: past it, the jobs whose status came are settled,
   * the one whose section was being read gets the cap's error, and the rest run again in a batch of their own.
   */
  private async runAll(jobs: Job[], retry = true): Promise<void> {
    const label = `${this.host.name} (${this.host.user}@${this.host.address}:${this.host.port})`;
    if (this.stop.signal.aborted) throw new SshError('unreachable', this.host.name, `${label}: session closed`);
    const mux = ['-o', 'ControlMaster=no', '-o', controlOption(this.controlPath)];
    const nonces = jobs.map(() => newNonce());
    const seps = nonces.map((n) => `hactl-job-${n}`);
    const vars = jobs.map((_, i) => `hactl_n${i}`);
    // One job: as it always ran. Several: each starts with a separator on both streams (a newline first,
    // so that the previous job's last bytes stay its own).
    const parts = jobs.map((j, i) => {
      const script = `${remoteDeadline(j.script, j.timeoutSec)} </dev/null`;
      const run = withExitStatus(script, `"$${vars[i]}"`, i === jobs.length - 1);
      const sep = `hactl-job-"$${vars[i]}"`;
      return jobs.length === 1 ? run : `printf '\\n%s\\n' ${sep}; printf '\\n%s\\n' ${sep} >&2; ${run}`;
    });
    const remote = `read -r ${vars.join(' ')} || exit 255; printf '%s\\n' ${MARK}; ${parts.join('; ')}`;
    const argv = [...sshArgv(this.host, this.connectTimeout).slice(1), ...mux, '--', this.host.address, remote];
    const silent = new AbortController();
    const quiet = setTimeout(() => silent.abort(), this.connectTimeout * 1000);
    const stopAll = () => silent.abort();
    this.stop.signal.addEventListener('abort', stopAll, { once: true });
    const onLine = (l: string) => l === MARK && clearTimeout(quiet);
    const localSec = jobs.reduce((t, j) => t + j.timeoutSec, 0) + 7;
    const nameOf = (j: Job) => `${this.host.name} ${j.opts.what ?? describeCommand(j.script)}`;
    const what = jobs.map(nameOf).join(' + ');
    const capOf = (j: Job) => j.opts.cap ?? OUTPUT_CAP;
    const cap = jobs.reduce((t, j) => t + capOf(j) + FRAMING, MARK.length + 1);
    let r;
    try {
      this.spawned++;
      r = await runProcess('ssh', argv, {
        deadline: localSec,
        onLine,
        signal: silent.signal,
        cap,
        what,
        partial: true,
        input: `${nonces.join(' ')}\n`,
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
    if (r.over && jobs.length === 1) throw new OutputCapError(capOf(jobs[0]!), nameOf(jobs[0]!));
    if (r.timedOut) throw fail('ssh-timeout', `remote command did not finish within ${localSec} s (local deadline)`);
    if (!up && silent.signal.aborted) throw fail('ssh-timeout', `no answer within ${this.connectTimeout} s`);
    const stdout = up ? r.stdout.slice(MARK.length + 1) : r.stdout;
    const outs = jobs.length === 1 ? [stdout] : split(stdout, seps);
    const errs = jobs.length === 1 ? [r.stderr] : split(r.stderr, seps);
    // Past the ssh client's cap: every job whose section passed its own cap gets the error; so does the job
    // whose section was being read when it passed (the last that began on that stream), if that section
    // alone reached its cap, or in a batch already run again; the jobs after it, and any whose status was
    // lost in the cut, run again; a status that came does not make the cut section whole.
    const overOuts = r.over === 'stdout' ? outs : errs;
    const reading = r.over ? Math.max(0, ...seps.map((sep, i) => (overOuts[i] && overOuts[i] !== '' ? i : -1))) : -1;
    const charged =
      reading >= 0 && (!retry || Buffer.byteLength(overOuts[reading]!) >= capOf(jobs[reading]!)) ? reading : -1;
    const again: Job[] = [];
    let failed: SshError | undefined;
    jobs.forEach((j, i) => {
      // A section already past its own cap is that job's failure, whether or not its status came: the
      // client's cap may cut the status off (it comes on the other stream). Run again, it would pass the
      // client's cap again, and the cap's error would fall on the job read after it.
      const err = exitStatusOf(errs[i] ?? '', nonces[i]!).stderr; // without its status line
      const own = Buffer.byteLength(outs[i] ?? '') > capOf(j) || Buffer.byteLength(err) > capOf(j);
      if (i === charged || (r.over && own)) return j.reject(new OutputCapError(capOf(j), nameOf(j)));
      const raw = { transport: 'openssh' as const, code: r.code, signal: r.signal, stdout: outs[i]!, stderr: errs[i]! };
      // One of several without its status line: the command ended before it did (a dead link, or the cap).
      const cut = jobs.length > 1 && exitStatusOf(errs[i]!, nonces[i]!).status === undefined;
      // Past the cap, the section being read is cut (its status may have come on the other stream).
      if (r.over && (cut || i >= reading)) return again.push(j);
      const done = cut ? settleRun({ ...raw, code: 255 }, nonces[i]!) : settleRun(raw, nonces[i]!);
      if (!done.ok) return j.reject((failed ??= fail(done.kind, `${done.why} (known_hosts: ${this.host.knownHosts})`)));
      if (Buffer.byteLength(done.stdout) > capOf(j) || Buffer.byteLength(done.stderr) > capOf(j))
        return j.reject(new OutputCapError(capOf(j), nameOf(j)));
      j.resolve({
        code: done.code,
        signal: done.signal,
        stdout: done.stdout,
        stderr: done.stderr,
        ms: Math.round(r.ms),
      });
    });
    if (again.length) await this.runAll(again, false).catch((e: unknown) => again.forEach((j) => j.reject(e)));
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
