// RTO with the guard on (issue 21 acceptance): worst <= 60 s, median <= 45 s with the default config.
// The netns partition lab (test/lab/partition.ts: a witness, a primary and a standby, each in its own
// namespace with a real sshd, the stand-in gateway, real `hactl guard --watch` on the primary and
// real `hactl check --watch` on the witness), with hactl's DEFAULT thresholds and guard section
// (lease 45 s, interval 5 s, watchInterval 10 s, retryDelay 5 s, connectTimeout 10 s), two cases:
//  cut:  the witness-primary link cut, the LAN up (the primary's gateway bound to loopback, so the
//        standby's second view does not hold the failover): the primary's guard must stop it;
//  dead: the primary's host killed (its gateway and guard SIGKILLed, its switch port down).
// The cut falls a random 0-10 s after a probe's renewal. Reported per trial: when the primary's
// gateway stopped (its guard's fence; the kill in `dead`) and when the standby served (its stand-in
// logged ready: it would poll Telegram), both from the cut. The stand-in starts in 300 ms (OpenClaw's
// cold start is 10-15 s: add it). Root (ip netns). Run: node --import tsx bench/rto-guard.mts
// (BENCH_TRIALS=3 per case; BENCH_ONLY=cut or dead; BENCH_TRACE=1 prints the witness's timeline of each trial).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { PartitionLab } from '../test/lab/partition.ts';
import { ROOT, TOKEN } from '../test/lab/lab.ts';
import { pollWindows } from '../test/lab/windows.ts';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);
const ONLY = process.env.BENCH_ONLY;
/** BENCH_TRACE=1: the witness runs with --debug and its lines are printed, stamped from the cut. */
const TRACE = !!process.env.BENCH_TRACE;
/** hactl's defaults (schema/hactl.schema.json), over the lab's short ones. */
const DEFAULTS = {
  thresholds: {
    connectTimeout: 10,
    commandTimeout: 20,
    retryDelay: 5,
    verifyDeadline: 60,
    stopDeadline: 30,
    settle: 10,
    pollInterval: 1,
    cooldown: 300,
    lockLease: 900,
    watchInterval: 10,
    watchWindow: 110,
  },
  guard: { lease: '45s', interval: '5s' },
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? '-' : (ms / 1000).toFixed(1));
const load = () => loadavg()[0]!.toFixed(1);

function hactlIn(
  lab: PartitionLab,
  node: string,
  args: string[],
  env: Record<string, string>,
  trace?: (line: string) => void,
): ChildProcess {
  const c = lab.net.spawn(node, [process.execPath, join(ROOT, 'bin/hactl'), ...args], {
    detached: true,
    stdio: trace ? ['ignore', 'pipe', 'pipe'] : 'ignore',
    env: { PATH: process.env.PATH, HACTL_TELEGRAM_TOKEN: TOKEN, ...env },
  });
  if (trace)
    for (const s of [c.stdout!, c.stderr!]) {
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        const lines = buf.split('\n');
        buf = lines.pop()!;
        lines.forEach(trace);
      });
    }
  return c;
}

function stopAll(cs: ChildProcess[]): void {
  for (const c of cs)
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
}

