// The extension (src/fencing/rule.ts renewAllowed, src/guard/remote.ts grantScript onlyLive), run by a
// real sh against a permit file in a scratch HOME, stamped with this machine's real boot_id and uptime:
// written only over a permit that is live by the host's clock as it lands; a plain grant as ever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXTEND_REFUSED, grantScript } from '../../dist/guard/remote.js';

const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

function host(permit?: object): { home: string; file: string } {
  const home = mkdtempSync(join(tmpdir(), 'hactl-extend-'));
  const file = join(home, '.hactl', 'permit');
  if (permit) {
    mkdirSync(join(home, '.hactl'), { mode: 0o700 });
    writeFileSync(file, JSON.stringify(permit) + '\n', { mode: 0o600 });
  }
  return { home, file };
}

function run(home: string, onlyLive: boolean): { code: number | null; out: string } {
  const r = spawnSync('sh', ['-c', grantScript(9, 45, 'w1', onlyLive)], {
    env: { PATH: process.env.PATH, HOME: home },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

const live = () => ({ token: 7, lease: 45, boot, uptime: uptime() - 10, by: 'w0' });

test('an extension lands over a live permit of this boot: the new permit, its token above', () => {
  const h = host(live());
  try {
    const r = run(h.home, true);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /token=9/);
    const p = JSON.parse(readFileSync(h.file, 'utf8'));
    assert.equal(p.token, 9);
    assert.equal(p.boot, boot);
    assert.ok(uptime() - p.uptime < 5, 'stamped now');
  } finally {
    rmSync(h.home, { recursive: true, force: true });
  }
});

test('an extension over no permit, an expired one, another boot, a future one: refused, nothing written', () => {
  const cases: Array<[string, object | undefined]> = [
    ['no permit', undefined],
    ['expired', { ...live(), uptime: uptime() - 46 }],
    ['another boot', { ...live(), boot: '00000000-0000-0000-0000-000000000000' }],
    ['from the future', { ...live(), uptime: uptime() + 100 }],
    ['unreadable', { token: 7, lease: 'x', boot, uptime: 'y' }],
  ];
  for (const [what, permit] of cases) {
    const h = host(permit);
    try {
      const before = permit ? readFileSync(h.file, 'utf8') : undefined;
      const r = run(h.home, true);
      assert.equal(r.code, EXTEND_REFUSED, `${what}: ${r.out}`);
      assert.match(r.out, /not-live/, what);
      if (before === undefined) assert.equal(existsSync(h.file), false, what);
      else assert.equal(readFileSync(h.file, 'utf8'), before, what);
    } finally {
      rmSync(h.home, { recursive: true, force: true });
    }
  }
});

test('an extension over a permit about to end, or with a fractional lease: it lands while it lives', () => {
  for (const permit of [
    { ...live(), uptime: uptime() - 42 },
    { ...live(), lease: 45.5, uptime: uptime() - 45 },
  ]) {
    const h = host(permit);
    try {
      const r = run(h.home, true);
      assert.equal(r.code, 0, r.out);
      assert.equal(JSON.parse(readFileSync(h.file, 'utf8')).token, 9);
    } finally {
      rmSync(h.home, { recursive: true, force: true });
    }
  }
});

test('no awk on the host: the extension says so, and is not taken for a permit that is not live', () => {
  const h = host(live());
  // Every program the script runs but awk.
  const bin = mkdtempSync(join(tmpdir(), 'hactl-noawk-'));
  for (const p of ['mkdir', 'cat', 'cut', 'sed', 'head', 'mv'])
    symlinkSync(spawnSync('sh', ['-c', `command -v ${p}`], { encoding: 'utf8' }).stdout.trim(), join(bin, p));
  try {
    const before = readFileSync(h.file, 'utf8');
    const r = spawnSync('/bin/sh', ['-c', grantScript(9, 45, 'w1', true)], {
      env: { PATH: bin, HOME: h.home },
      encoding: 'utf8',
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /awk not found/);
    assert.equal(readFileSync(h.file, 'utf8'), before, 'nothing written');
  } finally {
    rmSync(h.home, { recursive: true, force: true });
    rmSync(bin, { recursive: true, force: true });
  }
});

test('a plain grant writes whatever the host held (the caller decided it may)', () => {
  for (const permit of [undefined, { ...live(), uptime: uptime() - 46 }]) {
    const h = host(permit);
    try {
      const r = run(h.home, false);
      assert.equal(r.code, 0, r.out);
      assert.equal(JSON.parse(readFileSync(h.file, 'utf8')).token, 9);
    } finally {
      rmSync(h.home, { recursive: true, force: true });
    }
  }
});
