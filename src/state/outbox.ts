// The alert outbox: alerts are written here first and removed once delivered,
// so a failed delivery never blocks an action and is retried by a later run.
// Exactly once under concurrent runs: a run claims the messages it will send
// (a lease, in a short critical section), sends them with no lock held, and
// removes each one as soon as it was delivered. Another run skips claimed
// messages until the claim's lease runs out (its holder died). A sender stops
// before its claim could run out mid-send, so a live claim is never re-sent.
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureDir, readJson, writeJson } from './files.js';
import { withFileLock } from './lock.js';
import { redact } from '../output.js';
import { setAsideText } from '../alerts/protection.js';
import { classify } from '../alerts/classify.js';
import { decideSignal, tick, type AlertPolicy, type Ledger, type Outgoing } from '../alerts/lifecycle.js';
import type { AlertEvent, ContextValue, Severity } from '../alerts/webhook.js';

export const MAX_PENDING = 20;
const SECTION_WAIT_MS = 30_000;
/**
 * A sender stops when less than one send plus this is left of its claim: the delivery is then
 * always recorded (one section wait) before the claim ends. Claims get 10 s more than that.
 */
export const CLAIM_MARGIN_MS = SECTION_WAIT_MS + 5000;

export interface Pending {
  id?: string;
  at: string;
  text: string;
  tries: number;
  lastError?: string;
  claim?: { by: string; until: string };
  /** Queued, not yet through the lifecycle (src/alerts/lifecycle.ts): the next run with a config decides. */
  raw?: true;
  /** What the lifecycle made of it: the seed's fields besides the text. */
  alert?: {
    severity: Severity;
    event: AlertEvent;
    message: string;
    source: string;
    context: Record<string, ContextValue>;
  };
  /** Channels it was delivered to; it leaves the outbox when every configured channel has it. */
  done?: string[];
}
interface Box {
  version: 1;
  pending: Pending[];
  /** Per channel: nothing is sent to it before this time (Telegram's 429 retry_after). A string: Telegram's. */
  notBefore?: string | Record<string, string>;
  /** The lifecycle's open incidents and recent notices. */
  incidents?: Ledger;
}

/** What the lifecycle needs inside the section: its policy, the clock's time, who raises the alerts. */
export interface LifecycleInput {
  policy: AlertPolicy;
  now: Date;
  source: string;
}

/** Until when a channel must not be sent to, in ms (0: now). */
export function channelNotBefore(box: Pick<Box, 'notBefore'>, channel: string): number {
  const nb = typeof box.notBefore === 'string' ? { telegram: box.notBefore } : (box.notBefore ?? {});
  return nb[channel] ? new Date(nb[channel]).getTime() : 0;
}

export interface Claim {
  by: string;
  messages: Pending[];
  /** Wall time (ms) until which these messages are ours. */
  until: number;
  /** Channels that asked us to wait (429): nothing goes to them this run. */
  blocked: string[];
}

const key = (m: Pending): string => m.id ?? `${m.at}\u0000${m.text}`;

export class Outbox {
  readonly file: string;
  constructor(private readonly stateDir: string) {
    this.file = join(stateDir, 'outbox.json');
  }

  // Sections are a read, a change and an atomic write: milliseconds each. The wait is long
  // because 50 runs starting at once on two cores queue here; an alert must not be lost to it.
  private async update<T>(fn: (box: Box) => T): Promise<T> {
    ensureDir(this.stateDir);
    await import('./recover.js'); // loaded before the section, not while 49 other runs wait for it
    return withFileLock(
      this.file,
      async () => {
        const box = (await this.read()) ?? { version: 1, pending: [] };
        const r = fn(box);
        writeJson(this.file, box);
        return r;
      },
      SECTION_WAIT_MS,
    );
  }

  /**
   * The box, inside a section. A corrupt one is set aside (kept as outbox.json.corrupt-<time>)
   * and replaced by a box holding one alert that says so: the alerts it held may be lost, and
   * the channel must not stay blocked by it.
   */
  private async read(): Promise<Box | undefined> {
    const { readOrSetAside } = await import('./recover.js');
    const r = await readOrSetAside<Box>(this.file, 'outbox', new Date());
    if (!r.setAside?.to) return r.data;
    const box: Box = { version: 1, pending: [] };
    const then = 'alerts it held may not have been delivered (read them there)';
    this.push(box, setAsideText('hactl:', this.file, r.setAside.why, r.setAside.to, then));
    return box;
  }

  async pending(): Promise<number> {
    try {
      return ((await readJson<Box>(this.file, 'outbox')) ?? { pending: [] }).pending.length;
    } catch {
      return 0; // a corrupt box is set aside by the next section
    }
  }

  /** Queue a text; the lifecycle decides at the next claim (a run with the config's policy). */
  add(text: string): Promise<void> {
    return this.update((box) => this.push(box, text));
  }

  private push(box: Box, text: string): void {
    const id = randomBytes(6).toString('hex');
    box.pending.push({ id, at: new Date().toISOString(), text: redact(text), tries: 0, raw: true });
    capPending(box);
  }

