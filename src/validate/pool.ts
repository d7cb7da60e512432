// Both cores for a large tree: the main thread checks one share of the files
// while worker threads check the others (interleaved, so each share has the
// same mix of YAML, JSON and Markdown). Below PARALLEL_MIN files, or when the
// compiled worker is not there (running from sources), everything runs here.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CompiledRules } from './rules.js';
import { checkFiles, type Checked } from './tree.js';

/** Below this many files a worker's start (~60 ms of module loading) costs more than it saves. */
export const PARALLEL_MIN = 1000;
const MAX_THREADS = 4;

export interface WorkerJob {
  root: string;
  files: string[];
  rules: CompiledRules['source'];
  maxBytes: number;
}

export async function checkInParallel(
  root: string,
  files: string[],
  compiled: CompiledRules,
  maxBytes: number,
): Promise<Checked> {
  if (files.length === 0) return { problems: [], warnings: [], bytes: 0 }; // warm: the parsers are not even loaded
  const { checkBytes: check } = await import('./check.js');
  const script = new URL('./worker.js', import.meta.url);
  const threads = Math.min(MAX_THREADS, availableParallelism(), Math.ceil(files.length / (PARALLEL_MIN / 2)));
  if (threads < 2 || files.length < PARALLEL_MIN || !existsSync(fileURLToPath(script))) {
    return checkFiles(root, files, compiled.rules, maxBytes, check);
  }
  const shares: string[][] = Array.from({ length: threads }, () => []);
  files.forEach((f, i) => shares[i % threads]!.push(f));
  const others = shares.slice(1).map((share) => {
    const job: WorkerJob = { root, files: share, rules: compiled.source, maxBytes };
    return new Promise<Checked>((resolve, reject) => {
      const w = new Worker(script, { workerData: job });
      w.once('message', (r: Checked) => resolve(r));
      w.once('error', reject);
      w.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`validate worker exited with ${code}`))));
    }).catch(() => checkFiles(root, share, compiled.rules, maxBytes, check)); // a failed worker: its share runs here
  });
  const mine = checkFiles(root, shares[0]!, compiled.rules, maxBytes, check);
  const all = [mine, ...(await Promise.all(others))];
  return {
    problems: all.flatMap((r) => r.problems),
    warnings: all.flatMap((r) => r.warnings),
    bytes: all.reduce((n, r) => n + r.bytes, 0),
  };
}
