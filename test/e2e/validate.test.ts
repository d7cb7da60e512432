// hactl validate on a fixture tree: the exact messages, exit codes and --json.
// Runs the built CLI as a child process (no hosts needed: validate is local).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../lab/lab.ts';
import { plantHostile } from '../lab/memory.ts';

const FIX = join(ROOT, 'test/fixtures/validate');

function hactl(args: string[], cwd = FIX, env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, HACTL_CONFIG: undefined, ...env },
  });
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
    assert.ok(
      lines.includes(
        "agents/ann/memory/nomood.json:1:1: / is missing required key 'mood' (schema of rule '*/memory/*.json')",
      ),
    );
    assert.ok(
      lines.includes('agents/ann/memory/trailing.json:3:1: invalid JSON: Expected double-quoted property name'),
    );
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
    assert.deepEqual(
      j.problems.find((p: { file: string }) => p.file === 'agents/ann/memory/trailing.json'),
      {
        file: 'agents/ann/memory/trailing.json',
        line: 3,
        col: 1,
        message: 'invalid JSON: Expected double-quoted property name',
      },
    );
  });

  test('a valid file exits 0; without a config only the built-in checks run', () => {
    const one = hactl(['-c', 'hactl.yaml', 'validate', 'agents/ann/memory/state.json']);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.equal(one.stdout, 'validate: 1 file valid in agents/ann/memory/state.json\n');
    // nomood.json breaks only the configured rule: valid without a config.
    const bare = hactl(
      ['validate', join(FIX, 'agents/ann/memory/nomood.json')],
      mkdtempSync(join(tmpdir(), 'hactl-v-')),
    );
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

describe('hactl validate: hostile input (issue 11 #6-#11)', () => {
  const timed = (args: string[], cwd: string) => {
    // Peak RSS through GNU time when it is there; a hang is cut at 120 s and fails the test.
    const time = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'HACTL_PEAK_KB=%M'] : [];
    const argv = [...time, process.execPath, join(ROOT, 'bin/hactl'), ...args];
    const r = spawnSync(argv[0]!, argv.slice(1), {
      cwd,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, HACTL_CONFIG: undefined },
    });
    const peak = /HACTL_PEAK_KB=(\d+)/.exec(r.stderr)?.[1];
    return {
      code: r.status,
      stdout: r.stdout,
      stderr: r.stderr.replace(/HACTL_PEAK_KB=\d+\n?|Command exited with non-zero status \d+\n/g, ''),
      peakKB: peak ? Number(peak) : undefined,
    };
  };

  test('a hostile tree: each bad file named with reason; non-regular files warned, unopened; bounded memory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-hostile-'));
    const want = plantHostile(dir);
    const r = timed(['validate', '.'], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.stderr, '', 'no crash, no stack');
    const lines = r.stdout.trim().split('\n');
    for (const [file, why] of Object.entries(want.invalid)) {
      const l = lines.filter((x) => x.startsWith(`${file}:`) && !x.includes(': warning: '));
      assert.equal(l.length, 1, `${file} reported once as invalid:\n${r.stdout}`);
      assert.match(l[0]!, why);
    }
    for (const [file, why] of Object.entries(want.warned)) {
      const l = lines.filter((x) => x.startsWith(`${file}: warning: `));
      assert.equal(l.length, 1, `${file} named once as a warning:\n${r.stdout}`);
      assert.match(l[0]!, why);
    }
    for (const f of want.valid) assert.ok(!lines.some((x) => x.startsWith(`${f}:`)), `${f} is valid`);
    assert.match(
      lines.at(-1)!,
      new RegExp(`^validate: ${Object.keys(want.invalid).length} of \\d+ files invalid .*; 3 not read \\(warnings\\)$`),
    );
    if (r.peakKB !== undefined) assert.ok(r.peakKB < 200 * 1024, `peak RSS ${r.peakKB} KB stays under 200 MB`);
    const j = JSON.parse(timed(['--json', 'validate', '.'], dir).stdout);
    assert.equal(j.warnings.length, 3);
    assert.ok(j.invalid.includes('workspace/memory/huge.md'));
  });

  test('a FIFO as PATH is named, not opened (no hang); a symlink loop as PATH too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-fifo-'));
    spawnSync('mkfifo', [join(dir, 'pipe.json')]);
    symlinkSync('loop.json', join(dir, 'loop.json'));
    const r = timed(['validate', join(dir, 'pipe.json')], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /pipe\.json: warning: a FIFO \(named pipe\): not read/);
    const l = timed(['validate', 'loop.json'], dir);
    assert.equal(l.code, 1, l.stdout + l.stderr);
    assert.match(l.stdout, /^loop\.json: warning: a symbolic link \(not followed\): not read$/m);
  });

  test('a file argument keeps its whole name (issue 11 #9)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-name-'));
    writeFileSync(join(dir, 'a.json'), '{"a": ');
    const r = timed(['validate', 'a.json'], dir);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.split('\n')[0], 'a.json:1:7: invalid JSON: unexpected end of input');
    assert.equal(r.stdout.split('\n')[1], 'validate: 1 of 1 files invalid (1 problems) in a.json');
  });

  test('validate.maxFileMB sets the size cap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-cap-'));
    writeFileSync(join(dir, 'n.md'), 'x'.repeat(300 * 1024));
    const cfg = readFileSync(join(FIX, 'hactl.yaml'), 'utf8').replace(
      /^validate:\n/m,
      'validate:\n  maxFileMB: 0.25\n',
    );
    writeFileSync(
      join(dir, 'hactl.yaml'),
      cfg.replace(/schema: schemas\/state\.schema\.json/, `schema: ${join(FIX, 'schemas/state.schema.json')}`),
    );
    const r = timed(['-c', 'hactl.yaml', 'validate', 'n.md'], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^n\.md:1:1: file is too large: 0\.3 MB \(limit 0\.3 MB, validate\.maxFileMB\)$/m);
  });
});

