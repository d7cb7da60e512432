// What hactl has to say, typed at its source, pure. A fold says what happened as an
// event: its kind, its severity, the incident it belongs to (what is wrong and where),
// the hosts, the facts and who asked. The outbox stores events; nothing reads an
// alert's words to learn what happened. Words, emoji and limits are added only when
// an event is rendered for a channel (render.ts), from the one table below.

export type Severity = 'critical' | 'high' | 'medium' | 'low';
export type ContextValue = string | number | boolean | null;

export type EventKind =
  | 'failover-done' // an automatic failover: the primary OFFLINE, the standby took over
  | 'failover-by-hand'
  | 'failover-failed'
  | 'failback-done' // the primary ONLINE again
  | 'failback-failed'
  | 'return-done' // the standby failed while serving: back to the primary
  | 'return-failed'
  | 'restart-done' // the serving gateway was down and the other host too: started again where it was
  | 'restart-failed'
  | 'fence-done' // a second gateway stopped
  | 'fence-failed' // two gateways, and the fence failed
  | 'escalation'
  | 'both-down'
  | 'serving-lost' // the witness cannot reach the serving host (its peer sees it serving)
  | 'standby-lost' // the idle host cannot take over: protection lost
  | 'host-access' // an auth or host-key failure: a host hactl cannot judge
  | 'guard-fenced'
  | 'guard-stop-failed'
  | 'memory-problem'
  | 'memory-ok'
  | 'backup-problem'
  | 'config-broken'
  | 'state-set-aside'
  | 'paused'
  | 'resumed'
  | 'dropped'
  | 'test'
  | 'resolved';

/**
 * open: a condition holds (its incident opens, or goes on); resolve: it no longer holds (said
 * once, only if it was open); notice: an event with no end (a pause, a fence that worked).
 */
export type Phase = 'open' | 'resolve' | 'notice';

export interface HactlEvent {
  kind: EventKind;
  severity: Severity;
  phase: Phase;
  /** The incident: what is wrong and where ("service", "standby-lost:nas"). A notice has none. */
  key?: string;
  hosts: string[];
  /** The operator's words for it, no emoji, no prefix: what happened and why. */
  message: string;
  /** A list the message refers to (invalid files, problems): cut to fit with "and N more". */
  list?: string[];
  facts: Record<string, ContextValue>;
  /** Who asked ("automatic: hactl --auto on w1", "by hand: ann@w1"); absent for observations. */
  by?: string;
  /** ISO time it happened. */
  at: string;
  /** Which run raised it ("hactl failover on w1"), set when it is queued. */
  source?: string;
}

/** The one severity -> emoji table every channel uses; a resolve is ✅ everywhere. */
export const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: '🔴',
  high: '🟠',
  medium: '🟡',
  low: 'ℹ️',
};
export const RESOLVED_EMOJI = '✅';

export function emojiOf(e: Pick<HactlEvent, 'severity' | 'phase'>): string {
  return e.phase === 'resolve' ? RESOLVED_EMOJI : SEVERITY_EMOJI[e.severity];
}

export const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** An event, its optional parts defaulted. */
export function event(
  kind: EventKind,
  severity: Severity,
  phase: Phase,
  message: string,
  at: Date | string,
  more: Partial<Pick<HactlEvent, 'key' | 'hosts' | 'list' | 'facts' | 'by'>> = {},
): HactlEvent {
  return {
    kind,
    severity,
    phase,
    message,
    at: typeof at === 'string' ? at : at.toISOString(),
    hosts: more.hosts ?? [],
    facts: more.facts ?? {},
    ...(more.key !== undefined ? { key: more.key } : {}),
    ...(more.list?.length ? { list: more.list } : {}),
    ...(more.by ? { by: more.by } : {}),
  };
}

/** "The condition behind `key` no longer holds": said only if its incident was open. */
export function resolveEvent(key: string, message: string, at: Date | string, hosts: string[] = []): HactlEvent {
  return event('resolved', 'low', 'resolve', message, at, { key, hosts });
}

/** Incident keys, in one place: what is wrong and where. */
export const KEYS = {
  /** The bot's service away from home: a failover, its failure, an escalation; ends when the primary serves. */
  service: 'service',
  bothDown: 'both-down',
  /** Two gateways and the fence failed; ends when the idle host runs none. */
  twoGateways: 'two-gateways',
  servingLost: (host: string) => `serving-lost:${host}`,
  standbyLost: (host: string) => `standby-lost:${host}`,
  hostAccess: (host: string) => `host-access:${host}`,
  memory: 'memory',
  backup: (tier: string) => `backup:${tier}`,
  config: (file: string) => `config:${file}`,
} as const;

/** "42 s", "12 min", "3.5 h": how long an incident has lasted. */
export function duration(sec: number): string {
  if (sec < 120) return `${Math.round(sec)} s`;
  if (sec < 7200) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3600).toFixed(1)} h`;
}
