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

// No stdout at all (`hactl ... >&-`, a cron line that closed it): node opens /dev/null on the closed
// descriptor as it starts, src/output.ts leaves a device to node's stream; the exit code stays, no trace.
test('hactl --help with stdout closed keeps its exit code and prints no trace', async () => {
  const r = await new Promise<{ code: number | null; stderr: string }>((done) => {
    const c = spawn('sh', ['-c', `exec "$0" "$1" --help >&-`, process.execPath, join(ROOT, 'bin/hactl')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => done({ code, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EBADF|Unhandled|at .*\.js:\d+/);
});
