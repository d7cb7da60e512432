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
}
interface Box {
  version: 1;
  pending: Pending[];
  notBefore?: string;
}

export interface Claim {
  by: string;
  messages: Pending[];
  /** Wall time (ms) until which these messages are ours. */
  until: number;
}

const key = (m: Pending): string => m.id ?? `${m.at}\u0000${m.text}`;

export class Outbox {
  readonly file: string;
  constructor(private readonly stateDir: string) {
    this.file = join(stateDir, 'outbox.json');
  }

  // Sections are a read, a change and an atomic write: milliseconds each. The wait is long
  // because 50 runs starting at once on two cores queue here; an alert must not be lost to it.
  private update<T>(fn: (box: Box) => T): Promise<T> {
    ensureDir(this.stateDir);
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

  add(text: string): Promise<void> {
    return this.update((box) => this.push(box, text));
  }

  private push(box: Box, text: string): void {
    const id = randomBytes(6).toString('hex');
    box.pending.push({ id, at: new Date().toISOString(), text: redact(text), tries: 0 });
    capPending(box);
  }

  /**
   * Claims every message nobody else is sending, oldest first, for `perMessageMs` each
   * (plus a margin), after queuing `text` if given (one section for both). Nothing is
   * claimed while the channel asked us to wait (429 retry_after).
   */
  async claim(perMessageMs: number, text?: string): Promise<Claim> {
    const by = `${process.pid}.${randomBytes(4).toString('hex')}`;
    let until = 0;
    const messages = await this.update((box) => {
      const now = Date.now(); // inside the section: the wait for it must not eat the lease
      if (text !== undefined) this.push(box, text);
      if (box.notBefore && new Date(box.notBefore).getTime() > now) return [];
      const free = box.pending.filter((m) => !m.claim || new Date(m.claim.until).getTime() < now);
      until = now + free.length * perMessageMs + CLAIM_MARGIN_MS + 10_000;
      for (const m of free) m.claim = { by, until: new Date(until).toISOString() };
      return free.map((m) => ({ ...m }));
    });
    return { by, messages, until };
  }

  /** One message of `claim` was delivered: it leaves the outbox now, before the next is sent. */
  delivered(_claim: Claim, m: Pending): Promise<void> {
    return this.update((box) => {
      // Whoever holds the message now, it was delivered: it goes.
      box.pending = box.pending.filter((p) => key(p) !== key(m));
    });
  }

  /** Gives back what was not delivered, with the reason; returns how many are pending. */
  release(claim: Claim, failure?: string, retryAfterSec?: number): Promise<number> {
    return this.update((box) => {
      for (const p of box.pending) {
        if (p.claim?.by !== claim.by) continue;
        delete p.claim;
        if (failure) {
          p.tries++;
          p.lastError = failure;
        }
      }
      if (retryAfterSec) box.notBefore = new Date(Date.now() + retryAfterSec * 1000).toISOString();
      else if (!failure && claim.messages.length) delete box.notBefore;
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
