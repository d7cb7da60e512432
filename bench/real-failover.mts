// Kill -> standby ready with two real OpenClaw 2026.9.6 gateways (issue 5),
// split into hactl's own time, configured waits and the gateway's start-up.
// Run: bash scripts/bench real-failover   (installs openclaw into the cache)
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { killGroup, readyz, REAL_THRESHOLDS, realLab, startReal } from '../test/lab/real.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const { lab, openclaw } = await realLab();
const lines: string[] = [];
const say = (l: string) => {
  lines.push(l);
  console.log(l);
};
try {
  lab.writeConfig({ thresholds: REAL_THRESHOLDS });
  const P = lab.host('primary');
  const S = lab.host('standby');
  const t = REAL_THRESHOLDS;
  say(
    `Thresholds: retryDelay ${t.retryDelay} s, settle ${t.settle} s, pollInterval ${t.pollInterval} s. ` +
      "Each round: the primary gateway's process group gets SIGKILL, " +
      'then the cron chain `check; failover --auto` runs at once; ' +
      'the clock stops when hactl has verified the standby (its /readyz is 200).',
  );
  say('');
  say(
    '| round | kill → standby ready | configured waits (retry delay, settle) | ' +
      'gateway start-up (start → /startupz started + /readyz ready) | ' +
      'start methods that failed first (their command on the host) | ' +
      "last-chance memory sync | hactl's own time | start method that worked |",
  );
  say('|---|---|---|---|---|---|---|---|');
  for (let i = 1; i <= ROUNDS; i++) {
    const pid = await startReal(openclaw, P);
    await lab.hactl(['check']);
    const t0 = Date.now();
    killGroup(pid);
    await lab.hactl(['check']);
    const fo = await lab.hactl(['failover', '--auto']);
    const total = Date.now() - t0;
    if (fo.code !== 0 || (await readyz(S.gatewayPort)) !== 200) throw new Error(`round ${i}: ${fo.stdout}${fo.stderr}`);
    const h = lab.history().at(-1);
    const settle = h.steps.filter((s: any) => s.op === 'settle').reduce((a: number, s: any) => a + s.ms, 0);
    const sync = h.steps.filter((s: any) => s.op === 'sync-last-chance').reduce((a: number, s: any) => a + s.ms, 0);
    const start = h.steps.find((s: any) => s.op === 'start');
    const waits = t.retryDelay * 1000 + settle;
    const failed = start.methods.filter((m: any) => !m.ok);
    const failedMs = failed.reduce((a: number, m: any) => a + m.ms, 0);
    const own = total - waits - start.waitMs - failedMs - sync;
    say(
      `| ${i} | ${(total / 1000).toFixed(1)} s | ${(waits / 1000).toFixed(1)} s | ` +
        `${(start.waitMs / 1000).toFixed(1)} s | ` +
        `${failed.map((m: any) => `${m.name} ${(m.ms / 1000).toFixed(1)} s`).join(', ')} | ` +
        `${(sync / 1000).toFixed(2)} s | **${(own / 1000).toFixed(2)} s** | ` +
        `${/started by ([\w-]+)/.exec(start.detail)?.[1]} |`,
    );
    // Next round from the start: stop the standby's gateway, forget the state.
    try {
      execFileSync('fuser', ['-s', '-k', '-TERM', '-n', 'tcp', String(S.gatewayPort)], { stdio: 'ignore' });
    } catch {
      /* none */
    }
    for (let w = 0; w < 60 && (await readyz(S.gatewayPort)) !== 0; w++) await new Promise((r) => setTimeout(r, 500));
    rmSync(join(lab.dir, 'state'), { recursive: true, force: true });
  }
} finally {
  await lab.stop();
}
if (process.env.BENCH_OUT) (await import('node:fs')).writeFileSync(process.env.BENCH_OUT, lines.join('\n') + '\n');
