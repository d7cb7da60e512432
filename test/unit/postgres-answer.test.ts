// The target's answer in a sync-back (src/postgres/answer.ts): its column lines, its digest lines (streamed
// on to the source as bytes), its results, and the script it relays, split right however the bytes arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TargetAnswer } from '../../dist/postgres/answer.js';
import { RELAY_MARK } from '../../dist/postgres/sync-sql.js';

const COLS = ['{"copy": ["id", "body"], "always": []}', '{"copy": ["k"], "always": ["k"]}'];
// Keys with 4-byte characters, a backslash escape and a line that starts like the end mark.
const DIGESTS = '0\tabc\t["😀x"]\n0\tdef\t["\\\\."]\n1\tghi\t["é€"]\n';
const RESULTS = 'p\t0\t1\t0\t0\t2\nn\t0\t1\nq\t0\t1\n';
const RELAYED = "BEGIN;\nCOPY x FROM STDIN;\n😀 row\n\\.\nSELECT 'n\t0\t1';\nCOMMIT;\n";
const ALL = Buffer.from(`${COLS.join('\n')}\n${DIGESTS}\\.\n${RESULTS}${RELAY_MARK}\n${RELAYED}`);

async function split(size: number) {
  const a = new TargetAnswer(2, true);
  const digests: Buffer[] = [];
  const relayed: Buffer[] = [];
  a.digests.on('data', (d: Buffer) => digests.push(d));
  a.relayed.on('data', (d: Buffer) => relayed.push(d));
  for (let at = 0; at < ALL.length; at += size) a.push(ALL.subarray(at, at + size));
  a.end(() => new Error('ended early'));
  await a.ended;
  await new Promise((r) => setImmediate(r));
  return {
    cols: await a.columns,
    digests: Buffer.concat(digests),
    results: a.result(),
    relayed: Buffer.concat(relayed),
  };
}

test('every chunk size, 1 byte up: columns, digests, results and the relayed script come out whole', async () => {
  for (let size = 1; size <= ALL.length; size++) {
    const got = await split(size);
    assert.deepEqual(
      got.cols,
      COLS.map((c) => JSON.parse(c)),
      `columns, chunks of ${size}`,
    );
    assert.ok(got.digests.equals(Buffer.from(DIGESTS)), `digests byte-equal, chunks of ${size}`);
    assert.ok(got.results.equals(Buffer.from(RESULTS)), `results byte-equal, chunks of ${size}`);
    assert.ok(got.relayed.equals(Buffer.from(RELAYED)), `relayed byte-equal, chunks of ${size}`);
  }
});

test('a target that ends before its digests ended fails the answer (and the source stops reading)', async () => {
  const a = new TargetAnswer(2);
  a.digests.on('error', () => undefined);
  a.push(Buffer.from(`${COLS.join('\n')}\n0\tabc\t[1]\n`));
  a.end(() => new Error('the primary: psql failed with exit 2'));
  await assert.rejects(a.ended, /exit 2/);
});
