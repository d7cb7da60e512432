// Alerts joins the outbox (state/outbox.ts) to the channels. Every event goes through
// the one incident lifecycle (src/alerts/incident.ts) in the outbox's section; then
// each channel drains its own queue, all channels at once, so one cannot hold up
// another: Telegram and every webhook, each event exactly once, rendered for that
// channel (src/alerts/render.ts). On a channel:
// - a permanent refusal of one event (a 400) sends its short form and moves on;
// - a temporary failure (429 with retry_after, 5xx) is retried with backoff within the
//   run, then left for the next run (a timeout is not retried in the run: it already
//   waited its whole deadline); the channel stops for this run, the others go on.
// Webhook URLs and secrets are registered for redaction first; an event's values are redacted
// before it is rendered (a cut or an escape must never split a secret) and when it is queued.
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { Config, WebhookConfig } from '../config/types.js';
import { LockedError } from '../errors.js';
import { addSecret, redact } from '../output.js';
import { redactValues } from '../state/files.js';
import { redactEvent } from '../alerts/secrets.js';
import { Outbox, type DeliveryResult, type Pending } from '../state/outbox.js';
import { withFileLock } from '../state/lock.js';
import type { AlertPolicy } from '../alerts/incident.js';
import type { HactlEvent } from '../alerts/events.js';
import { fallbackEvent, telegramText, webhookPayload } from '../alerts/render.js';
import { systemClock, type Clock } from './clock.js';
import { resolveToken, sendTelegram } from './telegram.js';
import { postWebhook, registerWebhookSecret } from './webhook.js';

export interface AlertReport {
  /** Events this run delivered (to at least one channel). */
  sent: number;
  pending: number;
  errors: string[];
  /** Per channel: what this run delivered and what failed. */
  channels: Record<string, { sent: number; error?: string }>;
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

/** A temporary failure, with whether it was a timeout (not retried within the run). */
type Sent = DeliveryResult & { timeout?: boolean };

export interface Channel {
  id: string;
  /** What the operator calls it: "telegram", "discord", "slack", "webhook". */
  name: string;
  timeoutMs: number;
  /** Set when it cannot work (no token, no URL): every event waits for it. */
  problem?: string;
  /** `id`: the outbox's, the same on every try, so a receiver can drop a repeat. */
  send(e: HactlEvent, id?: string): Promise<Sent>;
}

/** A webhook's URL from the config or its variable; registered as a secret before anything can print it. */
export function webhookUrl(w: Pick<WebhookConfig, 'url' | 'urlEnv'>, env = process.env): string | undefined {
  const url = w.url ?? (w.urlEnv ? env[w.urlEnv]?.trim() : undefined);
  if (url) registerWebhookSecret(url);
  return url || undefined;
}

/** node:crypto only where a webhook is configured: a run with none need not load it (issue 25). */
const sha256 = (text: string): string =>
  (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto'))
    .createHash('sha256')
    .update(text)
    .digest('hex');

/** "webhook-1a2b3c4d": stable while the URL is, and says nothing of its token. */
export const webhookId = (url: string | undefined, i: number): string =>
  url ? `webhook-${sha256(url).slice(0, 8)}` : `webhook-${i + 1}`;

/** A 400 (bad request), 413 (too large) or 422 (unprocessable) is about this event: it will never pass as it is. */
const permanentStatus = (s: number | undefined) => s === 400 || s === 413 || s === 422;

function webhookChannel(w: WebhookConfig, i: number, config: Config, source: string, env = process.env): Channel {
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
    name: w.format === 'generic' ? 'webhook' : w.format,
    timeoutMs: timeout * 1000,
    problem,
    async send(e, id) {
      const ev = redactEvent(e);
      const payload = redactValues(webhookPayload(w.format, ev, config.alerts.prefix, ev.source ?? redact(source), id));
      const r = await postWebhook(url!, payload, timeout, headers);
      if (r.ok) return { ok: true };
      const message = r.error ?? 'webhook failed';
      if (permanentStatus(r.status)) return { ok: false, permanent: true, message };
      return { ok: false, permanent: false, message, timeout: r.status === undefined && /no answer/.test(message) };
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
      name: 'telegram',
      timeoutMs: tg.timeout * 1000,
      problem,
      send: (e) => sendTelegram(config, token!, redact(telegramText(redactEvent(e), config.alerts.prefix))),
    });
  }
  (config.alerts.webhooks ?? []).forEach((w, i) => out.push(webhookChannel(w, i, config, source, env)));
  return out;
}

