// Which config values are never printed (a config error names the key, not the value). Pure, and apart
// from locate.ts: durations.ts needs it on every run, and locate.ts brings the YAML library, whose
// initialization cost status, history and pause a few milliseconds each (issue 25).

// Keys whose values are secrets or may carry one (a webhook URL holds its token in its path).
const SECRET_KEY = /url|token|secret|pass|auth|cred|cookie|header|apikey|api_key|dsn|webhook/i;
// A value that looks like a URL or a bot token, whatever key holds it (a URL typed under `format`).
const SECRET_VALUE = /^[a-z][a-z0-9+.-]*:\/\/|^\d{6,}:[\w-]{20,}/i;

/**
 * True when the value at this path must never be printed: its key names a secret-bearing
 * field (URLs, tokens, headers...), a parent is `headers` or `env`, or the value itself looks like a
 * URL or a token. Config errors go to stderr, cron logs, --json and the last-good alert.
 */
export function secretAt(segs: string[], value: unknown): boolean {
  // An `env` map (gateway.env, a start method's env) holds API keys under any name (OPENAI_KEY).
  if (segs.some((s) => SECRET_KEY.test(s) || s === 'env')) return true;
  return typeof value === 'string' && SECRET_VALUE.test(value.trim());
}
