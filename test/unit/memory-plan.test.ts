// The pure parts of memory sync, case by case.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { conflictName, deletionVerdict, filterRules, memoryStaleness, planSyncBack } from '../../src/memory/plan.ts';
import { decodeName, parseItemized, unescapeName } from '../../src/adapters/rsync-itemize.ts';
import { checkBytes, checkText } from '../../src/validate/check.ts';

describe('filterRules', () => {
  test('excludes first, parents of includes, includes anchored, then everything else out', () => {
    assert.deepEqual(
      filterRules({
        include: ['workspace/MEMORY.md', 'workspace/memory/**', 'agents/*/memory/**'],
        exclude: ['*.tmp'],
      }),
      [
        '- .~tmp~/',
        '- *.sqlite',
        '- *.sqlite-wal',
        '- *.sqlite-shm',
        '- *.sqlite-journal',
        '- *.tmp',
        '+ /workspace/',
        '+ /workspace/memory/',
        '+ /agents/',
        '+ /agents/*/',
        '+ /agents/*/memory/',
        '+ /workspace/MEMORY.md',
        '+ /workspace/memory/**',
        '+ /agents/*/memory/**',
        '- *',
      ],
    );
  });
});

describe('parseItemized', () => {
  test('changed, created, deleted files and bytes; attribute-only and directories ignored', () => {
    const out = [
      'cd+++++++++ agents/',
      '>f+++++++++ agents/a/memory/new.md',
      '>f.st...... workspace/MEMORY.md',
      '.f...p..... same.md',
      '*deleting   old.md',
      '*deleting   gone/',
      '<f+++++++++ a\\#012b.md',
      'Total bytes sent: 1,234',
      'Total bytes received: 66',
    ].join('\n');
    assert.deepEqual(parseItemized(out), {
      changed: ['agents/a/memory/new.md', 'workspace/MEMORY.md', 'a\nb.md'],
      created: ['agents/a/memory/new.md', 'a\nb.md'],
      deleted: ['old.md'],
      bytes: 1300,
      deletions: 2,
      touched: 7,
      undecodable: [],
    });
  });
  test('unescapeName', () => assert.equal(unescapeName('x\\#012y\\#134'), 'x\ny\\'));
});

describe('deletionVerdict', () => {
  const m = { maxDeleteShare: 0.2, deleteAllowance: 5 };
  for (const [deleted, live, ok] of [
    [5, 6, true],
    [6, 30, true],
    [7, 30, false],
    [20, 100, true],
    [21, 100, false],
    [1, 0, true],
  ] as const) {
    test(`${deleted} of ${live} -> ${ok ? 'ok' : 'refused'}`, () =>
      assert.equal(deletionVerdict(deleted, live, m).ok, ok));
  }
});

describe('planSyncBack', () => {
  const st = (size: number, mtime: number) => ({ size, mtime });
  const base = { 'a.md': st(1, 10), 'b.md': st(1, 10), 'c.md': st(1, 10), 'd.md': st(1, 10) };
  test('only-standby changes go back, both-sides changes are conflicts, untouched files stay', () => {
    const standby = { 'a.md': st(1, 10), 'b.md': st(2, 20), 'c.md': st(3, 20), 'new.md': st(1, 20), 'd.md': st(5, 30) };
    const primary = { 'a.md': st(9, 40), 'b.md': st(1, 10), 'c.md': st(4, 30) };
    assert.deepEqual(planSyncBack(base, standby, primary), {
      send: ['b.md', 'd.md', 'new.md'],
      conflicts: ['c.md'],
      unchanged: 1,
    });
  });
  test('without a base every difference is a conflict, never an overwrite', () => {
    assert.deepEqual(planSyncBack(null, { 'a.md': st(2, 20) }, { 'a.md': st(1, 10) }), {
      send: [],
      conflicts: ['a.md'],
      unchanged: 0,
    });
  });
  test('equal stats but different bytes is a conflict; identical content is not', () => {
    assert.deepEqual(planSyncBack(base, { 'a.md': st(2, 20) }, { 'a.md': st(2, 20) }, () => false).conflicts, ['a.md']);
    assert.deepEqual(planSyncBack(base, { 'a.md': st(2, 20) }, { 'a.md': st(2, 20) }, () => true).unchanged, 1);
  });
});

describe('conflictName and staleness', () => {
  const at = new Date('2026-09-10T10:15:00.123Z');
  test('conflictName', () => {
    assert.equal(conflictName('workspace/MEMORY.md', 'pc-b', at), 'workspace/MEMORY.conflict-pc-b-20260910T101500Z.md');
    assert.equal(conflictName('a.b/notes', 'x y', at), 'a.b/notes.conflict-x_y-20260910T101500Z');
  });
  test('memoryStaleness', () => {
    const now = new Date('2026-09-10T12:00:00Z');
    assert.equal(memoryStaleness(undefined, 300, now), null);
    assert.equal(
      memoryStaleness({ lastGoodAt: '2026-09-10T11:46:00Z', lastResult: 'ok', lastRunAt: '' }, 300, now),
      null,
    );
    assert.match(
      memoryStaleness({ lastGoodAt: '2026-09-10T11:44:00Z', lastResult: 'invalid', lastRunAt: '' }, 300, now)!,
      /16 min ago/,
    );
  });
});

