// Config: defaults, every problem at once with file:line:col, and paths.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../dist/errors.js';
import { findConfigPath } from '../../dist/config/load.js';
import { config } from './helpers.ts';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return (e as any).problems;
  }
  assert.fail('no ConfigError');
}

describe('config', () => {
  test('defaults are right for OpenClaw 2026.9.6', async () => {
    const c = await config();
    const gw = c.hosts.pc1.gateway;
    assert.equal(gw.port, 18789);
    assert.equal(gw.probe.http.url, 'http://127.0.0.1:{port}/readyz');
    assert.deepEqual(gw.probe.http.json, { ready: true });
    assert.deepEqual(gw.started.json, { status: 'started' });
    assert.deepEqual(gw.start.map((m: any) => m.name), ['systemd-user', 'openclaw-cli', 'detached']);
    assert.match(gw.start[0].run, /XDG_RUNTIME_DIR.*DBUS_SESSION_BUS_ADDRESS.*systemctl --user start openclaw-gateway/);
    assert.equal(c.hosts.pc1.port, 22);
    assert.equal(c.thresholds.retryDelay, 10);
    assert.equal(c.thresholds.cooldown, 300);
    assert.equal(c.thresholds.maxAttempts, 3);
    assert.ok(c.thresholds.verifyDeadline >= 30, 'verify deadline covers a 10-15 s cold start with margin');
  });

  test('a per-host gateway override keeps the other defaults', async () => {
    const c = await config({ hosts: { pc1: { address: 'a', user: 'u', key: '/k', knownHosts: '/kh' }, pc2: { address: 'b', user: 'u', key: '/k', knownHosts: '/kh', gateway: { port: 19789 } } } });
    assert.equal(c.hosts.pc2.gateway.port, 19789);
    assert.equal(c.hosts.pc1.gateway.port, 18789);
    assert.equal(c.hosts.pc2.gateway.start.length, 3);
  });

  test('relative key paths resolve against the config file directory', async () => {
    const c = await config({ hosts: { pc1: { address: 'a', user: 'u', key: 'keys/id', knownHosts: 'kh' }, pc2: { address: 'b', user: 'u', key: '/k', knownHosts: '/kh' } } });
    assert.equal(c.hosts.pc1.key, '/etc/hactl/keys/id');
  });

  test('every problem at once, each with file:line:col, key and value', async () => {
    const text = ['stateDir: 5', 'hosts:', '  pc1:', '    address: a', '    user: u', '    key: /k', '    knownHosts: /kh', '    port: 70000', 'pair:', '  primary: pc1', '  standby: pc1', 'failback:', '  policy: sometimes', ''].join('\n');
    const { loadValidator } = await import('../../dist/validators.js');
    const { parseConfig } = await import('../../dist/config/load.js');
    const v = await loadValidator('hactl');
    const ps = problems(() => parseConfig(text, 'x.yaml', v));
    assert.ok(ps.some((l) => /^x\.yaml:1:11: \/stateDir must be string/.test(l)), ps.join('\n'));
    assert.ok(ps.some((l) => /^x\.yaml:8:11: \/hosts\/pc1\/port must be <= 65535 \(found 70000\)/.test(l)), ps.join('\n'));
    assert.ok(ps.some((l) => /^x\.yaml:11:12: \/pair\/standby must differ/.test(l)), ps.join('\n'));
    assert.ok(ps.some((l) => /^x\.yaml:13:11: \/failback\/policy must be one of/.test(l) && /sometimes/.test(l)), ps.join('\n'));
  });

  test('backup tiers are checked with the rest: hosts, via, upstream, unique names', async () => {
    const { loadValidator } = await import('../../dist/validators.js');
    const { parseConfig } = await import('../../dist/config/load.js');
    const text = [
      'hosts:',
      '  a: {address: x, user: u, key: /k, knownHosts: /kh}',
      '  b: {address: y, user: u, key: /k, knownHosts: /kh}',
      'pair: {primary: a, standby: b}',
      'backup:',
      '  tiers:',
      '    - name: t1',
      '      source: a:data',
      '      destination: b:backups',
      '    - name: t1',
      '      source: c:data',
      '      destination: /srv/backups',
      '      upstream: nope',
      '',
    ].join('\n');
    const v = await loadValidator('hactl');
    const e = problems(() => parseConfig(text, 'b.yaml', v));
    assert.ok(e.some((l) => /^b\.yaml:7:7: \/backup\/tiers\/0 copies between two hosts \(a -> b\) and needs 'via/.test(l)), e.join('\n'));
    assert.ok(e.some((l) => /^b\.yaml:10:13: \/backup\/tiers\/1\/name repeats the tier name 't1'/.test(l)), e.join('\n'));
    assert.ok(e.some((l) => /^b\.yaml:11:15: \/backup\/tiers\/1\/source names host 'c'/.test(l)), e.join('\n'));
    assert.ok(e.some((l) => /^b\.yaml:13:17: \/backup\/tiers\/1\/upstream names no tier 'nope'/.test(l)), e.join('\n'));
  });

  test('YAML syntax errors name the line', async () => {
    const { loadValidator } = await import('../../dist/validators.js');
    const { parseConfig } = await import('../../dist/config/load.js');
    const v = await loadValidator('hactl');
    const e = problems(() => parseConfig('hosts:\n  a: [1, 2\nb: 3\n', 'y.yaml', v));
    assert.match(e[0]!, /^y\.yaml:\d+:\d+: /);
  });

  test('lookup order: --config, HACTL_CONFIG, then the defaults', () => {
    assert.equal(findConfigPath('/a.yaml', { HACTL_CONFIG: '/b.yaml' }), '/a.yaml');
    assert.equal(findConfigPath(undefined, { HACTL_CONFIG: '/b.yaml' }), '/b.yaml');
  });
});

describe('hactl.example.yaml', () => {
  test('the annotated example is valid and its values are the defaults it claims', async () => {
    const { readFileSync } = await import('node:fs');
    const { loadValidator } = await import('../../dist/validators.js');
    const { parseConfig } = await import('../../dist/config/load.js');
    const text = readFileSync(new URL('../../hactl.example.yaml', import.meta.url), 'utf8');
    const c = parseConfig(text, 'hactl.example.yaml', await loadValidator('hactl'));
    const d = parseConfig('hosts: {a: {address: x, user: u, key: /k, knownHosts: /kh}, b: {address: y, user: u, key: /k, knownHosts: /kh}}\npair: {primary: a, standby: b}\n', 'min.yaml', await loadValidator('hactl'));
    assert.deepEqual(c.thresholds, d.thresholds);
    for (const k of ['root', 'include', 'exclude', 'interval', 'maxDeleteShare', 'deleteAllowance']) assert.deepEqual(c.memory[k], d.memory[k], `memory.${k}`);
    assert.deepEqual(c.hosts['pc-a'].gateway.probe, d.hosts.a.gateway.probe);
    assert.deepEqual(c.hosts['pc-a'].gateway.stop.map((m: any) => m.name), d.hosts.a.gateway.stop.map((m: any) => m.name));
    assert.deepEqual(c.hosts['pc-a'].gateway.start.map((m: any) => m.name), d.hosts.a.gateway.start.map((m: any) => m.name));
  });
});
