// hactl pause / resume through the built CLI: pause.json written 0600 and
// schema-checked, history lines, expiry by the one clock (HACTL_NOW).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../lab/lab.ts';

const dir = mkdtempSync(join(tmpdir(), 'hactl-pause-'));
const cfg = join(dir, 'hactl.yaml');
writeFileSync(
  cfg,
  [
    `stateDir: ${join(dir, 'state')}`,
    'hosts:',
    '  pc1: { address: 192.0.2.1, user: claw, key: /k, knownHosts: /kh }',
    '  pc2: { address: 192.0.2.2, user: claw, key: /k, knownHosts: /kh }',
    'pair: { primary: pc1, standby: pc2 }',
    '',
  ].join('\n'),
);

function hactl(args: string[], now?: string) {
  const env = { ...process.env, HACTL_CONFIG: undefined, HACTL_NOW: now, SUDO_USER: 'ann' };
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), '-c', cfg, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('hactl pause / resume', () => {
  test('pause --for 2h: recorded, 0600, in the history; expires on its own', () => {
    const r = hactl(['--json', 'pause', '--for', '2h', '--reason', 'kernel upgrade'], '2026-11-22T14:00:00Z');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.paused, true);
    assert.match(j.until, /^2026-11-22T16:00:00/);
    const file = join(dir, 'state/pause.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).by.split('@')[0], 'ann');
    const hist = readFileSync(join(dir, 'state/history.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean) // empty lines pad a line to the next page (src/state/files.ts appendLine)
      .map((l) => JSON.parse(l));
    assert.equal(hist.at(-1).command, 'pause');
    assert.equal(hist.at(-1).reason, 'kernel upgrade');
    const later = hactl(['resume'], '2026-11-22T16:00:01Z');
    assert.equal(later.code, 0, later.stderr);
    assert.match(later.stdout, /nothing to do, not paused \(the pause by ann@\S+ expired at 2026-11-22T16:00:00/);
  });

  test('resume ends an active pause; bad --for is a usage error; a corrupt pause.json is not ignored', () => {
    assert.equal(hactl(['pause', '--for', '30m'], '2026-11-22T14:00:00Z').code, 0);
    const r = hactl(['resume'], '2026-11-22T14:10:00Z');
    assert.match(r.stdout, /^resume: automatic actions are back on/);
    const again = hactl(['resume'], '2026-11-22T14:11:00Z');
    assert.match(again.stdout, /ended at 2026-11-22T14:10:00/);
    const bad = hactl(['pause', '--for', '10']);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /'10' is not a duration/);
    writeFileSync(join(dir, 'state/pause.json'), '{"version":1,"since":"x"}');
    const corrupt = hactl(['resume']);
    assert.equal(corrupt.code, 78);
    assert.match(corrupt.stderr, /pause\.json: invalid state file/);
  });
});
