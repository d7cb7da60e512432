// runProcessSync (crontab's way to run, issue 25) keeps runProcess's promises: the same result for the same
// program, a deadline that stops a program that hangs, a cap on each stream named in the error, text decoded
// once at the end, and a program that cannot start is an error, not an exit code. Real programs under sh.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runProcess, runProcessSync } from '../../dist/adapters/process.js';
import { OutputCapError } from '../../dist/adapters/bytes.js';

const sh = (script: string) => ['-c', script] as const;

describe('runProcessSync: the promises of runProcess, without its streams', () => {
  test('the same result as runProcess: code, both streams, a multi-byte character whole', async () => {
    // printf writes é (two bytes) and € (three) as separate writes: a read could end inside either.
    const script = "printf 'caf\\303'; printf '\\251 \\342\\202'; printf '\\254\\n'; echo err >&2; exit 7";
    const a = await runProcess('sh', sh(script), { deadline: 10 });
    const b = runProcessSync('sh', sh(script), { deadline: 10 });
    for (const r of [a, b]) {
      assert.equal(r.code, 7);
      assert.equal(r.stdout, 'café €\n');
      assert.equal(r.stderr, 'err\n');
      assert.equal(r.timedOut, false);
    }
  });

  test('a program that hangs is stopped at its deadline (a fraction of a second too)', () => {
    const r = runProcessSync('sh', sh('echo started; exec sleep 30'), { deadline: 0.3005 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.stdout, 'started\n');
  });

  test('past the cap on either stream: OutputCapError naming the cap and the program', () => {
    for (const to of ['', '>&2'])
      assert.throws(
        () => runProcessSync('sh', sh(`head -c 5000 /dev/zero ${to}`), { deadline: 10, cap: 1024, what: 'crontab -l' }),
        (e: Error) => e instanceof OutputCapError && /output over 1 KiB cap from crontab -l/.test(e.message),
      );
    // At the cap on each stream, both at once, not past it: fine (spawnSync's own limit counts them together).
    const both = runProcessSync('sh', sh('head -c 1024 /dev/zero; head -c 1024 /dev/zero >&2'), {
      deadline: 10,
      cap: 1024,
    });
    assert.deepEqual([both.stdout.length, both.stderr.length], [1024, 1024]);
  });

  test('a program that is not there is an error (ENOENT), not an exit code', () => {
    assert.throws(() => runProcessSync('no-such-program-hactl', [], { deadline: 10 }), /ENOENT/);
  });
});
