// Pause: an operator working on a machine quiets hactl's automatic actions
// (failover --auto, failback --auto) for a while. Pure: the record, the clock
// reading and the verdict the automatic commands act on.
//
// A pause always ends on its own: without --for it lasts DEFAULT_PAUSE, and no
// pause is longer than MAX_PAUSE. A forgotten pause would otherwise switch the
// protection off for good without anyone noticing. `hactl resume` ends it
// early; the record is kept (with resumedAt) so status can say who paused.

import { DURATION_HELP, parseDuration } from '../config/durations.js';

export interface PauseRecord {
  version: 1;
  since: string; // ISO
  until: string; // ISO
  reason: string | null;
  by: string; // user@host
  resumedAt?: string | null;
  resumedBy?: string | null;
}

export type PauseState = 'none' | 'active' | 'expired' | 'resumed';

export const DEFAULT_PAUSE = 3600; // s
export const MAX_PAUSE = 7 * 86400; // s

/** `--for 2h` -> seconds, through the config's duration parser; a bare number is refused (minutes or seconds?). */
export function parseForOption(text: string): number | { error: string } {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) return { error: `'${text}' is not a duration: use ${DURATION_HELP}, or 1h30m` };
  return Math.round(ms / 1000);
}

/** "1h 20m", "45 s", "2d 3h": for people. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : ''].filter(Boolean).join(' ') || '0m';
}

/** Pure: a new pause, or the reason it cannot be. */
export function planPause(
  now: Date,
  seconds: number | undefined,
  reason: string | undefined,
  by: string,
): PauseRecord | { error: string } {
  const len = seconds ?? DEFAULT_PAUSE;
  if (!(len > 0)) return { error: 'a pause must last more than 0 s' };
  if (len > MAX_PAUSE)
    return {
      error: `a pause lasts at most ${humanDuration(MAX_PAUSE)} (asked: ${humanDuration(len)}); pause again later`,
    };
  const r = reason?.replace(/[\r\n\t]+/g, ' ').trim();
  return {
    version: 1,
    since: now.toISOString(),
    until: new Date(now.getTime() + len * 1000).toISOString(),
    reason: r ? r.slice(0, 200) : null,
    by,
  };
}

export function pauseState(p: PauseRecord | undefined, now: Date): PauseState {
  if (!p) return 'none';
  if (p.resumedAt) return 'resumed';
  return now.getTime() < new Date(p.until).getTime() ? 'active' : 'expired';
}

/** What failover --auto / failback --auto act on, and the line they log when they skip. */
export function pauseVerdict(p: PauseRecord | undefined, now: Date): { paused: boolean; line: string } {
  const state = pauseState(p, now);
  if (!p || state === 'none') return { paused: false, line: 'not paused' };
  const why = p.reason ? `: ${p.reason}` : '';
  if (state === 'resumed')
    return {
      paused: false,
      line: `not paused (the pause by ${p.by} was ended at ${p.resumedAt}${p.resumedBy ? ` by ${p.resumedBy}` : ''})`,
    };
  if (state === 'expired') return { paused: false, line: `not paused (the pause by ${p.by} expired at ${p.until})` };
  const left = humanDuration((new Date(p.until).getTime() - now.getTime()) / 1000);
  return {
    paused: true,
    line: `paused by ${p.by} until ${p.until} (${left} left)${why}; automatic actions are skipped (hactl resume)`,
  };
}

/** Pure: the record after `hactl resume`, or null when there is nothing to end. */
export function planResume(p: PauseRecord | undefined, now: Date, by: string): PauseRecord | null {
  if (pauseState(p, now) !== 'active') return null;
  return { ...p!, resumedAt: now.toISOString(), resumedBy: by };
}
