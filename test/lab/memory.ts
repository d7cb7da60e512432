// Lab helpers for memory sync tests: write and read a host's memory tree.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { LabHost } from './lab.ts';

export const memRoot = (h: LabHost, root = '.openclaw') => join(h.home, root);

/** Writes files (relative to the memory root); a null content deletes the file. */
export function writeMem(h: LabHost, files: Record<string, string | Buffer | null>, root = '.openclaw'): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(memRoot(h, root), rel);
    if (content === null) {
      rmSync(p, { force: true });
      continue;
    }
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
      const parent =
        (e as unknown as { parentPath?: string; path: string }).parentPath ?? (e as unknown as { path: string }).path;
      const rel = relative(base, join(parent, e.name));
      if (rel.split('/').includes('.~tmp~')) continue;
      out[rel] = readFileSync(join(parent, e.name), 'utf8');
    }
  }
  return out;
}

/**
 * Bytes of a transfer in flight under dir: rsync's temporary files (`.name.XXXXXX`, where it writes
 * while receiving) and finished files waiting in the --delay-updates holding directory (.~tmp~).
 */
export function inFlightBytes(dir: string): number {
  let n = 0;
  const add = (d: string, pick: (f: string) => boolean) => {
    if (!existsSync(d)) return;
    for (const f of readdirSync(d).filter(pick)) {
      try {
        n += statSync(join(d, f)).size;
      } catch {
        /* renamed into place meanwhile */
      }
    }
  };
  add(dir, (f) => /^\..+\.[A-Za-z0-9]{6}$/.test(f));
  add(join(dir, '.~tmp~'), () => true);
  return n;
}

/** pids of rsync client processes whose command line contains every needle (pass the lab's dir: never another's). */
export function rsyncPids(...needles: string[]): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0] !== 'rsync') continue;
      if (needles.every((n) => argv.some((a) => a.includes(n)))) out.push(Number(pid));
    } catch {
      /* gone */
    }
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
  for (let i = 1; i <= n; i++)
    files[`workspace/memory/2026-09-${String(i).padStart(2, '0')}.md`] =
      `---\ntitle: day ${i}\n---\nnotes of day ${i}\n`;
  return files;
}

/**
 * Plants everything a careless or hostile user might leave in a memory tree (issue 11 #6-#11) under
 * dir/sub. Returns what a report must say about each: `invalid` names (relative to dir, rsync-escaped
 * where not UTF-8) and `warned` names (not regular files: never opened).
 */
export function plantHostile(
  dir: string,
  sub = 'workspace/memory',
): { invalid: Record<string, RegExp>; warned: Record<string, RegExp>; valid: string[] } {
  const d = join(dir, sub);
  mkdirSync(d, { recursive: true });
  const put = (n: string, c: string | Buffer) => writeFileSync(join(d, n), c);
  put('deep-flow.yaml', `a: ${'['.repeat(3000)}${']'.repeat(3000)}\n`);
  put('deep-block.yaml', `${'- '.repeat(1200)}x\n`);
  put('deep-indent.yaml', Array.from({ length: 700 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n');
  put('deep.json', `${'['.repeat(5000)}${']'.repeat(5000)}`);
  put('deep-front.md', `---\nt: ${'{a: '.repeat(2000)}1${'}'.repeat(2000)}\n---\nbody\n`);
  put('huge.md', Buffer.alloc(6 * 1024 * 1024, 'a'));
  put('utf16.yaml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a: 1\n', 'utf16le')]));
  put('utf16-nobom.md', Buffer.from('hello\n', 'utf16le'));
  put('latin1.md', Buffer.from('caf\xe9\n', 'latin1'));
  put(
    'bom-broken.md',
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('---\ntitle: [unclosed\n---\nbody\n')]),
  );
  put('bom-ok.md', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('---\ntitle: fine\n---\nbody\n')]));
  put('near-cap.yaml', Array.from({ length: 6800 }, (_, i) => `k${i}: {name: "item ${i}", n: ${i}}`).join('\n') + '\n');
  writeFileSync(
    Buffer.concat([Buffer.from(`${d}/name-`), Buffer.from([0xe9, 0xff]), Buffer.from('.md')]),
    'fine text\n',
  );
  execFileSync('mkfifo', [join(d, 'fifo.md')]);
  symlinkSync('loop.md', join(d, 'loop.md'));
  mkdirSync(join(d, 'x.json'));
  writeFileSync(join(d, 'x.json', 'inside.md'), 'a valid note\n');
  const at = (n: string) => `${sub}/${n}`;
  return {
    invalid: {
      [at('deep-flow.yaml')]: /nested deeper than 100 levels/,
      [at('deep-block.yaml')]: /nested deeper than 100 levels/,
      [at('deep-indent.yaml')]: /nested deeper than 100 levels/,
      [at('deep.json')]: /nested deeper than 100 levels/,
      [at('deep-front.md')]: /invalid front matter: nested deeper than 100 levels/,
      [at('huge.md')]: /file is too large: 6\.0 MB \(limit 5\.0 MB/,
      [at('utf16.yaml')]: /UTF-16/,
      [at('utf16-nobom.md')]: /NUL byte/,
      [at('latin1.md')]: /not valid UTF-8/,
      [at('bom-broken.md')]: /invalid front matter/,
      [at('name-\\#351\\#377.md')]: /name is not valid UTF-8/,
    },
    warned: {
      [at('fifo.md')]: /FIFO/,
      [at('loop.md')]: /symbolic link/,
      [at('x.json')]: /directory named like a memory file/,
    },
    valid: [at('bom-ok.md'), at('near-cap.yaml'), at('x.json/inside.md')],
  };
}
