// hactl doctor: gathers the facts (file modes, known_hosts, one SSH session and one remote
// command per host, OpenSSH run as rsync runs it) and hands them to doctor-checks.ts.
// Reads only: no lock, no state, no history. Exit 0 all pass, 1 warnings, 2 failures,
// 78 when the config does not load (thrown by the loader, mapped in src/exit.ts).
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GlobalOptions } from '../context.js';
import type { Config, HostConfig } from '../config/types.js';
import { Reporter } from '../output.js';
import { systemClock, type Clock } from '../adapters/clock.js';
import { shq } from '../adapters/shell.js';
import { lockMechanism } from '../state/lock.js';
import {
  commandResults,
  formatResult,
  keyFileResult,
  knownHostsResult,
  neededWords,
  reachResult,
  rsyncSshResult,
  secretFileResult,
  skewResult,
  stateDirResults,
  summarizeDoctor,
  type DoctorResult,
  type FileFacts,
} from './doctor-checks.js';
import { channelResult, lockResult, metricsFileResult, type ChannelFacts } from './doctor-channels.js';

function facts(file: string): FileFacts | null {
  try {
    accessSync(file, constants.R_OK);
    return { mode: statSync(file).mode };
  } catch {
    return null;
  }
}

function stateFiles(dir: string): Array<[string, FileFacts]> {
  try {
    return readdirSync(dir)
      .map((n): [string, FileFacts | null] => [n, facts(join(dir, n))])
      .filter((e): e is [string, FileFacts] => !!e[1] && (e[1].mode & 0o170000) === 0o100000);
  } catch {
    return [];
  }
}

/** One remote command: the host's clock, then `have WORD` for each program its PATH finds. */
export function doctorScript(words: string[]): string {
  const probes = words.map((w) => `command -v ${shq(w)} >/dev/null 2>&1 && echo have ${shq(w)}`);
  return ['echo "now $(date +%s)"', ...probes, 'exit 0'].join('\n');
}

async function sshChecks(config: Config, h: HostConfig, clock: Clock): Promise<DoctorResult[]> {
  const { SshSession } = await import('../adapters/ssh.js');
  const { connectTimeout, commandTimeout } = config.thresholds;
  const t0 = clock.ms();
  let session;
  try {
    session = await SshSession.open(h, connectTimeout, commandTimeout);
  } catch (e) {
    const err = e as { kind?: string; message: string };
    return [reachResult(h, { kind: err.kind ?? 'unreachable', message: err.message }, 0)];
  }
  const out = [reachResult(h, null, clock.ms() - t0)];
  try {
    const before = clock.now().getTime();
    const ran = await session.run(doctorScript(neededWords(h)), commandTimeout);
    const mid = (before + clock.now().getTime()) / 2000;
    if (ran.code === 127 && /timeout/.test(ran.stderr)) return [...out, ...commandResults(h, 'no-timeout')];
    const lines = ran.stdout.split('\n').map((l) => l.trim().split(/\s+/));
    out.push(...commandResults(h, new Set(lines.filter((l) => l[0] === 'have').map((l) => l[1]!))));
    const now = Number(lines.find((l) => l[0] === 'now')?.[1]);
    if (Number.isFinite(now)) out.push(skewResult(h, now - mid));
  } catch (e) {
    out.push({ level: 'fail', host: h.name, check: 'commands', message: (e as Error).message });
  } finally {
    await session.close();
  }
  return out;
}

/** OpenSSH, run exactly as rsync runs it (src/adapters/rsync.ts sshArgv), to `true` on the host. */
async function rsyncSsh(config: Config, h: HostConfig): Promise<DoctorResult> {
  const { sshArgv } = await import('../adapters/rsync.js');
  const { runProcess } = await import('../adapters/process.js');
  const { sshPathValue } = await import('../adapters/shell.js');
  const argv = sshArgv(h, config.thresholds.connectTimeout);
  try {
    const ran = await runProcess(argv[0]!, [...argv.slice(1), h.address, 'true'], {
      deadline: config.thresholds.connectTimeout + config.thresholds.commandTimeout,
    });
    return rsyncSshResult(h, argv, ran, sshPathValue);
  } catch (e) {
    return rsyncSshResult(h, argv, { code: null, stderr: (e as Error).message }, sshPathValue);
  }
}

async function hostChecks(config: Config, h: HostConfig, clock: Clock): Promise<DoctorResult[]> {
  const { knownLinesFor } = await import('../adapters/knownhosts.js');
  let known;
  try {
    known = knownLinesFor(readFileSync(h.knownHosts, 'utf8'), h.address, h.port);
  } catch (e) {
    known = (e as Error).message;
  }
  const [ssh, rsync] = await Promise.all([sshChecks(config, h, clock), rsyncSsh(config, h)]);
  return [keyFileResult(h, facts(h.key)), knownHostsResult(h, known), ...ssh, rsync];
}

