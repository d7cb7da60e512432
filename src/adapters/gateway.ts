// Everything hactl does to a gateway on a host, as shell scripts run over an
// SshSession. Values from config (URLs, paths, env) are always shell-quoted;
// only the operator's own `run` commands are shell code by design.
import type { GatewayConfig, HttpProbe, Method } from '../config/types.js';
import type { SshSession } from './ssh.js';
import { shq } from './shell.js';

export interface ProbeResult {
  healthy: boolean;
  detail: string;
}

const MARK = 'HACTL_HTTP_STATUS:';

function url(p: HttpProbe, gw: GatewayConfig): string {
  return p.url.replace('{port}', String(gw.port));
}

/** A script that GETs `u` on the host: curl when there, else node. Prints body then a status marker. */
export function httpScript(u: string, timeoutSec: number): string {
  const nodeGet = `const u=process.argv[1];const r=require(u.startsWith('https')?'https':'http').get(u,{timeout:${timeoutSec * 1000}},(res)=>{let b='';res.on('data',(d)=>b+=d);res.on('end',()=>process.stdout.write(b+'\\n${MARK}'+res.statusCode+'\\n'))});r.on('timeout',()=>r.destroy(new Error('timeout')));r.on('error',(e)=>{process.stdout.write('\\n${MARK}000 '+e.message+'\\n');process.exit(7)})`;
  return `if command -v curl >/dev/null 2>&1; then curl -sS -m ${timeoutSec} -w '\\n${MARK}%{http_code}\\n' ${shq(u)}; else node -e ${shq(nodeGet)} ${shq(u)}; fi`;
}

export function judgeHttp(p: HttpProbe, u: string, stdout: string, stderr: string): ProbeResult {
  const i = stdout.lastIndexOf(MARK);
  const status = i >= 0 ? Number(stdout.slice(i + MARK.length).trim().split(/\s/)[0]) : 0;
  const body = (i >= 0 ? stdout.slice(0, i) : stdout).trim();
  if (!status) return { healthy: false, detail: `${u}: no answer (${(stderr.trim().split('\n').pop() || 'not listening').slice(0, 120)})` };
  if (status !== p.status) return { healthy: false, detail: `${u}: HTTP ${status} (want ${p.status}) ${body.slice(0, 120)}` };
  if (p.json) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return { healthy: false, detail: `${u}: HTTP ${status} but the body is not JSON: ${body.slice(0, 80)}` };
    }
    for (const [k, v] of Object.entries(p.json)) {
      if (JSON.stringify(parsed[k]) !== JSON.stringify(v)) return { healthy: false, detail: `${u}: ${k}=${JSON.stringify(parsed[k])} (want ${JSON.stringify(v)})` };
    }
  }
  return { healthy: true, detail: `${u}: HTTP ${status}` };
}

export async function probeHttp(s: SshSession, p: HttpProbe, gw: GatewayConfig, timeoutSec: number): Promise<ProbeResult> {
  const u = url(p, gw);
  const r = await s.run(httpScript(u, Math.max(1, Math.floor(timeoutSec - 1))), timeoutSec);
  if (r.code === 124 || r.code === 137) return { healthy: false, detail: `${u}: probe timed out on the host after ${timeoutSec} s` };
  return judgeHttp(p, u, r.stdout, r.stderr);
}

/** The configured health probe: HTTP and/or command; both must pass when both are set. */
export async function probeHealth(s: SshSession, gw: GatewayConfig, timeoutSec: number): Promise<ProbeResult> {
  const details: string[] = [];
  if (gw.probe.http) {
    const r = await probeHttp(s, gw.probe.http, gw, timeoutSec);
    if (!r.healthy) return r;
    details.push(r.detail);
  }
  if (gw.probe.command) {
    const c = gw.probe.command;
    const r = await s.run(envPrefix(gw.env) + c.run, timeoutSec);
    const out = r.stdout + r.stderr;
    if (r.code !== 0) return { healthy: false, detail: `\`${c.run}\` exited ${r.code ?? r.signal}${r.code === 124 ? ' (timed out on the host)' : ''}: ${lastLine(out)}` };
    if (c.match && !new RegExp(c.match, 'i').test(out)) return { healthy: false, detail: `\`${c.run}\` output does not match /${c.match}/: ${lastLine(out)}` };
    details.push(`\`${c.run}\` ok`);
  }
  return { healthy: true, detail: details.join('; ') || 'no probe configured' };
}

/** The line of a command's output that says why: the last one naming a reason or error, else the last. */
export function lastLine(s: string): string {
  const lines = s.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const why = lines.filter((l) => /reason|error|fail|disabled|denied|refused|not found|no such/i.test(l)).pop();
  return (why ?? lines.pop() ?? '').slice(0, 240);
}

export function envPrefix(env: Record<string, string> | undefined): string {
  const entries = Object.entries(env ?? {});
  return entries.length ? `export ${entries.map(([k, v]) => `${k}=${shq(v)}`).join(' ')}; ` : '';
}

/** The script a start or stop method runs on the host. */
const UP = `up() { [ -r /proc/$1/stat ] || { kill -0 "$1" 2>/dev/null; return; }; case "$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -c1)" in ''|Z|X) return 1;; esac; return 0; }; `;

