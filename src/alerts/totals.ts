// The all-time alert counts per channel and result, kept in outbox.json and exported as the
// Prometheus counter hactl_alerts_total. Pure. They only go up: delivered events leave the
// outbox's queue, so a count of what it holds would fall (a gauge, not a counter).

/** The results counted per channel: delivered, a failed try (retried later), given up for good. */
export const ALERT_RESULTS = ['delivered', 'failed', 'gave_up'] as const;
export type AlertResult = (typeof ALERT_RESULTS)[number];
export type AlertTotals = Record<string, Partial<Record<AlertResult, number>>>;

/** `totals` with one more `result` on `channel` (anything unreadable in it starts at 0). */
export function countDelivery(totals: unknown, channel: string, result: AlertResult): AlertTotals {
  const all: AlertTotals = totals && typeof totals === 'object' ? (totals as AlertTotals) : {};
  const c = { ...(all[channel] ?? {}) };
  c[result] = totalOf(all, channel, result) + 1;
  return { ...all, [channel]: c };
}

/** The count of `result` on `channel`, 0 when none (or unreadable). */
export function totalOf(totals: unknown, channel: string, result: AlertResult): number {
  const n = (totals as AlertTotals | undefined)?.[channel]?.[result];
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : 0;
}
