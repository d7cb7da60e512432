// Telegram transport: one sendMessage through node-telegram-bot-api, with a
// deadline of seconds and no library retries. The token comes from the
// environment or a 0600 file and is registered for redaction before anything
// can print it. The outbox (state/outbox.ts) keeps alerts until delivered;
// Alerts (adapters/alerts.ts) joins them: queue, decide, deliver to every channel.
import { readFileSync, statSync } from 'node:fs';
import type { Config } from '../config/types.js';
import { addSecret, redact } from '../output.js';
import type { DeliveryResult } from '../state/outbox.js';

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

/**
 * One sendMessage: delivered, refused for good (a 400: this text will never pass), or a
 * temporary failure (429 with retry_after, 5xx, 401/403/409 until fixed, a timeout). Never throws.
 */
export async function sendTelegram(
  config: Config,
  token: string,
  text: string,
): Promise<DeliveryResult & { timeout?: boolean }> {
  const tg = config.alerts.telegram!;
  const { Api } = await import('node-telegram-bot-api');
  const api = new Api(token, { apiRoot: tg.apiRoot, timeoutMs: tg.timeout * 1000, maxRetries: 0, maxRetryAfterMs: 0 });
  try {
    await api.sendMessage({ chat_id: tg.chatId, text } as never);
    return { ok: true };
  } catch (e) {
    const err = e as Error & { errorCode?: number; retryAfter?: number; parameters?: { retry_after?: number } };
    const retryAfter = err.retryAfter ?? err.parameters?.retry_after;
    const message = redact(`${err.name}: ${err.message}`);
    if (err.errorCode === 400) return { ok: false, permanent: true, message };
    return {
      ok: false,
      permanent: false,
      message,
      ...(typeof retryAfter === 'number' ? { retryAfter } : {}),
      ...(err.name === 'TimeoutError' ? { timeout: true } : {}),
    };
  }
}

// The class that delivers through every channel lives beside this transport; its old address is kept.
export { Alerts, type AlertReport } from './alerts.js';
