// hactl doctor, the alert channels and the metrics file (pure): each configured channel has its
// secret (bot token, webhook URL, secretEnv) and answers a request that sends no message; the
// metrics textfile is readable by node_exporter; how this build takes its locks. Facts in (doctor.ts
// gathers them), one result per check out, each problem with its fix.
import type { DoctorResult, DoctorLevel } from './doctor-checks.js';
import { shq } from '../adapters/shell.js';

const r = (level: DoctorLevel, host: string | null, check: string, message: string, fix?: string): DoctorResult =>
  fix ? { level, host, check, message, fix } : { level, host, check, message };

/** An alert channel as doctor saw it: what keeps it from working, or how it answered. */
export interface ChannelFacts {
  /** How the config names it: alerts.telegram, alerts.webhooks[0] (slack, https://hooks.slack.com/***). */
  name: string;
  /** A missing secret (no token, no URL, an unset secretEnv), said without any secret value. */
  problem?: string;
  /** The channel's answer to a request that sends no message (Telegram getMe, a webhook GET). */
  answer?: { status?: number; error?: string; detail?: string };
}

const SECRET_FIX =
  "put it in the env file the jobs read (NAME='value', mode 0600: hactl cron --env-file FILE, " +
  "or the systemd units' EnvironmentFile=), and export it in your shell to run hactl by hand";

/** Each configured alert channel: its secret is there, and it answers. */
export function channelResult(f: ChannelFacts): DoctorResult {
  if (f.problem) return r('fail', null, 'alerts', `${f.name}: ${f.problem}`, SECRET_FIX);
  const a = f.answer;
  if (!a || a.error) return r('fail', null, 'alerts', `${f.name} does not answer: ${a?.error ?? 'not tried'}`);
  const s = a.status ?? 0;
  if ([401, 403, 404, 410].includes(s))
    return r(
      'fail',
      null,
      'alerts',
      `${f.name} refuses (HTTP ${s}): its token or URL is wrong or was revoked`,
      'make a new one in the service and update the env file or the config',
    );
  if (s >= 500) return r('warn', null, 'alerts', `${f.name} answers HTTP ${s} (a server error); try again later`);
  return r('pass', null, 'alerts', `${f.name} answers (HTTP ${s}${a.detail ? `, ${a.detail}` : ''})`);
}

/** metrics.textfile: node_exporter runs as its own user, so the file must be readable by others. */
/** A directory on the way to the metrics file, and its mode (null: missing, hactl creates it 0755). */
export interface DirMode {
  dir: string;
  mode: number | null;
}

/**
 * The metrics textfile and the directories above it, innermost first: node_exporter (another user)
 * must read the file, list its directory (o+rx) and pass through every directory above (o+x).
 */
export function metricsFileResult(file: string, mode: number | null, dirs: DirMode[] = []): DoctorResult {
  const shut = dirs.find((d, i) => d.mode !== null && (i === 0 ? (d.mode & 0o005) !== 0o005 : !(d.mode & 0o001)));
  if (shut) {
    const inner = shut === dirs[0];
    const shown = '0' + (shut.mode! & 0o777).toString(8).padStart(3, '0');
    return r(
      'warn',
      null,
      'metrics',
      `metrics directory ${shut.dir} is mode ${shown}: node_exporter (another user) cannot ` +
        (inner ? 'list it' : `reach ${file} through it`),
      `chmod o+${inner ? 'rx' : 'x'} ${shq(shut.dir)} (or put metrics.textfile where node_exporter can read)`,
    );
  }
  if (mode === null)
    return r(
      'pass',
      null,
      'metrics',
      `metrics file ${file} not written yet (the next run that records writes it 0644)`,
    );
  const shown = '0' + (mode & 0o777).toString(8).padStart(3, '0');
  if (!(mode & 0o004))
    return r(
      'warn',
      null,
      'metrics',
      `metrics file ${file} is mode ${shown}: node_exporter (another user) cannot read it`,
      `chmod 644 ${shq(file)} (hactl writes it 0644 from now on)`,
    );
  return r('pass', null, 'metrics', `metrics file ${file} is mode ${shown}`);
}
/** How this build takes its locks (src/state/lock.ts): both are the same flock, the second forks per lock. */
export function lockResult(mechanism: 'flock(2) in process' | 'flock(1)'): DoctorResult {
  return mechanism === 'flock(1)'
    ? r(
        'pass',
        null,
        'locks',
        'locks are taken with flock(1), a fork each; built with a C compiler (cc), hactl takes them in process ' +
          '(faster; the same locks): apt-get install gcc libc6-dev, then npm run build',
      )
    : r('pass', null, 'locks', 'locks are taken in process (flock(2), dist/native/flock.node)');
}
