// Temp names (src/state/files.ts tempPath): a run killed between create and rename leaves its temp file;
// a later run that the kernel gives the same pid must still write (and cleanTemps keeps a file of a live
// pid, so the leftover stays there until it is an hour old).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanTemps, tempPath, writeAtomic } from '../../src/state/files.ts';

test('a leftover temp file of an earlier run with the same pid does not stop a write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-temp-names-'));
  const file = join(dir, 'state.json');
  // What a run with this pid, killed during its first write, left (a count would name it so).
  for (const n of ['00000000', '00000001', '00000002'])
    writeFileSync(join(dir, `.state.json.${process.pid}.${n}.tmp`), 'half');
  writeAtomic(file, '{"ok":true}');
  assert.equal(readFileSync(file, 'utf8'), '{"ok":true}');
  assert.equal(cleanTemps(dir), 0, 'the pid is alive: its temp files are kept');
});

test('temp names of one process differ, and cleanTemps recognises them', () => {
  const names = new Set(Array.from({ length: 100 }, () => tempPath('/x/state.json')));
  assert.equal(names.size, 100);
  for (const n of names) assert.match(n, new RegExp(`^/x/\\.state\\.json\\.${process.pid}\\.[0-9a-f]{8}\\.tmp$`));
});
