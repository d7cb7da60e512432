// Any path reaches OpenSSH, through rsync's -e too (issue 24 #1): each word is quoted for rsync's own
// split (rshWord), each path for OpenSSH's option line (sshPathValue); what OpenSSH cannot take at all
// is refused at config load, naming the key.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../dist/errors.js';
import { rshValue, sshArgv } from '../../dist/adapters/rsync.js';
import { rshWord, sshPathValue } from '../../dist/adapters/shell.js';
import { BASE, config } from './helpers.ts';

const NASTY = [
  '/home/me/Library/Application Support/hactl/id key',
  "/k/it's",
  '/k/"dq"',
  '/k/$HOME and $(touch x) `y`',
  '/k/100%/k%d',
  '/k/back\\slash',
  '/k/#hash',
  "/k/''",
];

describe("rsync's -e: every word arrives whole, as it was", () => {
  test('real rsync splits our -e value back into the argv we built', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-rsh-'));
    try {
      const prog = join(dir, 'print args');
      writeFileSync(prog, '#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done > "$OUT"\nexit 1\n');
      chmodSync(prog, 0o755);
      const words = [prog, ...NASTY, 'plain', 'Key=/x y'];
      const out = join(dir, 'out');
      spawnSync('rsync', [`--rsh=${rshValue(words)}`, '--', 'h:/x', join(dir, 'to')], {
        env: { ...process.env, OUT: out },
      });
      const got = readFileSync(out, 'utf8').split('\0');
      assert.deepEqual(got.slice(0, words.length - 1), words.slice(1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('plain words stay as they are', () => {
    assert.equal(rshWord('/a/b-c_d.e'), '/a/b-c_d.e');
    assert.equal(rshWord("a b'c"), "'a b''c'");
  });
});

describe("OpenSSH's option values", () => {
  test('quoted with \\ and " escaped, % doubled; plain paths unchanged', () => {
    assert.equal(sshPathValue('/k/kh'), '/k/kh');
    assert.equal(sshPathValue('/a b/"q" \\ 5%'), '"/a b/\\"q\\" \\\\ 5%%"');
  });
  test('the key goes as IdentityFile (an option value escapes %, -i cannot)', () => {
    const argv = sshArgv(
      { name: 'h', address: '192.0.2.1', port: 22, user: 'u', key: '/a b/k', knownHosts: '/kh' } as any,
      5,
    );
    assert.ok(!argv.includes('-i'));
    assert.ok(argv.includes('IdentityFile="/a b/k"'), argv.join(' '));
  });
});

describe('config load: only what OpenSSH cannot read is refused (exit 78, naming the key)', () => {
  const load = async (over: Record<string, unknown>) => {
    try {
      await config(over);
      return [];
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return (e as any).problems as string[];
    }
  };
  test('spaces, quotes, $ and % load', async () => {
    const hosts = { pc1: { ...BASE.hosts.pc1, key: NASTY[0], knownHosts: NASTY[4] }, pc2: BASE.hosts.pc2 };
    assert.deepEqual(await load({ hosts }), []);
  });
  test("'${' and a line break are refused, each naming its key", async () => {
    const hosts = {
      pc1: { ...BASE.hosts.pc1, key: '/k/${HOME}/id' },
      pc2: { ...BASE.hosts.pc2, knownHosts: '/k/a\nb' },
    };
    const ps = await load({ hosts });
    assert.equal(ps.length, 2, ps.join('\n'));
    assert.match(ps[0]!, /\/hosts\/pc1\/key ".*" contains '\$\{', which OpenSSH replaces by an environment variable/);
    assert.match(ps[1]!, /\/hosts\/pc2\/knownHosts ".*" contains a line break/);
  });
  test("a backup tier's via key too", async () => {
    const backup = {
      tiers: [{ name: 't', source: 'pc1:/d', destination: 'pc2:/b', via: { key: '/v/${X}', knownHosts: '/v/kh' } }],
    };
    const ps = await load({ backup });
    assert.ok(
      ps.some((p) => /\/backup\/tiers\/0\/via\/key .*contains '\$\{'/.test(p)),
      ps.join('\n'),
    );
  });
});
