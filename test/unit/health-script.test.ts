// The health read's remote script (src/health/scripts.ts), run here by a local sh as sshd's shell would:
// what it prints parses into every value, and it costs a handful of processes on the host, not one per
// value (issue 25: about fifteen forks took 70-80 ms of a check through a warm master).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { healthScript } from '../../src/health/scripts.ts';
import { parseHealth } from '../../src/health/parse.ts';

const home = mkdtempSync(join(tmpdir(), 'hactl-health-'));
const runDir = join(home, 'run dir');
mkdirSync(runDir);
const hb = join(runDir, 'heartbeat');
writeFileSync(hb, '{}\n');
utimesSync(hb, 1_700_000_000, 1_700_000_000);
const config = (enabled: boolean): any => ({
  heartbeat: { warning: 180, critical: 300, required: false },
  resources: { enabled },
  memory: { root: 'not/made/yet' }, // relative to the home; the nearest existing directory is measured
  gateway: { runDir: '.openclaw/hactl' },
});
const host: any = { name: 'h', gateway: { runDir } };
const run = (script: string) =>
  spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { ...process.env, HOME: home } });

test('every value is read and parses', () => {
  const r = run(healthScript(config(true), host));
  assert.equal(r.status, 0, r.stderr);
  const h = parseHealth(r.stdout);
  assert.ok(Math.abs(h.hostNow! - Date.now() / 1000) < 120, r.stdout);
  assert.equal(h.heartbeat, 1_700_000_000);
  assert.equal(h.ncpu, availableParallelism(), r.stdout);
  assert.equal(h.load?.length, 3, r.stdout);
  assert.ok(h.mem && h.mem.totalKB > 0 && h.mem.availKB > 0, r.stdout);
  assert.deepEqual(
    h.disks.map((d) => d.label),
    ['memory', 'runDir'],
  );
  // Sizes read from df as whole KiB: a misparsed line gives NaN or a free space above the size.
  for (const d of h.disks) {
    assert.ok(Number.isInteger(d.sizeKB) && d.sizeKB > 0, `${d.label} size: ${r.stdout}`);
    assert.ok(Number.isInteger(d.availKB) && d.availKB >= 0 && d.availKB <= d.sizeKB, `${d.label} free: ${r.stdout}`);
  }
});

test('resources off: the clock and the heartbeat only; no heartbeat file: "hb none"', () => {
  const r = run(healthScript(config(false), { name: 'h', gateway: { runDir: join(home, 'none') } }));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.stdout.split('\n').map((l) => l.split(' ')[0]),
    ['now', 'hb', ''],
  );
  assert.match(r.stdout, /^hb none$/m);
});

test('a handful of processes on the host, not one per value', (t) => {
  if (spawnSync('strace', ['-V']).status !== 0) return t.skip('no strace here');
  const trace = join(home, 'trace');
  const r = spawnSync(
    'strace',
    ['-f', '-qq', '-o', trace, '-e', 'trace=execve', 'sh', '-c', healthScript(config(true), host)],
    {
      encoding: 'utf8',
      env: { ...process.env, HOME: home },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = spawnSync('cat', [trace], { encoding: 'utf8' }).stdout.split('\n');
  const pids = new Set(lines.filter((l) => /execve\(/.test(l)).map((l) => l.split(' ')[0]));
  // sh, date, stat, timeout, df, awk (the shell's pipeline subshell runs no program of its own)
  assert.ok(pids.size <= 6, `${pids.size} processes ran a program: ${[...pids].join(' ')}`);
});

test('df failing for the memory root: the run directory is not labelled memory', () => {
  // A df that cannot read the memory root (a stale mount, no permission) and reads the rest.
  const bin = join(home, 'bin');
  mkdirSync(bin, { recursive: true });
  mkdirSync(join(home, 'memroot'), { recursive: true });
  const df = join(bin, 'df');
  writeFileSync(
    df,
    [
      '#!/bin/sh',
      'rc=0; set -- "$@"; args=""',
      'for a in "$@"; do case "$a" in *memroot) echo "df: $a: Permission denied" >&2; rc=1;; esac; done',
      'real=$(PATH=/usr/bin:/bin command -v df)',
      'for a in "$@"; do case "$a" in *memroot | -*) ;; *)',
      '  "$real" -Pk -- "$a" | { [ -n "$hd" ] && tail -n +2 || cat; }; hd=1;;',
      'esac; done',
      'exit $rc',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const c = { ...config(true), memory: { root: 'memroot' } };
  const r = spawnSync('sh', ['-c', healthScript(c, host)], {
    encoding: 'utf8',
    env: { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH}` },
  });
  assert.equal(r.status, 0, r.stderr);
  const h = parseHealth(r.stdout);
  assert.deepEqual(
    h.disks.map((d) => d.label),
    ['runDir'],
    r.stdout,
  );
});
