// The paths OpenSSH is given (a host's key and known_hosts, a backup tier's `via`): any path works
// (src/adapters/shell.ts quotes it for ssh and for rsync's -e), except what OpenSSH itself cannot
// read in a file path. Refused here, at load (exit 78, naming the key), never at run time after a
// green load. Pure.
import { sshPathProblem } from '../adapters/shell.js';
import type { Finding } from './cross.js';

export function sshPathProblems(data: unknown): Finding[] {
  const out: Finding[] = [];
  const check = (path: string, v: unknown) => {
    const why = typeof v === 'string' ? sshPathProblem(v) : null;
    if (why) out.push({ path, msg: `${JSON.stringify(v)} ${why}: use a path without it` });
  };
  const hosts = (data as { hosts?: unknown } | null)?.hosts;
  if (hosts && typeof hosts === 'object')
    for (const [name, h] of Object.entries(hosts as Record<string, unknown>)) {
      if (!h || typeof h !== 'object') continue;
      for (const k of ['key', 'knownHosts']) check(`/hosts/${name}/${k}`, (h as Record<string, unknown>)[k]);
    }
  const tiers = (data as { backup?: { tiers?: unknown } } | null)?.backup?.tiers;
  if (Array.isArray(tiers))
    tiers.forEach((t: unknown, i) => {
      const via = (t as { via?: unknown } | null)?.via;
      if (!via || typeof via !== 'object') return;
      for (const k of ['key', 'knownHosts']) check(`/backup/tiers/${i}/via/${k}`, (via as Record<string, unknown>)[k]);
    });
  return out;
}
