// hactl doctor, the pure parts: facts in (modes, known_hosts lines, what a host answered),
// one result per check out, each problem with its fix. No I/O here: doctor.ts gathers.
import type { HostConfig, Method } from '../config/types.js';
import { shArgs, shq } from '../core/shq.js';

export type DoctorLevel = 'pass' | 'warn' | 'fail';
export interface DoctorResult {
  level: DoctorLevel;
  /** The host the check is about; null for the witness and the config. */
  host: string | null;
  check: string;
  message: string;
  fix?: string;
}
export interface FileFacts {
  mode: number;
}
/** The known_hosts lines matching a host (src/adapters/knownhosts.ts knownLinesFor). */
export interface KnownFacts {
  marker: 'cert-authority' | 'revoked' | null;
  hashed: boolean;
  line: number;
}

/** Clock skew beyond this many seconds is a warning. */
export const MAX_SKEW = 30;

const r = (level: DoctorLevel, host: string | null, check: string, message: string, fix?: string): DoctorResult =>
  fix ? { level, host, check, message, fix } : { level, host, check, message };
const octal = (mode: number) => '0' + (mode & 0o777).toString(8).padStart(3, '0');
const target = (h: HostConfig) => `${h.user}@${h.address}:${h.port}`;
/** ssh-keyscan's argv for a host, shown in a fix. */
const keyscan = (h: HostConfig) =>
  `ssh-keyscan ${h.port === 22 ? '' : `-p ${h.port} `}-t ed25519 ${h.address} >> ${shq(h.knownHosts)}`;

export function keyFileResult(h: HostConfig, f: FileFacts | null): DoctorResult {
  if (!f)
    return r(
      'fail',
      h.name,
      'key',
      `private key ${h.key} is missing or unreadable`,
      `ssh-keygen -t ed25519 -N '' -f ${shq(h.key)}, then add ${h.key}.pub to ${h.user}'s authorized_keys on ${h.name}`,
    );
  if (f.mode & 0o077)
    return r(
      'fail',
      h.name,
      'key',
      `private key ${h.key} is mode ${octal(f.mode)}: others can read it, ` +
        "and rsync's ssh (OpenSSH) refuses such a key",
      `chmod 600 ${shq(h.key)}`,
    );
  return r('pass', h.name, 'key', `private key ${h.key} is mode ${octal(f.mode)}`);
}

/** The state directory 0700 and the files in it 0600 (secrets never readable by others). */
export function stateDirResults(dir: string, d: FileFacts | null, files: Array<[string, FileFacts]>): DoctorResult[] {
  if (!d)
    return [r('pass', null, 'state', `state directory ${dir} does not exist yet (the first run creates it 0700)`)];
  const out: DoctorResult[] = [];
  if (d.mode & 0o077)
    out.push(r('warn', null, 'state', `state directory ${dir} is mode ${octal(d.mode)}`, `chmod 700 ${shq(dir)}`));
  const open = files.filter(([, f]) => f.mode & 0o077).map(([name]) => name);
  if (open.length)
    out.push(
      r(
        'warn',
        null,
        'state',
        `${open.length} file(s) in ${dir} readable by others (${open.slice(0, 3).join(', ')})`,
        `chmod 600 ${shArgs(open.map((n) => `${dir}/${n}`))}`,
      ),
    );
  if (!out.length) out.push(r('pass', null, 'state', `state directory ${dir} is mode ${octal(d.mode)}`));
  return out;
}

export function secretFileResult(file: string, f: FileFacts | null): DoctorResult {
  if (!f) return r('fail', null, 'token', `alerts.telegram.tokenFile ${file} is missing`, `create it, mode 0600`);
  if (f.mode & 0o077)
    return r('warn', null, 'token', `token file ${file} is mode ${octal(f.mode)}`, `chmod 600 ${shq(file)}`);
  return r('pass', null, 'token', `token file ${file} is mode ${octal(f.mode)}`);
}

/** What known_hosts says about a host, for hactl's ssh (ssh2) and rsync's (OpenSSH) alike. */
export function knownHostsResult(h: HostConfig, lines: KnownFacts[] | string): DoctorResult {
  if (typeof lines === 'string')
    return r(
      'fail',
      h.name,
      'known_hosts',
      `cannot read ${h.knownHosts}: ${lines}`,
      `create it with the host's key: ${keyscan(h)}`,
    );
  const keys = lines.filter((l) => l.marker === null);
  const cas = lines.filter((l) => l.marker === 'cert-authority');
  const revoked = lines.filter((l) => l.marker === 'revoked');
  const where = (ls: KnownFacts[]) => ls.map((l) => `${l.hashed ? 'hashed ' : ''}line ${l.line}`).join(', ');
  const notes = [
    cas.length
      ? `@cert-authority at ${where(cas)} read (OpenSSH may use it; hactl's ssh2 cannot check certificates)`
      : '',
    revoked.length ? `@revoked at ${where(revoked)}` : '',
  ].filter(Boolean);
  const more = notes.length ? `; ${notes.join('; ')}` : '';
  if (keys.length)
    return r(
      'pass',
      h.name,
      'known_hosts',
      `${keys.length} key(s) for ${h.address}:${h.port} ` + `in ${h.knownHosts} (${where(keys)})${more}`,
    );
  if (cas.length)
    return r(
      'fail',
      h.name,
      'known_hosts',
      `only a @cert-authority line (${where(cas)}) covers ` +
        `${h.address}:${h.port}: hactl's ssh (ssh2) cannot check host certificates, so it would refuse the host`,
      `add the host's own key too: ${keyscan(h)} (compare its fingerprint with ` +
        '`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host)',
    );
  return r(
    'fail',
    h.name,
    'known_hosts',
    `no key for ${h.address}:${h.port} in ${h.knownHosts}${more}`,
    `${keyscan(h)} (compare its fingerprint with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on the host)`,
  );
}

