// hactl cron: print the crontab lines for this config (the default), merge them
// into the user's crontab (--install), take them out (--remove), print a
// logrotate snippet (--logrotate), or write systemd units (--systemd DIR).
// No lock and no history line: it touches no state.
//
// --install keeps --log-dir, --bin and --env-file in hactl's block, and a later
// --install without them uses the kept ones (the README says to run it again
// after changing intervals; that must not move the logs or the executable).
// A missing log directory is created 0700 (the jobs' lines would be lost
// otherwise, and the operator asked for exactly this directory); when it cannot
// be created (/var/log as a non-root user), the install is refused, exit 66,
// naming the two fixes. --env-file must exist and be readable by its owner only.
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GlobalOptions } from '../context.js';
import type { Config } from '../config/types.js';
import { EXIT, UsageError, ActionError, ConfigError, InputMissingError } from '../errors.js';
import { Reporter } from '../output.js';
import { packageFile } from '../paths.js';
import { planJobs, type ScheduleInput } from '../operator/schedule.js';
import { crontabLines, jobPath, logrotateSnippet, systemdUnits, type InstallPaths } from '../operator/cron.js';
import { mergeCrontab, rememberedOptions } from '../operator/crontab-block.js';
import { shq } from '../adapters/shell.js';

interface CronOptions extends GlobalOptions {
  install?: boolean;
  remove?: boolean;
  logrotate?: boolean;
  systemd?: string;
  logDir?: string;
  bin?: string;
  envFile?: string;
}

export const DEFAULT_LOG_DIR = '/var/log/hactl';

/** The intervals, in minutes (memory.interval is in seconds in the config). */
export function scheduleInput(config: Config): ScheduleInput {
  return {
    memory: {
      enabled: config.memory.enabled,
      intervalMinutes: config.memory.interval / 60,
      watchEvery: config.memory.watchEvery,
    },
    tiers: config.backup.tiers.map((t) => ({ name: t.name, intervalMinutes: t.interval })),
    deadlines: {
      lockLease: config.thresholds.lockLease,
      memory: config.memory.deadline,
      backup: config.backup.deadline,
    },
  };
}

function hactlPath(explicit?: string): string {
  if (explicit) return resolve(explicit);
  const argv1 = process.argv[1];
  if (argv1 && isAbsolute(argv1) && /(^|\/)hactl$/.test(argv1)) return argv1;
  return fileURLToPath(packageFile('bin/hactl'));
}

function groupName(gid: number, fallback: string): string {
  try {
    const line = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(gid));
    return line?.split(':')[0] || fallback;
  } catch {
    return fallback;
  }
}

function installPaths(config: Config, o: CronOptions, remember?: Record<string, string>): InstallPaths {
  const me = userInfo();
  return {
    hactl: hactlPath(o.bin),
    path: jobPath(dirname(process.execPath)),
    config: resolve(config.file),
    logDir: resolve(o.logDir ?? DEFAULT_LOG_DIR),
    user: me.username,
    group: groupName(me.gid, me.username),
    lease: config.thresholds.lockLease,
    ...(o.envFile && { envFile: resolve(o.envFile) }),
    ...(remember && { remember }),
  };
}

/** The env file holds secrets: it must exist and be readable by its owner only. */
function checkEnvFile(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new InputMissingError(
      file,
      `cron --env-file: ${file} does not exist`,
      `create it with NAME='value' lines (HACTL_TELEGRAM_TOKEN=..., webhook URLs), then chmod 600 ${shq(file)}`,
    );
  }
  if (mode & 0o077)
    throw new ConfigError(
      [`cron --env-file: ${file} is mode 0${(mode & 0o777).toString(8)}: it holds secrets others can read`],
      `chmod 600 ${shq(file)}`,
    );
}

/** The log directory the jobs append to: created 0700 if missing, or exit 66 saying how. */
function ensureLogDir(dir: string, user: string): boolean {
  if (existsSync(dir)) return false;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new InputMissingError(
      dir,
      `cron --install: the log directory ${dir} does not exist and cannot be created (${code}); ` +
        'the jobs would lose every line',
      `sudo install -d -m 700 -o ${user} ${shq(dir)}, or give --log-dir a directory ${user} can write ` +
        '(e.g. --log-dir ~/.local/state/hactl/log); then run again',
    );
  }
}

/**
 * --install: the options given now, over the ones its block was installed with. Options not
 * given now and not kept before take their defaults. Returns what the block keeps.
 */
function withRemembered(o: CronOptions, cmd: Command, kept: Record<string, string>): Record<string, string> {
  const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
  for (const name of ['logDir', 'bin', 'envFile'] as const) {
    if (!given(name) && kept[name] !== undefined) o[name] = kept[name];
  }
  const out: Record<string, string> = {};
  if (o.logDir !== undefined && (given('logDir') || kept.logDir !== undefined)) out.logDir = resolve(o.logDir);
  if (o.bin !== undefined) out.bin = resolve(o.bin);
  if (o.envFile !== undefined) out.envFile = resolve(o.envFile);
  return out;
}

