// Reading the operator's health signals during check: one remote command per host over the
// session the gateway probe opened, beside the probe (src/failover/observe.ts calls `read`), and the
// witness's own state directory. Never throws and never changes a host's status: a read
// that fails is a warning, not a failover reason.
import { statfsSync } from 'node:fs';
import type { Config, Role } from '../config/types.js';
import type { RemoteSession } from '../adapters/ssh.js';
import { healthScript, heartbeatPath } from './scripts.js';
import { parseHealth, type HealthReading } from './parse.js';
import { judgeDisk, judgeHeartbeat, judgeResources, summarizeHealth, type HealthFinding } from './judge.js';

/** The remote deadline of the read: short, it only runs date, stat, df and reads /proc. */
export const READ_TIMEOUT = 10;

export interface HealthReport {
  level: 'ok' | 'warning' | 'critical';
  exitCode: number;
  /** The problems in one summary part, or null. */
  line: string | null;
  findings: HealthFinding[];
}

export class HealthReader {
  private readonly readings = new Map<Role, HealthReading>();
  constructor(private readonly config: Config) {}

  /**
   * Called with each host's open session while its probe runs; resolves to what records the reading
   * (the prober calls it once the probe reached the host). The last recorded read of a role wins.
   */
  read = async (role: Role, session: RemoteSession): Promise<() => void> => {
    const host = this.config.hosts[this.config.pair[role]]!;
    const timeout = Math.min(this.config.thresholds.commandTimeout, READ_TIMEOUT);
    let reading: HealthReading;
    try {
      // Behind the gateway probe when both go through one ssh client (ssh-mux.ts): a slow df never delays it.
      const r = await session.run(healthScript(this.config, host), timeout, { behind: true, what: 'health read' });
      reading = parseHealth(r.stdout);
    } catch {
      reading = { disks: [] }; // judged "could not be read"
    }
    return () => this.readings.set(role, reading);
  };

  report(): HealthReport {
    const { config } = this;
    const findings: HealthFinding[] = [];
    for (const role of ['primary', 'standby'] as const) {
      const r = this.readings.get(role);
      if (!r) continue; // not reached: the probe already says so
      const host = config.hosts[config.pair[role]]!;
      findings.push(judgeHeartbeat(host.name, r, config.heartbeat, heartbeatPath(config, host)));
      if (config.resources.enabled) findings.push(...judgeResources(host.name, r, config.resources));
    }
    if (config.resources.enabled) {
      const d = stateDirDisk(config.stateDir);
      if (d) findings.push(judgeDisk('witness', d, config.resources));
    }
    return { ...summarizeHealth(findings), findings };
  }
}

function stateDirDisk(dir: string) {
  try {
    const s = statfsSync(dir);
    return { label: 'stateDir', sizeKB: (s.blocks * s.bsize) / 1024, availKB: (s.bavail * s.bsize) / 1024 };
  } catch {
    return undefined;
  }
}
