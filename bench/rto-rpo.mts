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
//  (c) RPO of `sync-memory --watch` alone (issue 25: worst <= 20 s): cron's minute runs the watch
//      (a change scan every memory.watchEvery, 10 s), an agent writes a note every second, the primary's
//      host dies psi s into the minute, psi spread over the whole minute (the 50-60 s gap between one
//      watch's last cycle and the next minute's first included); RPO as in (b). No failover: cheap.
//  (d) the primary's CPU per scan: the CPU of the primary's whole sshd process tree (the children
//      reaped included), over a watch run of many no-change scans minus a run of its first cycle only,
//      divided by the scans; as a share of one core at memory.watchEvery.
// (b) runs `sync-memory --watch` each minute too (BENCH_WATCH=0: the plain sync of before).
// Run: bash scripts/bench rto-rpo   (BENCH_TRIALS=5; BENCH_ONLY=crash, host, rpo or scan; BENCH_OUT=file)
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { Lab, ROOT, TOKEN } from '../test/lab/lab.ts';
import { killGroup, readyz, realLab, startReal } from '../test/lab/real.ts';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 5);
const WATCH = process.env.BENCH_WATCH !== '0';
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
    say(
      `### Host death, stand-in gateway (start-up 12 s), sync-memory${WATCH ? ' --watch' : ''} every minute ` +
        '(times in s after the crash)',
    );
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
          await lab.hactl(WATCH ? ['sync-memory', '--watch'] : ['sync-memory']);
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

/** A note every second on the primary, as an agent writes; the newest note's time on the standby. */
function agent(P: ReturnType<Lab['host']>) {
  const file = join(P.openclawDir, 'workspace', 'memory', 'bench-rpo.md');
  mkdirSync(join(P.openclawDir, 'workspace', 'memory'), { recursive: true });
  writeFileSync(file, '# Notes\n');
  let writing = true;
  const done = (async () => {
    while (writing) {
      appendFileSync(file, `- note ${Date.now()}\n`);
      await sleep(1000);
    }
  })();
  return {
    stop: async () => {
      writing = false;
      await done;
    },
  };
}
function newestOn(S: ReturnType<Lab['host']>): number | undefined {
  const got = join(S.openclawDir, 'workspace', 'memory', 'bench-rpo.md');
  const notes = existsSync(got) ? [...readFileSync(got, 'utf8').matchAll(/note (\d+)/g)].map((m) => Number(m[1])) : [];
  return notes.length ? Math.max(...notes) : undefined;
}

/** (c) RPO of the watch alone: cron's minute, the host's death psi s into it. */
async function watchRpo(): Promise<void> {
  const lab = await Lab.start();
  const rpos: number[] = [];
  try {
    const P = lab.host('primary');
    const S = lab.host('standby');
    say("### RPO with the primary's host dead, `sync-memory --watch` every minute (memory.watchEvery 10 s)");
    say('');
    say(`Load average at the start: ${load()} (2 cores).`);
    say('');
    say('| trial | death psi s into the cron minute | synced cycles before the death | **RPO** |');
    say('|---|---|---|---|');
    for (let i = 0; i < TRIALS; i++) {
      const psi = Math.round(((i + 0.5) * 60_000) / TRIALS);
      await lab.reset();
      lab.writeConfig({ thresholds: DEFAULTS });
      for (const h of [P, S]) rmSync(join(h.openclawDir, 'workspace'), { recursive: true, force: true });
      const a = agent(P);
      // The minute before: the watch of the previous minute has run (a warm master, a good copy).
      await lab.hactl(['sync-memory']);
      const t0 = Date.now();
      const run = lab.hactl(['sync-memory', '--watch', '--json']);
      await sleep(Math.max(0, t0 + psi - Date.now()));
      await a.stop();
      const crash = Date.now();
      await P.kill();
      // The minute's run ends by its window; the next minute's would only fail against a dead host.
      const r = await run;
      let synced = '-';
      try {
        const cycles = JSON.parse(r.stdout).cycles as Array<{ atMs: number; synced: boolean; exitCode: number }>;
        synced = String(cycles.filter((c) => c.synced && c.exitCode === 0 && t0 + c.atMs < crash).length);
      } catch {
        /* printed as - */
      }
      const newest = newestOn(S);
      const rpo = newest === undefined ? crash - t0 : crash - newest;
      rpos.push(rpo);
      say(`| ${i + 1} | ${s(psi)} | ${synced} | **${s(rpo)} s** |`);
    }
  } finally {
    await lab.stop();
  }
  say('');
  say(
    `RPO median **${s(median(rpos))} s**, worst **${s(Math.max(...rpos))} s** over ${rpos.length} trials; ` +
      `load average at the end: ${load()}. A death in the 50-60 s gap of the minute is the worst case: ` +
      'the last cycle of the run started at 50 s (window = minute - watchEvery).',
  );
  say('');
}

