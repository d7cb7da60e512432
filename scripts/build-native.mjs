// Builds native/flock.c into dist/native/flock.node with the system's C compiler ($CC, else cc): hactl's
// locks then take flock(2) in process instead of forking flock(1) (src/state/lock.ts, issue 25). Optional:
// without a compiler, or when it fails, the build goes on and says so in one line, and hactl takes its
// locks with flock(1) as before (same system call, same locks: they exclude each other).
// HACTL_NO_NATIVE=1 skips it (how the flock(1) path is built on purpose).
import { fileURLToPath } from 'node:url';
import { mkdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/native/flock.node`;
rmSync(out, { force: true });
if (process.env.HACTL_NO_NATIVE) {
  console.error('build-native: skipped (HACTL_NO_NATIVE): locks through flock(1)');
  process.exit(0);
}
mkdirSync(`${root}dist/native`, { recursive: true });
const cc = process.env.CC || 'cc';
const args = ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', '-o', out, `${root}native/flock.c`];
const r = spawnSync(cc, args, { encoding: 'utf8', timeout: 60_000 });
if (r.status !== 0) {
  rmSync(out, { force: true });
  const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n')[0] || `exit ${r.status}`;
  console.error(`build-native: no in-process lock (${cc}: ${why}); hactl takes its locks with flock(1), slower`);
}
