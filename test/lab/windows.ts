// Polling windows read from the stand-in gateways' own logs ($HOME/.openclaw/poll-windows.log, written by
// fake-openclaw.mjs; kills noted by LabHost.crashGateway). A window opens when a gateway is ready (it would
// poll Telegram) and closes when it stops; a window with no end is open while its process lives, and, if
// the process is gone with no line saying when (a SIGKILL the lab did not make), open until now.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabHost } from './lab.ts';

export interface PollWindow {
  host: string;
  pid: number;
  from: number;
  to: number; // Infinity: still open, or its end unknown
  end: 'stop' | 'kill' | 'alive' | 'unknown';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function pollWindows(h: LabHost): PollWindow[] {
  const f = join(h.openclawDir, 'poll-windows.log');
  if (!existsSync(f)) return [];
  const lines = readFileSync(f, 'utf8').split('\n').filter(Boolean);
  const events = lines.map((l) => JSON.parse(l) as { event: string; at: number; pid: number });
  const out: PollWindow[] = [];
  for (const e of events.filter((x) => x.event === 'start')) {
    const end = events.find((x) => x.pid === e.pid && x.at >= e.at && (x.event === 'stop' || x.event === 'kill'));
    if (end) out.push({ host: h.name, pid: e.pid, from: e.at, to: end.at, end: end.event as 'stop' | 'kill' });
    else out.push({ host: h.name, pid: e.pid, from: e.at, to: Infinity, end: alive(e.pid) ? 'alive' : 'unknown' });
  }
  return out;
}

/** Pairs of windows, on any hosts, that were open at the same time: never two serving means []. */
export function overlaps(hosts: LabHost[]): Array<[PollWindow, PollWindow]> {
  const all = hosts.flatMap(pollWindows).sort((a, b) => a.from - b.from);
  const bad: Array<[PollWindow, PollWindow]> = [];
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++) if (all[j]!.from < all[i]!.to) bad.push([all[i]!, all[j]!]);
  return bad;
}

/** The windows still open now (the gateways that serve). */
export const serving = (hosts: LabHost[]): PollWindow[] => hosts.flatMap(pollWindows).filter((w) => w.to === Infinity);

export const describeWindows = (ws: PollWindow[]): string =>
  ws.map((w) => `${w.host} pid ${w.pid} ${w.from}..${w.to === Infinity ? w.end : `${w.to} (${w.end})`}`).join('; ');
