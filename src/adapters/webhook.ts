// One POST of a JSON payload to a webhook URL: a deadline for the whole
// exchange (connect, send, response), no retries (the outbox retries on the
// next run), no redirects (a webhook that redirects could hand the alert to
// another host). A Discord or Slack webhook URL is itself the secret: it is
// registered for redaction, and every message names only its origin.
import { StringDecoder } from 'node:string_decoder';
import { addSecret, redact } from '../output.js';
import { formatBytes } from './bytes.js';
import { cut } from '../alerts/render.js';

/** The most of a webhook's answer that is read: only its first words go into the error. */
export const WEBHOOK_BODY_CAP = 4096;

/** Up to `cap` bytes of a response body, then the rest is cancelled, not read; decoded once, whole characters. */
async function readCapped(res: Response, cap: number): Promise<{ text: string; over: boolean }> {
  const reader = res.body?.getReader();
  if (!reader) return { text: '', over: false };
  const parts: Uint8Array[] = [];
  let n = 0;
  let over = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      n += value.length;
      if (n > cap) {
        over = true;
        break;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return { text: new StringDecoder('utf8').write(Buffer.concat(parts).subarray(0, cap)), over };
}

export interface WebhookResult {
  ok: boolean;
  status?: number;
  /** One line, redacted; set when ok is false. */
  error?: string;
}

/** "https://discord.com/***": enough to tell which service, nothing that works as a credential. */
export function describeUrl(url: string): string {
  try {
    return `${new URL(url).origin}/***`;
  } catch {
    return '(an invalid URL)';
  }
}

/** Register the URL and its path (the token part) as secrets before anything can print them. */
export function registerWebhookSecret(url: string): void {
  addSecret(url);
  try {
    const u = new URL(url);
    addSecret(`${u.pathname}${u.search}`);
    for (const seg of u.pathname.split('/')) if (seg.length >= 16) addSecret(seg);
  } catch {
    /* not a URL: the whole string is registered */
  }
}

export async function postWebhook(
  url: string,
  payload: unknown,
  timeoutSeconds: number,
  headers: Record<string, string> = {},
): Promise<WebhookResult> {
  registerWebhookSecret(url);
  for (const v of Object.values(headers)) addSecret(v);
  const where = describeUrl(url);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'hactl' },
      body: JSON.stringify(payload),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why =
      err.name === 'TimeoutError'
        ? `no answer within ${timeoutSeconds} s`
        : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { ok: false, error: redact(`webhook ${where}: ${why}`) };
  }
  let body = '';
  try {
    const read = await readCapped(res, WEBHOOK_BODY_CAP);
    body = cut(read.text.replace(/\s+/g, ' ').trim(), 200);
    if (read.over) body += ` (answer over ${formatBytes(WEBHOOK_BODY_CAP)} cap, the rest not read)`;
  } catch {
    /* the deadline ran out while reading: the status is what counts */
  }
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  const hint = res.status >= 300 && res.status < 400 ? ' (redirects are not followed: use the final URL)' : '';
  return {
    ok: false,
    status: res.status,
    error: redact(`webhook ${where}: HTTP ${res.status}${hint}${body ? `: ${body}` : ''}`),
  };
}
