// `hactl ... | head`: a reader that goes away before hactl writes must not crash it (an unhandled
// EPIPE printed a stack trace and turned exit 0 into 1). The read end is closed before the child
// writes anything, so every write it makes meets a closed pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../lab/lab.ts';

function runClosed(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [join(ROOT, 'bin/hactl'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout.destroy(); // nobody reads: the child's first write gets EPIPE
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => done({ code, stderr }));
  });
}

for (const args of [['--help'], ['check', '--help'], ['validate', '/nonexistent/hactl-pipe-test']])
  test(`hactl ${args.join(' ')} into a closed pipe keeps its exit code and prints no trace`, async () => {
    const want = args[0] === 'validate' ? 66 : 0;
    const r = await runClosed(args);
    assert.equal(r.code, want, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|at .*\.js:\d+/);
  });