const REACH_FIX: Record<string, (h: HostConfig) => string> = {
  unreachable: (h) => `check hosts.${h.name}.address and port, and that sshd runs on ${h.name}`,
  'ssh-timeout': (h) => `${h.address}:${h.port} accepts but SSH does not finish: check sshd and firewalls there`,
  'auth-failure': (h) =>
    `add ${h.key}.pub to ${h.user}'s ~/.ssh/authorized_keys on ${h.name} ` +
    `(ssh-copy-id -i ${shq(`${h.key}.pub`)} -p ${h.port} ${h.user}@${h.address})`,
  'hostkey-failure': (h) =>
    `verify the host's key out of band, then replace its line: ` +
    `ssh-keygen -R '[${h.address}]:${h.port}' -f ${shq(h.knownHosts)}; ${keyscan(h)}`,
};

export function reachResult(h: HostConfig, failure: { kind: string; message: string } | null, ms: number) {
  if (!failure) return r('pass', h.name, 'ssh', `${target(h)} answered in ${Math.round(ms)} ms (hactl's ssh, ssh2)`);
  return r('fail', h.name, 'ssh', failure.message, (REACH_FIX[failure.kind] ?? REACH_FIX.unreachable!)(h));
}

const WRAPPERS = ['exec', 'env', 'nohup', 'sudo', 'setsid', 'command'];

/** The program words of a shell command: the first word of each simple command, env settings skipped. */
export function commandWords(text: string): string[] {
  const words: string[] = [];
  for (const seg of text.split(/;|&&|\|\||\||\n/)) {
    const toks = seg
      .trim()
      .split(/\s+/)
      .filter((t) => t && t !== 'export' && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(t));
    const w = toks.find((t) => !WRAPPERS.includes(t)); // `nohup openclaw run` needs openclaw
    if (w && /^[A-Za-z0-9_./+-]+$/.test(w)) words.push(w);
  }
  return [...new Set(words)];
}

/** What doctor asks each host for: timeout, rsync, curl/node, and the start methods' programs. */
export function neededWords(h: HostConfig): string[] {
  const methods = h.gateway.start.flatMap((m) => commandWords(m.run ?? m.detached ?? ''));
  const probe = h.gateway.probe.command ? commandWords(h.gateway.probe.command.run) : [];
  return [...new Set(['timeout', 'rsync', 'curl', 'node', ...methods, ...probe])];
}

/** What a host's PATH offers (found), or 'no-timeout' when even the remote deadline wrapper is missing. */
export function commandResults(h: HostConfig, found: ReadonlySet<string> | 'no-timeout'): DoctorResult[] {
  if (found === 'no-timeout')
    return [
      r(
        'fail',
        h.name,
        'commands',
        `\`timeout\` is not in the PATH of a non-interactive SSH login on ` +
          `${h.name}: every remote command hactl runs is wrapped in \`timeout -k\` (nothing else could be checked)`,
        `install coreutils on ${h.name} (apt-get install coreutils; on macOS: brew install coreutils)`,
      ),
    ];
  const out: DoctorResult[] = [];
  const missing = (w: string) => !found.has(w);
  const fail = (msg: string, fix: string) => out.push(r('fail', h.name, 'commands', msg, fix));
  const sshPath = `in the PATH of a non-interactive SSH login on ${h.name}`;
  if (missing('timeout')) fail(`\`timeout\` is not ${sshPath}`, `install coreutils on ${h.name}`);
  if (missing('rsync'))
    fail(
      `\`rsync\` is not ${sshPath}: sync-memory and failback's copy need it`,
      `install rsync on ${h.name} (apt-get install rsync; on macOS: brew install rsync)`,
    );
  if (missing('curl') && missing('node'))
    fail(`neither \`curl\` nor \`node\` is ${sshPath}: the HTTP probe cannot run`, `install curl on ${h.name}`);
  const unusable = (m: Method) => commandWords(m.run ?? m.detached ?? '').filter(missing);
  const methods = h.gateway.start.map((m) => ({ name: m.name, lacks: unusable(m) }));
  const lacking = methods.filter((m) => m.lacks.length);
  const say = (ms: typeof methods) => ms.map((m) => `${m.name} lacks ${m.lacks.join(', ')}`).join('; ');
  if (methods.length && lacking.length === methods.length)
    fail(
      `no start method can run on ${h.name} (${say(lacking)})`,
      `install OpenClaw on ${h.name} where a non-interactive SSH login finds \`openclaw\` (sshd's PATH, ` +
        'not your shell profile), or change gateway.start',
    );
  const probe = h.gateway.probe.command ? commandWords(h.gateway.probe.command.run).filter(missing) : [];
  if (probe.length)
    fail(`the probe command needs ${probe.join(', ')}, not ${sshPath}`, `install it, or change gateway.probe`);
  if (!out.length) {
    const note = lacking.length ? `; start methods skipped there: ${say(lacking)}` : '';
    out.push(r('pass', h.name, 'commands', `found ${[...found].sort().join(', ')}${note}`));
  }
  return out;
}

