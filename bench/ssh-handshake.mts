// Issue 12 #4: what one remote command costs from a running hactl, by transport, side by side in the lab:
// ssh2 (a new session: module loaded once, then handshake + exec + close), OpenSSH with a fresh handshake,
// and OpenSSH through a warm ControlMaster (what rsync and backup's commit use now).
//   node --import tsx bench/ssh-handshake.mts [runs]
import { join } from 'node:path';
import { Lab } from '../test/lab/lab.ts';
import { sshArgv } from '../src/adapters/rsync.ts';
import { SshSession } from '../src/adapters/ssh.ts';
import { runProcess } from '../src/adapters/process.ts';
import { stats, row, type Series } from './lib/measure.ts';

const RUNS = Number(process.argv[2] ?? 15);
const lab = await Lab.start();
try {
  const host = { ...lab.config().hosts.primary, name: 'primary' };
  const share = { controlPath: join(lab.dir, 'cm-bench'), persist: 60 };
  const ssh = async (argv: string[]) => {
    const r = await runProcess('ssh', [...argv.slice(1), '--', host.address, 'true'], { deadline: 20 });
    if (r.code !== 0) throw new Error(r.stderr);
  };
  const cases: Record<string, () => Promise<void>> = {
    ssh2: async () => {
      const s = await SshSession.open(host, 10, 10);
      await s.run('true');
      await s.close();
    },
    fresh: () => ssh(sshArgv(host, 10)),
    master: () => ssh(sshArgv(host, 10, share)),
  };
  const out: Record<string, number[]> = { ssh2: [], fresh: [], master: [] };
  for (let i = 0; i < RUNS + 2; i++) {
    for (const [k, fn] of Object.entries(cases)) {
      const t = performance.now();
      await fn();
      if (i >= 2) out[k]!.push(performance.now() - t);
    }
  }
  const s: Record<string, Series> = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, stats(v)]));
  console.log(`One remote \`true\` from a running process, ${RUNS} interleaved runs, medians.\n`);
  console.log('| transport | median | min-max |\n|---|---|---|');
  console.log(row('ssh2 session (handshake, exec, close)', s.ssh2!));
  console.log(row('OpenSSH, fresh handshake (`ssh` spawned)', s.fresh!));
  console.log(row('OpenSSH through a warm ControlMaster (`ssh` spawned)', s.master!));
} finally {
  await lab.stop();
}
