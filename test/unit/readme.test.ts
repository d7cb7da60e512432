// The README as a new operator follows it (issue 24.9): its shell lines work in plain sh
// (no bash-only `<<<`), it says which user runs hactl and its cron, its failover --dry-run
// example is the plan hactl really makes, and a missing config points to `hactl init`.
// (install-witness skipping the build: install-witness.test.ts.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decideFailover } from '../../dist/failover/plan.js';
import { describeStep } from '../../dist/failover/describe.js';
import { initialState } from '../../dist/core/model.js';
import { findConfigPath } from '../../dist/config/load.js';
import { ROOT } from '../lab/lab.ts';
import { config } from './helpers.ts';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = (lang: string) =>
  [...README.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

describe('README', () => {
  test('every sh block is plain sh: no <<<, and dash parses it', () => {
    const sh = blocks('sh');
    assert.ok(sh.length >= 3);
    for (const b of sh) {
      assert.doesNotMatch(b, /<<<|\bsource\b/, b);
      const r = spawnSync('sh', ['-n', '-c', b], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${r.stderr}\n${b}`);
    }
  });

  test('says which user runs hactl and its cron, and why', () => {
    assert.match(README, /\*\*Which user\.\*\* hactl and its cron jobs run as `hactl`/);
    assert.match(README, /sudo -u hactl hactl cron --install/);
    assert.match(README, /needs no privilege/);
  });

  test('the failover --dry-run example is the real plan, step for step', async () => {
    const c = await config();
    const s: any = initialState(new Date());
    const healthy = { status: 'healthy', detail: 'ready', confirmed: true };
    s.lastCheck = {
      at: new Date().toISOString(),
      hosts: { primary: healthy, standby: { ...healthy, status: 'gateway-down' } },
    };
    const d: any = decideFailover(c, s, { auto: false, who: 'ann@witness' }, new Date());
    const want = d.plan.steps.map((st: any, i: number) => `  ${i + 1}. ${describeStep(c, st)}`);
    const example = blocks('text').find((b) => b.startsWith('$ hactl failover --dry-run'));
    assert.ok(example, 'the example is there');
    const got = example.split('\n').filter((l) => /^ {2}\d+\. /.test(l));
    assert.deepEqual(got, want);
    assert.match(example, new RegExp(`; ${want.length} steps\\n`));
  });

  test('with no config, the hint is hactl init', () => {
    assert.throws(
      () => findConfigPath(undefined, {}),
      (e: any) => /hactl init/.test(e.hint) && !/copy hactl\.example\.yaml/.test(e.hint),
    );
  });
});
