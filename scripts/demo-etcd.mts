// The demo of several witnesses (issue 16, item 3): three witnesses on a real three-member etcd
// cluster (127.0.3.x) and the lab hosts. The primary crashes; all three witnesses run
// failover --auto at once and one acts; an etcd member dies and the witnesses go on.
import { join } from 'node:path';
import { Lab, type HactlResult } from '../test/lab/lab.ts';
import { EtcdLab } from '../test/lab/etcd.ts';

const [lab, etcd] = await Promise.all([Lab.start(), EtcdLab.start()]);
const W = ['w1', 'w2', 'w3'];
const cfg = (w: string) => join(lab.dir, `${w}.yaml`);
for (const w of W) {
  const coordination = { etcd: { endpoints: etcd.endpoints, leaseTTL: '5s', timeout: '5s', name: w } };
  lab.writeConfig({ stateDir: join(lab.dir, `state-${w}`), coordination }, `${w}.yaml`);
}
const show = (w: string, args: string[], r: HactlResult) => {
  console.log(`   ${w}$ hactl ${args.join(' ')}   (exit ${r.code}, ${r.ms} ms)`);
  for (const l of (r.stdout + r.stderr).trim().split('\n').filter(Boolean)) console.log(`       ${l}`);
};
const hactl = async (w: string, args: string[]) => show(w, args, await lab.hactl(args, { HACTL_CONFIG: cfg(w) }));
const step = (s: string) => console.log(`\n▶ ${s}`);

try {
  console.log(`etcd members: ${etcd.endpoints.join(' ')}; witnesses w1 w2 w3, each with its own state directory`);
  await lab.host('primary').startGateway();
  step('1. The primary serves; each witness checks (the leading one shares what it saw)');
  for (const w of W) await hactl(w, ['check']);
  step('2. The primary gateway crashes; w2 checks');
  lab.host('primary').crashGateway();
  await hactl('w2', ['check']);
  step('3. All three witnesses run failover --auto at the same moment: one leads and acts');
  const rs = await Promise.all(W.map((w) => lab.hactl(['failover', '--auto'], { HACTL_CONFIG: cfg(w) })));
  rs.forEach((r, i) => show(W[i]!, ['failover', '--auto'], r));
  const starts = lab
    .host('standby')
    .calls()
    .filter((c) => c === 'gateway run').length;
  console.log(`   standby gateway starts: ${starts}`);
  step('4. An etcd member dies; the two left elect a raft leader and the witnesses go on');
  etcd.kill('m1');
  await etcd.waitHealthy(etcd.members.filter((m) => m.name !== 'm1'));
  await hactl('w3', ['check']);
  await hactl('w1', ['failover', '--auto']);
} finally {
  await Promise.all([lab.stop(), etcd.stop()]);
}
