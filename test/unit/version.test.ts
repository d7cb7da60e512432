// `hactl --version` prints a constant (src/version.ts) so that it loads nothing; the constant must
// follow package.json, and both ways in (the shim's fast path and commander's) must print it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { VERSION } from '../../src/version.ts';
import { ROOT } from '../lab/lab.ts';

test('src/version.ts is package.json version', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
});

test('--version, -V and --version among other options print the version', () => {
  for (const args of [['--version'], ['-V'], ['--json', '--version']]) {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, `${VERSION}\n`, args.join(' '));
  }
});
