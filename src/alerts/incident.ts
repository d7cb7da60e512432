// The lifecycle of an incident, pure: open -> repeat (capped) -> resolved, keyed.
// A condition that starts opens an incident and sends one alert; while it lasts
// the alert is repeated at most `maxRepeats` times, `repeatEvery` seconds apart;
// when it ends, and only if an incident was open, one "resolved" alert is sent.
// Callers keep the returned map in their state. No I/O, no clock: `now` is given.
import type { Incident } from '../core/model.js';

export type { Incident };
export type Incidents = Record<string, Incident>;

export interface IncidentPolicy {
  repeatEvery: number; // seconds
  maxRepeats: number;
}

export interface IncidentTexts {
  open: string;
  repeat?: (sinceSec: number, n: number) => string;
  resolved: (sinceSec: number) => string;
}

export interface IncidentStep {
  incidents: Incidents;
  alert?: string;
  transition: 'opened' | 'repeated' | 'ongoing' | 'resolved' | 'none';
}

const secondsBetween = (from: string, now: Date): number => (now.getTime() - new Date(from).getTime()) / 1000;

/** One observation of condition `key`: active or not. */
export function stepIncident(
  incidents: Incidents,
  key: string,
  active: boolean,
  now: Date,
  policy: IncidentPolicy,
  texts: IncidentTexts,
): IncidentStep {
  const open = incidents[key];
  const at = now.toISOString();
  if (active && !open) {
    return {
      incidents: { ...incidents, [key]: { openedAt: at, lastSentAt: at, sent: 1 } },
      alert: texts.open,
      transition: 'opened',
    };
  }
  if (active && open) {
    const due = secondsBetween(open.lastSentAt, now) >= policy.repeatEvery && open.sent <= policy.maxRepeats;
    if (!due || !texts.repeat) return { incidents, transition: 'ongoing' };
    const next = { ...open, lastSentAt: at, sent: open.sent + 1 };
    const alert = texts.repeat(secondsBetween(open.openedAt, now), open.sent);
    return { incidents: { ...incidents, [key]: next }, alert, transition: 'repeated' };
  }
  if (!active && open) {
    const rest = { ...incidents };
    delete rest[key];
    return { incidents: rest, alert: texts.resolved(secondsBetween(open.openedAt, now)), transition: 'resolved' };
  }
  return { incidents, transition: 'none' };
}

/** "42 s", "12 min", "3.5 h": how long an incident has lasted. */
export function duration(sec: number): string {
  if (sec < 120) return `${Math.round(sec)} s`;
  if (sec < 7200) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3600).toFixed(1)} h`;
}