export function skewResult(h: HostConfig, skew: number, limit = MAX_SKEW): DoctorResult {
  const s = Math.round(skew);
  const how = `${Math.abs(s)} s ${s >= 0 ? 'ahead of' : 'behind'} the witness's`;
  if (Math.abs(skew) <= limit) return r('pass', h.name, 'clock', `clock ${how} (limit ${limit} s)`);
  return r(
    'warn',
    h.name,
    'clock',
    `clock ${how}: history, alerts and logs disagree ` +
      "(heartbeat ages are read by the host's own clock and stay right)",
    `enable NTP on ${h.name} and on the witness (timedatectl set-ntp true)`,
  );
}

/**
 * hactl passes `-F none` to rsync's ssh: checked on the argv it builds, and by running it. `quote` is
 * how a path is written as an OpenSSH option value (adapters/shell.ts sshPathValue; plain paths as is).
 */
export function rsyncSshResult(
  h: HostConfig,
  argv: string[],
  ran: { code: number | null; stderr: string },
  quote: (path: string) => string = (p) => p,
) {
  const has = (...seq: string[]) => argv.some((_, i) => seq.every((s, j) => argv[i + j] === s));
  const same =
    has('-F', 'none') &&
    has('-p', String(h.port)) &&
    has('-o', `IdentityFile=${quote(h.key)}`) &&
    has('-l', h.user) &&
    has('-o', `UserKnownHostsFile=${quote(h.knownHosts)}`) &&
    has('-o', 'StrictHostKeyChecking=yes');
  if (!same)
    return r(
      'fail',
      h.name,
      'rsync-ssh',
      `rsync's ssh no longer runs with -F none and hactl's key, port, user ` + `and known_hosts (${argv.join(' ')})`,
      'a hactl defect: src/adapters/rsync.ts sshArgv; please report it',
    );
  if (ran.code === 0)
    return r(
      'pass',
      h.name,
      'rsync-ssh',
      "rsync's ssh (OpenSSH) runs with -F none: neither it nor hactl's ssh2 " +
        `reads ~/.ssh/config; it reaches ${target(h)} with the same key, known_hosts and strict host keys`,
    );
  const err = ran.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit ${ran.code}`;
  const fix = /UNPROTECTED|bad permissions/i.test(ran.stderr)
    ? `chmod 600 ${shq(h.key)}`
    : /host key|known_hosts|REMOTE HOST IDENTIFICATION/i.test(ran.stderr)
      ? REACH_FIX['hostkey-failure']!(h)
      : /Permission denied/i.test(ran.stderr)
        ? REACH_FIX['auth-failure']!(h)
        : REACH_FIX.unreachable!(h);
  return r('fail', h.name, 'rsync-ssh', `rsync's ssh (OpenSSH, -F none) cannot reach ${target(h)}: ${err}`, fix);
}

const RANK: Record<DoctorLevel, number> = { pass: 0, warn: 1, fail: 2 };
const LABEL: Record<DoctorLevel, string> = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL' };

/** One line per result: level, host, check, what was found, and the fix. */
export function formatResult(x: DoctorResult): string {
  return (
    `${LABEL[x.level]} ${(x.host ?? '-').padEnd(10)} ${x.check.padEnd(11)} ${x.message}` +
    (x.fix ? ` -- fix: ${x.fix}` : '')
  );
}

/** Exit 0 all pass, 1 warnings, 2 failures; and the one summary line. */
export function summarizeDoctor(results: DoctorResult[]) {
  const count = (l: DoctorLevel) => results.filter((x) => x.level === l).length;
  const counts = { pass: count('pass'), warn: count('warn'), fail: count('fail') };
  const exitCode = results.reduce((a, x) => Math.max(a, RANK[x.level]), 0);
  const line = exitCode
    ? `doctor: ${counts.fail} failure(s), ${counts.warn} warning(s), ${counts.pass} check(s) passed`
    : `doctor: all ${counts.pass} checks passed`;
  return { exitCode, counts, line };
}
