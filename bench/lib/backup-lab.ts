// The backup benchmarks' lab (bench/backup-tier.ts, bench/speed.mts): two hosts, a 10,000-file
// source of ~200 MB, and one tier from it to pcb, so both measure the same no-change run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../../test/lab/lab.ts';

export async function startBackupLab(): Promise<{ lab: Lab; src: string; bytes: number }> {
  const lab = await Lab.start([
    { name: 'pca', address: '127.0.0.2' },
    { name: 'pcb', address: '127.0.0.3' },
  ]);
  const src = join(lab.dir, 'source');
  let bytes = 0;
  for (let i = 0; i < 10_000; i++) {
    const d = join(src, `agent${i % 20}`, `d${i % 50}`);
    mkdirSync(d, { recursive: true });
    const b = Buffer.alloc(20_000 + (i % 7) * 100, i % 251);
    writeFileSync(join(d, `f${i}.bin`), b);
    bytes += b.length;
  }
  lab.writeConfig({
    pair: { primary: 'pca', standby: 'pcb' },
    memory: { enabled: false },
    backup: {
      tiers: [
        {
          name: 'bench',
          source: src,
          destination: 'pcb:bench',
          minFreeMB: 1,
          deepVerifyEvery: 0,
          retention: { hourly: 1000, daily: 0, weekly: 0 },
        },
      ],
    },
  });
  return { lab, src, bytes };
}
