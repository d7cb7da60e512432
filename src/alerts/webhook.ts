// Alert payloads for a generic webhook, in the two shapes chat services accept:
// Discord (content + one embed) and Slack (text + blocks). Pure: no I/O.
//
// An alert carries what seed 003 lists: severity (critical/high/medium/low),
// source, message, timestamp and context. The emoji says the event where there
// is one (the same as hactl's Telegram messages: ⚠️ failover, ✅ back or
// resolved, 🔴 failed or nothing serving), else the severity.
// Text from hosts and configs is not trusted: Discord mentions are disabled,
// Slack's control characters (& < >) are escaped, and every field is cut to the
// service's limit so a long rsync error cannot get the whole message refused.

export type Severity = 'critical' | 'high' | 'medium' | 'low';
export type AlertEvent = 'failover' | 'failback' | 'failed' | 'both-down' | 'resolved' | 'problem' | 'info';
export type ContextValue = string | number | boolean | null;

export interface Alert {
  severity: Severity;
  source: string; // e.g. "hactl check on witness-1"
  message: string;
  at: string; // ISO 8601
  context?: Record<string, ContextValue>;
  event?: AlertEvent;
}

export const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: '🔴',
  high: '🟠',
  medium: '🟡',
  low: 'ℹ️',
};
export const EVENT_EMOJI: Record<AlertEvent, string> = {
  failover: '⚠️',
  failback: '✅',
  failed: '🔴',
  'both-down': '🔴',
  resolved: '✅',
  problem: '⚠️',
  info: 'ℹ️',
};
/** Discord embed colours (24-bit RGB). */
const COLOUR: Record<Severity, number> = { critical: 0xd0021b, high: 0xf5a623, medium: 0xf8e71c, low: 0x4a90e2 };

export function emojiFor(a: Pick<Alert, 'severity' | 'event'>): string {
  return a.event ? EVENT_EMOJI[a.event] : SEVERITY_EMOJI[a.severity];
}

/** Cut to `max` characters (code points, so an emoji is never split), marking the cut. */
export function cut(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

const contextEntries = (a: Alert) =>
  Object.entries(a.context ?? {}).map(([k, v]) => [k, v === null ? '—' : String(v)] as const);

export interface DiscordPayload {
  content: string;
  embeds: Array<{
    title: string;
    description: string;
    color: number;
    timestamp: string;
    footer: { text: string };
    fields: Array<{ name: string; value: string; inline: boolean }>;
  }>;
  allowed_mentions: { parse: never[] };
}

/** Discord: limits 2000 (content), 256 (title), 4096 (description), 25 fields of 256/1024, 2048 (footer). */
export function discordPayload(a: Alert): DiscordPayload {
  const head = `${emojiFor(a)} **${a.severity.toUpperCase()}**`;
  return {
    content: cut(`${head}: ${a.message}`, 2000),
    embeds: [
      {
        title: cut(`${emojiFor(a)} ${a.severity.toUpperCase()}${a.event ? ` · ${a.event}` : ''}`, 256),
        description: cut(a.message, 4096),
        color: COLOUR[a.severity],
        timestamp: a.at,
        footer: { text: cut(a.source, 2048) },
        fields: contextEntries(a)
          .slice(0, 25)
          .map(([k, v]) => ({ name: cut(k, 256), value: cut(v || '—', 1024), inline: v.length <= 40 })),
      },
    ],
    // Text from a host must never ping @everyone or a role.
    allowed_mentions: { parse: [] },
  };
}

/** Slack mrkdwn: &, < and > are control characters (links, mentions); escape them. */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface SlackPayload {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

/** Slack: `text` is the notification fallback; section text <= 3000, up to 10 fields of <= 2000. */
export function slackPayload(a: Alert): SlackPayload {
  const head = `${emojiFor(a)} *${a.severity.toUpperCase()}*`;
  const blocks: Array<Record<string, unknown>> = [
    { type: 'section', text: { type: 'mrkdwn', text: cut(`${head}: ${slackEscape(a.message)}`, 3000) } },
  ];
  const ctx = contextEntries(a).slice(0, 10);
  if (ctx.length) {
    blocks.push({
      type: 'section',
      fields: ctx.map(([k, v]) => ({ type: 'mrkdwn', text: cut(`*${slackEscape(k)}*\n${slackEscape(v)}`, 2000) })),
    });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: cut(`${slackEscape(a.source)} · ${a.at}`, 2000) }],
  });
  return { text: cut(`${emojiFor(a)} ${a.severity.toUpperCase()}: ${a.message}`, 3000), blocks };
}

/** Any other receiver: the seed's fields as they are, plus the event and its emoji. */
export interface GenericPayload {
  source: string;
  message: string;
  severity: Severity;
  timestamp: string;
  context: Record<string, ContextValue>;
  event: AlertEvent | null;
  emoji: string;
}

export function genericPayload(a: Alert): GenericPayload {
  return {
    source: a.source,
    message: a.message,
    severity: a.severity,
    timestamp: a.at,
    context: a.context ?? {},
    event: a.event ?? null,
    emoji: emojiFor(a),
  };
}

export type WebhookFormat = 'discord' | 'slack' | 'generic';

export function webhookPayload(format: WebhookFormat, a: Alert): DiscordPayload | SlackPayload | GenericPayload {
  if (format === 'generic') return genericPayload(a);
  return format === 'discord' ? discordPayload(a) : slackPayload(a);
}
