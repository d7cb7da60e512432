// RTO and RPO over crash trials (issue 12), at hactl's default thresholds, with the witness
// running the cron chain's `check --watch` (a probe every 30 s):
//  (a) gateway crash: the real OpenClaw 2026.9.6 gateway (scripts/install-openclaw), SIGKILL of its
//      process group; memory written just before the crash must reach the standby (last-chance sync);
//  (b) host death: the stand-in gateway (test/lab/fake-openclaw.mjs, its start-up set to 12 s like the
//      real one's /readyz); the primary's sshd and gateway die together; an agent writes a memory note
//      every second and sync-memory runs every minute; RPO is the age, at the crash, of the newest note
//      that reached the standby.
// In each trial the watch starts (its first probe sees a healthy primary) and the crash comes phi s
// later, phi spread over the 30 s interval, so detection waits 30 - phi s (the same holds at the
// 2-minute cron boundary: the last probe of a window starts at 90 s, the next watch's first at 120 s).
// The bench polls the standby's /readyz itself: RTO is crash -> that answer 200. The stages come
// from the history lines (run start + the steps' recorded durations).
// Run: bash scripts/bench rto-rpo   (BENCH_TRIALS=5; BENCH_ONLY=crash or host; BENCH_OUT=file)
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { Lab, ROOT, TOKEN } from '../test/lab/lab.ts';
import { killGroup, readyz, realLab, startReal } from '../test/lab/real.ts';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 5);
const ONLY = process.env.BENCH_ONLY;
/** hactl's defaults (schema/hactl.schema.json), written out: the lab's own config shortens them. */
const DEFAULTS = {
  connectTimeout: 10,
  commandTimeout: 20,
  retryDelay: 10,
  verifyDeadline: 60,
  stopDeadline: 30,
  settle: 10,
  pollInterval: 1,
  cooldown: 300,
  lockLease: 900,
  watchInterval: 30,
};
const lines: string[] = [];
const say = (l: string) => {
  lines.push(l);
  console.log(l);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}`);

/** The watch as cron starts it; --window only so that a trial ends (probes at 0 and 30 s). */
function watch(lab: Lab): Promise<string> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [join(ROOT, 'bin/hactl'), 'check', '--watch', '--window', '40s'], {
      cwd: lab.dir,
      env: { ...process.env, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: join(lab.dir, 'hactl.yaml') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', () => res(out.trim()));
  });
}

/**
 * The first moment (ms) the standby's /readyz answers 200, polled every 200 ms; undefined once the
 * watch has ended without it (the failover failed) or after 300 s.
 */
async function readyAt(port: number, watching: Promise<string>): Promise<number | undefined> {
  let ended = false;
  void watching.then(() => (ended = true));
  for (const end = Date.now() + 300_000; Date.now() < end; await sleep(200)) {
    const last = ended;
    if ((await readyz(port)) === 200) return Date.now();
    if (last) return undefined;
  }
  return undefined;
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

interface Timeline {
  detect?: number;
  confirm?: number;
  fence?: number;
  start?: number;
  ready?: number;
  methods: string;
}

/** Detection (the first failing probe's start), confirmation (its end), fence, start and ready: ms after the crash. */
function timeline(lab: Lab, crash: number): Timeline {
  const h = lab.history();
  const chk = h.find((l) => l.command === 'check' && Date.parse(l.at) + l.ms >= crash && l.exitCode >= 2);
  const fo = h.find((l) => l.command === 'failover' && l.acted === true);
  const t: Timeline = { methods: '' };
  if (chk)
    Object.assign(t, { detect: Math.max(0, Date.parse(chk.at) - crash), confirm: Date.parse(chk.at) + chk.ms - crash });
  if (!fo) return t;
  let at = Date.parse(fo.at) - crash;
  for (const st of fo.steps) {
    if (st.op === 'start') t.start = at;
    at += st.ms;
    if (st.op === 'fence') t.fence = at;
    if (st.op === 'start') t.ready = at;
  }
  const start = fo.steps.find((x: any) => x.op === 'start');
  t.methods = (start?.methods ?? [])
    .map((m: any) => `${m.name} ${m.absent ? 'absent' : m.ok ? 'ok' : 'failed'} ${s(m.ms)} s`)
    .join(', ');
  return t;
}

const PHASES = (n: number) => Array.from({ length: n }, (_, i) => Math.round(((i + 0.5) * 30_000) / n));
/** Crash -> start step (detection, confirmation, memory, fence, settle) and the gateway's own start-up. */
function parts(ts: Timeline[]): string {
  const before = ts.filter((t) => t.start !== undefined).map((t) => t.start!);
  const up = ts.filter((t) => t.ready !== undefined && t.start !== undefined).map((t) => t.ready! - t.start!);
  if (!before.length) return '';
  return (
    ` Crash -> start step: median ${s(median(before))} s, worst ${s(Math.max(...before))} s; ` +
    `start step (start methods, gateway start-up, ready): median ${s(median(up))} s, worst ${s(Math.max(...up))} s.`
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const HEAD =
  '| trial | crash after the first probe (phi) | detection | confirmation | fence | start | ready (hactl) | ' +
  '**RTO** (standby /readyz 200) | RPO | start methods |';

function row(i: number, phi: number, t: Timeline, rto: number, rpo: string): string {
  return (
    `| ${i} | ${s(phi)} s | ${s(t.detect)} | ${s(t.confirm)} | ${s(t.fence)} | ${s(t.start)} | ${s(t.ready)} | ` +
    `**${s(rto)} s** | ${rpo} | ${t.methods} |`
  );
}

async function gatewayCrash(): Promise<void> {
  const { lab, openclaw } = await realLab();
  const rtos: number[] = [];
  const tls: Timeline[] = [];
  const failed: string[] = [];
  try {
    lab.writeConfig({ thresholds: DEFAULTS });
    const P = lab.host('primary');
    const S = lab.host('standby');
    say('### Gateway crash, real OpenClaw 2026.9.6 (default thresholds; times in s after the crash)');
    say('');
    say(`Load average at the start: ${load()} (2 cores).`);
    say('');
    say(HEAD);
    say('|---|---|---|---|---|---|---|---|---|---|');
    for (const [i, phi] of PHASES(TRIALS).entries()) {
      // Each trial from the start: no gateway on either side, no state; the primary's starts.
      for (const h of [P, S]) {
        spawnSync('fuser', ['-s', '-k', '-TERM', '-n', 'tcp', String(h.gatewayPort)]);
        for (let k = 0; k < 60 && (await readyz(h.gatewayPort)) !== 0; k++) await sleep(500);
      }
      rmSync(join(lab.dir, 'state'), { recursive: true, force: true });
      const pid = await startReal(openclaw, P);
      const w = watch(lab);
      for (let k = 0; k < 600 && !lab.history().some((l) => l.command === 'check'); k++) await sleep(50);
      const first = Date.parse(lab.history().find((l) => l.command === 'check')!.at);
      await sleep(Math.max(0, first + phi - Date.now()));
      const note = `- bench note ${Date.now()}\n`;
      appendFileSync(join(P.openclawDir, 'workspace', 'MEMORY.md'), note);
      const crash = Date.now();
      killGroup(pid);
      const ready = await readyAt(S.gatewayPort, w);
      const out = await w;
      if (ready === undefined) {
        failed.push(`trial ${i + 1}: ${out.split('\n').at(-1)}`);
        say(`| ${i + 1} | ${s(phi)} s | FAILED (load ${load()}): ${out.split('\n').at(-1)?.slice(0, 400)} |`);
        continue;
      }
      const kept = readFileSync(join(S.openclawDir, 'workspace', 'MEMORY.md'), 'utf8').includes(note);
      rtos.push(ready - crash);
      tls.push(timeline(lab, crash));
      say(row(i + 1, phi, timeline(lab, crash), ready - crash, kept ? '0 (last-chance sync)' : 'LOST'));
    }
  } finally {
    await lab.stop();
  }
  say('');
  say(
    `RTO median **${s(median(rtos))} s**, worst **${s(Math.max(...rtos))} s** over ${rtos.length} trials` +
      `${failed.length ? `; ${failed.length} failed` : ''}; load average at the end: ${load()}.${parts(tls)}`,
  );
  say('');
}

async function hostDeath(): Promise<void> {
  const lab = await Lab.start();
  const rtos: number[] = [];
  const tls: Timeline[] = [];
  const failed: string[] = [];
  const rpos: number[] = [];
  try {
    const P = lab.host('primary');
    const S = lab.host('standby');
    say('### Host death, stand-in gateway (start-up 12 s), sync-memory every minute (times in s after the crash)');
    say('');
    say(`Load average at the start: ${load()} (2 cores).`);
    say('');
    say(HEAD);
    say('|---|---|---|---|---|---|---|---|---|---|');
    const phis = PHASES(TRIALS);
    // The crash lands psi s after a sync started: spread over the minute, never before the watch's first probe.
    const psis = Array.from({ length: TRIALS }, (_, i) =>
      Math.max(phis[i]! + 2000, Math.round(((i + 0.5) * 60_000) / TRIALS)),
    );
    for (const [i, phi] of phis.entries()) {
      await lab.reset();
      lab.writeConfig({ thresholds: DEFAULTS });
      S.setFake({ startupMs: 12_000 });
      await P.startGateway();
      const file = join(P.openclawDir, 'workspace', 'memory', 'bench-rpo.md');
      mkdirSync(join(P.openclawDir, 'workspace', 'memory'), { recursive: true });
      writeFileSync(file, '# Notes\n');
      let writing = true;
      const writer = (async () => {
        while (writing) {
          appendFileSync(file, `- note ${Date.now()}\n`);
          await sleep(1000);
        }
      })();
      const t0 = Date.now();
      let syncing = true;
      const syncs = (async () => {
        for (let k = 0; syncing; k++) {
          await lab.hactl(['sync-memory']);
          while (syncing && Date.now() < t0 + (k + 1) * 60_000) await sleep(100);
        }
      })();
      await sleep(Math.max(0, t0 + psis[i]! - phi - Date.now()));
      const w = watch(lab);
      for (let k = 0; k < 600 && !lab.history().some((l) => l.command === 'check'); k++) await sleep(50);
      const first = Date.parse(lab.history().find((l) => l.command === 'check')!.at);
      await sleep(Math.max(0, first + phi - Date.now()));
      writing = false;
      await writer;
      const crash = Date.now();
      await P.kill();
      syncing = false;
      const ready = await readyAt(S.gatewayPort, w);
      const out = await w;
      await syncs;
      if (ready === undefined) {
        failed.push(`trial ${i + 1}: ${out.split('\n').at(-1)}`);
        say(`| ${i + 1} | ${s(phi)} s | FAILED (load ${load()}): ${out.split('\n').at(-1)?.slice(0, 400)} |`);
        continue;
      }
      const got = join(S.openclawDir, 'workspace', 'memory', 'bench-rpo.md');
      const notes = existsSync(got)
        ? [...readFileSync(got, 'utf8').matchAll(/note (\d+)/g)].map((m) => Number(m[1]))
        : [];
      const rpo = notes.length ? crash - Math.max(...notes) : crash - t0;
      rtos.push(ready - crash);
      tls.push(timeline(lab, crash));
      rpos.push(rpo);
      say(row(i + 1, phi, timeline(lab, crash), ready - crash, `${s(rpo)} s`));
    }
  } finally {
    await lab.stop();
  }
  say('');
  say(
    `RTO median **${s(median(rtos))} s**, worst **${s(Math.max(...rtos))} s**; ` +
      `RPO median **${s(median(rpos))} s**, worst **${s(Math.max(...rpos))} s** over ${rtos.length} trials` +
      `${failed.length ? `; ${failed.length} failed` : ''}; load average at the end: ${load()}.${parts(tls)}`,
  );
  say('');
}

if (ONLY !== 'host') await gatewayCrash();
if (ONLY !== 'crash') await hostDeath();
if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, lines.join('\n') + '\n');
