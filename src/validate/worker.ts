// A validate worker thread: compiles the rules itself (functions do not cross
// threads), checks its share of the files, posts the problems back. No top-level await: the bundle
// (scripts/bundle.mjs) is CommonJS; a rejection still ends the worker with an 'error' event.
import { parentPort, workerData } from 'node:worker_threads';
import { compileRules } from './rules.js';
import { checkFiles } from './tree.js';
import { checkBytes } from './check.js';
import type { WorkerJob } from './pool.js';

const job = workerData as WorkerJob;
void compileRules(job.rules.cfg, job.rules.configFile).then((compiled) =>
  parentPort!.postMessage(checkFiles(job.root, job.files, compiled.rules, job.maxBytes, checkBytes)),
);
