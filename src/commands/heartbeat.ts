// hactl heartbeat [--path FILE] [--host NAME]: runs on a gateway host (its cron, every
// minute) and writes the heartbeat file check reads. No lock, no state, no history: a
// gateway host has no hactl state directory. A config is read only when one is given
// (--config, HACTL_CONFIG) or found at a default path; without one the default path is used.
import type { Command } from 'commander';
import type { GlobalOptions } from '../context.js';
import { systemClock } from '../adapters/clock.js';
import { Reporter } from '../output.js';
import { EXIT } from '../errors.js';
import { VERSION } from '../version.js';
import type { Config } from '../config/types.js';

interface HeartbeatOptions extends GlobalOptions {
  path?: string;
  host?: string;
}

export default async function heartbeat(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as HeartbeatOptions;
  const { findConfigPath, loadConfig } = await import('../config/load.js');
  let config: Config | undefined;
  if (!opts.path) {
    let found: string | undefined;
    try {
      found = findConfigPath(opts.config);
    } catch {
      found = undefined; // no config on this host: the default path
    }
    if (found) config = await loadConfig(found);
  }
  const { localHeartbeatPath, writeHeartbeat } = await import('../health/heartbeat.js');
  const file = localHeartbeatPath(opts, config);
  const now = systemClock().now();
  writeHeartbeat(file, now, VERSION);
  const summary = `heartbeat: ${file} at ${now.toISOString()}`;
  new Reporter(opts).summary(summary, { command: 'heartbeat', exitCode: EXIT.OK, summary, file, at: now });
  return EXIT.OK;
}