async function trial(lab: PartitionLab, kind: 'cut' | 'dead', phase: number) {
  await lab.reset();
  lab.writeConfigs(DEFAULTS);
  const [P, S] = [lab.hosts.primary, lab.hosts.standby];
  lab.setFake(P, kind === 'cut' ? '127.0.0.1' : '0.0.0.0');
  lab.setFake(S);
  await lab.startGateway('primary');
  const c = await lab.hactl(['check']);
  if (c.code !== 0) throw new Error(`the first check: ${c.stdout}${c.stderr}`);
  const procs: ChildProcess[] = [];
  try {
    const guardEnv = { HOME: P.home, LAB_HOST: P.name, HACTL_CONFIG: join(P.dir, 'hactl.yaml') };
    procs.push(
      hactlIn(lab, P.node, ['guard', '--watch', '--window', '170s', '-q'], {
        ...guardEnv,
        PATH: `${join(P.home, 'bin')}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
      }),
    );
    const witnessEnv = { HOME: lab.dir, HACTL_CONFIG: join(lab.dir, 'hactl.yaml') };
    const t0 = Date.now();
    const lines: string[] = [];
    let cutAt = Infinity;
    const trace = TRACE
      ? (l: string) => lines.push(`  [${((Date.now() - Math.min(cutAt, Date.now())) / 1000).toFixed(1)}] ${l}`)
      : undefined;
    const flags = TRACE ? ['--debug'] : ['-q'];
    procs.push(hactlIn(lab, lab.witness, ['check', '--watch', '--window', '170s', ...flags], witnessEnv, trace));
    // Two probes renew (0 and 10 s), then the cut `phase` s after the second one's start.
    await sleep(10_000 + phase * 1000);
    const cut = Date.now();
    cutAt = cut;
    if (kind === 'cut') lab.net.cut('witness', 'primary');
    else {
      stopAll([procs[0]!]);
      const pid = Number(readFileSync(join(P.openclawDir, 'fake-gateway.pid'), 'utf8'));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      // Its sshd stays (the next trial needs it), unreachable: the host's switch port is down.
      lab.net.isolate('primary');
    }
    let served: number | undefined;
    for (let i = 0; i < 240 && served === undefined; i++) {
      await sleep(500);
      served = pollWindows(S as never)[0]?.from;
    }
    const pw = pollWindows(P as never)[0];
    let stopped = kind === 'dead' ? cut : pw && Number.isFinite(pw.to) ? pw.to : undefined;
    if (stopped === undefined) {
      try {
        const g = JSON.parse(readFileSync(join(P.dir, 'state', 'guard.json'), 'utf8'));
        if (g.fencedAt) stopped = Date.parse(g.fencedAt);
      } catch {
        /* none */
      }
    }
    if (TRACE) console.log(lines.join('\n'));
    return {
      kind,
      phase,
      firstProbe: t0,
      stoppedAfter: stopped === undefined ? undefined : stopped - cut,
      servedAfter: served === undefined ? undefined : served - cut,
      overlap: served !== undefined && stopped !== undefined && served < stopped,
      load: load(),
    };
  } finally {
    stopAll(procs);
    if (kind === 'dead') lab.net.rejoin('primary');
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const lab = new PartitionLab();
try {
  await lab.start();
  console.log(`# rto-guard: ${TRIALS} trial(s) per case, default config; load at start ${load()}`);
  const all: Awaited<ReturnType<typeof trial>>[] = [];
  for (const kind of ['cut', 'dead'] as const) {
    if (ONLY && ONLY !== kind) continue;
    for (let i = 0; i < TRIALS; i++) {
      const phase = Math.round(((i + 0.5) / TRIALS) * 10 * 10) / 10; // spread over the 10 s cadence
      const r = await trial(lab, kind, phase);
      all.push(r);
      console.log(
        `${kind} phase ${phase} s: primary's gateway stopped ${secs(r.stoppedAfter)} s, standby served ` +
          `${secs(r.servedAfter)} s after the cut${r.overlap ? ' OVERLAP' : ''} (load ${r.load})`,
      );
    }
    const got = all.filter((r) => r.kind === kind && r.servedAfter !== undefined).map((r) => r.servedAfter!);
    const stops = all.filter((r) => r.kind === kind && r.stoppedAfter !== undefined).map((r) => r.stoppedAfter!);
    if (got.length)
      console.log(
        `${kind}: standby served worst ${secs(Math.max(...got))} s, median ${secs(median(got))} s ` +
          `(${got.length}/${all.filter((r) => r.kind === kind).length}); primary stopped worst ` +
          `${secs(stops.length ? Math.max(...stops) : undefined)} s; load now ${load()}`,
      );
  }
} finally {
  lab.destroy();
}
