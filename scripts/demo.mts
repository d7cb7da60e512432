// The lab plays the failover story with the built hactl, as cron would run it
// on the witness. Every hactl line and every Telegram alert is printed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, type HactlResult } from '../test/lab/lab.ts';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
let alertsShown = 0;

const lab = await Lab.start();
const cleanup = async () => {
  await lab.stop();
};
process.on('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});

function alerts(): void {
  for (const t of lab.telegram.texts().slice(alertsShown)) console.log(`   📨 Telegram: ${t}`);
  alertsShown = lab.telegram.texts().length;
}
async function hactl(args: string[]): Promise<HactlResult> {
  const r = await lab.hactl(args);
  console.log(`   $ hactl ${args.join(' ')}   ${dim(`(exit ${r.code}, ${r.ms} ms)`)}`);
  for (const l of (r.stdout + r.stderr).trim().split('\n').filter(Boolean)) console.log(`     ${l}`);
  alerts();
  return r;
}
function step(s: string): void {
  console.log(`\n${bold(`▶ ${s}`)}`);
}

try {
  lab.writeConfig();
  const P = lab.host('primary');
  const S = lab.host('standby');
  console.log(
    `lab in ${lab.dir}: primary = sshd on ${P.address}:${P.sshPort} (gateway :${P.gatewayPort}), ` +
      `standby = sshd on ${S.address}:${S.sshPort} (gateway :${S.gatewayPort}), ` +
      `Telegram Bot API at ${lab.telegram.url}`,
  );
  console.log(
    dim('thresholds shortened for the demo: retry delay 0.5 s, settle 0.2 s, 3 checks, healthyFor 0 (10m by default)'),
  );

  const mem = (h: typeof P) => join(h.home, '.openclaw', 'workspace', 'MEMORY.md');
  mkdirSync(join(P.home, '.openclaw', 'workspace', 'memory'), { recursive: true });
  writeFileSync(mem(P), '# Memory\n\n- the user prefers short answers\n');

  step('1. The primary serves; the witness checks (cron, every 2 minutes) and syncs memory (every 5)');
  await P.startGateway();
  await hactl(['sync-memory']);
  await hactl(['check']);
  await hactl(['failover', '--auto']);

  step('2. The primary gateway crashes (SIGKILL)');
  P.crashGateway();
  await hactl(['check']);
  step('3. failover --auto acts on the confirmed failure: fence, start the standby, verify, alert');
  await hactl(['failover', '--auto']);
  await hactl(['check']);

  step(
    '4. The standby serves and learns something; ' +
      'the primary machine comes back (its gateway stays down until hactl hands back)',
  );
  writeFileSync(mem(S), readFileSync(mem(S), 'utf8') + '- learned while the primary was down\n');
  console.log(`   (the standby's gateway wrote to ${mem(S).replace(lab.dir + '/', '')})`);
  for (let i = 1; i <= 5 && lab.state().serving === 'standby'; i++) {
    await hactl(['check']);
    await hactl(['failback', '--auto']);
  }
  step('5. Back to normal, with what the standby learned');
  await hactl(['check']);
  console.log(`   primary's MEMORY.md now: ${JSON.stringify(readFileSync(mem(P), 'utf8'))}`);
  console.log(
    `\nserving: ${lab.state().serving}; primary gateway pid ${P.gatewayPid() || '-'}, ` +
      `standby gateway pid ${S.gatewayPid() || '-'}`,
  );
  console.log(`history: ${lab.history().length} lines in ${lab.dir}/state/history.jsonl`);
} finally {
  await cleanup();
}
