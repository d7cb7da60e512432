// Parsing the health script's output (scripts.ts). Pure: a line that does not parse
// leaves its value unknown, it never throws.

export interface DiskReading {
  label: string; // 'memory' | 'runDir' | 'stateDir'
  sizeKB: number;
  availKB: number;
}
export interface HealthReading {
  /** The host's own clock, epoch seconds. */
  hostNow?: number;
  /** The heartbeat file's mtime by the host's clock; null: no file; undefined: not read. */
  heartbeat?: number | null;
  ncpu?: number;
  load?: [number, number, number];
  mem?: { totalKB: number; availKB: number };
  disks: DiskReading[];
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined || !/^\d+(\.\d+)?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};

export function parseHealth(stdout: string): HealthReading {
  const r: HealthReading = { disks: [] };
  for (const raw of stdout.split('\n')) {
    const [key, ...f] = raw.trim().split(/\s+/);
    if (key === 'now') r.hostNow = num(f[0]);
    else if (key === 'hb') r.heartbeat = f[0] === 'none' ? null : num(f[0]);
    else if (key === 'ncpu') r.ncpu = num(f[0]) || undefined;
    else if (key === 'load') {
      const l = f.slice(0, 3).map(num);
      if (l.length === 3 && l.every((x) => x !== undefined)) r.load = l as [number, number, number];
    } else if (key === 'mem') {
      const [t, a] = [num(f[0]), num(f[1])];
      if (t && a !== undefined) r.mem = { totalKB: t, availKB: a };
    } else if (key === 'disk') {
      const [label, size, avail] = [f[0], num(f[1]), num(f[2])];
      if (label && size && avail !== undefined) r.disks.push({ label, sizeKB: size, availKB: avail });
    }
  }
  return r;
}
