// Every shell fragment hactl runs on a host, each a named function. Every
// configured value (URL, port, runDir, env keys and values, the operator's own
// commands) enters a script only through shq, so nothing in it is interpreted by
// hactl's script. The operator's `run` and `detached` commands are shell code by
// design: they run as `sh -c <quoted text>`, so they cannot break the script around
// them. Scripts are lines joined by newlines, to stay readable.
import { shq } from './shell.js';

/** Printed after an HTTP body, followed by the status code (000 when nothing answered). */
export const HTTP_MARK = 'HACTL_HTTP_STATUS:';

/** An environment variable name a shell accepts; anything else is refused, never quoted. */
export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class RemoteScriptError extends Error {}

const script = (...lines: string[]): string => lines.join('\n');

/** `export K='v' ...;` for a method's environment. Keys must be shell names: refused otherwise. */
export function envExports(env: Record<string, string> | undefined): string {
  const entries = Object.entries(env ?? {});
  for (const [k] of entries) {
    if (!ENV_KEY.test(k))
      throw new RemoteScriptError(`gateway env key ${JSON.stringify(k)} is not a shell name (${ENV_KEY})`);
  }
  return entries.length ? `export ${entries.map(([k, v]) => `${k}=${shq(v)}`).join(' ')}` : ':';
}

/** The run directory on the host, relative to the login's home. */
const runDirOf = (runDir: string): string => `"$HOME"/${shq(runDir)}`;

/** `up PID`: true while the process exists and is not a zombie. */
const UP_FN = script(
  'up() {',
  '  [ -r /proc/$1/stat ] || { kill -0 "$1" 2>/dev/null; return; }',
  `  case "$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -c1)" in ''|Z|X) return 1;; esac`,
  '  return 0',
  '}',
);

/** The most of a probe's HTTP body that is read (curl --max-filesize; the node fallback stops there too). */
export const HTTP_BODY_CAP = 512 * 1024;
/** curl's exit when the body is over --max-filesize; the node fallback exits with it too. */
export const BODY_OVER_CAP = 63;

/** The node fallback of httpGet, run as `node -e`: prints the body (bytes as they came), then the marker and status. */
function nodeGet(timeoutSec: number): string {
  return script(
    'const u = process.argv[1];',
    "const lib = require(u.startsWith('https') ? 'https' : 'http');",
    `const r = lib.get(u, { timeout: ${timeoutSec * 1000} }, (res) => {`,
    '  const b = []; let n = 0;',
    "  res.on('data', (d) => {",
    `    n += d.length;`,
    `    if (n > ${HTTP_BODY_CAP}) { process.stderr.write('body over cap\\n'); process.exit(${BODY_OVER_CAP}); }`,
    '    b.push(d);',
    '  });',
    `  const end = Buffer.from('\\n${HTTP_MARK}' + res.statusCode + '\\n');`,
    "  res.on('end', () => process.stdout.write(Buffer.concat([...b, end])));",
    '});',
    "r.on('timeout', () => r.destroy(new Error('timeout')));",
    `r.on('error', (e) => { process.stdout.write('\\n${HTTP_MARK}000 ' + e.message + '\\n'); process.exit(7); });`,
  );
}

/**
 * GET `url` on the host (curl, else node): the body, then HTTP_MARK and the status. curl reads no
 * ~/.curlrc (-q, which must come first): a host's own settings (a proxy, an output file) are not the
 * probe's. A body over HTTP_BODY_CAP is refused (exit 63); curl before 8.4 checks only a Content-Length,
 * and the run's own output cap stops the rest (src/adapters/gateway.ts names both).
 */
export function httpGet(url: string, timeoutSec: number): string {
  return script(
    'if command -v curl >/dev/null 2>&1; then',
    `  curl -q -sS -m ${timeoutSec} --max-filesize ${HTTP_BODY_CAP} \\`,
    `    -w ${shq(`\\n${HTTP_MARK}%{http_code}\\n`)} ${shq(url)}`,
    'else',
    `  node -e ${shq(nodeGet(timeoutSec))} ${shq(url)}`,
    'fi',
  );
}