export function methodScript(m: Method, gw: GatewayConfig, stopWait: number): string {
  const env = envPrefix({ ...gw.env, ...(m.env ?? {}) });
  const dir = `"$HOME"/${shq(gw.runDir)}`;
  if (m.run) return `cd "$HOME" && ${env}${m.run}`;
  if (m.detached) {
    // setsid: own session and process group, so the stop can signal the group.
    return `cd "$HOME" && ${env}mkdir -p ${dir} && (setsid nohup sh -c ${shq(`exec ${m.detached}`)} </dev/null >>${dir}/gateway.log 2>&1 & echo $! > ${dir}/gateway.pid)`;
  }
  const ticks = Math.max(1, Math.ceil(stopWait * 5));
  if (m.portOwner) {
    // The login's own processes listening on the gateway port (ss, else fuser): TERM, wait, KILL.
    const port = String(gw.port);
    const find = `p=$( { ss -Hltnp "sport = :${port}" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2; fuser -n tcp ${port} 2>/dev/null | xargs -n1 echo; } | grep -E '^[0-9]+$' | sort -u | while read q; do [ -O /proc/$q ] && echo $q; done | xargs echo)`;
    return `${UP}${find}; [ -n "$p" ] || { echo "nothing of $(id -un) listens on port ${port}"; exit 3; }; kill -TERM $p; i=0; while [ $i -lt ${ticks} ]; do alive=; for q in $p; do up $q && alive=1; done; [ -z "$alive" ] && break; sleep 0.2; i=$((i+1)); done; for q in $p; do up $q && { kill -KILL $q; echo "pid $q did not stop on SIGTERM: killed"; }; done; echo "stopped pid(s) $p"`;
  }
  // pidfile stop: SIGTERM to the process group, wait, then SIGKILL.
  return `${UP}f=${dir}/gateway.pid; [ -f "$f" ] || { echo "no run started by hactl"; exit 3; }; p=$(cat "$f"); case "$p" in ''|*[!0-9]*) rm -f "$f"; echo "bad pid file"; exit 3;; esac; up "$p" || { rm -f "$f"; echo "the run started by hactl (pid $p) is gone"; exit 3; }; kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p"; i=0; while up "$p" && [ $i -lt ${ticks} ]; do sleep 0.2; i=$((i+1)); done; if up "$p"; then kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p"; echo "pid $p did not stop on SIGTERM: killed"; fi; rm -f "$f"`;
}

export interface MethodResult {
  ok: boolean;
  detail: string;
}

export async function runMethod(s: SshSession, m: Method, gw: GatewayConfig, timeoutSec: number, stopWait: number): Promise<MethodResult> {
  const r = await s.run(methodScript(m, gw, stopWait), timeoutSec);
  const out = (r.stdout + r.stderr).trim();
  if (r.code === 0) return { ok: true, detail: `${m.name}: ok${out ? ` (${lastLine(out)})` : ''}` };
  return { ok: false, detail: `${m.name}: exit ${r.code ?? r.signal}${r.code === 124 ? ' (timed out on the host)' : ''}${out ? `: ${lastLine(out)}` : ''}` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** For a detached run: fails (with the log's tail) once the process hactl started has exited. */
export async function detachedExited(s: SshSession, gw: GatewayConfig, timeoutSec: number): Promise<string | undefined> {
  const dir = `"$HOME"/${shq(gw.runDir)}`;
  const r = await s.run(`${UP}p=$(cat ${dir}/gateway.pid 2>/dev/null); [ -n "$p" ] && up "$p" && exit 0; echo "the detached run exited; last lines of ${gw.runDir}/gateway.log:"; tail -n 5 ${dir}/gateway.log 2>/dev/null; exit 1`, timeoutSec);
  return r.code === 0 ? undefined : (r.stdout + r.stderr).trim().replace(/\s*\n\s*/g, ' | ');
}

/** Polls until `/startupz` says started and the health probe passes, or the deadline. */
export async function waitReady(s: SshSession, gw: GatewayConfig, deadlineSec: number, pollSec: number, timeoutSec: number, gone?: () => Promise<string | undefined>): Promise<ProbeResult & { ms: number }> {
  const t0 = Date.now();
  let last: ProbeResult = { healthy: false, detail: 'not probed' };
  while (true) {
    const died = gone ? await gone() : undefined;
    if (died) return { healthy: false, detail: died, ms: Date.now() - t0 };
    const started = await probeHttp(s, gw.started, gw, timeoutSec);
    last = started.healthy ? await probeHealth(s, gw, timeoutSec) : started;
    if (last.healthy) return { ...last, ms: Date.now() - t0 };
    if (Date.now() - t0 + pollSec * 1000 > deadlineSec * 1000) return { healthy: false, detail: `not ready within ${deadlineSec} s: ${last.detail}`, ms: Date.now() - t0 };
    await sleep(pollSec * 1000);
  }
}

/** Polls until the gateway stops answering its liveness URL, or the deadline. */
export async function waitStopped(s: SshSession, gw: GatewayConfig, deadlineSec: number, pollSec: number, timeoutSec: number): Promise<{ stopped: boolean; detail: string; ms: number }> {
  const t0 = Date.now();
  while (true) {
    const u = url(gw.alive, gw);
    const r = await s.run(httpScript(u, Math.max(1, Math.floor(timeoutSec - 1))), timeoutSec);
    if (!/HACTL_HTTP_STATUS:[1-9]/.test(r.stdout)) return { stopped: true, detail: `${u}: not answering`, ms: Date.now() - t0 };
    if (Date.now() - t0 + pollSec * 1000 > deadlineSec * 1000) return { stopped: false, detail: `${u} still answers after ${deadlineSec} s`, ms: Date.now() - t0 };
    await sleep(pollSec * 1000);
  }
}