/** One request that sends no message; the answer's status, or why there was none. Never throws. */
async function ask(url: string, timeoutSec: number, headers: Record<string, string> = {}) {
  try {
    const res = await fetch(url, {
      headers: { ...headers, 'user-agent': 'hactl doctor' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutSec * 1000),
    });
    const body = await res.text().catch(() => '');
    return { status: res.status, body };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why =
      err.name === 'TimeoutError'
        ? `no answer within ${timeoutSec} s`
        : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { error: why };
  }
}

/**
 * Every configured alert channel: its secret is set (token, URL, secretEnv), and it answers a
 * request that sends nothing (Telegram getMe; a GET of the webhook URL). Names only, never a
 * token or a URL's path.
 */
async function channelChecks(config: Config): Promise<DoctorResult[]> {
  const { redact } = await import('../output.js');
  const { webhookUrl } = await import('../adapters/alerts.js');
  const { describeUrl } = await import('../adapters/webhook.js');
  const facts: Array<Promise<ChannelFacts>> = [];
  const tg = config.alerts.telegram;
  if (tg) {
    const { resolveToken } = await import('../adapters/telegram.js');
    const { token, problem } = resolveToken(config);
    const name = 'alerts.telegram';
    if (problem || !token) facts.push(Promise.resolve({ name, problem: problem ?? 'no bot token' }));
    else {
      const { addSecret } = await import('../output.js');
      addSecret(token);
      const root = (tg.apiRoot ?? 'https://api.telegram.org').replace(/\/$/, '');
      facts.push(
        ask(`${root}/bot${token}/getMe`, tg.timeout).then((a) => {
          let detail: string | undefined;
          try {
            const u = (JSON.parse(a.body ?? '') as { result?: { username?: string } }).result?.username;
            if (u) detail = `bot @${u}`;
          } catch {
            /* not JSON: the status says enough */
          }
          return { name, answer: { status: a.status, error: a.error && redact(a.error), detail } };
        }),
      );
    }
  }
  (config.alerts.webhooks ?? []).forEach((w, i) => {
    const url = webhookUrl(w);
    const name = `alerts.webhooks[${i}] (${w.format}${url ? `, ${describeUrl(url)}` : ''})`;
    if (!url) return facts.push(Promise.resolve({ name, problem: `no URL: set ${w.urlEnv ?? 'url'}` }));
    const secret = w.secretEnv ? process.env[w.secretEnv]?.trim() : undefined;
    if (w.secretEnv && !secret)
      return facts.push(Promise.resolve({ name, problem: `${w.secretEnv} is not set (secretEnv)` }));
    const headers = { ...(w.headers ?? {}), ...(secret ? { authorization: `Bearer ${secret}` } : {}) };
    facts.push(
      ask(url, w.timeout ?? 5, headers).then((a) => ({ name, answer: { ...a, error: a.error && redact(a.error) } })),
    );
  });
  return (await Promise.all(facts)).map(channelResult);
}

export async function runDoctor(opts: GlobalOptions, clock: Clock = systemClock()): Promise<number> {
  const out = new Reporter(opts);
  const { loadConfig } = await import('../config/load.js');
  const config = await loadConfig(opts.config); // a ConfigError is exit 78, each problem on its line
  const results: DoctorResult[] = [
    { level: 'pass', host: null, check: 'config', message: `${config.file} loads` },
    ...stateDirResults(config.stateDir, facts(config.stateDir), stateFiles(config.stateDir)),
    lockResult(lockMechanism()),
  ];
  const tokenFile = config.alerts.telegram?.tokenFile;
  if (tokenFile) results.push(secretFileResult(tokenFile, facts(tokenFile)));
  const metrics = config.metrics?.textfile;
  if (metrics) {
    let mode: number | null = null;
    try {
      mode = statSync(metrics).mode;
    } catch {
      /* not written yet */
    }
    const dirs: Array<{ dir: string; mode: number | null }> = [];
    for (let d = dirname(metrics); ; d = dirname(d)) {
      let m: number | null = null;
      try {
        m = statSync(d).mode;
      } catch {
        /* missing: created 0755 by the writer */
      }
      dirs.push({ dir: d, mode: m });
      if (dirname(d) === d) break;
    }
    results.push(metricsFileResult(metrics, mode, dirs));
  }
  out.progress(`checking ${Object.keys(config.hosts).join(', ')}`);
  const [hosts, channels] = await Promise.all([
    Promise.all(Object.values(config.hosts).map((h) => hostChecks(config, h, clock))),
    channelChecks(config),
  ]);
  for (const rs of hosts) results.push(...rs);
  results.push(...channels);
  if (config.postgres) results.push(...(await (await import('../postgres/steps.js')).doctorPostgres(config)));
  const { exitCode, counts, line } = summarizeDoctor(results);
  const shown = opts.quiet ? results.filter((x) => x.level !== 'pass') : results;
  out.summary([...shown.map(formatResult), line].join('\n'), {
    command: 'doctor',
    exitCode,
    summary: line,
    counts,
    results,
  });
  return exitCode;
}
