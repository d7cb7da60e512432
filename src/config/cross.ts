// Checks across keys that a JSON Schema cannot say: the pair names known, different hosts;
// backup tiers with unique names, known hosts in HOST:PATH, `via` between two remote hosts,
// a known upstream. They run even when the schema failed, so every problem is said at once. Pure.
// The guard's lease against its fence lead and the renewal cadence runs on validated data only.
import { permitProblems } from '../fencing/rule.js';

export interface Finding {
  path: string;
  msg: string;
}

const known = (names: string[]) => `(known: ${names.join(', ') || 'none'})`;

export function pairProblems(data: unknown, hostNames: string[]): Finding[] {
  const pair = (data as { pair?: Record<string, unknown> } | null)?.pair;
  if (!pair || typeof pair !== 'object') return [];
  const out: Finding[] = [];
  for (const role of ['primary', 'standby'] as const) {
    const name = pair[role];
    if (typeof name === 'string' && !hostNames.includes(name)) {
      out.push({ path: `/pair/${role}`, msg: `names host '${name}', which is not under hosts ${known(hostNames)}` });
    }
  }
  if (typeof pair.primary === 'string' && pair.primary === pair.standby) {
    out.push({ path: '/pair/standby', msg: `must differ from /pair/primary ('${pair.primary}')` });
  }
  return out;
}

const hostIn = (loc: unknown): string | undefined =>
  typeof loc === 'string' ? /^([A-Za-z0-9][A-Za-z0-9_.-]*):/.exec(loc)?.[1] : undefined;

export function tierProblems(data: unknown, hostNames: string[]): Finding[] {
  const tiers = (data as { backup?: { tiers?: unknown } } | null)?.backup?.tiers;
  if (!Array.isArray(tiers)) return [];
  const out: Finding[] = [];
  const names = tiers.map((t) => (t && typeof t === 'object' ? (t as { name?: unknown }).name : undefined));
  tiers.forEach((t: Record<string, unknown> | null, i) => {
    if (!t || typeof t !== 'object') return;
    const at = `/backup/tiers/${i}`;
    if (typeof t.name === 'string' && names.indexOf(t.name) !== i) {
      out.push({ path: `${at}/name`, msg: `repeats the tier name '${t.name}'` });
    }
    for (const key of ['source', 'destination'] as const) {
      const h = hostIn(t[key]);
      if (h && !hostNames.includes(h)) {
        out.push({ path: `${at}/${key}`, msg: `names host '${h}', which is not under hosts ${known(hostNames)}` });
      }
    }
    const [hs, hd] = [hostIn(t.source), hostIn(t.destination)];
    if (hs && hd && hs !== hd && !t.via) {
      const why = `the key and known_hosts on ${hd} for its SSH to ${hs}`;
      const msg = `copies between two hosts (${hs} -> ${hd}) and needs 'via: {key, knownHosts}': ${why}`;
      out.push({ path: at, msg });
    }
    if (typeof t.upstream === 'string' && !names.includes(t.upstream)) {
      const tiersNamed = names.filter((n) => typeof n === 'string').join(', ');
      out.push({ path: `${at}/upstream`, msg: `names no tier '${t.upstream}' (tiers: ${tiersNamed})` });
    }
  });
  return out;
}

/**
 * A guard section whose lease the guard could not stop within, or which a healthy serving host
 * would outlive between two renewals (src/fencing/rule.ts permitProblems). On validated data only
 * (durations in seconds, defaults filled in).
 */
export function guardProblems(data: unknown): Finding[] {
  const d = data as { guard?: { lease?: unknown; interval?: unknown }; thresholds?: Record<string, unknown> } | null;
  const g = d?.guard;
  const t = d?.thresholds;
  if (!g || !t) return [];
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const [lease, interval] = [num(g.lease), num(g.interval)];
  const [watchInterval, watchWindow, connectTimeout, retryDelay] = [
    num(t.watchInterval),
    num(t.watchWindow),
    num(t.connectTimeout),
    num(t.retryDelay),
  ];
  if ([lease, interval, watchInterval, watchWindow, connectTimeout, retryDelay].some((v) => v === undefined)) return [];
  const msg = permitProblems(
    { lease: lease!, interval: interval! },
    {
      watchInterval: watchInterval!,
      watchWindow: watchWindow!,
      connectTimeout: connectTimeout!,
      retryDelay: retryDelay!,
    },
  );
  return msg ? [{ path: '/guard/lease', msg }] : [];
}
