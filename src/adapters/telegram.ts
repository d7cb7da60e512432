// Telegram transport: one sendMessage through node-telegram-bot-api, with a
// deadline of seconds and no library retries. The token comes from the
// environment or a 0600 file and is registered for redaction before anything
// can print it. The outbox (state/outbox.ts) keeps alerts until delivered;
// Alerts joins the two: queue, then deliver what this run has claimed.
import { readFileSync, statSync } from 'node:fs';
import type { Config } from '../config/types.js';
import { addSecret, redact } from '../output.js';
import { CLAIM_MARGIN_MS, Outbox } from '../state/outbox.js';

export interface AlertReport {
  sent: number;
  pending: number;
  errors: string[];
}

export function resolveToken(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): { token?: string; problem?: string } {
  const tg = config.alerts.telegram;
  if (!tg) return { problem: 'no alerts.telegram in the config' };
  const fromEnv = env[tg.tokenEnv];
  if (fromEnv) {
    addSecret(fromEnv);
    return { token: fromEnv.trim() };
  }
  if (!tg.tokenFile) return { problem: `no bot token: set ${tg.tokenEnv} or alerts.telegram.tokenFile` };
  try {
    const st = statSync(tg.tokenFile);
    if (st.mode & 0o077) {
      const mode = (st.mode & 0o777).toString(8);
      const fix = `mode ${mode}; run chmod 600 ${tg.tokenFile}`;
      return { problem: `${tg.tokenFile}: token file must not be readable by group or others (${fix})` };
    }
    const token = readFileSync(tg.tokenFile, 'utf8').trim();
    addSecret(token);
    return token ? { token } : { problem: `${tg.tokenFile}: token file is empty` };
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return { problem: `${tg.tokenFile}: cannot read token file: ${why}` };
  }
}

/** A failed delivery, said without the token; `retryAfter` when Telegram asked us to wait (429). */
export interface SendFailure {
  message: string;
  retryAfter?: number;
}

/** Sends one message; resolves undefined when delivered, or the failure. Never throws. */
export async function sendTelegram(config: Config, token: string, text: string): Promise<SendFailure | undefined> {
  const tg = config.alerts.telegram!;
  const { Api } = await import('node-telegram-bot-api');
  const api = new Api(token, { apiRoot: tg.apiRoot, timeoutMs: tg.timeout * 1000, maxRetries: 0, maxRetryAfterMs: 0 });
  try {
    await api.sendMessage({ chat_id: tg.chatId, text } as never);
    return undefined;
  } catch (e) {
    const err = e as Error & { retryAfter?: number; parameters?: { retry_after?: number } };
    const retryAfter = err.retryAfter ?? err.parameters?.retry_after;
    const message = redact(`${err.name}: ${err.message}`);
    return { message, retryAfter: typeof retryAfter === 'number' ? retryAfter : undefined };
  }
}

export class Alerts {
  private readonly outbox: Outbox;
  constructor(
    private readonly config: Config,
    private readonly dryRun = false,
  ) {
    this.outbox = new Outbox(config.stateDir);
  }

  /** Queue a message and try to deliver everything pending. */
  async send(text: string): Promise<AlertReport> {
    if (this.dryRun) return { sent: 0, pending: 0, errors: [] };
    return this.flush(text);
  }

  /**
   * Deliver what is pending and not being sent by another run, oldest first; stop at the
   * first failure (the same cause would fail the rest). No lock is held while a message
   * is on the network; each one leaves the outbox as soon as it was delivered.
   */
  async flush(text?: string): Promise<AlertReport> {
    const report: AlertReport = { sent: 0, pending: 0, errors: [] };
    if (this.dryRun) return report;
    const tg = this.config.alerts.telegram;
    if (!tg) {
      if (text !== undefined) await this.outbox.add(text);
      return { ...report, pending: await this.outbox.pending() };
    }
    const { token, problem } = resolveToken(this.config);
    const perMessageMs = tg.timeout * 1000 + 1000;
    const claim = await this.outbox.claim(perMessageMs, text);
    let failure: SendFailure | undefined = problem ? { message: problem } : undefined;
    if (token && claim.messages.length) {
      for (const m of claim.messages) {
        // Never start a send that could outlive the claim: another run would then send it too.
        if (Date.now() + perMessageMs + CLAIM_MARGIN_MS > claim.until) break;
        failure = await sendTelegram(this.config, token, m.text);
        if (failure) break;
        await this.outbox.delivered(claim, m);
        report.sent++;
      }
    }
    const why = claim.messages.length ? failure?.message : undefined;
    report.pending = await this.outbox.release(claim, why, failure?.retryAfter);
    if (failure && report.pending) {
      report.errors.push(`alert not delivered (kept for the next run, ${report.pending} pending): ${failure.message}`);
    }
    return report;
  }
}
