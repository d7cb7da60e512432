// Events into words, one renderer per channel, pure. This is the only place an
// event becomes text: the operator's prefix, the emoji from the one severity table
// (events.ts), what it says, who asked, how long an incident lasted. Each channel's
// limits are enforced here (Telegram 4,096; Discord content 2,000, embed title 256,
// description 4,096; Slack section 3,000): a long list is cut with "and N more", a
// long message is cut at a code point (never inside a surrogate pair, so never inside
// a UTF-8 sequence either) and marked "…". Text from hosts and configs is not
// trusted: Discord mentions are disabled, Slack's control characters are escaped.
import { duration, emojiOf, type ContextValue, type HactlEvent, type Severity } from './events.js';

export type { Severity, ContextValue };

export const LIMITS = {
  telegram: 4096,
  discordContent: 2000,
  discordTitle: 256,
  discordDescription: 4096,
  discordFieldName: 256,
  discordFieldValue: 1024,
  discordFooter: 2048,
  slackSection: 3000,
  slackField: 2000,
  generic: 16_000,
} as const;

/**
 * At most `max` UTF-16 units of `s` (the unit Telegram and JavaScript count), cut between
 * code points, the cut marked with "…".
 */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = '';
  for (const ch of s) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** "(lasted 12 min)", "(automatic: hactl --auto on w1)": the tail every channel shows. */
