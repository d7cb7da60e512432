// Benchmarks for the failover loop (issue 2). Run: bash scripts/bench
//  1. `hactl --version` against bare `node -e 0` (hyperfine)
//  2. a healthy two-host `hactl check` in the lab (hyperfine)
//  3. "gateway killed" -> "standby serving", split into configured waits and
//     hactl's own time, over several rounds (history.jsonl timings)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, ROOT, TOKEN } from '../test/lab/lab.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const hyper = (name: string, cmds: string[], env: Record<string, string> = {}) => {
  const out = join('/tmp', `hactl-bench-${name}.json`);
  execFileSync('hyperfine', ['-N', '--warmup', '3', '--runs', '30', '--export-json', out, ...cmds], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  return JSON.parse(readFileSync(out, 'utf8')).results as Array<{
    command: string;
    mean: number;
    stddev: number;
    median: number;
    min: number;
    max: number;
  }>;
};
const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
const lines: string[] = [];
const say = (l: string) => {
  lines.push(l);
  console.log(l);
};

const bin = join(ROOT, 'bin/hactl');
const v = hyper('version', ['node -e 0', `node ${bin} --version`]);
say('### `hactl --version` against bare `node -e 0`');
say('| command | mean | ± | min | max |');
say('|---|---|---|---|---|');
for (const r of v)
  say(`| \`${r.command.replace(ROOT + '/', '')}\` | ${ms(r.mean)} | ${ms(r.stddev)} | ${ms(r.min)} | ${ms(r.max)} |`);
say(`ratio: **${(v[1]!.mean / v[0]!.mean).toFixed(2)}x** (target: at most 1.5x)`);

const lab = await Lab.start();
try {
  const cfg = lab.writeConfig();
  await lab.host('primary').startGateway();
  const c = hyper('check', [`node ${bin} check --config ${cfg}`], { HACTL_TELEGRAM_TOKEN: TOKEN });
  say('');
  say('### A healthy two-host `hactl check` in the lab');
  say(
    `mean **${ms(c[0]!.mean)}** ± ${ms(c[0]!.stddev)} (min ${ms(c[0]!.min)}, max ${ms(c[0]!.max)}, 30 runs; ` +
      'target: under 0.5 s). Each run: node start, config load, two SSH handshakes in parallel, ' +
      'one HTTP probe per host, state write, history line.',
  );

  say('');
  say(`### From "gateway killed" to "standby serving" (${ROUNDS} rounds)`);
  const t = lab.config().thresholds;
  say(
    `Lab thresholds: retryDelay ${t.retryDelay} s, settle ${t.settle} s, pollInterval ${t.pollInterval} s; ` +
      `stand-in gateway start-up ${300} ms. The cron chain \`check; failover --auto\` runs right after the kill.`,
  );
  say(
    '| round | kill → serving | configured waits (retry delay, settle) | ' +
      "gateway start-up (waiting for /startupz + /readyz) | last-chance memory sync (rsync) | hactl's own time |",
  );
  say('|---|---|---|---|---|---|');
  const own: number[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    const t0 = Date.now();
    lab.host('primary').crashGateway();
    const chk = await lab.hactl(['check']);
    const fo = await lab.hactl(['failover', '--auto']);
    const total = Date.now() - t0;
    if (fo.code !== 0 || lab.state().serving !== 'standby')
      throw new Error(`round ${i}: failover failed: ${chk.stdout} ${fo.stdout}`);
    const h = lab.history().at(-1);
    const settle = h.steps.filter((s: any) => s.op === 'settle').reduce((a: number, s: any) => a + s.ms, 0);
    const startWait = h.steps
      .filter((s: any) => s.op === 'start')
      .reduce((a: number, s: any) => a + (s.waitMs ?? 0), 0);
    const sync = h.steps.filter((s: any) => s.op === 'sync-last-chance').reduce((a: number, s: any) => a + s.ms, 0);
    const waits = t.retryDelay * 1000 + settle;
    const mine = total - waits - startWait - sync;
    own.push(mine);
    say(`| ${i} | ${total} ms | ${Math.round(waits)} ms | ${startWait} ms | ${sync} ms | ${Math.round(mine)} ms |`);
    // Hand back for the next round.
    const fb = await lab.hactl(['failback', '--yes']);
    if (lab.state().serving !== 'primary') throw new Error(`failback failed: ${fb.stdout}${fb.stderr}`);
  }
  own.sort((a, b) => a - b);
  say(
    `hactl's own time, median **${Math.round(own[Math.floor(own.length / 2)]!)} ms** (target: under 1 s). ` +
      "It includes two node starts (check, then failover), the SSH handshakes, the confirming retry's probe, " +
      'the fence probe, the two start methods the lab has no service for (systemd-user, openclaw-cli: ' +
      'each fails on the host), the verify probe, state and history writes and the alert. ' +
      "The memory sync is shown apart: it moves data, and its cost grows with what changed (issue 3's benchmarks).",
  );
} finally {
  await lab.stop();
}
if (process.env.BENCH_OUT) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.BENCH_OUT, lines.join('\n') + '\n');
}
