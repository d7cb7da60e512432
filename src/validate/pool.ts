// Where the files are checked. A small job (a few small files: the sync gate's
// usual incremental check, one PATH) runs here. Anything else runs in worker
// threads, one per core up to MAX_THREADS, each with a capped heap: parsers
// leave garbage that V8 collects lazily, and a capped heap makes it collect
// early, which keeps the peak RSS of any tree bounded (measured: the same
// tree peaked at 153 MB unbounded, 85 MB with a 64 MB heap, at equal speed).
// Shares are interleaved so each has the same mix of YAML, JSON and Markdown.
import { existsSync, lstatSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CompiledRules } from './rules.js';
import { checkFiles, type Checked } from './tree.js';

const SMALL_JOB_FILES = 64;
const SMALL_FILE_BYTES = 256 * 1024;
const FILES_PER_THREAD = 500; // a worker's start (~60 ms of module loading) pays off from about here
const MAX_THREADS = 4;
const HEAP = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 4 };

export interface WorkerJob {
  root: string;
  files: string[];
  rules: CompiledRules['source'];
  maxBytes: number;
}

const small = (root: string, files: string[]) =>
  files.length < SMALL_JOB_FILES &&
  files.every((f) => {
    try {
      return lstatSync(join(root, f)).size <= SMALL_FILE_BYTES;
    } catch {
      return true; // the read reports it
    }
  });

export async function checkInParallel(
  root: string,
  files: string[],
  compiled: CompiledRules,
  maxBytes: number,
): Promise<Checked> {
  if (files.length === 0) return { problems: [], warnings: [], bytes: 0 }; // warm: the parsers are not even loaded
  const { checkBytes: check } = await import('./check.js');
  // A sibling of this code wherever it runs: dist/validate/worker.js (tsc), dist/bundle/worker.js (the
  // bundle's chunks and its worker entry sit flat in one folder: scripts/bundle.mjs).
  const script = new URL('./worker.js', import.meta.url);
  // From sources (tsx), there is no compiled worker: everything runs here.
  if (small(root, files) || !existsSync(fileURLToPath(script)))
    return checkFiles(root, files, compiled.rules, maxBytes, check);
  const threads = Math.max(
    1,
    Math.min(MAX_THREADS, availableParallelism(), Math.ceil(files.length / FILES_PER_THREAD)),
  );
  const shares: string[][] = Array.from({ length: threads }, () => []);
  files.forEach((f, i) => shares[i % threads]!.push(f));
  const all = await Promise.all(
    shares.map((share) => {
      const job: WorkerJob = { root, files: share, rules: compiled.source, maxBytes };
      return new Promise<Checked>((resolve, reject) => {
        const w = new Worker(script, { workerData: job, resourceLimits: HEAP });
        w.once('message', (r: Checked) => resolve(r));
        w.once('error', reject);
        w.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`validate worker exited with ${code}`))));
      }).catch(() => checkFiles(root, share, compiled.rules, maxBytes, check)); // a failed worker: its share runs here
    }),
  );
  return {
    problems: all.flatMap((r) => r.problems),
    warnings: all.flatMap((r) => r.warnings),
    bytes: all.reduce((n, r) => n + r.bytes, 0),
  };
}