/** What keeps a webhook from working (no URL, no secret), said on every run like a missing bot token. */
export function webhookProblems(config: Config, env = process.env): string[] {
  return (config.alerts.webhooks ?? []).flatMap((w, i) => webhookChannel(w, i, config, '', env).problem ?? []);
}

/** In-run retries of a temporary failure (not a timeout), and their backoff. */
const RETRIES = [500, 1500];
/** A retry_after longer than this is left to a later run (the channel waits; the others go on). */
const MAX_INLINE_WAIT_S = 5;
/** Rounds of "drain, release, look again" one run makes on a channel, at most. */
const MAX_ROUNDS = 20;
/** The sender lock's staleness for a holder on another host; on this host a dead holder frees it at once. */
const SENDER_STALE_MS = 30 * 60_000;
/** Tries to record a delivery when the outbox's section stays busy past its wait. */
const RECORD_TRIES = 2;

export class Alerts {
  readonly outbox: Outbox;
  readonly channels: Channel[];
  constructor(
    private readonly config: Config,
    private readonly dryRun = false,
    private readonly clock: Clock = systemClock(),
    readonly source = `hactl on ${hostname()}`,
  ) {
    this.outbox = new Outbox(config.stateDir);
    this.channels = channelsOf(config, source);
  }

  /** Queue events and try to deliver everything pending. */
  async send(events: HactlEvent | HactlEvent[]): Promise<AlertReport> {
    if (this.dryRun) return { sent: 0, pending: 0, errors: [], channels: {} };
    return this.flush(Array.isArray(events) ? events : [events]);
  }

  /**
   * Decide (the lifecycle, reminders and ends included), then let every channel drain its
   * queue. No lock is held while an event is on the network except the channel's own
   * sender lock; each delivery is recorded as soon as it happened.
   */
  async flush(events: HactlEvent[] = []): Promise<AlertReport> {
    const report: AlertReport = { sent: 0, pending: 0, errors: [], channels: {} };
    if (this.dryRun) return report;
    const life = { policy: policyOf(this.config), now: this.clock.now(), source: this.source };
    await this.outbox.prepare(events, life);
    const ids = this.channels.map((c) => c.id);
    const delivered = new Set<string>();
    await Promise.all(this.channels.map((c) => this.drain(c, ids, delivered, report)));
    report.sent = delivered.size;
    report.pending = ids.length ? await this.outbox.settle(ids) : await this.outbox.pending();
    const failed = Object.entries(report.channels).filter(([, r]) => r.error);
    if (failed.length && report.pending) {
      const why = failed.map(([id, f]) => (failed.length > 1 || id !== 'telegram' ? `${id}: ` : '') + f.error);
      report.errors.push(`alert not delivered (kept for the next run, ${report.pending} pending): ${why.join('; ')}`);
    }
    return report;
  }

  /**
   * Queue events without sending them: a fold's events go into the outbox BEFORE the record
   * that says they were raised is written (then flush). A run that dies in between, or an outbox
   * that cannot be written (the error is thrown, not swallowed: the record is then not written
   * and the next run raises them again), never loses an open or a resolve.
   */
  async queue(events: HactlEvent[]): Promise<void> {
    if (this.dryRun || !events.length) return;
    await this.outbox.add(...events.map((e) => (e.source ? e : { ...e, source: this.source })));
  }

