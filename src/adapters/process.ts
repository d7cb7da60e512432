// The one way hactl runs a local program: shell:false, both pipes drained,
// a hard deadline after which the whole process group gets SIGTERM, then
// SIGKILL. rsync and the witness's own scripts both come through here.
// Output is kept as bytes and decoded once at the end (a character split across two reads stays whole),
// and each stream has a cap: past it the process group is stopped and nothing more is read.
import { childProcess } from './child-process.js';
import { ByteCollector, LineSplitter, OutputCapError, PROCESS_OUTPUT_CAP } from './bytes.js';
import { monotonicMs } from './clock.js';

export interface ProcessJob {
  /** Seconds until the process group is stopped (SIGTERM, SIGKILL `killAfterMs` later). */
  deadline: number;
  killAfterMs?: number;
  /** Called with each complete line of stdout, as it arrives. */
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Stops the process group early, as the deadline does (the caller says why). */
  signal?: AbortSignal;
  /** Bytes each of stdout and stderr may hold (default PROCESS_OUTPUT_CAP, 64 MiB); past it: OutputCapError. */
  cap?: number;
  /** What the cap's error names (default: the program and its first argument). */
  what?: string;
  /**
   * Past the cap, resolve with what was read up to it and `over` set, instead of rejecting: a caller that
   * runs several things in one process (ssh-mux.ts) charges the cap to the one that passed it.
   */
  partial?: boolean;
  /** Written to the process's stdin, which is then closed (default: no stdin). */
  input?: string;
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
  /** The stream that passed the cap (only with `partial`): the process was stopped, its output cut there. */
  over?: 'stdout' | 'stderr';
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* gone already */
  }
}

/**
 * Runs `file argv` (no shell) in its own process group; rejects when it cannot start, and with
 * OutputCapError when it printed more than the cap (it is stopped then, and the rest is not read).
 */
export function runProcess(file: string, argv: readonly string[], job: ProcessJob): Promise<ProcessResult> {
  const t0 = monotonicMs();
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(file, argv, {
      shell: false,
      stdio: [job.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
      env: job.env,
      cwd: job.cwd,
    });
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    const cap = job.cap ?? PROCESS_OUTPUT_CAP;
    const out = new ByteCollector(cap);
    const err = new ByteCollector(cap);
    if (job.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // gone before it read: its exit says why
      child.stdin.end(job.input);
    }
    let over: 'stdout' | 'stderr' | undefined;
    const lines = job.onLine ? new LineSplitter(job.onLine) : undefined;
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    let stopped = false;
    const timer = setTimeout(() => {
      timedOut = stopped = true;
      killGroup(child.pid, 'SIGTERM');
      killer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), job.killAfterMs ?? 3000);
      killer.unref();
    }, job.deadline * 1000);
    const abort = () => {
      stopped = true;
      killGroup(child.pid, 'SIGTERM');
      killer ??= setTimeout(() => killGroup(child.pid, 'SIGKILL'), job.killAfterMs ?? 3000);
      killer.unref();
    };
    if (job.signal?.aborted) abort();
    else job.signal?.addEventListener('abort', abort, { once: true });
    /** Past the cap: stop the group and read nothing more (its pipes are closed here). */
    const overCap = () => {
      abort();
      stdout.destroy();
      stderr.destroy();
    };
    stdout.on('data', (d: Buffer) => {
      if (!out.push(d)) {
        over ??= 'stdout';
        return overCap();
      }
      lines?.push(d);
    });
    stderr.on('data', (d: Buffer) => {
      if (err.push(d)) return;
      over ??= 'stderr';
      overCap();
    });
    // A stopped ssh may have passed our pipes on (an OpenSSH mux client hands them to its master, which
    // keeps them until its own connection gives up): once the process we started is gone, we stop reading.
    child.on('exit', () => {
      if (!stopped) return;
      stdout.destroy();
      stderr.destroy();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      job.signal?.removeEventListener('abort', abort);
      clearTimeout(killer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      job.signal?.removeEventListener('abort', abort);
      if (over && !job.partial) return reject(new OutputCapError(cap, job.what ?? `${file} ${argv[0] ?? ''}`.trim()));
      lines?.end();
      const ms = monotonicMs() - t0;
      resolve({ code, signal, stdout: out.text(), stderr: err.text(), ms, timedOut, ...(over ? { over } : {}) });
    });
  });
}

/**
 * The same for a short local program that starts none of its own (crontab): spawnSync, which spares this
 * process node's stream machinery for the child's pipes and an event loop turn per read (about 150 page faults
 * of a `hactl cron`, issue 25). The deadline is spawnSync's timeout (a monotonic timer), then SIGKILL at once:
 * there is no group to stop, so a program that leaves a child holding its pipes is not for this helper (the
 * wait would end at the deadline only). spawnSync's maxBuffer counts both streams together: it is twice the
 * cap, and each stream is held to the cap after; past either, OutputCapError names the cap. Output is decoded
 * once, at the end, like runProcess's.
 */
export function runProcessSync(
  file: string,
  argv: readonly string[],
  job: Pick<ProcessJob, 'deadline' | 'env' | 'cwd' | 'cap' | 'what'>,
): ProcessResult {
  const t0 = monotonicMs();
  const cap = job.cap ?? PROCESS_OUTPUT_CAP;
  const r = childProcess().spawnSync(file, argv, {
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: job.env,
    cwd: job.cwd,
    timeout: Math.max(1, Math.ceil(job.deadline * 1000)), // spawnSync takes whole milliseconds only
    killSignal: 'SIGKILL',
    maxBuffer: 2 * cap,
  });
  const failed = (r.error as NodeJS.ErrnoException | undefined)?.code;
  const over = failed === 'ENOBUFS' || (r.stdout?.length ?? 0) > cap || (r.stderr?.length ?? 0) > cap;
  if (over) throw new OutputCapError(cap, job.what ?? `${file} ${argv[0] ?? ''}`.trim());
  if (r.error && failed !== 'ETIMEDOUT') throw r.error;
  const text = (b: Buffer | null) => (b ? b.toString('utf8') : '');
  const ms = monotonicMs() - t0;
  return { code: r.status, signal: r.signal, stdout: text(r.stdout), stderr: text(r.stderr), ms, timedOut: !!failed };
}
