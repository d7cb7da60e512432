// The events that say a part of hactl itself was lost or came back: a corrupt state
// file set aside, a config that stopped loading (and loads again). Pure.
import { KEYS, event, resolveEvent, type HactlEvent } from './events.js';
import { cut } from './render.js';

/** A state file was unreadable and set aside; `then` says what hactl does about it. */
export function setAsideEvent(file: string, why: string, to: string, then: string, at: Date): HactlEvent {
  return event(
    'state-set-aside',
    'high',
    'notice',
    `${file} was corrupt (${cut(why, 200)}): set aside as ${to}; ${then}`,
    at,
    {
      facts: { file, setAsideAs: to },
    },
  );
}

export const STATE_REBUILT =
  'state rebuilt from observation: no automatic failover or failback until hactl check confirms which side serves';

export function configBrokenEvent(file: string, firstLine: string, at: Date): HactlEvent {
  return event(
    'config-broken',
    'critical',
    'open',
    `config ${file} stopped loading: ${cut(firstLine, 300)} — every hactl run exits 78, ` +
      'NOTHING is checked or failed over until it is fixed (hactl doctor shows every problem)',
    at,
    { key: KEYS.config(file), facts: { file } },
  );
}

export function configBackEvent(file: string, at: Date): HactlEvent {
  return resolveEvent(KEYS.config(file), `config ${file} loads again: hactl runs normally`, at);
}
