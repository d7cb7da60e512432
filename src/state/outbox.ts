// The alert outbox: events are written here first and removed once every channel
// has them, so a failed delivery never blocks an action and is retried by a later
// run. It stores events, never text (a channel renders its own, src/alerts/render.ts),
// and the one incident ledger (src/alerts/incident.ts).
// Exactly once under concurrent runs: each channel has its own queue position and its
// own sender lock (withFileLock, released by the kernel when its holder dies): one run
// at a time sends on a channel, oldest first, and records each delivery before the
// next send. A run that finds the channel's lock held leaves: the holder looks again
// after releasing it, so an event queued before that look is never stranded. No lease,
// no clock decides who sends.
// Longer than 300 lines because every change to the box is one section of the one private
// update (prepare, record, failAll, settle, drop, retry): split, that section would be exported.
import { join } from 'node:path';
import { ensureDir, readJson, writeJson } from './files.js';
import { withFileLock } from './lock.js';
import { randomHex } from '../adapters/random.js';
import { setAsideEvent } from '../alerts/protection.js';
import { decide, tick, type AlertPolicy, type Ledger } from '../alerts/incident.js';
import { event, type HactlEvent } from '../alerts/events.js';
import { redactEvent } from '../alerts/secrets.js';
import { cut } from '../alerts/render.js';
import { countDelivery, type AlertTotals } from '../alerts/totals.js';

/** Failed events kept at most: a channel that stays down for days must not grow the outbox without end. */
export const MAX_PENDING = 500;
const SECTION_WAIT_MS = 30_000;

/** One channel's view of an event. */
export interface ChannelState {
  tries: number;
  lastError?: string;
  /** Refused for good (a 400 even for the short form): the channel gave up on it. */
  gaveUp?: true;
  /** Delivered as the short form (the full one was refused). */
  shortened?: true;
}

export interface Pending {
  id: string;
  at: string;
  event: HactlEvent;
  /** Queued, not yet through the lifecycle: the next run with a config decides. */
  raw?: true;
  /** Channels that have it (delivered, or given up on for good). */
  done?: string[];
  channels?: Record<string, ChannelState>;
  /** For status: the sum of tries and the last error over its channels. */
  tries: number;
  lastError?: string;
}
interface Box {
  version: 1;
  pending: Pending[];
  /** Per channel: nothing is sent to it before this time (a 429's retry_after). */
  notBefore?: Record<string, string>;
  /** The lifecycle's open incidents and recent notices. */
  incidents?: Ledger;
  /** Events dropped by the cap, not yet said. */
  dropped?: number;
  /**
   * Per channel and result, how many deliveries were recorded since this outbox began: counts
   * that only go up (hactl_alerts_total is a Prometheus counter; delivered events leave `pending`).
   */
  counts?: AlertTotals;
}

/** What the lifecycle needs inside the section: its policy and the clock's time. */
export interface LifecycleInput {
  policy: AlertPolicy;
  now: Date;
  /** Who raises the events queued now ("hactl check on w1"). */
  source?: string;
}

/** Until when a channel must not be sent to, in ms (0: now). */
export function channelNotBefore(box: Pick<Box, 'notBefore'>, channel: string): number {
  const nb = box.notBefore ?? {};
  return typeof nb === 'object' && nb[channel] ? new Date(nb[channel]).getTime() : 0;
}

const newId = () => randomHex(6);

/** A message from an older outbox (text only): said as it was, never read for its meaning. */
function upgrade(m: Pending & { text?: string }): Pending {
  if (m.event) return m;
  const ev = event('dropped', 'medium', 'notice', m.text ?? '(an alert from an older hactl)', m.at, {
    facts: { legacyText: true },
  });
  return { id: m.id ?? newId(), at: m.at, event: ev, tries: m.tries ?? 0, ...(m.done ? { done: m.done } : {}) };
}

export type DeliveryResult =
  | { ok: true; shortened?: boolean }
  | { ok: false; permanent: true; message: string }
  | { ok: false; permanent: false; message: string; retryAfter?: number };

export class Outbox {
  readonly file: string;
  constructor(
    private readonly stateDir: string,
    /** How long a section waits for another run's (tests shorten it). */
    private readonly sectionWaitMs = SECTION_WAIT_MS,
  ) {
    this.file = join(stateDir, 'outbox.json');
  }