/** The operator's probe command, with the gateway's environment. */
export function probeCommand(run: string, env: Record<string, string>): string {
  return script(envExports(env), `sh -c ${shq(run)}`);
}

/** Printed, with the reason, when a method is absent on the host (its program or its `requires` fails). */
export const ABSENT_MARK = 'HACTL_ABSENT:';

/** What a method needs on the host before it runs: a program found on PATH, a `requires` test that passes. */
export interface Needs {
  program?: string;
  requires?: string;
}

/**
 * The lines that stop a method at once, before it runs, when it cannot work on this host:
 * its program is not on PATH, or its `requires` test fails (absent, not a timeout or a failure).
 */
function absentLines(needs: Needs = {}): string[] {
  const lines: string[] = [];
  if (needs.program) {
    const why = `${ABSENT_MARK} ${needs.program} not found on PATH`;
    lines.push(`command -v ${shq(needs.program)} >/dev/null 2>&1 || { echo ${shq(why)}; exit 3; }`);
  }
  if (needs.requires) {
    lines.push(
      `why=$(sh -c ${shq(needs.requires)} </dev/null 2>&1) || {`,
      `  echo "${ABSENT_MARK} $(printf '%s' "$why" | tail -n 1 | cut -c1-200)"; exit 3; }`,
    );
  }
  return lines;
}

/** A `run` start or stop method: the operator's command from the login's home. */
export function runCommand(run: string, env: Record<string, string>, needs?: Needs): string {
  return script('cd "$HOME" || exit 1', envExports(env), ...absentLines(needs), `sh -c ${shq(run)}`);
}

/** A `detached` start: own session (setsid) so a stop can signal the group; pid and log in runDir. */
export function detachedStart(command: string, runDir: string, env: Record<string, string>, needs?: Needs): string {
  const dir = runDirOf(runDir);
  return script(
    'cd "$HOME" || exit 1',
    envExports(env),
    ...absentLines(needs),
    `mkdir -p ${dir} || exit 1`,
    `setsid nohup sh -c ${shq(`exec ${command}`)} </dev/null >>${dir}/gateway.log 2>&1 &`,
    `echo $! > ${dir}/gateway.pid`,
  );
}

/** Exits 0 while the detached run hactl started is alive; else prints the log's tail and exits 1. */
export function detachedAlive(runDir: string): string {
  const dir = runDirOf(runDir);
  return script(
    UP_FN,
    `p=$(cat ${dir}/gateway.pid 2>/dev/null)`,
    '[ -n "$p" ] && up "$p" && exit 0',
    `echo ${shq(`the detached run exited; last lines of ${runDir}/gateway.log:`)}`,
    `tail -n 5 ${dir}/gateway.log 2>/dev/null`,
    'exit 1',
  );
}

/** How many 0.2 s ticks to wait for a SIGTERM before SIGKILL. */
const ticksOf = (stopWait: number): number => Math.max(1, Math.ceil(stopWait * 5));

/** pidfile stop: SIGTERM to the process group hactl started, wait, then SIGKILL. */
export function pidfileStop(runDir: string, stopWait: number): string {
  const f = `${runDirOf(runDir)}/gateway.pid`;
  return script(
    UP_FN,
    `f=${f}`,
    '[ -f "$f" ] || { echo "no run started by hactl"; exit 3; }',
    'p=$(cat "$f")',
    `case "$p" in ''|*[!0-9]*) rm -f "$f"; echo "bad pid file"; exit 3;; esac`,
    'up "$p" || { rm -f "$f"; echo "the run started by hactl (pid $p) is gone"; exit 3; }',
    'kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p"',
    'i=0',
    `while up "$p" && [ $i -lt ${ticksOf(stopWait)} ]; do sleep 0.2; i=$((i+1)); done`,
    'if up "$p"; then',
    '  kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p"',
    '  echo "pid $p did not stop on SIGTERM: killed"',
    'fi',
    'rm -f "$f"',
  );
}

