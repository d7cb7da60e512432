// Observing a host: one SSH session, the health probe, a classification.
import type { Config, HostConfig, Role } from '../config/types.js';
import { SshError, SshSession } from '../adapters/ssh.js';
import { probeHealth } from '../adapters/gateway.js';
import type { Observation } from '../core/model.js';

export async function openSession(config: Config, host: HostConfig): Promise<SshSession> {
  return SshSession.open(host, config.thresholds.connectTimeout, config.thresholds.commandTimeout);
}

/** One probe of one host, never throwing: failures become an observation. */
export async function observe(config: Config, role: Role): Promise<Observation> {
  const host = config.hosts[config.pair[role]]!;
  const t0 = Date.now();
  let session: SshSession | undefined;
  try {
    session = await openSession(config, host);
    const r = await probeHealth(session, host.gateway, config.thresholds.commandTimeout);
    return { status: r.healthy ? 'healthy' : 'gateway-down', detail: r.detail, confirmed: true, ms: Date.now() - t0 };
  } catch (e) {
    if (e instanceof SshError) return { status: e.kind, detail: e.message, confirmed: true, ms: Date.now() - t0 };
    return { status: 'unreachable', detail: `${host.name}: ${(e as Error).message}`, confirmed: true, ms: Date.now() - t0 };
  } finally {
    await session?.close();
  }
}
