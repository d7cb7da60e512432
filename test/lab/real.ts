// Real OpenClaw gateways in the lab (issue 5): each simulated host gets the
// real `openclaw` 2026.9.6 under Node 24 (scripts/install-openclaw), its own
// HOME set up with `openclaw setup --baseline`, bound to loopback, on the
// ports a real two-gateway machine uses (18789 and 19789).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Lab, ROOT, waitHttp, type LabHost } from './lab.ts';

const run = promisify(execFile);

/** Installs (or finds) the real openclaw; throws with the reason when it cannot. */
export function ensureOpenclaw(): string {
  if (process.env.HACTL_OPENCLAW) return process.env.HACTL_OPENCLAW;
  try {
    return execFileSync('bash', [join(ROOT, 'scripts/install-openclaw')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .at(-1)!;
  } catch (e) {
    throw new Error(
      'cannot install the real OpenClaw (scripts/install-openclaw failed; is the npm registry reachable?): ' +
        (e as Error).message.split('\n')[0],
      { cause: e },
    );
  }
}

async function oc(openclaw: string, h: LabHost, args: string[]): Promise<void> {
  await run(openclaw, args, { env: { ...process.env, HOME: h.home }, cwd: h.home, timeout: 120_000 });
}

/** A lab whose primary and standby run real gateways (not started yet). */
export async function realLab(): Promise<{ lab: Lab; openclaw: string }> {
  const openclaw = ensureOpenclaw();
  const lab = await Lab.start([
    { name: 'primary', address: '127.0.0.2', gatewayPort: 18789 },
    { name: 'standby', address: '127.0.0.3', gatewayPort: 19789 },
  ]);
  try {
    await Promise.all(
      [...lab.hosts.values()].map(async (h) => {
        rmSync(join(h.home, 'bin', 'openclaw'), { force: true });
        symlinkSync(openclaw, join(h.home, 'bin', 'openclaw'));
        rmSync(h.openclawDir, { recursive: true, force: true });
        await oc(openclaw, h, ['setup', '--baseline']);
        await oc(openclaw, h, ['config', 'set', 'gateway.bind', 'loopback']);
        await oc(openclaw, h, ['config', 'set', 'gateway.port', String(h.gatewayPort)]);
        // An agent that has learned something: memory sync has files to carry.
        mkdirSync(join(h.openclawDir, 'workspace', 'memory'), { recursive: true });
        if (h.name === 'primary')
          writeFileSync(
            join(h.openclawDir, 'workspace', 'MEMORY.md'),
            '# Memory\n\n- the user prefers short answers\n',
          );
      }),
    );
  } catch (e) {
    await lab.stop();
    throw e;
  }
  return { lab, openclaw };
}

/** Starts a host's real gateway the way its operator would (foreground run, detached); waits for /readyz. */
export async function startReal(openclaw: string, h: LabHost): Promise<number> {
  const c = spawn(openclaw, ['gateway', 'run'], {
    detached: true,
    stdio: 'ignore',
    cwd: h.home,
    env: { ...process.env, HOME: h.home, PATH: `${join(h.home, 'bin')}:${process.env.PATH}` },
  });
  c.unref();
  await waitHttp(h.gatewayPort, '/readyz', 90_000);
  return c.pid!;
}

/** What answers on a gateway port: the /readyz status code, or 0 when nothing listens. */
export async function readyz(port: number): Promise<number> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}

export async function startupz(port: number): Promise<unknown> {
  const r = await fetch(`http://127.0.0.1:${port}/startupz`, { signal: AbortSignal.timeout(3000) });
  return r.json();
}

/** SIGKILL a gateway's whole process group (the gateway and its workers): a crash. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Thresholds for real gateways: a cold start takes 10-15 s on 2 cores. */
export const REAL_THRESHOLDS = {
  connectTimeout: 5,
  commandTimeout: 20,
  retryDelay: 2,
  verifyDeadline: 90,
  stopDeadline: 20,
  settle: 2,
  pollInterval: 1,
  cooldown: 0,
  successesBeforeFailback: 1,
  healthyFor: 0,
  lockLease: 600,
};
