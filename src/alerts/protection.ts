// The words of the alerts that say protection was lost or came back: a corrupt state
// file set aside, a config that stopped loading (and loads again). Pure.

/** A state file was unreadable and set aside; `then` says what hactl does about it. */
export function setAsideText(prefix: string, file: string, why: string, to: string, then: string): string {
  return `${prefix} ⚠️ ${file} was corrupt (${why.slice(0, 200)}): set aside as ${to}; ${then}`;
}

export const STATE_REBUILT =
  'state rebuilt from observation: no automatic failover or failback until hactl check confirms which side serves';

export function configBrokenText(prefix: string, file: string, firstLine: string): string {
  return (
    `${prefix} 🔴 config ${file} stopped loading: ${firstLine.slice(0, 300)} — every hactl run exits 78, ` +
    'NOTHING is checked or failed over until it is fixed (hactl doctor shows every problem)'
  );
}

export function configBrokenRepeatText(prefix: string, file: string, firstLine: string, since: string): string {
  return configBrokenText(prefix, file, firstLine).replace('🔴 config', `🔴 still, for ${since}: config`);
}

export function configBackText(prefix: string, file: string, since: string): string {
  return `${prefix} ✅ config ${file} loads again (after ${since}): hactl runs normally`;
}
