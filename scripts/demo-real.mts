// The failover story with two real OpenClaw 2026.9.6 gateways (bash scripts/demo --real).
// Each step prints hactl's summary line and any Telegram alert.
import { type HactlResult } from '../test/lab/lab.ts';
import { killGroup, readyz, REAL_THRESHOLDS, realLab, startReal } from '../test/lab/real.ts';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
console.log('setting up two real gateways (openclaw setup --baseline, loopback, ports 18789 and 19789)...');
const { lab, openclaw } = await realLab();
process.on('SIGINT', () => {
  void lab.stop().then(() => process.exit(130));
});
let shown = 0;
async function hactl(args: string[]): Promise<HactlResult> {
  const r = await lab.hactl(args);
  console.log(`   $ hactl ${args.join(' ')}   (exit ${r.code}, ${(r.ms / 1000).toFixed(1)} s)`);
  for (const l of (r.stdout + r.stderr).trim().split('\n').filter(Boolean)) console.log(`     ${l}`);
  for (const t of lab.telegram.texts().slice(shown)) console.log(`   📨 Telegram: ${t}`);
  shown = lab.telegram.texts().length;
  return r;
}
const step = (s: string) => console.log(`\n${bold(`▶ ${s}`)}`);
const ports = async () =>
  console.log(
    `   /readyz: primary :18789 -> ${(await readyz(18789)) || 'nothing listens'}, ` +
      `standby :19789 -> ${(await readyz(19789)) || 'nothing listens'}`,
  );

try {
  lab.writeConfig({ thresholds: REAL_THRESHOLDS });
  step('1. The primary gateway starts (cold start takes 10-15 s) and serves');
  const pid = await startReal(openclaw, lab.host('primary'));
  await hactl(['check']);
  await ports();
  step('2. SIGKILL of the primary gateway; the witness confirms the failure');
  killGroup(pid);
  await hactl(['check']);
  step(
    '3. failover --auto: fence, settle, start the standby (systemd-user, openclaw-cli, then detached run), ' +
      'verify, alert',
  );
  await hactl(['failover', '--auto']);
  await ports();
  step('4. The primary host answers; failback hands back (stop the standby, settle, start the primary)');
  await hactl(['check']);
  await hactl(['failback', '--auto']);
  await ports();
  step('5. One gateway serves');
  await hactl(['check']);
} finally {
  await lab.stop();
}
