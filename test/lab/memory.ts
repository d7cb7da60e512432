// Lab helpers for memory sync tests: write and read a host's memory tree.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { LabHost } from './lab.ts';

export const memRoot = (h: LabHost, root = '.openclaw') => join(h.home, root);

/** Writes files (relative to the memory root); a null content deletes the file. */
export function writeMem(h: LabHost, files: Record<string, string | Buffer | null>, root = '.openclaw'): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(memRoot(h, root), rel);
    if (content === null) { rmSync(p, { force: true }); continue; }
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

/** Every regular file under dirs (relative to the root) with its content, skipping rsync holding dirs. */
export function readMem(h: LabHost, root = '.openclaw', under = ['workspace', 'agents']): Record<string, string> {
  const base = memRoot(h, root);
  const out: Record<string, string> = {};
  for (const u of under) {
    const d = join(base, u);
    if (!existsSync(d)) continue;
    for (const e of readdirSync(d, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const parent = (e as unknown as { parentPath?: string; path: string }).parentPath ?? (e as unknown as { path: string }).path;
      const rel = relative(base, join(parent, e.name));
      if (rel.split('/').includes('.~tmp~')) continue;
      out[rel] = readFileSync(join(parent, e.name), 'utf8');
    }
  }
  return out;
}

/** pids of rsync client processes whose command line contains every needle. */
export function rsyncPids(...needles: string[]): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0] !== 'rsync') continue;
      if (needles.every((n) => argv.some((a) => a.includes(n)))) out.push(Number(pid));
    } catch { /* gone */ }
  }
  return out;
}

/** A small valid tree in both layouts, n extra daily notes. */
export function seedTree(n = 10): Record<string, string> {
  const files: Record<string, string> = {
    'workspace/MEMORY.md': '# Memory\n\n- the user likes tea\n',
    'workspace/memory/facts.yaml': 'user:\n  name: Linou\n  tea: green\n',
    'agents/joe/MEMORY.md': '# Joe\n',
    'agents/joe/memory/state.json': '{"mood": "calm", "count": 3}\n',
  };
  for (let i = 1; i <= n; i++) files[`workspace/memory/2026-09-${String(i).padStart(2, '0')}.md`] = `---\ntitle: day ${i}\n---\nnotes of day ${i}\n`;
  return files;
}
