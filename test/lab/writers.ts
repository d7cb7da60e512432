// Runs test/lab/state-writer.mjs: a node process doing hactl's writes through
// the real state modules, killed or awaited by the fault suite.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lab.ts';

const WRITER = join(ROOT, 'test/lab/state-writer.mjs');

export interface Writer { pid: number; ready: Promise<boolean>; done: Promise<{ code: number | null; out: string }> }

export function writer(args: string[], env: Record<string, string> = {}): Writer {
  const c = spawn(process.execPath, [WRITER, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  let ready!: (v: boolean) => void;
  const readyP = new Promise<boolean>((r) => (ready = r));
  c.stdout.on('data', (d) => { out += d; if (out.includes('ready')) ready(true); });
  c.stderr.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; out: string }>((r) => c.on('close', (code) => {
    ready(false);
    r({ code, out: out + err });
  }));
  return { pid: c.pid!, ready: readyP, done };
}

/** SIGKILL a writer `delayMs` after it is ready. Returns what it printed if it ended by itself first. */
export async function killAfter(w: Writer, delayMs: number): Promise<string | undefined> {
  if (!(await w.ready)) return (await w.done).out;
  await new Promise((r) => setTimeout(r, delayMs));
  try { process.kill(w.pid, 'SIGKILL'); } catch { return (await w.done).out; }
  await w.done;
  return undefined;
}
