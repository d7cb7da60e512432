// Observing a host: one SSH session, the health probe, a classification.
import type { Config, HostConfig, Role } from '../config/types.js';
import { SshError, SshSession } from '../adapters/ssh.js';
import { probeHealth } from '../adapters/gateway.js';
import type { Observation } from '../core/model.js';

export async function openSession(config: Config, host: HostConfig): Promise<SshSession> {
  return SshSession.open(host, config.thresholds.connectTimeout, config.thresholds.commandTimeout);
}

/** One probe of one host, never throwing: failures become an observation. */
export async function observe(config: Config, role: Role, prober = new Prober(config)): Promise<Observation> {
  try {
    return await prober.observe(role);
  } finally {
    await prober.close();
  }
}

/**
 * Probes hosts, keeping a session open after a "gateway down" so that the
 * confirming retry reuses it (a new SSH handshake costs ~150 ms). A reused
 * session still proves the host answers: opening a channel needs the server.
 */
export class Prober {
  private sessions = new Map<Role, SshSession>();
  constructor(private readonly config: Config) {}

  async observe(role: Role): Promise<Observation> {
    const host = this.config.hosts[this.config.pair[role]]!;
    const t0 = Date.now();
    let session = this.sessions.get(role);
    this.sessions.delete(role);
    try {
      session ??= await openSession(this.config, host);
      const r = await probeHealth(session, host.gateway, this.config.thresholds.commandTimeout);
      if (!r.healthy) {
        this.sessions.set(role, session);
        session = undefined;
      }
      return { status: r.healthy ? 'healthy' : 'gateway-down', detail: r.detail, confirmed: true, ms: Date.now() - t0 };
    } catch (e) {
      if (e instanceof SshError) return { status: e.kind, detail: e.message, confirmed: true, ms: Date.now() - t0 };
      return { status: 'unreachable', detail: `${host.name}: ${(e as Error).message}`, confirmed: true, ms: Date.now() - t0 };
    } finally {
      await session?.close();
    }
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}