export default async function cron(_p: Command, cmd: Command): Promise<number> {
  const o = cmd.optsWithGlobals() as CronOptions;
  const out = new Reporter(o);
  const modes = [o.install, o.remove, o.logrotate, o.systemd !== undefined].filter(Boolean).length;
  if (modes > 1)
    throw new UsageError('hactl cron: give at most one of --install, --remove, --logrotate, --systemd DIR');
  const done = (summary: string, data: Record<string, unknown>, text?: string): number => {
    if (text !== undefined && !out.json) out.summary(text.replace(/\n$/, ''), null);
    else out.summary(summary, { command: 'cron', exitCode: EXIT.OK, summary, ...data });
    return EXIT.OK;
  };
  if (o.remove) return change(null, out, done);
  const { loadConfig } = await import('../config/load.js');
  const config = await loadConfig(o.config);
  let remember: Record<string, string> | undefined;
  if (o.install) {
    const { readCrontab } = await import('../adapters/crontab.js');
    remember = withRemembered(o, cmd, rememberedOptions(await readCrontab()));
  } else if (o.logrotate || o.systemd === undefined) {
    // The printed lines and the logrotate snippet name the installed block's log directory too (read from
    // cron's spool where it may be: adapters/crontab.ts peekCrontab).
    const { peekCrontab } = await import('../adapters/crontab.js');
    const kept = await peekCrontab().then(rememberedOptions, () => ({}) as Record<string, string>);
    withRemembered(o, cmd, kept);
  }
  if (o.envFile) checkEnvFile(resolve(o.envFile));
  const paths = installPaths(config, o, remember);
  const jobs = planJobs(scheduleInput(config));
  let lines: string[];
  try {
    if (o.logrotate) {
      const text = logrotateSnippet(paths);
      return done('cron --logrotate: snippet printed', { logrotate: text }, text);
    }
    if (o.systemd !== undefined) return writeUnits(systemdUnits(jobs, paths), o.systemd, out, done);
    lines = crontabLines(jobs, paths);
  } catch (e) {
    throw new UsageError(`hactl cron: ${(e as Error).message}`);
  }
  // The jobs append to the log directory; a missing one loses every line (and mails cron's error).
  if (o.install) {
    if (ensureLogDir(paths.logDir, paths.user)) out.error(`hactl: note: created ${paths.logDir} (mode 0700)`);
    return change(lines, out, done, { options: remember ?? {} });
  }
  if (!existsSync(paths.logDir))
    out.error(`hactl: note: ${paths.logDir} does not exist: install -d -m 700 ${shq(paths.logDir)}`);
  const { BEGIN, END } = await import('../operator/crontab-block.js');
  const text = [BEGIN, ...lines, END].join('\n');
  return done(`cron: ${jobs.length} job(s)`, { lines, jobs: jobs.map((j) => j.id) }, text);
}

async function change(
  lines: string[] | null,
  out: Reporter,
  done: (s: string, d: Record<string, unknown>) => number,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const { readCrontab, writeCrontab } = await import('../adapters/crontab.js');
  const before = await readCrontab();
  const r = mergeCrontab(before, lines);
  if (!r.ok) throw new ActionError(r.error);
  for (const n of r.notes) out.error(`hactl: note: ${n}`);
  const verb = lines ? 'install' : 'remove';
  if (!r.changed)
    return done(`cron --${verb}: the crontab already ${lines ? 'has this block' : 'has no hactl block'}; unchanged`, {
      changed: false,
      ...extra,
    });
  await writeCrontab(r.text);
  // Read it back: what cron holds now is what counts.
  const after = await readCrontab();
  if (after !== r.text)
    throw new ActionError(`cron --${verb}: crontab -l does not show what was written`, 'check with crontab -l');
  const summary = lines
    ? `cron --install: hactl's block is in the crontab (${lines.filter((l) => !l.startsWith('#')).length} job(s))`
    : "cron --remove: hactl's block removed from the crontab; your own lines are unchanged";
  return done(summary, { changed: true, notes: r.notes, ...extra });
}

async function writeUnits(
  units: Array<{ name: string; text: string }>,
  dir: string,
  out: Reporter,
  done: (s: string, d: Record<string, unknown>) => number,
): Promise<number> {
  const { writeAtomic } = await import('../state/files.js');
  const target = resolve(dir);
  for (const u of units) {
    writeAtomic(join(target, u.name), u.text, 0o644);
    out.detail(`  wrote ${join(target, u.name)}`);
  }
  const timers = units.filter((u) => u.name.endsWith('.timer')).map((u) => u.name);
  const summary =
    `cron --systemd: ${units.length} unit(s) in ${target}; ` +
    `then: systemctl daemon-reload && systemctl enable --now ${timers.join(' ')}`;
  return done(summary, { dir: target, units: units.map((u) => u.name), timers });
}
