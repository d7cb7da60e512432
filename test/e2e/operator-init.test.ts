// hactl init through the built CLI: a 0600 config whose schema line still
// resolves after the file is copied elsewhere, that loads, and that is never
// overwritten without --force (and kept aside with it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from '../lab/lab.ts';
import { starterConfig } from '../../dist/operator/init.js';

const dir = mkdtempSync(join(tmpdir(), 'hactl-init-'));
function hactl(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, HACTL_CONFIG: undefined },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('hactl init', () => {
  test('starterConfig replaces the relative schema line, or adds one', () => {
    assert.equal(
      starterConfig('# yaml-language-server: $schema=./x.json\na: 1\n', '/opt/h/s.json'),
      '# yaml-language-server: $schema=/opt/h/s.json\na: 1\n',
    );
    assert.equal(starterConfig('a: 1\n', '/s.json'), '# yaml-language-server: $schema=/s.json\na: 1\n');
    assert.equal(
      starterConfig('# yaml-language-server: $schema=./x\n', '/a$&b'),
      '# yaml-language-server: $schema=/a$&b\n',
    );
  });

  test('writes 0600 in a new 0700 folder; the schema resolves after a copy; the config loads', () => {
    const file = join(dir, 'etc/hactl.yaml');
    const r = hactl(['init', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'etc')).mode & 0o777, 0o700);
    const copy = join(dir, 'elsewhere.yaml');
    copyFileSync(file, copy);
    const ref = /^# yaml-language-server: \$schema=(.*)$/m.exec(readFileSync(copy, 'utf8'))![1]!;
    assert.ok(isAbsolute(ref), ref);
    assert.equal(JSON.parse(readFileSync(ref, 'utf8')).title, 'hactl configuration');
    const load = hactl(['-c', copy, 'cron']);
    assert.equal(load.code, 0, load.stderr);
  });

  test('an existing file is refused without --force; with it, kept aside first', () => {
    const file = join(dir, 'mine.yaml');
    writeFileSync(file, 'my: config\n', { mode: 0o600 });
    const r = hactl(['init', file]);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /exists; not overwritten/);
    assert.equal(readFileSync(file, 'utf8'), 'my: config\n');
    const f = hactl(['--json', 'init', '--force', file]);
    assert.equal(f.code, 0, f.stderr);
    const kept = JSON.parse(f.stdout).kept;
    assert.ok(kept && existsSync(kept));
    assert.equal(readFileSync(kept, 'utf8'), 'my: config\n');
    assert.ok(readdirSync(dir).some((n) => n.startsWith('mine.yaml.bak-')));
    assert.match(readFileSync(file, 'utf8'), /^# yaml-language-server: \$schema=\//);
  });
});
