// hactl's words on a pipe (src/output.ts sink): written on the descriptor, byte-exact, in order, whether
// the pipe blocks or node's own stream made it non-blocking first (then a full pipe hands the rest, from
// the byte where a short write stopped, to that stream). The reader is slow on purpose: the pipe fills.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OUTPUT = new URL('../../dist/output.js', import.meta.url).href;

/**
 * `text` written through sink(1) by a child whose reader waits until the pipe is full; `touch`: node's
 * process.stdout made first, which leaves the descriptor non-blocking, so a write stops short and the rest
 * goes through node's stream.
 */
async function through(text: string, touch: boolean): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-sink-'));
  const child = join(dir, 'child.mjs');
  writeFileSync(
    child,
    [
      `const { sink } = await import(${JSON.stringify(OUTPUT)});`,
      touch ? 'process.stdout;' : '',
      `sink(1).write(${JSON.stringify(text)});`,
      `sink(1).write('end\\n');`,
    ].join('\n'),
  );
  try {
    const c = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'inherit'] });
    c.stdout.pause();
    await new Promise((r) => setTimeout(r, 200)); // not a timing assertion: only so that the pipe fills
    const parts: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => parts.push(d));
    c.stdout.resume();
    const code = await new Promise((r) => c.on('close', r));
    assert.equal(code, 0);
    return Buffer.concat(parts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Three-byte characters after 0, 1 or 2 ASCII bytes: wherever a short write stops (a pipe's room is a
// number of pages, never a multiple of three bytes apart for all three), for one of them it is inside one.
const texts = [0, 1, 2].map((shift) => 'x'.repeat(shift) + '€'.repeat(400_000));

test('a blocking pipe: every byte, in order', async () => {
  for (const t of texts) assert.ok((await through(t, false)).equals(Buffer.from(t + 'end\n')));
});

test("a pipe node's stream made non-blocking: a full pipe hands the rest over at the byte it stopped", async () => {
  for (const t of texts) {
    const got = await through(t, true);
    assert.ok(got.equals(Buffer.from(t + 'end\n')), 'byte-exact: no character cut and re-encoded, in order');
  }
});