export function tailOf(e: HactlEvent): string {
  const parts: string[] = [];
  if (e.phase === 'resolve' && typeof e.facts.lastedSeconds === 'number') {
    parts.push(`lasted ${duration(e.facts.lastedSeconds)}`);
  }
  if (e.by) parts.push(e.by);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

/**
 * `head + message + list + tail` in at most `max` units: list items dropped from the end for
 * "… and N more", then the message cut; the head and the tail (who asked, how long) always kept.
 */
export function fit(head: string, message: string, list: string[] | undefined, tail: string, max: number): string {
  const items = list ?? [];
  const lines = (k: number) =>
    items
      .slice(0, k)
      .map((i) => `\n• ${i}`)
      .join('') + (k < items.length ? `\n… and ${items.length - k} more` : '');
  const whole = (m: string, k: number) => `${head}${m}${tail}${lines(k)}`;
  if (whole(message, items.length).length <= max) return whole(message, items.length);
  for (let k = items.length - 1; k >= 0; k--) {
    if (whole(message, k).length <= max) return whole(message, k);
  }
  const rest = max - head.length - tail.length - lines(0).length;
  if (rest >= 2) return whole(cut(message, rest), 0);
  return cut(whole(message, 0), max);
}

/** The text of an event as a chat shows it: "[prefix] 🔴 words (who asked)" and its list. */
export function textOf(e: HactlEvent, prefix: string, max: number): string {
  // An outbox from before typed events holds finished text: said as it was.
  const head = e.facts.legacyText === true ? '' : `${prefix ? `${prefix} ` : ''}${emojiOf(e)} `;
  return fit(head, e.message, e.list, tailOf(e), max);
}

/** Telegram: plain text (no parse mode: nothing from a host can format or break it). */
export function telegramText(e: HactlEvent, prefix: string): string {
  return textOf(e, prefix, LIMITS.telegram);
}

/** The short form sent when a channel refuses an event for good (a 400): it must get through. */
export function fallbackEvent(e: HactlEvent, why: string): HactlEvent {
  return {
    ...e,
    message: `${cut(e.message, 300)} [shortened: the full alert was refused (${cut(why, 120)}); hactl history has it]`,
    list: undefined,
  } as HactlEvent;
}

/** Discord embed colours (24-bit RGB). */
const COLOUR: Record<Severity, number> = { critical: 0xd0021b, high: 0xf5a623, medium: 0xf8e71c, low: 0x4a90e2 };
const RESOLVED_COLOUR = 0x7ed321;

const factEntries = (e: HactlEvent) =>
  Object.entries(e.facts).map(([k, v]) => [k, v === null ? '—' : String(v)] as const);

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

/** "hactl on w1 · alert 1a2b3c": the outbox id, so a receiver can drop a repeat (delivery is at least once). */
const origin = (source: string, id: string | undefined) => (id ? `${source} · alert ${id}` : source);

export function discordPayload(e: HactlEvent, prefix: string, source: string, id?: string): DiscordPayload {
  const sev = e.severity.toUpperCase();
  const head = `${prefix ? `${prefix} ` : ''}${emojiOf(e)} **${sev}**: `;
  return {
    content: fit(head, e.message, e.list, tailOf(e), LIMITS.discordContent),
    embeds: [
      {
        title: cut(`${emojiOf(e)} ${sev} · ${e.kind}`, LIMITS.discordTitle),
        description: fit('', e.message, e.list, tailOf(e), LIMITS.discordDescription),
        color: e.phase === 'resolve' ? RESOLVED_COLOUR : COLOUR[e.severity],
        timestamp: e.at,
        footer: { text: cut(origin(source, id), LIMITS.discordFooter) },
        fields: factEntries(e)
          .slice(0, 25)
          .map(([k, v]) => ({
            name: cut(k, LIMITS.discordFieldName),
            value: cut(v || '—', LIMITS.discordFieldValue),
            inline: v.length <= 40,
          })),
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

export function slackPayload(e: HactlEvent, prefix: string, source: string, id?: string): SlackPayload {
  const sev = e.severity.toUpperCase();
  const head = `${prefix ? `${slackEscape(prefix)} ` : ''}${emojiOf(e)} *${sev}*: `;
  const list = e.list?.map(slackEscape);
  const tail = slackEscape(tailOf(e));
  const section = fit(head, slackEscape(e.message), list, tail, LIMITS.slackSection);
  const blocks: Array<Record<string, unknown>> = [{ type: 'section', text: { type: 'mrkdwn', text: section } }];
  const ctx = factEntries(e).slice(0, 10);
  if (ctx.length) {
    blocks.push({
      type: 'section',
      fields: ctx.map(([k, v]) => ({
        type: 'mrkdwn',
        text: cut(`*${slackEscape(k)}*\n${slackEscape(v)}`, LIMITS.slackField),
      })),
    });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: cut(`${slackEscape(origin(source, id))} · ${e.at}`, LIMITS.slackField) }],
  });
  return { text: section, blocks };
}

/** Any other receiver: the event's fields as they are, with its emoji and its rendered text. */
export interface GenericPayload {
  /** The outbox id: the same on every try of this event, so a receiver can drop a repeat. */
  id: string | null;
  source: string;
  kind: string;
  message: string;
  text: string;
  severity: Severity;
  resolved: boolean;
  timestamp: string;
  hosts: string[];
  by: string | null;
  context: Record<string, ContextValue>;
  list: string[];
  emoji: string;
}

export function genericPayload(e: HactlEvent, prefix: string, source: string, id?: string): GenericPayload {
  return {
    id: id ?? null,
    source,
    kind: e.kind,
    message: cut(e.message, LIMITS.generic),
    text: textOf(e, prefix, LIMITS.generic),
    severity: e.severity,
    resolved: e.phase === 'resolve',
    timestamp: e.at,
    hosts: e.hosts,
    by: e.by ?? null,
    context: e.facts,
    list: (e.list ?? []).slice(0, 100),
    emoji: emojiOf(e),
  };
}

export type WebhookFormat = 'discord' | 'slack' | 'generic';

export function webhookPayload(
  format: WebhookFormat,
  e: HactlEvent,
  prefix: string,
  source: string,
  id?: string,
): DiscordPayload | SlackPayload | GenericPayload {
  if (format === 'generic') return genericPayload(e, prefix, source, id);
  return format === 'discord' ? discordPayload(e, prefix, source, id) : slackPayload(e, prefix, source, id);
}
