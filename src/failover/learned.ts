// order: learned (issue 12): a host's start methods are tried in the order of their measured
// success on that host, so the method that works there is tried first. Pure: the counts come
// from the history (src/state/history.ts allTimeStats), read by the caller.
// - rate = ok / tried; a higher rate goes first;
// - ties keep the configured order (a stable sort);
// - a method never tried keeps its configured place: only tried methods trade places.
import type { Config } from '../config/types.js';
import type { MethodCount } from '../operator/history-stats.js';

export function orderMethods(methods: string[], stats: Record<string, MethodCount> | undefined): string[] {
  const rate = (m: string): number | undefined => {
    const c = stats?.[m];
    if (c && c.tried > 0) return c.ok / c.tried;
    return c?.absent ? 0 : undefined; // never there on this host: last, like a method that never works
  };
  const slots = methods.map((m, i) => ({ m, i, r: rate(m) }));
  const tried = slots.filter((s) => s.r !== undefined).sort((a, b) => b.r! - a.r! || a.i - b.i);
  let k = 0;
  return slots.map((s) => (s.r === undefined ? s.m : tried[k++]!.m));
}

/** Does any host ask for a learned order? Only then are the stats read. */
export const wantsLearned = (config: Config): boolean =>
  [config.pair.primary, config.pair.standby].some((h) => config.hosts[h]?.gateway.order === 'learned');

/** The config with each `order: learned` host's start methods reordered; the rest unchanged. */
export function withLearnedOrder(config: Config, byHost: Record<string, Record<string, MethodCount>>): Config {
  const hosts = { ...config.hosts };
  for (const [name, h] of Object.entries(config.hosts)) {
    if (h.gateway.order !== 'learned') continue;
    const order = orderMethods(
      h.gateway.start.map((m) => m.name),
      byHost[name],
    );
    const start = order.map((n) => h.gateway.start.find((m) => m.name === n)!);
    hosts[name] = { ...h, gateway: { ...h.gateway, start } };
  }
  return { ...config, hosts };
}
