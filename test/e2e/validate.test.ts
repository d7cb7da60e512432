// hactl validate on a fixture tree: the exact messages, exit codes and --json.
// Runs the built CLI as a child process (no hosts needed: validate is local).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../lab/lab.ts';

const FIX = join(ROOT, 'test/fixtures/validate');

function hactl(args: string[], cwd = FIX, env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, HACTL_CONFIG: undefined, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('hactl validate', () => {
  test('the fixture tree gives exactly the expected messages and exit 1', () => {
    const r = hactl(['-c', 'hactl.yaml', 'validate', 'agents']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, readFileSync(join(FIX, 'expected.txt'), 'utf8'));
    assert.equal(r.stderr, '');
  });

  test('a few messages spelled out (line:col, parser, rule)', () => {
    const lines = hactl(['-c', 'hactl.yaml', 'validate', 'agents']).stdout.split('\n');
    assert.ok(lines.includes("agents/ann/memory/nomood.json:1:1: / is missing required key 'mood' (schema of rule '*/memory/*.json')"));
    assert.ok(lines.includes('agents/ann/memory/trailing.json:3:1: invalid JSON: Expected double-quoted property name'));
    assert.ok(lines.includes('agents/joe/memory/truncated.yaml:2:13: invalid YAML: Missing closing "quote'));
    assert.ok(lines.includes('agents/ann/memory/dup.yml:2:1: invalid YAML: Map keys must be unique'));
    assert.ok(lines.includes('agents/joe/memory/empty.md:1:1: file is empty'));
    assert.equal(lines.at(-2), 'validate: 8 of 13 files invalid (9 problems) in agents');
  });

  test('--json is one machine-readable document', () => {
    const r = hactl(['-c', 'hactl.yaml', '--json', 'validate', 'agents']);
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout);
    assert.equal(j.exitCode, 1);
    assert.equal(j.files, 13);
    assert.equal(j.invalid.length, 8);
    assert.ok(j.invalid.includes('agents/joe/memory/truncated.yaml'));
    assert.deepEqual(j.problems.find((p: { file: string }) => p.file === 'agents/ann/memory/trailing.json'), { file: 'agents/ann/memory/trailing.json', line: 3, col: 1, message: 'invalid JSON: Expected double-quoted property name' });
  });

  test('a valid file exits 0; without a config only the built-in checks run', () => {
    const one = hactl(['-c', 'hactl.yaml', 'validate', 'agents/ann/memory/state.json']);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.equal(one.stdout, 'validate: 1 file valid in agents/ann/memory/state.json\n');
    // nomood.json breaks only the configured rule: valid without a config.
    const bare = hactl(['validate', join(FIX, 'agents/ann/memory/nomood.json')], mkdtempSync(join(tmpdir(), 'hactl-v-')));
    assert.equal(bare.code, 0, bare.stdout + bare.stderr);
  });

  test('a missing path exits 66 with one clear line; a bad config exits 78', () => {
    const r = hactl(['validate', 'no/such/dir']);
    assert.equal(r.code, 66);
    assert.equal(r.stderr.split('\n')[0], 'hactl: no/such/dir: no such file or directory');
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    const bad = hactl(['-c', 'nope.yaml', 'validate', 'agents']);
    assert.equal(bad.code, 78, bad.stderr);
  });
});