  /** One channel: send what it lacks, oldest first, under its sender lock; then look again. */
  private async drain(c: Channel, ids: string[], delivered: Set<string>, report: AlertReport): Promise<void> {
    const mine = (report.channels[c.id] = { sent: 0 } as { sent: number; error?: string });
    if (c.problem) {
      mine.error = c.problem;
      // A failed try on each event it lacks: status says why, and the outbox's cap can drop them.
      await this.outbox.failAll(c.id, c.problem);
      return;
    }
    const skip = new Set<string>();
    // Nothing it lacks: no sender lock to take (a flock(1) fork per channel and run); the same look as
    // the one after a release below, so an event queued meanwhile is its own run's to send.
    if (!(await this.outbox.nextFor(c.id, skip))) return;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let stop = false;
      let holding = false;
      try {
        await withFileLock(
          this.outbox.senderLock(c.id),
          async () => {
            holding = true;
            for (;;) {
              const m = await this.outbox.nextFor(c.id, skip);
              if (!m) return;
              const r = await this.deliver(c, m);
              const unrecorded = await this.recordOrSay(m.id, c.id, r, ids);
              if (unrecorded) {
                // Sent but not on record: the next run sends it again (at least once; the id
                // lets a receiver drop the repeat). Said, and this channel stops for this run.
                mine.error = unrecorded;
                report.errors.push(unrecorded);
                if (r.ok) delivered.add(m.id);
                stop = true;
                return;
              }
              if (r.ok) {
                mine.sent++;
                delivered.add(m.id);
              } else if (r.permanent) {
                skip.add(m.id);
                mine.error = r.message;
              } else {
                mine.error = r.message;
                stop = true; // the same cause would fail the rest: the next run retries
                return;
              }
            }
          },
          0,
          SENDER_STALE_MS,
        );
      } catch (e) {
        // Only a sender lock we could not take means "another run is sending here" (it looks
        // again after it releases); any error once we held it is ours to report.
        if (e instanceof LockedError && !holding) return;
        throw e;
      }
      // Released: an event queued while we held the lock (its run found the lock taken) is ours to send.
      if (stop || !(await this.outbox.nextFor(c.id, skip))) return;
    }
  }

  /** Records a delivery, once more if the outbox's section was busy; the error's words if it never was. */
  private async recordOrSay(
    id: string,
    channel: string,
    r: DeliveryResult,
    ids: string[],
  ): Promise<string | undefined> {
    let last: unknown;
    for (let i = 0; i < RECORD_TRIES; i++) {
      try {
        await this.outbox.record(id, channel, r, ids);
        return undefined;
      } catch (e) {
        if (!(e instanceof LockedError)) throw e;
        last = e;
      }
    }
    const what = r.ok ? 'delivered' : 'tried';
    return `${channel}: alert ${id} ${what} but not recorded (${(last as Error).message}): it may be sent again`;
  }

  /** One event on one channel: its retries, and its short form when the full one is refused for good. */
  private async deliver(c: Channel, m: Pending): Promise<DeliveryResult> {
    let r = await c.send(m.event, m.id);
    for (const backoff of RETRIES) {
      if (r.ok || r.permanent || r.timeout) break;
      const wait = r.retryAfter !== undefined ? r.retryAfter * 1000 : backoff;
      if (wait > MAX_INLINE_WAIT_S * 1000) break;
      await new Promise((res) => setTimeout(res, wait));
      r = await c.send(m.event, m.id);
    }
    if (r.ok) return { ok: true };
    if (!r.permanent) return { ok: false, permanent: false, message: r.message, retryAfter: r.retryAfter };
    const short = await c.send(fallbackEvent(m.event, r.message), m.id);
    return short.ok ? { ok: true, shortened: true } : { ok: false, permanent: true, message: r.message };
  }
}