/** Sets `p` to the pids of the login's own processes listening on `port` (ss, else fuser). */
function portOwners(port: number): string {
  const sport = shq(`sport = :${port}`);
  return script(
    'p=$( {',
    `  ss -Hltnp ${sport} 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2`,
    `  fuser -n tcp ${shq(String(port))} 2>/dev/null | xargs -n1 echo`,
    "} | grep -E '^[0-9]+$' | sort -u | while read q; do [ -O /proc/$q ] && echo $q; done | xargs echo)",
  );
}

/** portOwner stop: SIGTERM the login's processes listening on the gateway port, wait, then SIGKILL. */
export function portOwnerStop(port: number, stopWait: number): string {
  return script(
    UP_FN,
    portOwners(port),
    `[ -n "$p" ] || { echo ${shq(`nothing of this login listens on port ${port}`)}; exit 3; }`,
    'kill -TERM $p',
    'i=0',
    `while [ $i -lt ${ticksOf(stopWait)} ]; do`,
    '  alive=; for q in $p; do up $q && alive=1; done',
    '  [ -z "$alive" ] && break',
    '  sleep 0.2; i=$((i+1))',
    'done',
    'for q in $p; do up $q && { kill -KILL $q; echo "pid $q did not stop on SIGTERM: killed"; }; done',
    'echo "stopped pid(s) $p"',
  );
}

/**
 * Whether the gateway's process is gone, whatever its HTTP answer: nothing listens on
 * its port (ss, else fuser, else a connect to its liveness URL: curl exit 7 is "refused")
 * and the run hactl started is not alive. Prints what still runs; exits 0 only when gone, 2 when
 * it cannot tell (fail closed).
 */
export function gatewayGone(port: number, runDir: string, aliveUrl: string): string {
  const sport = shq(`sport = :${port}`);
  const url = shq(aliveUrl);
  return script(
    UP_FN,
    'left=',
    // ss that fails (an old iproute2 without -H, no /proc/net access) cannot say "no listener":
    // without -H and its header, then "unknown" (exit 2), never "gone" (issue 21 item 11).
    'if command -v ss >/dev/null 2>&1; then',
    `  if o=$(ss -Hltn ${sport} 2>/dev/null); then :`,
    `  elif o=$(ss -ltn ${sport} 2>/dev/null); then o=$(printf '%s\\n' "$o" | sed 1d)`,
    `  else echo ${shq(`unknown: ss failed, cannot tell whether port ${port} has a listener`)}; exit 2; fi`,
    `  [ -n "$o" ] && left=${shq(`a listener on port ${port}`)}`,
    'elif command -v fuser >/dev/null 2>&1; then',
    `  fuser -n tcp ${shq(String(port))} >/dev/null 2>&1 && left=${shq(`a listener on port ${port}`)}`,
    'else',
    `  curl -q -s -o /dev/null -m 2 ${url}; [ $? -eq 7 ] || left=${shq(`a listener on port ${port}`)}`,
    'fi',
    `p=$(cat ${runDirOf(runDir)}/gateway.pid 2>/dev/null)`,
    'case "$p" in \'\'|*[!0-9]*) ;; *) up "$p" && left="$left${left:+, }the run hactl started (pid $p)";; esac',
    '[ -z "$left" ] && exit 0',
    'echo "still running: $left"',
    'exit 1',
  );
}

/**
 * Whether a host can start a gateway, checked without starting one: the run directory
 * can be written, and the programs of the detached start methods are found.
 * Prints `missing: NAME` per program not found; exits 1 when the run directory fails.
 */
export function preflight(runDir: string, programs: string[]): string {
  const dir = runDirOf(runDir);
  return script(
    'cd "$HOME" || { echo "no home directory"; exit 1; }',
    `mkdir -p ${dir} && [ -w ${dir} ] || { echo ${shq(`cannot write ${runDir}`)}; exit 1; }`,
    ...programs.map((p) => `command -v ${shq(p)} >/dev/null 2>&1 || echo ${shq(`missing: ${p}`)}`),
    'exit 0',
  );
}
