// Digest lines (and the base file) arrive as SSH chunks cut anywhere: each line is
// decoded once, whole, so a character split across two chunks stays whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digestReader, LineReader } from '../../dist/postgres/observe.js';

const EMOJI = '\u{1F600}';
const lines = [`a${EMOJI}b`, `${EMOJI}${EMOJI}`, 'é€', '', `x${'y'.repeat(100)}${EMOJI}`];
const bytes = Buffer.from(lines.join('\n') + '\n');

test('every cut of the stream, at every byte offset, gives the same lines', () => {
  for (let cut = 1; cut < bytes.length; cut++) {
    const got: string[] = [];
    const r = new LineReader((l) => got.push(l));
    r.push(bytes.subarray(0, cut));
    r.push(bytes.subarray(cut));
    r.end();
    assert.deepEqual(got, lines, `cut at byte ${cut}`);
  }
});

test('one byte per chunk', () => {
  const got: string[] = [];
  const r = new LineReader((l) => got.push(l));
  for (let i = 0; i < bytes.length; i++) r.push(bytes.subarray(i, i + 1));
  r.end();
  assert.deepEqual(got, lines);
});

test('digest lines: table index, md5, key with COPY escapes undone', () => {
  const d = digestReader(2);
  const text = `0\tabc\t["k${EMOJI}"]\n1\tdef\t["back\\\\slash"]\n`;
  const b = Buffer.from(text);
  d.reader.push(b.subarray(0, 11)); // inside the emoji
  d.reader.push(b.subarray(11));
  d.reader.end();
  assert.deepEqual([...d.digests[0]!], [[`["k${EMOJI}"]`, 'abc']]);
  assert.deepEqual([...d.digests[1]!], [['["back\\slash"]', 'def']]);
});
