// Alerts through node-telegram-bot-api with a deadline of seconds and no
// library retries. An alert is written to the outbox first and removed once
// delivered, so a failed delivery never blocks a failover and is retried on
// the next run. The token comes from the environment or a 0600 file and is
// registered for redaction before anything can print it.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { addSecret, redact } from '../output.js';
import { ensureDir, readJson, writeJson } from '../state/files.js';
import { withFileLock } from '../state/lock.js';
import { randomBytes } from 'node:crypto';

const MAX_PENDING = 20;

interface Pending { id?: string; at: string; text: string; tries: number; lastError?: string }
interface Outbox { version: 1; pending: Pending[] }

export interface AlertReport { sent: number; pending: number; errors: string[] }

export function resolveToken(config: Config, env: NodeJS.ProcessEnv = process.env): { token?: string; problem?: string } {
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
    if (st.mode & 0o077) return { problem: `${tg.tokenFile}: token file must not be readable by group or others (mode ${(st.mode & 0o777).toString(8)}; run chmod 600 ${tg.tokenFile})` };
    const token = readFileSync(tg.tokenFile, 'utf8').trim();
    addSecret(token);
    return token ? { token } : { problem: `${tg.tokenFile}: token file is empty` };
  } catch (e) {
    return { problem: `${tg.tokenFile}: cannot read token file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}

export class Alerts {
  private readonly file: string;
  constructor(private readonly config: Config, private readonly dryRun = false) {
    this.file = join(config.stateDir, 'outbox.json');
  }

  // check, sync-memory and backup-tier hold different command locks and may run at
  // once: every read-modify-write of the outbox is its own short critical section,
  // and no lock is held while a message is on the network.
  private update<T>(fn: (box: Outbox) => T): Promise<T> {
    ensureDir(this.config.stateDir);
    return withFileLock(this.file, async () => {
      const box = (await readJson<Outbox>(this.file, 'outbox')) ?? { version: 1, pending: [] };
      const r = fn(box);
      writeJson(this.file, box);
      return r;
    });
  }

  /** Queue a message and try to deliver everything pending. */
  async send(text: string): Promise<AlertReport> {
    if (this.dryRun) return { sent: 0, pending: 0, errors: [] };
    await this.update((box) => box.pending.push({ id: randomBytes(6).toString('hex'), at: new Date().toISOString(), text: redact(text), tries: 0 }));
    return this.flush();
  }

  /** Deliver what is pending, oldest first; stop at the first failure (same cause for the rest). */
  async flush(): Promise<AlertReport> {
    const todo = ((await readJson<Outbox>(this.file, 'outbox')) ?? { version: 1, pending: [] }).pending;
    const report: AlertReport = { sent: 0, pending: todo.length, errors: [] };
    if (!todo.length || !this.config.alerts.telegram) return report;
    const { token, problem } = resolveToken(this.config);
    const tg = this.config.alerts.telegram;
    let failure = problem;
    const delivered = new Set<string>();
    if (token) {
      const { Api } = await import('node-telegram-bot-api');
      const api = new Api(token, { apiRoot: tg.apiRoot, timeoutMs: tg.timeout * 1000, maxRetries: 0, maxRetryAfterMs: 0 });
      for (const msg of todo) {
        try {
          await api.sendMessage({ chat_id: tg.chatId, text: msg.text } as never);
          delivered.add(key(msg));
          report.sent++;
        } catch (e) {
          failure = redact(`${(e as Error).name}: ${(e as Error).message}`);
          break;
        }
      }
    }
    const tried = new Set(todo.map(key));
    report.pending = await this.update((box) => {
      box.pending = box.pending.filter((m) => !delivered.has(key(m)));
      if (failure) for (const m of box.pending) if (tried.has(key(m))) { m.tries++; m.lastError = failure; }
      capPending(box);
      return box.pending.length;
    });
    if (failure) report.errors.push(`alert not delivered (kept for the next run, ${report.pending} pending): ${failure}`);
    return report;
  }
}

const key = (m: Pending): string => m.id ?? `${m.at}\u0000${m.text}`;

/**
 * Keep the newest MAX_PENDING: a bot that stays unreachable for days must not
 * grow the outbox without end, nor flood the chat when it comes back.
 */
function capPending(box: Outbox): void {
  if (box.pending.length <= MAX_PENDING) return;
  const DROPPED = /^\((\d+) older undelivered alert\(s\) dropped\) /;
  const gone = box.pending.slice(0, box.pending.length - MAX_PENDING);
  box.pending = box.pending.slice(gone.length);
  // Count what earlier caps dropped too, so the note says how many in all.
  let dropped = gone.reduce((n, m) => n + 1 + Number(DROPPED.exec(m.text)?.[1] ?? 0), 0);
  const first = box.pending[0]!;
  dropped += Number(DROPPED.exec(first.text)?.[1] ?? 0);
  box.pending[0] = { ...first, text: `(${dropped} older undelivered alert(s) dropped) ${first.text.replace(DROPPED, '')}` };
}
