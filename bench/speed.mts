// Issue 12's ratios in one run, each candidate side by side with its reference (interleaved A B A B,
// medians): `bash scripts/bench` runs this, then bench/validate.ts (YAML-heavy) and bench/rto-rpo.mts
// when it exists.
//   node --import tsx bench/speed.mts [runs]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Lab, ROOT, TOKEN } from '../test/lab/lab.ts';
import { sshArgv } from '../src/adapters/rsync.ts';
import { startBackupLab } from './lib/backup-lab.ts';
import { checkWarmCold } from './lib/check-speed.ts';
import { fillMemory, rawPullArgv } from './lib/memory-lab.ts';
import { interleave, ms, ratio, row, run, stats, type Series } from './lib/measure.ts';

const RUNS = Number(process.argv[2] ?? 11);
const BIN = join(ROOT, 'bin/hactl');
const say = (s = '') => console.log(s);
const x = (a: Series, b: Series) => `**${ratio(a, b).toFixed(2)}x**`;
say(`${cpus().length} cores (${cpus()[0]?.model}), node ${process.version}, ${RUNS} interleaved runs, medians.`);
say(`Load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.\n`);

// 1. Start-up.
const v = interleave({ node: () => run('node', ['-e', '0']), hactl: () => run('node', [BIN, '--version']) }, 2 * RUNS);
say('| case | median | min-max |\n|---|---|---|');
say(row('`node -e 0`', v.node!));
say(row('`hactl --version`', v.hactl!));
say(`\n--version: ${x(v.hactl!, v.node!)} of node -e 0 (goal <= 1.3x)\n`);

const lab = await Lab.start();
try {
  lab.writeConfig();
  const P = lab.host('primary');
  const root = join(P.home, '.openclaw');
  fillMemory(root);
  const env = { ...process.env, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: join(lab.dir, 'hactl.yaml') };
  const hactl = (...args: string[]) => run('node', [BIN, ...args], { env, cwd: lab.dir });
  hactl('sync-memory');
  const host = { ...lab.config().hosts.primary, name: 'primary' };
  const rawDest = join(lab.dir, 'raw');
  mkdirSync(rawDest);
  const rawArgv = (rsyncPath?: string, rsh = sshArgv(host, 10)) =>
    rawPullArgv(P.address, rawDest, rsh.join(' '), rsyncPath);
  run('rsync', rawArgv());
  // 2. No-change memory sync against the same rsync pull run raw (its own ssh handshake, as a cron line would).
  const shared = sshArgv(host, 10, { controlPath: `${lab.dir}/cm-raw`, persist: 60 });
  const m = interleave(
    {
      raw: () => run('rsync', rawArgv()),
      hactl: () => hactl('sync-memory'),
      shared: () => run('rsync', rawArgv(undefined, shared)),
    },
    RUNS,
  );
  say('| case | median | min-max |\n|---|---|---|');
  say(row('raw `rsync` pull (same argv, own ssh connection)', m.raw!));
  say(row('`hactl sync-memory`, no change (gate included)', m.hactl!));
  say(row('raw `rsync` pull through a warm ControlMaster of its own (for comparison)', m.shared!));
  say(
    `\nsync-memory no change: ${x(m.hactl!, m.raw!)} of raw rsync (goal <= 1.2x); ` +
      `${x(m.hactl!, m.shared!)} of raw rsync sharing a master too\n`,
  );

  // 3. The primary's CPU for one no-change scan of the 10k files: the remote rsync (sender) under GNU time.
  const cpuLog = join(lab.dir, 'sender-cpu');
  const cpu: number[] = [];
  for (let i = 0; i < 5; i++) {
    rmSync(cpuLog, { force: true });
    run('rsync', rawArgv(`cd "$HOME" && /usr/bin/time -o ${cpuLog} -f %U+%S rsync`));
    const [u, s] = readFileSync(cpuLog, 'utf8').trim().split('\n').pop()!.split('+').map(Number);
    cpu.push((u! + s!) * 1000);
  }
  const c = stats(cpu);
  say(
    `Primary CPU per no-change scan of 10,000 files (remote rsync sender, user+sys): ${ms(c.median)} ` +
      `(${ms(c.min)}-${ms(c.max)}, 5 runs); ` +
      `every minute that is ${((c.median / 60000) * 100).toFixed(2)}% of one core.\n`,
  );

  // 4. A healthy two-host check, through warm masters (as under the default crontab) and cold (none).
  await P.startGateway();
  hactl('check');
  const k = checkWarmCold(lab, hactl, RUNS);
  say('| case | median | min-max |\n|---|---|---|');
  say(row('`hactl check`, warm: a master per host (right after a sync-memory)', k.warm!));
  say(row('`hactl check`, cold: no master (ssh2 handshakes; leaves masters behind)', k.cold!));
  say(`\nHealthy two-host check: ${ms(k.warm!.median)} warm (goal < 300 ms), ${ms(k.cold!.median)} cold\n`);
} finally {
  await lab.stop();
}

// 5. Backup no-change against raw rsync --link-dest.
const { lab: blab, src } = await startBackupLab();
try {
  const env = { ...process.env, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: join(blab.dir, 'hactl.yaml') };
  let clock = Date.parse('2026-11-22T00:00:00Z');
  const backup = () => {
    clock += 3600e3;
    run('node', [BIN, 'backup-tier', 'bench'], { env: { ...env, HACTL_NOW: new Date(clock).toISOString() } });
  };
  backup();
  const pcb = blab.host('pcb');
  const host = { ...blab.config().hosts.pcb, name: 'pcb' };
  const dir = join(pcb.home, 'bench');
  const made: string[] = [];
  const raw = () => {
    const prev = readdirSync(dir)
      .filter((e) => /^\d{4}-/.test(e))
      .sort()
      .at(-1)!;
    const name = `raw-${made.length}`;
    made.push(name);
    run('rsync', [
      '-a',
      '--delete',
      '--stats',
      `--link-dest=../${prev}`,
      '--protect-args',
      `--rsh=${sshArgv(host, 10).join(' ')}`,
      '--rsync-path=cd "$HOME" && rsync',
      '--',
      `${src}/`,
      `${pcb.address}:bench/${name}/`,
    ]);
  };
  const b = interleave({ raw, hactl: backup }, RUNS);
  for (const n of made) execFileSync('rm', ['-rf', join(dir, n)]);
  say('| case | median | min-max |\n|---|---|---|');
  say(row('raw `rsync -a --delete --stats --link-dest=../PREV` into a new folder', b.raw!));
  say(row('`hactl backup-tier`, no change (guards, count check, commit)', b.hactl!));
  say(`\nbackup-tier no change: ${x(b.hactl!, b.raw!)} of raw rsync --link-dest (goal <= 1.2x)\n`);
} finally {
  await blab.stop();
}
void spawnSync;