describe('hactl validate: both cores and a warm cache (issue 12 #5)', () => {
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-warm-'));
    const cfg = [
      `stateDir: ${join(dir, 'state')}`,
      'pair: { primary: a, standby: b }',
      'hosts:',
      '  a: { address: 127.0.0.1, user: x, key: /nonexistent, knownHosts: /nonexistent }',
      '  b: { address: 127.0.0.2, user: x, key: /nonexistent, knownHosts: /nonexistent }',
    ].join('\n');
    writeFileSync(join(dir, 'hactl.yaml'), cfg + '\n');
    return dir;
  };

  test('a tree big enough for worker threads: every problem of every share is reported', () => {
    const dir = setup();
    const bad = new Set([7, 300, 601, 902, 1203]);
    for (let i = 0; i < 1300; i++) {
      const sub = join(dir, 'tree', `d${i % 13}`);
      mkdirSync(sub, { recursive: true });
      const ext = ['yaml', 'json', 'md'][i % 3]!;
      const good =
        ext === 'yaml' ? `id: ${i}\nfacts: [a, b]\n` : ext === 'json' ? `{"id": ${i}}` : `---\ntitle: n${i}\n---\nx\n`;
      const broken =
        ext === 'yaml' ? `id: ${i}\nid: 2\n` : ext === 'json' ? `{"id": ${i},}` : `---\ntitle: [\n---\nx\n`;
      writeFileSync(join(sub, `n${i}.${ext}`), bad.has(i) ? broken : good);
    }
    const r = hactl(['-c', 'hactl.yaml', '--json', 'validate', 'tree'], dir);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.files, 1300);
    const want = [...bad].map((i) => `tree/d${i % 13}/n${i}.${['yaml', 'json', 'md'][i % 3]}`).sort();
    assert.deepEqual(j.invalid, want);
  });

  test('the cache skips unchanged valid files, never invalid ones; a write (ctime) misses, mtime reset or not', () => {
    const dir = setup();
    mkdirSync(join(dir, 'tree'));
    writeFileSync(join(dir, 'tree', 'a.json'), '{"a": 1}');
    writeFileSync(join(dir, 'tree', 'b.yaml'), 'b: [');
    const first = hactl(['-c', 'hactl.yaml', 'validate', 'tree'], dir);
    assert.equal(first.code, 1, first.stdout + first.stderr);
    assert.ok(existsSync(join(dir, 'state', 'validate-cache')), 'a cache in the state dir');
    const again = hactl(['-c', 'hactl.yaml', 'validate', 'tree'], dir);
    assert.equal(again.stdout, first.stdout, 'an invalid file is reported again: it is never cached');
    // Same size, same mtime, new content: only ctime (and the content) tell.
    const a = join(dir, 'tree', 'a.json');
    const before = statSync(a, { bigint: true });
    writeFileSync(a, '{"a": ]}');
    const ns = before.mtimeNs;
    spawnSync('touch', ['-m', '-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, a]);
    const after = statSync(a, { bigint: true });
    assert.equal(after.size, before.size);
    assert.equal(after.mtimeNs, before.mtimeNs, 'mtime put back to the nanosecond');
    assert.equal(after.ino, before.ino);
    const changed = hactl(['-c', 'hactl.yaml', 'validate', 'tree'], dir);
    assert.equal(changed.code, 1);
    assert.match(changed.stdout, /^tree\/a\.json:\d+:\d+: invalid JSON/m);
  });

  test('a warm run reuses unchanged directories only: added files, new folders and swapped-in links are seen', () => {
    const dir = setup();
    mkdirSync(join(dir, 'tree', 'd1', 'd2'), { recursive: true });
    writeFileSync(join(dir, 'tree', 'd1', 'a.json'), '{"a": 1}');
    writeFileSync(join(dir, 'tree', 'd1', 'd2', 'b.yaml'), 'b: 1\n');
    const first = hactl(['-c', 'hactl.yaml', 'validate', 'tree'], dir);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(hactl(['-c', 'hactl.yaml', 'validate', 'tree'], dir).code, 0, 'warm and unchanged');
    // Into cached directories: a new invalid file, a new folder with one, a valid file swapped for a link.
    writeFileSync(join(dir, 'tree', 'd1', 'd2', 'new.json'), '{"x": ]');
    mkdirSync(join(dir, 'tree', 'd1', 'fresh'));
    writeFileSync(join(dir, 'tree', 'd1', 'fresh', 'c.yaml'), 'c: [');
    symlinkSync('/etc/hostname', join(dir, 'tree', 'd1', 'link.tmp'));
    renameSync(join(dir, 'tree', 'd1', 'link.tmp'), join(dir, 'tree', 'd1', 'a.json'));
    const r = hactl(['-c', 'hactl.yaml', '--json', 'validate', 'tree'], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.invalid, ['tree/d1/d2/new.json', 'tree/d1/fresh/c.yaml']);
    assert.match(JSON.stringify(j), /d1\/a\.json[^}]*symbolic link/);
  });
});
