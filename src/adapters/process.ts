// The one way hactl runs a local program: shell:false, both pipes drained,
// a hard deadline after which the whole process group gets SIGTERM, then
// SIGKILL. rsync and the witness's own scripts both come through here.
import { spawn } from 'node:child_process';

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
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* gone already */
  }
}

/** Runs `file argv` (no shell) in its own process group; rejects only when it cannot start. */
export function runProcess(file: string, argv: readonly string[], job: ProcessJob): Promise<ProcessResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: job.env,
      cwd: job.cwd,
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
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
    child.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      stdout += s;
      if (!job.onLine) return;
      pending += s;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) job.onLine(l);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // A stopped ssh may have passed our pipes on (an OpenSSH mux client hands them to its master, which
    // keeps them until its own connection gives up): once the process we started is gone, we stop reading.
    child.on('exit', () => {
      if (!stopped) return;
      child.stdout.destroy();
      child.stderr.destroy();
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
      if (pending && job.onLine) job.onLine(pending);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0, timedOut });
    });
  });
}