  /** Runs every raw text through the lifecycle, in order, then lets time pass (reminders, ends). */
  private decide(box: Box, life: LifecycleInput): void {
    let ledger = box.incidents ?? {};
    const next: Pending[] = [];
    const entry = (o: Outgoing, id = randomBytes(6).toString('hex')): Pending => {
      const alert = { severity: o.severity, event: o.event, message: redact(o.message), source: life.source };
      return {
        id,
        at: life.now.toISOString(),
        text: redact(o.text),
        tries: 0,
        alert: { ...alert, context: o.context },
      };
    };
    for (const m of box.pending) {
      if (!m.raw) {
        next.push(m);
        continue;
      }
      const step = decideSignal(ledger, classify(m.text), life.now, life.policy);
      ledger = step.ledger;
      step.send.forEach((o, i) => next.push(entry(o, i === 0 ? m.id : undefined)));
    }
    const t = tick(ledger, life.now, life.policy);
    for (const o of t.send) next.push(entry(o));
    box.pending = next;
    box.incidents = t.ledger;
    capPending(box);
  }

  /**
   * Decides what is raw (after queuing `text` if given; one section for all), then claims every
   * message nobody else is sending, oldest first, for `perMessageMs` each (plus a margin).
   * Nothing is claimed when no channel may be sent to now (429 retry_after), or `take` is false.
   */
  async claim(perMessageMs: number, text?: string, life?: LifecycleInput, channels = ['telegram'], take = true) {
    const by = `${process.pid}.${randomBytes(4).toString('hex')}`;
    let until = 0;
    let blocked: string[] = [];
    const messages = await this.update((box) => {
      const now = Date.now(); // inside the section: the wait for it must not eat the lease
      if (text !== undefined) this.push(box, text);
      if (life) this.decide(box, life);
      blocked = channels.filter((c) => channelNotBefore(box, c) > now);
      if (!take || blocked.length === channels.length) return [];
      const free = box.pending.filter((m) => !m.raw && (!m.claim || new Date(m.claim.until).getTime() < now));
      until = now + free.length * perMessageMs + CLAIM_MARGIN_MS + 10_000;
      for (const m of free) m.claim = { by, until: new Date(until).toISOString() };
      return free.map((m) => ({ ...m }));
    });
    return { by, messages, until, blocked } satisfies Claim;
  }

  /** One message of `claim` reached `channel`: recorded now; it leaves once all of `channels` have it. */
  delivered(_claim: Claim, m: Pending, channel: string, channels: string[]): Promise<void> {
    return this.update((box) => {
      // Whoever holds the message now, it was delivered there.
      const p = box.pending.find((x) => key(x) === key(m));
      if (!p) return;
      p.done = [...new Set([...(p.done ?? []), channel])];
      if (channels.every((c) => p.done!.includes(c))) box.pending = box.pending.filter((x) => x !== p);
    });
  }

  /**
   * Gives back what was not delivered, with each failed channel's reason and 429 wait; returns
   * how many are pending.
   */
  release(
    claim: Claim,
    failed: string | Record<string, { message: string; retryAfter?: number }> = {},
    retryAfterSec?: number,
  ): Promise<number> {
    // A string: the old form, one channel (Telegram) failed.
    const failures = typeof failed === 'string' ? { telegram: { message: failed, retryAfter: retryAfterSec } } : failed;
    return this.update((box) => {
      const failed = Object.entries(failures);
      for (const p of box.pending) {
        if (p.claim?.by !== claim.by) continue;
        delete p.claim;
        const missed = failed.filter(([c]) => !p.done?.includes(c));
        if (missed.length) {
          p.tries++;
          p.lastError = redact(missed.map(([c, f]) => `${c}: ${f.message}`).join('; '));
        }
      }
      const nb: Record<string, string> =
        typeof box.notBefore === 'string' ? { telegram: box.notBefore } : { ...(box.notBefore ?? {}) };
      for (const [c, f] of failed) {
        if (f.retryAfter) nb[c] = new Date(Date.now() + f.retryAfter * 1000).toISOString();
      }
      for (const c of Object.keys(nb)) {
        if (!failures[c] && !claim.blocked.includes(c) && claim.messages.length) delete nb[c];
      }
      if (Object.keys(nb).length) box.notBefore = nb;
      else delete box.notBefore;
      return box.pending.length;
    });
  }
}

/**
 * Keep at most MAX_PENDING: a bot that stays unreachable for days must not grow the outbox
 * without end, nor flood the chat when it comes back. Only messages that failed to deliver
 * (tries > 0) and that no run is sending are dropped, oldest first: a burst of new alerts
 * while the bot answers is delivered whole.
 */
function capPending(box: Box, now = Date.now()): void {
  const DROPPED = /^\((\d+) older undelivered alert\(s\) dropped\) /;
  let dropped = 0;
  while (box.pending.length > MAX_PENDING) {
    const i = box.pending.findIndex((m) => m.tries > 0 && (!m.claim || new Date(m.claim.until).getTime() < now));
    if (i < 0 || i === box.pending.length - 1) break;
    const [gone] = box.pending.splice(i, 1);
    // Count what earlier caps dropped too, so the note says how many in all.
    dropped += 1 + Number(DROPPED.exec(gone!.text)?.[1] ?? 0);
  }
  if (!dropped) return;
  const first = box.pending[0]!;
  dropped += Number(DROPPED.exec(first.text)?.[1] ?? 0);
  const text = `(${dropped} older undelivered alert(s) dropped) ${first.text.replace(DROPPED, '')}`;
  box.pending[0] = { ...first, text };
}
