// scripts/install-witness builds only when something it is built from changed (issue 24.9):
// scripts/build-if-changed in a copy of the tree, with an `npm` stand-in on PATH that records
// each build and makes dist/ as the real build does (rm -rf dist first).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../lab/lab.ts';

describe('install-witness: the build is skipped when nothing changed', () => {
  test('built once; not again; again after a source changes, or when dist/ is gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-iw-'));
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'fake'));
    copyFileSync(join(ROOT, 'scripts/build-if-changed'), join(dir, 'scripts/build-if-changed'));
    writeFileSync(join(dir, 'src/a.ts'), 'export const a = 1;\n');
    writeFileSync(join(dir, 'package.json'), '{"name":"x"}\n');
    const log = join(dir, 'builds.log');
    writeFileSync(
      join(dir, 'fake/npm'),
      `#!/bin/sh\necho "$*" >> '${log}'\nrm -rf dist && mkdir -p dist/bundle && echo built > dist/bundle/cli.js\n`,
    );
    chmodSync(join(dir, 'fake/npm'), 0o755);
    const run = () => {
      const r = spawnSync('bash', [join(dir, 'scripts/build-if-changed')], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${join(dir, 'fake')}:${dirname(process.execPath)}:/usr/bin:/bin` },
      });
      assert.equal(r.status, 0, r.stderr);
      return r;
    };
    const builds = () => {
      try {
        return readFileSync(log, 'utf8').trim().split('\n').length;
      } catch {
        return 0;
      }
    };
    run();
    assert.equal(builds(), 1);
    const again = run();
    assert.equal(builds(), 1, 'nothing changed: no build');
    assert.equal(again.stderr, '', 'quiet when nothing changed');
    writeFileSync(join(dir, 'src/a.ts'), 'export const a = 2;\n');
    run();
    assert.equal(builds(), 2, 'a source changed');
    run();
    assert.equal(builds(), 2);
    rmSync(join(dir, 'dist'), { recursive: true });
    run();
    assert.equal(builds(), 3, 'dist/ gone');
  });
});
