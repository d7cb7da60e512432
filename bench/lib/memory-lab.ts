// The memory benches' shared lab pieces: a 10,000-file memory tree on the primary, and the raw rsync
// pull that hactl's sync runs, for side-by-side runs against hactl.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filterRules } from '../../src/memory/plan.ts';

const filler = (n: number) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil(n / 27)).slice(0, n);

/** Writes `n` memory files (~4 KB each: Markdown, some YAML and JSON) under `root` (a host's ~/.openclaw). */
export function fillMemory(root: string, n = 10_000): void {
  for (let i = 0; i < n; i++) {
    const agent = i % 2 ? `workspace/memory/d${i % 50}` : `agents/a${i % 20}/memory/d${i % 25}`;
    const rel = `${agent}/n${i}.${i % 20 === 0 ? 'yaml' : i % 20 === 1 ? 'json' : 'md'}`;
    const text = rel.endsWith('.yaml')
      ? `id: ${i}\nnote: "${filler(3800)}"\n`
      : rel.endsWith('.json')
        ? JSON.stringify({ id: i, note: filler(3800) })
        : `# note ${i}\n\n${filler(4000)}\n`;
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
}

/** rsync's arguments (without the program) for the pull hactl's sync runs, from `address`'s ~/.openclaw to `dest`. */
export function rawPullArgv(address: string, dest: string, rsh: string, rsyncPath = 'cd "$HOME" && rsync'): string[] {
  return [
    '-rlptz',
    '--delete',
    '-i',
    '--stats',
    ...filterRules({
      include: ['workspace/MEMORY.md', 'workspace/memory/**', 'agents/*/memory/**', 'agents/*/MEMORY.md'],
      exclude: [],
    }).map((f) => `--filter=${f}`),
    '--protect-args',
    `--rsh=${rsh}`,
    `--rsync-path=${rsyncPath}`,
    '--',
    `${address}:.openclaw/`,
    `${dest}/`,
  ];
}
