// Alerts joins the outbox (state/outbox.ts) to the channels: every text goes
// through the lifecycle (src/alerts/lifecycle.ts) in the outbox's section, then
// each claimed message goes to each configured channel that does not have it
// yet: Telegram and every webhook, each exactly once. A channel that fails is
// skipped for the rest of this run (the same cause would fail the rest) and
// retried by the next; the others go on. A message leaves the outbox when every
// channel has it. Webhook URLs and secrets are registered for redaction first.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config, WebhookConfig } from '../config/types.js';
import { addSecret } from '../output.js';
import { CLAIM_MARGIN_MS, Outbox, type Pending } from '../state/outbox.js';
import { classify } from '../alerts/classify.js';
import type { AlertPolicy } from '../alerts/lifecycle.js';
import { webhookPayload, type Alert } from '../alerts/webhook.js';
import { systemClock, type Clock } from './clock.js';
import { resolveToken, sendTelegram, type SendFailure } from './telegram.js';
import { describeUrl, postWebhook, registerWebhookSecret } from './webhook.js';

export interface AlertReport {
  sent: number;
  pending: number;
  errors: string[];
}

export const DEFAULT_POLICY: AlertPolicy = { repeatEvery: 6 * 3600, maxRepeats: 3, resolveAfter: 0 };

export function policyOf(config: Config): AlertPolicy {
  const a = config.alerts;
  return {
    repeatEvery: a.repeatEvery ?? DEFAULT_POLICY.repeatEvery,
    maxRepeats: a.maxRepeats ?? DEFAULT_POLICY.maxRepeats,
    resolveAfter: a.resolveAfter ?? DEFAULT_POLICY.resolveAfter,
  };
}

interface Channel {
  id: string;
  timeoutMs: number;
  /** Set when it cannot work (no token, no URL): every message waits for it. */
  problem?: string;
  send(m: Pending): Promise<SendFailure | undefined>;
}

/** A webhook's URL from the config or its variable; registered as a secret before anything can print it. */
export function webhookUrl(w: Pick<WebhookConfig, 'url' | 'urlEnv'>, env = process.env): string | undefined {
  const url = w.url ?? (w.urlEnv ? env[w.urlEnv]?.trim() : undefined);
  if (url) registerWebhookSecret(url);
  return url || undefined;
}

/** "webhook-1a2b3c4d": stable while the URL is, and says nothing of its token. */
export const webhookId = (url: string | undefined, i: number): string =>
  url ? `webhook-${createHash('sha256').update(url).digest('hex').slice(0, 8)}` : `webhook-${i + 1}`;

/** The structured alert of an outbox message (old messages have only their text). */
export function alertOf(m: Pending, source: string): Alert {
  if (m.alert) return { ...m.alert, at: m.at };
  const s = classify(m.text);
  return { severity: s.severity, event: s.event, message: s.message, source, at: m.at, context: {} };
}

function webhookChannel(w: WebhookConfig, i: number, source: string, env = process.env): Channel {
  const url = webhookUrl(w, env);
  const headers: Record<string, string> = { ...(w.headers ?? {}) };
  for (const v of Object.values(headers)) addSecret(v);
  let problem = url ? undefined : `alerts.webhooks[${i}]: no URL (set ${w.urlEnv ?? 'url'})`;
  if (w.secretEnv) {
    const secret = env[w.secretEnv]?.trim();
    if (secret) {
      addSecret(secret);
      headers.authorization = `Bearer ${secret}`;
    } else problem ??= `alerts.webhooks[${i}]: ${w.secretEnv} is not set`;
  }
  const timeout = w.timeout ?? 5;
  return {
    id: webhookId(url, i),
    timeoutMs: timeout * 1000,
    problem,
    async send(m) {
      const r = await postWebhook(url!, webhookPayload(w.format, alertOf(m, source)), timeout, headers);
      return r.ok ? undefined : { message: r.error ?? `webhook ${describeUrl(url!)} failed` };
    },
  };
}

/** Every configured channel, in order: Telegram first. */
export function channelsOf(config: Config, source: string, env = process.env): Channel[] {
  const out: Channel[] = [];
  const tg = config.alerts.telegram;
  if (tg) {
    const { token, problem } = resolveToken(config, env);
    out.push({
      id: 'telegram',
      timeoutMs: tg.timeout * 1000,
      problem,
      send: (m) => sendTelegram(config, token!, m.text),
    });
  }
  (config.alerts.webhooks ?? []).forEach((w, i) => out.push(webhookChannel(w, i, source, env)));
  return out;
}

/** What keeps a webhook from working (no URL, no secret), said on every run like a missing bot token. */
export function webhookProblems(config: Config, env = process.env): string[] {
  return (config.alerts.webhooks ?? []).flatMap((w, i) => webhookChannel(w, i, '', env).problem ?? []);
}

export class Alerts {
  private readonly outbox: Outbox;
  private readonly channels: Channel[];
  constructor(
    private readonly config: Config,
    private readonly dryRun = false,
    private readonly clock: Clock = systemClock(),
    private readonly source = `hactl on ${hostname()}`,
  ) {
    this.outbox = new Outbox(config.stateDir);
    this.channels = channelsOf(config, source);
  }

  /** Queue a message and try to deliver everything pending. */
  async send(text: string): Promise<AlertReport> {
    if (this.dryRun) return { sent: 0, pending: 0, errors: [] };
    return this.flush(text);
  }

  /**
   * Decide (the lifecycle, reminders and ends included), then deliver what is pending and not
   * being sent by another run, oldest first. No lock is held while a message is on the
   * network; each channel's delivery is recorded as soon as it happened.
   */
  async flush(text?: string): Promise<AlertReport> {
    const report: AlertReport = { sent: 0, pending: 0, errors: [] };
    if (this.dryRun) return report;
    const life = { policy: policyOf(this.config), now: this.clock.now(), source: this.source };
    const ids = this.channels.map((c) => c.id);
    const perMessageMs = this.channels.reduce((a, c) => a + c.timeoutMs + 1000, 0);
    const claim = await this.outbox.claim(perMessageMs, text, life, ids, this.channels.length > 0);
    const failures: Record<string, SendFailure> = {};
    for (const c of this.channels) if (c.problem) failures[c.id] = { message: c.problem };
    for (const m of claim.messages) {
      let reached = false;
      for (const c of this.channels) {
        if (failures[c.id] || claim.blocked.includes(c.id) || m.done?.includes(c.id)) continue;
        // Never start a send that could outlive the claim: another run would then send it too.
        if (Date.now() + c.timeoutMs + 1000 + CLAIM_MARGIN_MS > claim.until) break;
        const f = await c.send(m);
        if (f) failures[c.id] = f;
        else {
          await this.outbox.delivered(claim, m, c.id, ids);
          m.done = [...(m.done ?? []), c.id];
          reached = true;
        }
      }
      if (reached && ids.every((id) => m.done?.includes(id))) report.sent++;
    }
    report.pending = await this.outbox.release(claim, claim.messages.length ? failures : {});
    const failed = Object.entries(failures);
    if (failed.length && report.pending) {
      const why = failed.map(([id, f]) => (failed.length > 1 || id !== 'telegram' ? `${id}: ` : '') + f.message);
      report.errors.push(`alert not delivered (kept for the next run, ${report.pending} pending): ${why.join('; ')}`);
    }
    return report;
  }
}