describe('checkText', () => {
  test('JSON error position, YAML duplicate key, front matter', () => {
    assert.deepEqual(checkText('x.json', '{\n  "a": 1,\n}', []), [
      { line: 3, col: 1, message: 'invalid JSON: Expected double-quoted property name' },
    ]);
    assert.deepEqual(checkText('x.yml', 'a: 1\na: 2\n', []), [
      { line: 2, col: 1, message: 'invalid YAML: Map keys must be unique' },
    ]);
    assert.deepEqual(checkText('x.md', '---\nt: 1\n---\nbody', []), []);
    assert.deepEqual(checkText('x.md', 'no front matter at all', []), []);
    assert.deepEqual(checkText('x.txt', '', []), [{ line: 1, col: 1, message: 'file is empty' }]);
  });
});

describe('names are bytes (issue 11 #11)', () => {
  test('UTF-8 written raw or escaped decodes to the same name; a name that is not UTF-8 is never guessed', () => {
    assert.equal(decodeName('caf\\#303\\#251.md'), 'café.md');
    assert.equal(decodeName('café.md'), 'café.md');
    assert.equal(decodeName('bad\\#351\\#377.md'), null, 'not Latin-1');
    const r = parseItemized(
      ['>f+++++++++ a/caf\\#303\\#251.md', '>f+++++++++ a/bad\\#351.md', '*deleting   a/x\\#377.md'].join('\n'),
    );
    assert.deepEqual(r.changed, ['a/café.md']);
    assert.deepEqual(r.deleted, []);
    assert.deepEqual(r.undecodable, ['a/bad\\#351.md', 'a/x\\#377.md']);
    assert.equal(r.deletions, 1);
  });
  test('an empty source: --stats with no regular file counts 0 files', () => {
    assert.equal(parseItemized('Number of files: 1 (dir: 1)\n').files, 0);
    assert.equal(parseItemized('Number of files: 3 (reg: 2, dir: 1)\n').files, 2);
  });
});

describe('text: encodings and depth (issue 11 #6, #10)', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const bom = (s: string) => Uint8Array.from([0xef, 0xbb, 0xbf, ...enc(s)]);
  const rows: Array<[string, string, Uint8Array, RegExp | null]> = [
    ['BOM, valid front matter', 'a.md', bom('---\nt: 1\n---\nx'), null],
    ['BOM, broken front matter', 'a.md', bom('---\nt: [\n---\nx'), /invalid front matter/],
    ['UTF-16 LE with BOM', 'a.yaml', Uint8Array.from([0xff, 0xfe, 0x61, 0]), /UTF-16/],
    ['UTF-16 BE with BOM', 'a.md', Uint8Array.from([0xfe, 0xff, 0, 0x61]), /UTF-16/],
    ['UTF-16 without BOM', 'a.md', Uint8Array.from([0x61, 0, 0x0a, 0]), /NUL byte/],
    ['Latin-1', 'a.md', Uint8Array.from([0x63, 0xe9]), /not valid UTF-8/],
    ['JSON 101 deep', 'a.json', enc('['.repeat(101) + ']'.repeat(101)), /nested deeper than 100/],
    ['JSON 100 deep', 'a.json', enc('['.repeat(100) + ']'.repeat(100)), null],
    ['JSON brackets in strings', 'a.json', enc(`["${'['.repeat(500)}"]`), null],
    ['YAML flow 101 deep', 'a.yaml', enc(`a: ${'['.repeat(101)}${']'.repeat(101)}`), /nested deeper than 100/],
    ['YAML compact sequences', 'a.yml', enc(`${'- '.repeat(150)}x`), /nested deeper than 100/],
    [
      'YAML indentation',
      'a.yaml',
      enc(Array.from({ length: 150 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1'),
      /nested deeper/,
    ],
    [
      'YAML block scalar is not nesting',
      'a.yaml',
      enc(`t: |\n${Array.from({ length: 200 }, (_, i) => ' '.repeat(i + 1) + 'x').join('\n')}\n`),
      null,
    ],
    ['Front matter deep', 'a.md', enc(`---\nt: ${'['.repeat(150)}${']'.repeat(150)}\n---\n`), /front matter: nested/],
  ];
  for (const [name, rel, buf, want] of rows) {
    test(name, () => {
      const p = checkBytes(rel, buf, []);
      if (want) assert.match(p.map((x) => x.message).join('\n'), want);
      else assert.deepEqual(p, []);
    });
  }
});
