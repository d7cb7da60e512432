#!/usr/bin/env node
// A stand-in for the `openclaw` CLI on a simulated host, modelled on what
// OpenClaw 2026.9.6 was measured to do (shared/notes/openclaw.md):
//   gateway run            foreground HTTP listener: /healthz, /readyz, /startupz; / is a 200 HTML page
//   gateway start|stop     "Gateway service disabled." exit 1, unless the lab enables a service
//   gateway status         "Runtime: unknown", exit 0 (up or down); --require-rpc: 0 up / 1 down
// Settings come from $HOME/.openclaw/fake.json (written by the lab; bind: the listen address, default
// 127.0.0.1). Every call is logged.
// Faults: while $HOME/.openclaw/fake-hang exists, the gateway accepts connections and never
// answers (a hung process); FAKE_STARTUP_MS in the environment overrides startupMs (a slow
// start by one start method only); while $HOME/.openclaw/fake-flaky holds N > 0, the next N
// /readyz answers are 503 (a transient failure).
// Polling windows: a `gateway run` appends {event:'start'} to $HOME/.openclaw/poll-windows.log when it is ready
// (it would start polling Telegram then; a hung one still polls) and {event:'stop'} when it exits; a SIGKILL
// leaves no stop, so whoever kills notes it (test/lab/windows.ts).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, unlinkSync, openSync } from 'node:fs';
import { createServer, get } from 'node:http';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const home = process.env.HOME;
const dir = join(home, '.openclaw');
mkdirSync(dir, { recursive: true });
const cfg = existsSync(join(dir, 'fake.json')) ? JSON.parse(readFileSync(join(dir, 'fake.json'), 'utf8')) : {};
const port = Number(cfg.port ?? 18789);
const pidFile = join(dir, 'fake-gateway.pid');
const args = process.argv.slice(2);
appendFileSync(join(dir, 'fake-calls.log'), `${new Date().toISOString()} ${args.join(' ')}\n`);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
function running() {
  if (!existsSync(pidFile)) return 0;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  return pid && alive(pid) ? pid : 0;
}
/** While $HOME/.openclaw/fake-flaky holds a count above 0, /readyz fails once per count. */
function flaky() {
  const f = join(dir, 'fake-flaky');
  if (!existsSync(f)) return false;
  const n = Number(readFileSync(f, 'utf8'));
  if (!(n > 0)) return false;
  writeFileSync(f, String(n - 1));
  return true;
}
function probe(path) {
  return new Promise((resolve) => {
    const r = get({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    r.on('error', () => resolve(0));
    r.on('timeout', () => {
      r.destroy();
      resolve(0);
    });
  });
}

async function main() {
  const [group, verb] = args;
  if (group !== 'gateway') {
    console.error(`fake openclaw: unsupported: ${args.join(' ')}`);
    return 2;
  }
  if (verb === 'run') {
    const other = running();
    if (other) {
      console.error(`another OpenClaw process owns gateway-lifecycle (pid ${other})`);
      return 78;
    }
    if (cfg.failRun) {
      console.error('Missing config');
      return 78;
    }
    writeFileSync(pidFile, String(process.pid));
    const t0 = Date.now();
    const startupMs = Number(process.env.FAKE_STARTUP_MS ?? cfg.startupMs ?? 300);
    const window = (event) =>
      appendFileSync(join(dir, 'poll-windows.log'), JSON.stringify({ event, at: Date.now(), pid: process.pid }) + '\n');
    let polling = false;
    if (!cfg.neverReady)
      setTimeout(() => {
        polling = true;
        window('start');
      }, startupMs);
    process.on('exit', () => polling && window('stop'));
    const started = () => Date.now() - t0 >= startupMs;
    const server = createServer((req, res) => {
      if (existsSync(join(dir, 'fake-hang'))) return; // accepted, never answered
      const json = (code, body) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/readyz' && flaky()) return json(503, { ready: false, flaky: true });
      if (req.url === '/healthz') return json(200, { ok: true, status: 'live' });
      if (req.url === '/readyz')
        return started() && !cfg.neverReady
          ? json(200, { ready: true, host: process.env.LAB_HOST })
          : json(503, { ready: false });
      if (req.url === '/startupz')
        return started() ? json(200, { status: 'started' }) : json(503, { status: 'starting' });
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>OpenClaw Control</title>');
    });
    server.listen(port, cfg.bind ?? '127.0.0.1', () =>
      console.log(`gateway listening on 127.0.0.1:${port} (${process.env.LAB_HOST})`),
    );
    server.on('error', (e) => {
      console.error(e.message);
      process.exit(1);
    });
    const stop = () => {
      try {
        if (Number(readFileSync(pidFile, 'utf8')) === process.pid) unlinkSync(pidFile);
      } catch {
        // the pid file is gone already: nothing to clean up
      }
      server.close();
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    return new Promise(() => {});
  }
  if (verb === 'start') {
    if (!cfg.service) {
      console.log('Gateway service disabled.');
      return 1;
    }
    const out = openSync(join(dir, 'service.log'), 'a');
    spawn(process.execPath, [process.argv[1], 'gateway', 'run'], {
      detached: true,
      stdio: ['ignore', out, out],
    }).unref();
    return 0;
  }
  if (verb === 'stop') {
    if (!cfg.service) {
      console.log('Gateway service disabled.');
      return 1;
    }
    const pid = running();
    if (pid) process.kill(pid, 'SIGTERM');
    return 0;
  }
  if (verb === 'status') {
    console.log('Runtime: unknown');
    if (args.includes('--require-rpc')) return (await probe('/healthz')) === 200 ? 0 : 1;
    return 0;
  }
  console.error(`fake openclaw: unsupported: ${args.join(' ')}`);
  return 2;
}
main().then((code) => {
  if (typeof code === 'number') process.exit(code);
});
