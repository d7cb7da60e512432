// Benchmarks for issue 3 (memory sync and validate), on the lab's real sshd + rsync.
//   node --import tsx bench/memory-sync.ts [runs]
// 1. no-change `hactl sync-memory` vs the same raw rsync pull it runs (target <= 1.2x)
// 2. full `hactl validate` of the 10,000-file tree (target < 1 s)
// 3. `hactl sync-memory` after 1% of the files changed
// Prints a Markdown table for docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { Lab, ROOT, TOKEN } from '../test/lab/lab.ts';
import { rawPullArgv } from './lib/memory-lab.ts';
import { sshArgv } from '../src/adapters/rsync.ts';

const RUNS = Number(process.argv[2] ?? 10);
const lab = await Lab.start();
try {
  lab.writeConfig();
  const P = lab.host('primary');
  const root = join(P.home, '.openclaw');
  // 10,000 files, ~4 KB each (~40 MB): both layouts, mostly Markdown, some YAML and JSON.
  const filler = (n: number) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil(n / 27)).slice(0, n);
  let bytes = 0;
  const files: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const agent = i % 2 ? `workspace/memory/d${i % 50}` : `agents/a${i % 20}/memory/d${i % 25}`;
    const kind = i % 20;
    let rel: string;
    let text: string;
    if (kind === 0) {
      rel = `${agent}/n${i}.yaml`;
      text = `id: ${i}\ntags: [a, b]\nnote: "${filler(3800)}"\n`;
    } else if (kind === 1) {
      rel = `${agent}/n${i}.json`;
      text = JSON.stringify({ id: i, note: filler(3800) }) + '\n';
    } else if (kind < 8) {
      rel = `${agent}/n${i}.md`;
      text = `---\ntitle: note ${i}\n---\n${filler(3900)}\n`;
    } else {
      rel = `${agent}/n${i}.md`;
      text = `# note ${i}\n\n${filler(4000)}\n`;
    }
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
    bytes += text.length;
    files.push(rel);
  }
  const hactl = (args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'bin/hactl'), ...args], {
      cwd: lab.dir,
      env: { ...process.env, HACTL_TELEGRAM_TOKEN: TOKEN, HACTL_CONFIG: join(lab.dir, 'hactl.yaml') },
      encoding: 'utf8',
    });
  const first = hactl(['sync-memory']);
  if (first.status !== 0) throw new Error(`first sync failed: ${first.stdout}${first.stderr}`);
  const cfg = lab.config();
  const host = { ...cfg.hosts.primary, name: 'primary' };
  const rawDest = join(lab.dir, 'raw');
  mkdirSync(rawDest);
  const rawArgv = rawPullArgv(P.address, rawDest, sshArgv(host, 10).join(' '));
  spawnSync('rsync', rawArgv);
  const time = (fn: () => void): number => {
    const t = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s.at(-1)! };
  };
  const raw: number[] = [];
  const noChange: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    raw.push(
      time(() => {
        const r = spawnSync('rsync', rawArgv);
        if (r.status !== 0) throw new Error(String(r.stderr));
      }),
    );
    noChange.push(
      time(() => {
        const r = hactl(['sync-memory']);
        if (r.status !== 0) throw new Error(r.stdout + r.stderr);
      }),
    );
  }
  const stage = join(lab.dir, 'state/memory/from-primary');
  const validate: number[] = [];
  for (let i = 0; i < RUNS; i++)
    validate.push(
      time(() => {
        const r = hactl(['validate', stage]);
        if (r.status !== 0) throw new Error(r.stdout);
      }),
    );
  const onePct: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 5); i++) {
    for (let k = 0; k < 100; k++) {
      const f = files[(i * 100 + k * 97) % files.length]!;
      if (f.endsWith('.md')) writeFileSync(join(root, f), `# changed ${i}\n\n${filler(4000)}\n`);
      else if (f.endsWith('.json')) writeFileSync(join(root, f), JSON.stringify({ id: k, changed: i }) + '\n');
      else writeFileSync(join(root, f), `id: ${k}\nchanged: ${i}\n`);
    }
    onePct.push(
      time(() => {
        const r = hactl(['sync-memory']);
        if (r.status !== 0) throw new Error(r.stdout + r.stderr);
      }),
    );
  }
  const nc = stats(noChange),
    rw = stats(raw),
    va = stats(validate),
    op = stats(onePct);
  const f = (x: number) => `${x.toFixed(0)} ms`;
  console.log(
    `Tree: 10,000 files, ${(bytes / 1e6).toFixed(1)} MB; ${cpus().length} cores; ` +
      `${RUNS} runs (1% change: ${onePct.length}); median (min-max).\n`,
  );
  console.log('| case | median | min-max | target |');
  console.log('|---|---|---|---|');
  console.log(`| raw rsync pull (same argv as hactl's pull) | ${f(rw.median)} | ${f(rw.min)}-${f(rw.max)} | |`);
  console.log(
    `| hactl sync-memory, no change | ${f(nc.median)} | ${f(nc.min)}-${f(nc.max)} | ` +
      `<= 1.2x raw: **${(nc.median / rw.median).toFixed(2)}x** |`,
  );
  console.log(`| hactl validate, full tree | ${f(va.median)} | ${f(va.min)}-${f(va.max)} | < 1 s |`);
  console.log(`| hactl sync-memory, 1% (100 files) changed | ${f(op.median)} | ${f(op.min)}-${f(op.max)} | |`);
} finally {
  await lab.stop();
}
