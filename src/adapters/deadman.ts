// The dead-man ping: one GET of the operator's monitor URL (healthchecks.io,
// Uptime Kuma push, Cronitor...) after a good run, with a short deadline, no
// retries and no redirects. It never fails the run: a failed ping is one warning
// line, redacted (the URL holds the monitor's token).
import type { DeadmanConfig } from '../config/types.js';
import { shouldPing } from '../alerts/deadman.js';
import { redact } from '../output.js';
import { describeUrl } from './webhook.js';
import { webhookUrl } from './alerts.js';

/** Pings when the run earned it; returns a warning line when the ping failed, else undefined. Never throws. */
export async function pingAfterRun(
  d: DeadmanConfig,
  command: string,
  exitCode: number | undefined,
  env = process.env,
): Promise<string | undefined> {
  if (!shouldPing(d, command, exitCode)) return undefined;
  const url = webhookUrl(d, env);
  if (!url) return `alerts.deadman: no URL (set ${d.urlEnv ?? 'url'}); the dead-man monitor was not pinged`;
  const timeout = d.timeout ?? 5;
  const where = describeUrl(url);
  try {
    const res = await fetch(url, {
      method: 'GET',
      headers: { 'user-agent': 'hactl' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeout * 1000),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return undefined;
    return redact(`dead-man ping ${where} answered HTTP ${res.status}; the run itself is unaffected`);
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    const why = err.name === 'TimeoutError' ? `no answer within ${timeout} s` : (err.cause?.code ?? err.message);
    return redact(`dead-man ping ${where} failed: ${why}; the run itself is unaffected`);
  }
}