  /** The lock of one channel's sender. */
  senderLock(channel: string): string {
    return join(this.stateDir, `outbox.${channel.replace(/[^\w.-]/g, '_')}`);
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
        box.pending = box.pending.map(upgrade);
        if (typeof box.notBefore === 'string') box.notBefore = { telegram: box.notBefore };
        const r = fn(box);
        writeJson(this.file, box);
        return r;
      },
      this.sectionWaitMs,
    );
  }

  /**
   * The box, inside a section. A corrupt one is set aside (kept as outbox.json.corrupt-<time>)
   * and replaced by a box holding one event that says so: the events it held may be lost, and
   * the channels must not stay blocked by it.
   */
  private async read(): Promise<Box | undefined> {
    const { readOrSetAside } = await import('./recover.js');
    const r = await readOrSetAside<Box>(this.file, 'outbox', new Date());
    if (!r.setAside?.to) return r.data;
    const box: Box = { version: 1, pending: [] };
    const then = 'alerts it held may not have been delivered (read them there)';
    this.push(box, setAsideEvent(this.file, r.setAside.why, r.setAside.to, then, new Date()));
    return box;
  }

  /** The box as it is now, outside any section (writes are atomic renames): for looks, never for changes. */
  async peek(): Promise<Box> {
    try {
      const box = (await readJson<Box>(this.file, 'outbox')) ?? { version: 1, pending: [] };
      return { ...box, pending: box.pending.map(upgrade) };
    } catch {
      return { version: 1, pending: [] }; // a corrupt box is set aside by the next section
    }
  }

  async pending(): Promise<number> {
    return (await this.peek()).pending.length;
  }

  async list(): Promise<Pending[]> {
    return (await this.peek()).pending;
  }

  /** Queue events; the lifecycle decides at the next run with the config's policy. */
  add(...events: HactlEvent[]): Promise<void> {
    return this.update((box) => events.forEach((e) => this.push(box, e)));
  }

  private push(box: Box, ev: HactlEvent): void {
    // Redacted as it is queued: an event built from a host's stderr must not carry a secret into state.
    box.pending.push({ id: newId(), at: ev.at, event: redactEvent(ev), tries: 0, raw: true });
  }

  /**
   * The box as on disk when it is there, readable and in today's form, else undefined: for the no-change
   * looks below (a missing, corrupt or older box goes through a section, which writes or mends it).
   */
  private async current(): Promise<Box | undefined> {
    try {
      const box = await readJson<Box>(this.file, 'outbox');
      if (!box) return undefined;
      const today = typeof box.notBefore !== 'string' && box.pending.every((m) => !!m.event);
      return today && box.pending.length <= MAX_PENDING ? box : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Queues `events`, runs every raw one through the lifecycle in order, then lets time pass. One section;
   * none when it would change nothing (no event, nothing raw, no reminder or end due, the ledger as it
   * is): a healthy check or a no-change sync took a lock and wrote the box with fsync for nothing (issue
   * 25). Whatever another run queues meanwhile is raw, and that run prepares it itself.
   */
  async prepare(events: HactlEvent[], life: LifecycleInput): Promise<void> {
    const seen = events.length ? undefined : await this.current();
    if (seen && !seen.pending.some((m) => m.raw)) {
      const ledger = seen.incidents ?? {};
      const t = tick(ledger, life.now, life.policy);
      const kept = Object.values(ledger).every((e) => Array.isArray(e.said) && e.last?.facts);
      if (!t.send.length && kept && JSON.stringify(t.ledger) === JSON.stringify(ledger)) return;
    }
    return this.update((box) => {
      events.forEach((e) => this.push(box, life.source && !e.source ? { ...e, source: life.source } : e));
      // A ledger written before typed events has no `said`: its incidents were said by that hactl;
      // they are forgotten (a condition still there opens anew, once) rather than misread.
      let ledger: Ledger = Object.fromEntries(
        Object.entries(box.incidents ?? {}).filter(([, e]) => Array.isArray(e.said) && e.last?.facts),
      );
      const next: Pending[] = [];
      for (const m of box.pending) {
        if (!m.raw) {
          next.push(m);
          continue;
        }
        // Decided at the time it happened (a run may decide what an earlier one queued).
        const when = new Date(m.event.at);
        const step = decide(ledger, m.event, Number.isNaN(when.getTime()) ? life.now : when, life.policy);
        ledger = step.ledger;
        step.send.forEach((e, i) => next.push({ id: i === 0 ? m.id : newId(), at: m.at, event: e, tries: 0 }));
      }
      const t = tick(ledger, life.now, life.policy);
      for (const e of t.send) next.push({ id: newId(), at: life.now.toISOString(), event: e, tries: 0 });
      box.pending = next;
      box.incidents = t.ledger;
      capPending(box);
    });
  }

  /** The oldest event `channel` does not have yet (and may be sent to now), or undefined. */
  async nextFor(channel: string, skip: ReadonlySet<string> = new Set()): Promise<Pending | undefined> {
    const box = await this.peek();
    if (channelNotBefore(box, channel) > Date.now()) return undefined;
    return box.pending.find((m) => !m.raw && !m.done?.includes(channel) && !skip.has(m.id));
  }

  /** One delivery attempt of `id` on `channel`, recorded; the event leaves once all `channels` have it. */
  record(id: string, channel: string, r: DeliveryResult, channels: string[]): Promise<void> {
    return this.update((box) => {
      const p = box.pending.find((x) => x.id === id);
      if (r.ok === false && r.permanent === false && r.retryAfter) {
        box.notBefore = {
          ...(box.notBefore ?? {}),
          [channel]: new Date(Date.now() + r.retryAfter * 1000).toISOString(),
        };
      } else if (r.ok && box.notBefore?.[channel]) {
        const nb = { ...box.notBefore };
        delete nb[channel];
        if (Object.keys(nb).length) box.notBefore = nb;
        else delete box.notBefore;
      }
      if (!p) return;
      // Counted in the same section as the delivery it counts (the caller holds the channel's lock).
      box.counts = countDelivery(box.counts, channel, r.ok ? 'delivered' : r.permanent ? 'gave_up' : 'failed');
      const st: ChannelState = { ...(p.channels?.[channel] ?? { tries: 0 }) };
      if (r.ok) {
        if (r.shortened) st.shortened = true;
        p.done = [...new Set([...(p.done ?? []), channel])];
      } else {
        st.tries++;
        st.lastError = cut(r.message, 500);
        p.tries++;
        p.lastError = `${channel}: ${st.lastError}`;
        if (r.permanent) {
          st.gaveUp = true;
          p.done = [...new Set([...(p.done ?? []), channel])];
        }
      }
      p.channels = { ...(p.channels ?? {}), [channel]: st };
      if (channels.every((c) => p.done?.includes(c))) box.pending = box.pending.filter((x) => x !== p);
    });
  }

  /** A channel that cannot work (no URL, no secret): a failed try on every event it lacks, so the cap applies. */
  failAll(channel: string, message: string): Promise<void> {
    return this.update((box) => {
      for (const p of box.pending) {
        if (p.raw || p.done?.includes(channel)) continue;
        const st: ChannelState = { ...(p.channels?.[channel] ?? { tries: 0 }) };
        st.tries++;
        st.lastError = message;
        p.tries++;
        p.lastError = `${channel}: ${message}`;
        p.channels = { ...(p.channels ?? {}), [channel]: st };
      }
    });
  }

  /** Events every configured channel already has (a channel removed from the config) leave; no section when none. */
  async settle(channels: string[]): Promise<number> {
    const seen = await this.current();
    if (seen && !seen.pending.some((p) => !p.raw && channels.every((c) => p.done?.includes(c))))
      return seen.pending.length;
    return this.update((box) => {
      box.pending = box.pending.filter((p) => p.raw || !channels.every((c) => p.done?.includes(c)));
      return box.pending.length;
    });
  }

  /** `hactl alert --drop ID`: the event leaves for every channel. */
  drop(id: string): Promise<boolean> {
    return this.update((box) => {
      const n = box.pending.length;
      box.pending = box.pending.filter((p) => p.id !== id);
      return box.pending.length < n;
    });
  }

  /** `hactl alert --retry ID`: its tries and give-ups forgotten, sent again where it failed. */
  retry(id: string): Promise<boolean> {
    return this.update((box) => {
      const p = box.pending.find((x) => x.id === id);
      if (!p) return false;
      const gaveUp = Object.entries(p.channels ?? {})
        .filter(([, s]) => s.gaveUp)
        .map(([c]) => c);
      p.done = (p.done ?? []).filter((c) => !gaveUp.includes(c));
      p.channels = {};
      p.tries = 0;
      delete p.lastError;
      delete box.notBefore;
      return true;
    });
  }
}

/**
 * Keep at most MAX_PENDING: only events that failed to deliver (tries > 0) are dropped,
 * oldest first, and the next event sent says how many: a burst of new events while the
 * channels answer is delivered whole.
 */
function capPending(box: Box): void {
  let dropped = 0;
  while (box.pending.length > MAX_PENDING) {
    const i = box.pending.findIndex((m) => m.tries > 0);
    if (i < 0) break;
    box.pending.splice(i, 1);
    dropped++;
  }
  if (!dropped) return;
  const total = (box.dropped ?? 0) + dropped;
  box.dropped = 0;
  const note = event(
    'dropped',
    'high',
    'notice',
    `${total} older undelivered alert(s) dropped (the outbox keeps ${MAX_PENDING})`,
    new Date(),
  );
  box.pending.push({ id: newId(), at: note.at, event: note, tries: 0 });
}