/** CPU seconds of a process tree (utime+stime, and the children it reaped), from /proc. */
function treeCpu(root: number): number {
  const tick = 100; // USER_HZ
  const stats = new Map<number, { ppid: number; cpu: number }>();
  for (const d of spawnSync('ls', ['/proc'], { encoding: 'utf8' }).stdout.split('\n')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const t = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(d), {
        ppid: Number(f[1]),
        cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / tick,
      });
    } catch {
      /* gone */
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, k = 0; p > 1 && k < 64; p = stats.get(p)?.ppid ?? 0, k++) if (p === root) return true;
    return false;
  };
  let sum = 0;
  for (const [pid, st] of stats) if (inTree(pid)) sum += st.cpu;
  return sum;
}

/** (d) The primary's CPU per no-change scan, a memory tree of BENCH_FILES files (2 000). */
const FILES = Number(process.env.BENCH_FILES ?? 2000);
async function scanCpu(): Promise<void> {
  const lab = await Lab.start();
  try {
    lab.writeConfig();
    const P = lab.host('primary');
    const files: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) files[`workspace/memory/d${i % 40}/n${i}.md`] = `note ${i}\n`;
    const { writeMem } = await import('../test/lab/memory.ts');
    writeMem(P, files);
    await lab.hactl(['sync-memory']); // the first copy, and a warm master for the scans
    const root = P.sshd!.pid!;
    const c0 = treeCpu(root);
    await lab.hactl(['sync-memory', '--watch', '--window', '0']);
    const first = treeCpu(root) - c0;
    const c1 = treeCpu(root);
    const r = await lab.hactl(['sync-memory', '--watch', '--every', '0.5s', '--window', '30s', '--json']);
    const all = treeCpu(root) - c1;
    const j = JSON.parse(r.stdout);
    if (!j.cycles) throw new Error(`sync-memory --watch: ${r.stdout}${r.stderr}`);
    const cycles = j.cycles as Array<{ synced: boolean; scan?: string }>;
    const scans = cycles.length; // every cycle scans; the first one syncs too
    const perScan = (all - first) / Math.max(1, scans - 1);
    say(`### The primary's CPU per change scan (${FILES} files, through the warm master)`);
    say('');
    say(
      `Load average: ${load()} (2 cores). A run of ${scans} cycles (${cycles.filter((c) => c.synced).length} synced, ` +
        `${cycles.filter((c) => c.scan).length} scans without a fingerprint) cost the primary's sshd tree ` +
        `${(all * 1000).toFixed(0)} ms of CPU; a run of its first cycle only ${(first * 1000).toFixed(0)} ms. ` +
        `Per scan: **${(perScan * 1000).toFixed(1)} ms**, ` +
        `at one scan every 10 s **${((perScan / 10) * 100).toFixed(2)}% of a core**.`,
    );
    say('');
  } finally {
    await lab.stop();
  }
}

if (ONLY === undefined || ONLY === 'crash') await gatewayCrash();
if (ONLY === undefined || ONLY === 'host') await hostDeath();
if (ONLY === undefined || ONLY === 'rpo') await watchRpo();
if (ONLY === undefined || ONLY === 'scan') await scanCpu();
if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, lines.join('\n') + '\n');
