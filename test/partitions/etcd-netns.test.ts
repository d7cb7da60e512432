// Scenario 4 in real partitions (issue 16): three etcd members and three witnesses, each in its own
// network namespace (test/lab/netns.ts: no default route anywhere, cuts are nftables drops). A
// witness cut off from etcd, or left with a member that lost quorum, acts on nothing and exits 3
// while the others act. The witnesses here need no SSH host: what they act on is the shared record
// (an operator's pause taken on one witness, the leader's failover --auto honouring it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { NetnsLab } from '../lab/netns.ts';
import { EtcdLab } from '../lab/etcd.ts';
import { ROOT } from '../lab/lab.ts';

const E = ['e1', 'e2', 'e3'];
const W = ['w1', 'w2', 'w3'];
let net: NetnsLab;
let etcd: EtcdLab;
let dir: string;

const cfgFile = (w: string) => join(dir, `${w}.yaml`);
const stateDir = (w: string) => join(dir, `state-${w}`);
function writeConfig(w: string): void {
  const host = (address: string) => ({ address, user: 'root', key: join(dir, 'key'), knownHosts: join(dir, 'kh') });
  const cfg = {
    stateDir: stateDir(w),
    hosts: { primary: host('10.213.0.250'), standby: host('10.213.0.251') },
    pair: { primary: 'primary', standby: 'standby' },
    coordination: { etcd: { endpoints: etcd.endpoints, leaseTTL: '2s', timeout: '3s', name: w } },
  };
  writeFileSync(cfgFile(w), stringify(cfg));
}
const hactl = (w: string, args: string[]) =>
  net.exec(w, [process.execPath, join(ROOT, 'bin/hactl'), ...args], {
    env: { ...process.env, HACTL_CONFIG: cfgFile(w) },
    timeoutMs: 30_000,
  });
const history = (w: string): any[] =>
  readFileSync(join(stateDir(w), 'history.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const sharedPause = () => {
  const out = etcd.etcdctl(['get', '/hactl/primary-standby/records/pause.json', '--print-value-only']).trim();
  return out ? JSON.parse(out) : null;
};

before(async () => {
  net = NetnsLab.create();
  for (const n of [...E, ...W]) net.addNode(n);
  dir = mkdtempSync(join(tmpdir(), 'hactl-etcd-netns-'));
  writeFileSync(join(dir, 'key'), '');
  writeFileSync(join(dir, 'kh'), '');
  etcd = await EtcdLab.start(3, {
    addresses: E.map((e) => net.node(e).address),
    // Member i in node e<i>; the test's etcdctl from w1 (it stays on the majority side).
    wrap: (m, argv) => net.argv(m ? `e${m.slice(1)}` : 'w1', argv),
  });
  for (const w of W) writeConfig(w);
});
after(async () => {
  await etcd?.stop();
  net?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a witness cut off from every etcd member acts on nothing (exit 3) while the others act', async () => {
  for (const e of E) net.cut('w3', e);
  const f3 = await hactl('w3', ['failover', '--auto']);
  assert.equal(f3.code, 3, f3.stdout + f3.stderr);
  assert.match(f3.stderr, /no quorum/);
  const p3 = await hactl('w3', ['pause', '--reason', 'from the cut-off witness']);
  assert.equal(p3.code, 3, p3.stdout + p3.stderr);
  assert.equal(sharedPause(), null, 'nothing of w3 reached etcd');
  // The others: w1 takes an operator's pause, w2 leads its failover --auto and honours it.
  const p1 = await hactl('w1', ['pause', '--reason', 'maintenance']);
  assert.equal(p1.code, 0, p1.stdout + p1.stderr);
  assert.equal(sharedPause().reason, 'maintenance');
  const f2 = await hactl('w2', ['failover', '--auto']);
  assert.match(f2.stdout, /paused/, f2.stdout + f2.stderr);
  assert.equal(history('w2').at(-1).coordination.leading, true);
  assert.ok(net.dropped('w3') > 0, 'the cut dropped w3 packets');
  for (const e of E) net.heal('w3', e);
  const r3 = await hactl('w3', ['resume']);
  assert.equal(r3.code, 0, 'healed, w3 acts again: ' + r3.stdout + r3.stderr);
  assert.deepEqual(net.leaks(), []);
});

test('a witness left with the one member that lost quorum acts on nothing; the majority goes on', async () => {
  // {w3, e3} | {w1, w2, e1, e2}: w3 still reaches a member, but that member has no quorum.
  for (const other of ['w1', 'w2', 'e1', 'e2']) {
    net.cut('w3', other);
    net.cut('e3', other);
  }
  const f3 = await hactl('w3', ['failover', '--auto']);
  assert.equal(f3.code, 3, f3.stdout + f3.stderr);
  assert.match(f3.stderr, /no quorum/);
  const p1 = await hactl('w1', ['pause', '--reason', 'majority side']);
  assert.equal(p1.code, 0, p1.stdout + p1.stderr);
  const f2 = await hactl('w2', ['failover', '--auto']);
  assert.equal(history('w2').at(-1).coordination.leading, true, f2.stdout + f2.stderr);
  assert.equal(history('w3').at(-1).exitCode, 3);
  assert.deepEqual(net.leaks(), []);
});
