// Rotation under kill -9 and concurrent appenders (issue 13): three processes append through the
// real appendHistory with a tiny size limit (a rotation every few lines) and are killed with
// SIGKILL at random moments, many times over. Nothing is pruned (keep is large), so every line
// that reached the disk can be counted: the all-time stats (history-stats.json, the rotated files
// it does not hold yet, history.jsonl) must count each of them exactly once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../lab/lab.ts';
import { allTimeStats, rotatedFiles } from '../../dist/state/history.js';

const APPENDER = join(ROOT, 'test/lab/history-appender.mjs');

function runAndKill(dir: string, tag: string, killAfterMs: number | null): Promise<void> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [APPENDER, dir, '40', tag], { stdio: ['ignore', 'pipe', 'ignore'] });
    let t: NodeJS.Timeout | null = null;
    c.stdout.once('data', () => {
      if (killAfterMs !== null) t = setTimeout(() => c.kill('SIGKILL'), killAfterMs);
    });
    c.on('exit', () => {
      if (t) clearTimeout(t);
      resolve();
    });
  });
}

describe('history rotation under kill -9', () => {
  test('10 rounds of 3 concurrent appenders killed at random: every line on disk counted once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-rot-'));
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        [0, 1, 2].map((k) => runAndKill(dir, `r${round}k${k}`, k === 2 ? null : Math.floor(Math.random() * 60))),
      );
    }
    const file = join(dir, 'history.jsonl');
    const lines = [...rotatedFiles(file).map((r: { path: string }) => r.path), file]
      .flatMap((p) => readFileSync(p, 'utf8').split('\n'))
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l)];
        } catch {
          return [];
        }
      });
    const ids = lines.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'no line written twice');
    assert.ok(rotatedFiles(file).length > 10, 'rotated many times');
    const have = new Set(ids);
    const lost = Array.from({ length: 10 * 40 }, (_, i) => `r${Math.floor(i / 40)}k2-${i % 40}`).filter(
      (id) => !have.has(id),
    );
    assert.deepEqual(lost, [], 'every line of the appender that was not killed is on disk');
    const fromKilled = ids.filter((id) => !/k2-/.test(id)).length;
    assert.ok(fromKilled > 0 && fromKilled < 10 * 2 * 40, `killed appenders were cut short (${fromKilled} lines)`);
    const { stats, seq } = await allTimeStats(file, { primary: 'p', standby: 's' });
    assert.ok(seq > 0, 'some rotations were folded');
    assert.equal(stats.entries, ids.length, 'the stats count every line on disk exactly once');
    // Temp files of killed writers may remain (the next command's lock cleans them); nothing is corrupt.
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('corrupt')),
      [],
    );
  });
});
