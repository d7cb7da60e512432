// A tier from the config, resolved: its source and destination as a host and
// a path, or a path on the witness (made absolute against the config's folder).
import { isAbsolute, resolve, dirname } from 'node:path';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import type { Location, Resolved } from './types.js';

const trimSlashes = (p: string) => p.replace(/\/+$/, '') || '/';

/** HOST:PATH (HOST a key of hosts) or a local path. */
export function resolveLocation(config: Config, loc: string, key: string): Location {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*):(.*)$/.exec(loc);
  if (m) {
    const host = config.hosts[m[1]!];
    if (!host) {
      const known = Object.keys(config.hosts).join(', ');
      const what = `'${loc}' names host '${m[1]}', which is not under hosts (known: ${known})`;
      throw new ConfigError([`${config.file}: ${key}: ${what}`]);
    }
    return { host, path: trimSlashes(m[2] || '.') };
  }
  return { path: isAbsolute(loc) ? trimSlashes(loc) : resolve(dirname(config.file), loc) };
}

export function findTier(config: Config, name: string): Resolved {
  const tiers = config.backup.tiers;
  const i = tiers.findIndex((t) => t.name === name);
  if (i < 0) {
    const known = tiers.map((t) => t.name).join(', ') || 'none';
    const what = `${config.file}: backup.tiers has no tier '${name}' (known: ${known})`;
    throw new ConfigError([what], 'name a tier from the config');
  }
  const tier = tiers[i]!;
  const src = resolveLocation(config, tier.source, `backup.tiers[${i}].source`);
  const dst = resolveLocation(config, tier.destination, `backup.tiers[${i}].destination`);
  if (src.host && dst.host && src.host.name !== dst.host.name && !tier.via) {
    const hop = `${src.host.name} -> ${dst.host.name}`;
    throw new ConfigError([
      `${config.file}: backup.tiers[${i}] (${name}) copies between two hosts (${hop}): it needs ` +
        `'via: {key, knownHosts}', the key and known_hosts on ${dst.host.name} for its SSH to ${src.host.name}`,
    ]);
  }
  if (tier.upstream && !tiers.some((t) => t.name === tier.upstream)) {
    throw new ConfigError([`${config.file}: backup.tiers[${i}].upstream names no tier '${tier.upstream}'`]);
  }
  return { tier, src, dst };
}
