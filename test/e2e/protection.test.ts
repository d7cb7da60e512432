// Bug #15, silent loss of protection: a corrupt state.json and a config that stops loading
// are alerted, not silent. The built hactl against the lab's sshd hosts and Bot API stand-in.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, TOKEN } from '../lab/lab.ts';
import { readMem, writeMem } from '../lab/memory.ts';

let lab: Lab;
const P = () => lab.host('primary');
const S = () => lab.host('standby');
const stateDir = () => join(lab.dir, 'state');
const corrupted = () => readdirSync(stateDir()).filter((n) => n.startsWith('state.json.corrupt-'));
/** Writes state.json as a disk fault or a bad edit would leave it. */
const corrupt = (text: string) => {
  mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  writeFileSync(join(stateDir(), 'state.json'), text);
};
const noSecret = (...texts: string[]) => {
  for (const t of texts) assert.ok(!t.includes(TOKEN), 'the bot token leaked');
};

before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});
beforeEach(async () => {
  await lab.reset();
  await P().startGateway();
});

describe('a corrupt state.json (#15)', () => {
  test('check sets it aside (0600), alerts once, rebuilds from observation and records', async () => {
    assert.equal((await lab.hactl(['check'])).code, 0);
    corrupt('{"version": 1, "serving": "prim');
    const r = await lab.hactl(['check']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^check: OK: primary serving/);
    const aside = corrupted();
    assert.equal(aside.length, 1, aside.join());
    assert.equal(statSync(join(stateDir(), aside[0]!)).mode & 0o777, 0o600);
    assert.equal(
      readFileSync(join(stateDir(), aside[0]!), 'utf8'),
      '{"version": 1, "serving": "prim',
      'kept as it was',
    );
    const st = lab.state();
    // Rebuilt from this very check's observations, which confirm the serving side: the rebuild's hold is over.
    assert.equal(st.rebuiltAt, undefined, 'rebuilt and confirmed in one run: no mark left to hold anything');
    assert.equal(st.lastCheck.hosts.primary.status, 'healthy');
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(texts[0]!, /state\.json was corrupt \(not JSON.*set aside as .*state\.json\.corrupt-.*rebuilt/);
    // Once per corruption, not every run.
    assert.equal((await lab.hactl(['check'])).code, 0);
    assert.equal(lab.telegram.texts().length, 1, lab.telegram.texts().join('\n'));
    noSecret(r.stdout, r.stderr, ...lab.telegram.texts());
  });

  test('a state that fails its schema or has an unknown version is set aside too', async () => {
    for (const bad of ['{"version": 1, "serving": "both"}', '{"version": 7}']) {
      corrupt(bad);
      const r = await lab.hactl(['check']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    assert.equal(corrupted().length, 2);
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 2, texts.join('\n'));
    assert.match(texts[0]!, /invalid/);
    assert.match(texts[1]!, /unknown version 7/);
  });

  test('the standby serves when the record is lost: rebuilt as standby, not a guessed primary', async () => {
    P().crashGateway();
    await S().startGateway();
    corrupt('garbage');
    const r = await lab.hactl(['check']);
    assert.equal(lab.state().serving, 'standby', r.stdout + r.stderr);
    assert.match(r.stdout, /serving from the standby/);
    const f = await lab.hactl(['failover', '--auto']);
    assert.match(f.stdout, /nothing done/);
    assert.ok(S().gatewayPid() > 0, 'the serving standby was left alone');
  });

  test('sync-memory copies nothing on a guess: it waits for the check, then follows the side that serves', async () => {
    P().crashGateway();
    await S().startGateway();
    writeMem(P(), { 'workspace/MEMORY.md': 'old, from before the failover' });
    writeMem(S(), { 'workspace/MEMORY.md': 'new, written while the standby served' });
    corrupt('');
    const m = await lab.hactl(['sync-memory']);
    assert.equal(m.code, 1, m.stdout + m.stderr);
    assert.match(m.stdout, /state\.json was rebuilt; waiting for hactl check/);
    assert.equal(readMem(S())['workspace/MEMORY.md'], 'new, written while the standby served');
    assert.equal(lab.telegram.texts().length, 1, 'the corruption was alerted');
    await lab.hactl(['check']);
    const n = await lab.hactl(['sync-memory']);
    assert.equal(n.code, 0, n.stdout + n.stderr);
    assert.equal(readMem(S())['workspace/MEMORY.md'], 'new, written while the standby served', 'never overwritten');
  });

  test('failover --auto takes no action before a confirmed check after the rebuild, then acts', async () => {
    P().crashGateway();
    assert.equal((await lab.hactl(['check'])).code, 2);
    corrupt('{');
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 1, f.stdout + f.stderr);
    assert.match(f.stdout, /nothing done: state rebuilt .* no automatic action until hactl check/);
    assert.equal(S().gatewayPid(), 0, 'nothing was started on a guess');
    assert.equal(corrupted().length, 1);
    assert.equal(lab.telegram.texts().length, 1, 'the corruption was alerted by the run that found it');
    const b = await lab.hactl(['failback', '--auto']);
    assert.equal(b.code, 1, b.stdout);
    assert.equal((await lab.hactl(['check'])).code, 2);
    const g = await lab.hactl(['failover', '--auto']);
    assert.equal(g.code, 0, g.stdout + g.stderr);
    assert.equal(lab.state().serving, 'standby');
    assert.ok(S().gatewayPid() > 0);
  });
});

describe('a corrupt outbox.json (#15)', () => {
  test('it is set aside and said; the alerts after it are delivered, not blocked', async () => {
    mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
    writeFileSync(join(stateDir(), 'outbox.json'), '{"version": 1, "pending": [');
    await P().kill();
    await S().kill();
    const r = await lab.hactl(['check']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 2, texts.join('\n'));
    assert.match(texts[0]!, /outbox\.json was corrupt .*set aside as .*outbox\.json\.corrupt-/);
    assert.match(texts[1]!, /both down/);
    assert.equal(readdirSync(stateDir()).filter((n) => n.startsWith('outbox.json.corrupt-')).length, 1);
  });
});

describe('a config that stops loading (#15)', () => {
  test('one alert through the last good channel, exit 78 each run, then "loads again"', async () => {
    assert.equal((await lab.hactl(['check'])).code, 0);
    const copy = join(stateDir(), 'config-last-good.json');
    assert.equal(statSync(copy).mode & 0o777, 0o600);
    const file = join(lab.dir, 'hactl.yaml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace(/retryDelay: .*/, 'retryDelay: soon'));
    for (let i = 0; i < 3; i++) {
      const r = await lab.hactl(['check']);
      assert.equal(r.code, 78, r.stdout + r.stderr);
      assert.match(r.stderr, /hactl\.yaml:\d+:\d+: .*retryDelay/);
      assert.equal(r.stdout, '');
      noSecret(r.stdout, r.stderr);
    }
    let texts = lab.telegram.texts();
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(texts[0]!, /^\[lab\] .*config .*hactl\.yaml stopped loading: .*hactl\.yaml:\d+:\d+: .*retryDelay/);
    writeFileSync(file, good);
    const r = await lab.hactl(['check']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    texts = lab.telegram.texts();
    assert.equal(texts.length, 2, texts.join('\n'));
    assert.match(texts[1]!, /config .*hactl\.yaml loads again/);
    assert.equal((await lab.hactl(['check'])).code, 0);
    assert.equal(lab.telegram.texts().length, 2, 'recovery said once');
    noSecret(...lab.telegram.texts());
  });

  test('repeated at most every 6 h while it lasts (capped as an incident)', async () => {
    assert.equal((await lab.hactl(['check'])).code, 0);
    const file = join(lab.dir, 'hactl.yaml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace(/retryDelay: .*/, 'retryDelay: soon'));
    const t0 = Date.now() + 60_000;
    const at = (h: number) => ({ HACTL_NOW: new Date(t0 + h * 3600_000).toISOString() });
    for (const h of [0, 1, 5.9, 6.1, 7]) assert.equal((await lab.hactl(['check'], at(h))).code, 78);
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 2, texts.join('\n'));
    assert.match(texts[1]!, /still open after 6\.1 h \(reminder 1\/3\): config .*stopped loading/);
    writeFileSync(file, good);
    assert.equal((await lab.hactl(['check'], at(8))).code, 0);
    assert.match(lab.telegram.texts()[2]!, /loads again: hactl runs normally \(lasted 8\.0 h\)$/);
  });

  test('a file no longer YAML at all still alerts (its stateDir read as text); a token file is used', async () => {
    const tokenFile = join(lab.dir, 'bot-token');
    writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
    lab.writeConfig({ alerts: { telegram: { tokenFile } } });
    const env = { HACTL_TELEGRAM_TOKEN: undefined };
    assert.equal((await lab.hactl(['check'], env)).code, 0);
    const file = join(lab.dir, 'hactl.yaml');
    writeFileSync(file, readFileSync(file, 'utf8') + '\n  : : [unclosed\n');
    const r = await lab.hactl(['check'], env);
    assert.equal(r.code, 78, r.stdout + r.stderr);
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(texts[0]!, /stopped loading/);
  });

  test('a config that never loaded is not alerted (no last good copy), and --dry-run keeps no copy', async () => {
    assert.equal((await lab.hactl(['failover', '--dry-run'])).code, 0);
    assert.ok(!existsSync(join(stateDir(), 'config-last-good.json')));
    const file = join(lab.dir, 'hactl.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/retryDelay: .*/, 'retryDelay: soon'));
    assert.equal((await lab.hactl(['check'])).code, 78);
    assert.deepEqual(lab.telegram.texts(), []);
  });
});
