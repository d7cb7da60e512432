// Durations in the config: one convention (issue 10). A duration is written with its unit,
// "30s", "5m", "2h", "1d", "1w", "500ms", or combined ("1h30m"). A bare number is still
// read in the key's old unit: seconds everywhere, except backup.tiers[].interval, whose bare
// number means minutes and is deprecated for that reason (a warning says what to write).
// The loader turns every duration into the number the rest of the code has always used
// (seconds, or minutes for a tier's interval), so nothing past the loader changes.
// Pure: no I/O.

import { secretAt } from './secret-path.js';
export type Unit = 's' | 'm';

/** Every duration key, by JSON pointer ('*' for any array index or map key); schema: "x-unit". */
export const DURATIONS: ReadonlyArray<{ path: string; unit: Unit }> = [
  ...['connectTimeout', 'commandTimeout', 'retryDelay', 'verifyDeadline', 'stopDeadline', 'settle', 'pollInterval'].map(
    (k) => ({ path: `/thresholds/${k}`, unit: 's' as const }),
  ),
  ...['cooldown', 'stateMaxAge', 'lockLease', 'healthyFor', 'watchInterval', 'watchWindow'].map((k) => ({
    path: `/thresholds/${k}`,
    unit: 's' as const,
  })),
  { path: '/alerts/telegram/timeout', unit: 's' },
  ...['repeatEvery', 'resolveAfter', 'deadman/timeout', 'webhooks/*/timeout'].map((k) => ({
    path: `/alerts/${k}`,
    unit: 's' as const,
  })),
  ...['interval', 'deadline', 'lastChanceDeadline', 'ioTimeout', 'fullPushEvery', 'watchEvery'].map((k) => ({
    path: `/memory/${k}`,
    unit: 's' as const,
  })),
  { path: '/backup/deadline', unit: 's' },
  { path: '/backup/ioTimeout', unit: 's' },
  { path: '/backup/tiers/*/interval', unit: 'm' },
  { path: '/postgres/timeout', unit: 's' },
  { path: '/postgres/pauseTimeout', unit: 's' },
  { path: '/status/checkEvery', unit: 's' },
  { path: '/heartbeat/warning', unit: 's' },
  { path: '/heartbeat/critical', unit: 's' },
  { path: '/guard/lease', unit: 's' },
  { path: '/guard/interval', unit: 's' },
];

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
export const UNIT_OF: Record<Unit, { ms: number; name: string }> = {
  s: { ms: 1000, name: 'seconds' },
  m: { ms: 60_000, name: 'minutes' },
};
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** "1h30m" -> 5400000 (milliseconds); undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!s || s.length > 32) return undefined;
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== at) return undefined;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

/** 5400000 -> "1h30m"; 1500 -> "1.5s". For messages. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return `${ms}ms`;
  if (ms < 1000 || ms % 1000 !== 0) return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
  let rest = ms;
  let out = '';
  for (const u of ['w', 'd', 'h', 'm', 's']) {
    const n = Math.floor(rest / UNIT_MS[u]!);
    if (n) out += `${n}${u}`;
    rest -= n * UNIT_MS[u]!;
  }
  return out;
}

/** The duration key an instancePath names (e.g. /backup/tiers/3/interval), if any. */
export function durationAt(instancePath: string): { path: string; unit: Unit } | undefined {
  const segs = instancePath.split('/');
  return DURATIONS.find((d) => {
    const p = d.path.split('/');
    return p.length === segs.length && p.every((s, i) => s === '*' || s === segs[i]);
  });
}

export interface DurationFinding {
  path: string;
  msg: string;
}

export const DURATION_HELP = 'a duration such as 30s, 5m, 2h or 1d';

/** Rewrites duration strings in place into the key's unit; bad strings are problems, bare minutes a warning. */
export function normalizeDurations(data: unknown): { problems: DurationFinding[]; warnings: DurationFinding[] } {
  const problems: DurationFinding[] = [];
  const warnings: DurationFinding[] = [];
  for (const d of DURATIONS) {
    const unit = UNIT_OF[d.unit];
    visit(data, d.path.split('/').slice(1), '', (holder, key, path) => {
      const v = holder[key];
      if (typeof v === 'string') {
        const ms = parseDuration(v);
        const found = secretAt(path.split('/').slice(1), v)
          ? 'value not shown: it may hold a secret'
          : `found ${JSON.stringify(v.slice(0, 40))}`;
        const msg = `must be ${DURATION_HELP}, or a number of ${unit.name} (${found})`;
        if (ms === undefined) problems.push({ path, msg });
        else holder[key] = ms / unit.ms;
      } else if (typeof v === 'number' && d.unit !== 's' && Number.isFinite(v) && v > 0) {
        const write = formatDuration(v * unit.ms);
        const msg =
          `a bare number here means ${unit.name}, unlike every other duration (seconds); ` +
          `this is deprecated: write "${write}"`;
        warnings.push({ path, msg });
      }
    });
  }
  return { problems, warnings };
}

type Holder = Record<string, unknown>;

type Leaf = (holder: Holder, key: string, path: string) => void;

function visit(node: unknown, segs: string[], at: string, leaf: Leaf): void {
  if (!node || typeof node !== 'object') return;
  const [head, ...rest] = segs;
  if (head === undefined) return;
  const keys = head === '*' ? Object.keys(node) : Object.prototype.hasOwnProperty.call(node, head) ? [head] : [];
  for (const k of keys) {
    const path = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (rest.length === 0) leaf(node as Holder, k, path);
    else visit((node as Holder)[k], rest, path, leaf);
  }
}
