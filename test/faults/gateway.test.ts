// Gateway faults (issue 15, fault suite 4): hactl driven as cron drives it (check; failover --auto; failback),
// and never two gateways serving, read from the stand-in gateways' own polling-window logs.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab.ts';
import { describeWindows, overlaps, pollWindows, serving } from '../lab/windows.ts';

let lab: Lab;
const P = () => lab.host('primary');
const S = () => lab.host('standby');

before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});
beforeEach(async () => {
  await lab.reset();
  for (const h of [P(), S()]) rmSync(join(h.openclawDir, 'fake-hang'), { force: true });
  mkdirSync(join(P().home, '.openclaw', 'workspace'), { recursive: true });
  writeFileSync(join(P().home, '.openclaw', 'workspace', 'MEMORY.md'), '# Memory\n\n- short answers\n');
  await P().startGateway();
  await waitFor(() => pollWindows(P()).length === 1);
});

/** Polls (bounded) until `ok`: the stand-in writes its start line when it is ready, a moment after /readyz. */
async function waitFor(ok: () => boolean, tries = 50): Promise<void> {
  for (let i = 0; i < tries && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
}

/** One serving, on `host`, and no two windows ever open at once. */
async function oneServing(host: 'primary' | 'standby'): Promise<void> {
  await waitFor(() => serving([P(), S()]).length > 0);
  const both = [P(), S()];
  assert.deepEqual(overlaps(both), [], `two serving: ${describeWindows(both.flatMap(pollWindows))}`);
  const now = serving(both);
  assert.deepEqual(
    now.map((w) => `${w.host}:${w.end}`),
    [`${host}:alive`],
    describeWindows(both.flatMap(pollWindows)),
  );
}

async function cron(args: string[], want: number): Promise<void> {
  const r = await lab.hactl(args);
  assert.equal(r.code, want, `hactl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

/** Failover as cron does it, then the failback an operator runs; one serving after each. */
async function failoverAndBack(): Promise<void> {
  await cron(['check'], 2);
  await cron(['failover', '--auto'], 0);
  await oneServing('standby');
  await cron(['check'], 1);
  await cron(['failback', '--yes'], 0);
  await oneServing('primary');
}

describe('gateway faults: never two serving, in the stand-ins own logs', () => {
  test('crash', { timeout: 120_000 }, async () => {
    P().crashGateway();
    await failoverAndBack();
  });

  test('hang: listening, never answering (still polling)', { timeout: 120_000 }, async () => {
    writeFileSync(join(P().openclawDir, 'fake-hang'), '');
    await cron(['check'], 2);
    await cron(['failover', '--auto'], 0);
    await oneServing('standby');
    rmSync(join(P().openclawDir, 'fake-hang'));
    await cron(['check'], 1);
    await cron(['failback', '--yes'], 0);
    await oneServing('primary');
  });

  test('slow start past verifyDeadline, then the next method', { timeout: 120_000 }, async () => {
    const start = [
      { name: 'slow', detached: 'openclaw gateway run', env: { FAKE_STARTUP_MS: '4000' } },
      { name: 'detached', detached: 'openclaw gateway run' },
    ];
    lab.writeConfig({ thresholds: { verifyDeadline: 2 }, hosts: { standby: { gateway: { start } } } });
    P().crashGateway();
    await cron(['check'], 2);
    await cron(['failover', '--auto'], 0);
    // Past the slow method's startup: had it been left running, it would be polling by now.
    await new Promise((r) => setTimeout(r, 4500));
    await oneServing('standby');
  });

  test('a start method whose binary is missing, then the next method', { timeout: 120_000 }, async () => {
    const start = [
      { name: 'missing', detached: 'openclaw-missing gateway run' },
      { name: 'detached', detached: 'openclaw gateway run' },
    ];
    lab.writeConfig({ hosts: { standby: { gateway: { start } }, primary: { gateway: { start } } } });
    P().crashGateway();
    await failoverAndBack();
  });

  test("the standby's host dies while it serves: back to the primary", { timeout: 120_000 }, async () => {
    P().crashGateway();
    await cron(['check'], 2);
    await cron(['failover', '--auto'], 0);
    await oneServing('standby');
    await S().kill();
    await cron(['check'], 2);
    await cron(['failover', '--auto'], 0);
    await oneServing('primary');
    await cron(['check'], 1);
  });
});
