// Issue 16's acceptance scenarios 1-3, on real partitions (test/lab/netns.ts, test/lab/partition.ts):
// each party in its own network namespace, real sshd per host, the stand-in gateway, the Telegram
// stand-in on its own node; a cut is an nftables drop, an isolated host a pulled cable. Never two
// serving is read from the stand-in gateways' logs of polling windows (test/lab/windows.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLab } from '../lab/partition.ts';
import { describeWindows, overlaps, pollWindows, serving } from '../lab/windows.ts';
import type { LabHost } from '../lab/lab.ts';

let lab: PartitionLab;
const hosts = () => [lab.hosts.primary, lab.hosts.standby] as unknown as LabHost[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  lab = new PartitionLab();
  await lab.start();
});
after(() => lab?.destroy());

/** Primary serving, a good check made (it granted the primary its serving permit). */
async function healthy(bind = '0.0.0.0'): Promise<void> {
  await lab.reset();
  lab.setFake(lab.hosts.primary, bind);
  await lab.startGateway('primary');
  const c = await lab.hactl(['check']);
  assert.equal(c.code, 0, c.stdout + c.stderr);
  assert.ok(lab.state().permits?.primary?.token > 0, 'the check granted the primary its permit');
}

test('the lab is sealed: no default route anywhere, nothing outside it routable', () => {
  assert.deepEqual(lab.net.leaks(), []);
});

test('1. the witness is cut off from the primary only: no failover, one warning', async () => {
  await healthy();
  lab.net.cut('witness', 'primary');
  assert.equal(await lab.net.canConnect('witness', lab.hosts.primary.address, 2222, 800), false, 'cut');
  assert.equal(await lab.net.canConnect('standby', lab.hosts.primary.address, 2222, 800), true, 'peer link up');
  for (let i = 0; i < 2; i++) {
    const c = await lab.hactl(['check']);
    assert.equal(c.code, 1, c.stdout + c.stderr);
    assert.match(c.stdout, /witness cannot reach the primary; the standby sees it serving/);
    const f = await lab.hactl(['failover', '--auto']);
    assert.equal(f.code, 1, f.stdout + f.stderr);
    assert.match(f.stdout, /nothing done: the witness cannot reach primary .* sees its gateway serving/);
  }
  const st = lab.state();
  assert.equal(st.serving, 'primary');
  assert.equal(st.lastCheck.hosts.primary.seenBy.serving, true);
  assert.equal(st.lastCheck.hosts.primary.seenBy.role, 'standby');
  const warned = lab.sent().filter((t) => /cannot reach/.test(t));
  assert.equal(warned.length, 1, `one warning: ${JSON.stringify(lab.sent())}`);
  assert.match(warned[0]!, /the witness cannot reach the primary .* the standby sees its gateway serving/);
  const held = lab.history().filter((h) => h.command === 'failover');
  assert.equal(held.length, 2);
  assert.ok(held.every((h) => h.exitCode === 1 && /cannot reach primary/.test(h.summary)));
  // The primary's guard keeps it while its permit lives (an answering peer is no permit: case 1b).
  const g = await lab.guard('primary');
  assert.equal(g.code, 0, g.stdout + g.stderr);
  assert.match(g.stdout, /permit \d+ live/);
  assert.deepEqual(
    serving(hosts()).map((w) => w.host),
    ['primary'],
  );
  assert.ok(lab.net.dropped('witness') > 0, 'the witness tried and its packets were dropped');
  assert.deepEqual(lab.net.leaks(), []);
});

/**
 * A cut, then each party's cron as it runs (the primary's guard every 3 s, the witness's check and
 * failover --auto) until the standby serves; never two serving, the primary stopped by its guard.
 */
async function fencedThenMoved(cut: () => void): Promise<void> {
  cut();
  const t0 = Date.now();
  // The primary's own cron: hactl guard at each tick of its interval (3 s; a tick is skipped while a run lasts).
  let guarding = true;
  const guardRuns: Array<{ at: number; code: number; out: string }> = [];
  const guardLoop = (async () => {
    for (let i = 0; i < 40 && guarding; i++) {
      const g = await lab.guard('primary');
      guardRuns.push({ at: Date.now() - t0, code: g.code, out: g.stdout.trim() });
      await sleep(3000 - ((Date.now() - t0) % 3000));
    }
  })();
  // The witness's cron: check, then failover --auto, until it moved (bounded).
  const witnessRuns: Array<{ at: number; code: number; out: string }> = [];
  try {
    for (let i = 0; i < 40; i++) {
      await lab.hactl(['check']);
      const f = await lab.hactl(['failover', '--auto']);
      witnessRuns.push({ at: Date.now() - t0, code: f.code, out: f.stdout.trim() });
      if (lab.state().serving === 'standby') break;
      await sleep(1000);
    }
  } finally {
    guarding = false;
    await guardLoop;
  }
  const timeline = { guardRuns, witnessRuns };
  assert.equal(lab.state().serving, 'standby', JSON.stringify(timeline, null, 1));
  const w = [...pollWindows(hosts()[0]!), ...pollWindows(hosts()[1]!)];
  assert.deepEqual(overlaps(hosts()), [], `two served at once: ${describeWindows(w)}`);
  assert.deepEqual(
    serving(hosts()).map((x) => x.host),
    ['standby'],
    describeWindows(w),
  );
  const record = JSON.parse(readFileSync(join(lab.hosts.primary.dir, 'state', 'guard.json'), 'utf8'));
  assert.equal(record.contact, 'nobody');
  assert.ok(record.fencedAt, 'guard.json says when it fenced');
  assert.ok(lab.history(join(lab.hosts.primary.dir, 'state')).some((h) => h.command === 'guard' && h.exitCode === 2));
  const fenced = guardRuns.find((r) => r.code === 2 && /FENCED/.test(r.out));
  assert.ok(fenced, `the primary's guard fenced it: ${JSON.stringify(guardRuns)}`);
  const primaryEnd = pollWindows(hosts()[0]!)[0]!;
  assert.equal(primaryEnd.end, 'stop', 'the primary stopped its own gateway');
  process.stdout.write(
    `# timeline (ms from the cut): ${JSON.stringify({
      primaryStopped: primaryEnd.to - t0,
      standbyServing: pollWindows(hosts()[1]!)[0]!.from - t0,
      guard: guardRuns.map((r) => `${r.at}:${r.code}`),
      witness: witnessRuns.map((r) => `${r.at}:${r.code}:${/waiting/.test(r.out) ? 'wait' : r.out.slice(0, 40)}`),
    })}\n`,
  );
  assert.deepEqual(lab.net.leaks(), []);
}

test('1b (issue 21 item 1). witness-primary cut, LAN up, gateway on loopback: never two serve', async () => {
  await healthy('127.0.0.1');
  await fencedThenMoved(() => lab.net.cut('witness', 'primary'));
  // The peer link stayed up all along: the primary stopped on its permit alone.
  assert.equal(await lab.net.canConnect('standby', lab.hosts.primary.address, 2222, 800), true, 'peer link up');
});

test('2. the primary cut off from everyone fences itself, then the standby starts; never two serve', async () => {
  await healthy();
  await fencedThenMoved(() => lab.net.isolate('primary'));
});

test('3. the witness is killed: no authority, no renewal: the primary stops before its permit ends', async () => {
  await healthy();
  lab.net.isolate('witness'); // gone: no more checks, no grants
  const t0 = Date.now();
  let g;
  for (let i = 0; i < 15; i++) {
    g = await lab.guard('primary');
    if (g.code === 2) break;
    await sleep(3000);
  }
  assert.equal(g!.code, 2, g!.stdout + g!.stderr);
  // Stopped BEFORE its permit ended (the fence lead), so that its end is all the witness waits for.
  assert.match(g!.stdout, /FENCED: primary: permit \d+ ends in \d+ s, within the guard's fence lead of 15 s/);
  assert.match(g!.stdout, /peer standby answers .*is the witness down\?/);
  process.stdout.write(`# the witness gone: the primary's guard stopped it ${Date.now() - t0} ms later (lease 25 s)\n`);
  assert.deepEqual(serving(hosts()), []);
  assert.deepEqual(overlaps(hosts()), []);
});

test('4. the primary fenced itself while the witness was away, the standby gone: it is started again', async () => {
  await healthy();
  lab.net.isolate('standby'); // the idle host gone (its cable pulled): nothing could take over
  lab.net.isolate('witness');
  let g;
  for (let i = 0; i < 15; i++) {
    g = await lab.guard('primary');
    if (g.code === 2) break;
    await sleep(3000);
  }
  assert.equal(g!.code, 2, `the primary fenced itself: ${g!.stdout}${g!.stderr}`);
  assert.deepEqual(serving(hosts()), []);
  lab.net.rejoin('witness');
  const t0 = Date.now();
  // Both crons again: the primary's guard every 3 s, the witness's check and failover --auto.
  let guarding = true;
  const guardCodes: number[] = [];
  const guardLoop = (async () => {
    for (let i = 0; i < 40 && guarding; i++) {
      guardCodes.push((await lab.guard('primary')).code);
      await sleep(3000 - ((Date.now() - t0) % 3000));
    }
  })();
  const runs: string[] = [];
  try {
    for (let i = 0; i < 40 && serving(hosts()).length === 0; i++) {
      await lab.hactl(['check']);
      const f = await lab.hactl(['failover', '--auto']);
      runs.push(`${Date.now() - t0}:${f.code}:${f.stdout.trim().slice(0, 90)}`);
      await sleep(1000);
    }
    // Served again, and its guard keeps it: two more witness cycles and guard runs with no stop.
    const before = guardCodes.length;
    for (let i = 0; i < 3; i++) {
      await lab.hactl(['check']);
      await sleep(3000);
    }
    assert.ok(
      guardCodes.length > before && guardCodes.slice(before).every((c) => c === 0),
      `guard after the restart: ${guardCodes}`,
    );
  } finally {
    guarding = false;
    await guardLoop;
  }
  assert.deepEqual(
    serving(hosts()).map((w) => w.host),
    ['primary'],
    runs.join('\n'),
  );
  assert.deepEqual(overlaps(hosts()), []);
  assert.equal(lab.state().serving, 'primary');
  assert.ok(
    lab.history().some((h) => h.command === 'failover' && h.kind === 'restart'),
    runs.join('\n'),
  );
  assert.ok(
    lab.sent().some((t) => /GATEWAY-DOWN with no host to take over — restarted/.test(t)),
    lab.sent().join('\n'),
  );
  process.stdout.write(`# the witness back: the primary served again ${Date.now() - t0} ms later: ${runs.at(-1)}\n`);
  assert.deepEqual(lab.net.leaks(), []);
});

test('5. a sole witness replaced just after a failover (its state lost): the standby serves on, adopted', async () => {
  await healthy();
  await fencedThenMoved(() => lab.net.isolate('primary')); // the primary's host gone: the standby took over
  // The witness machine replaced: the same config, an empty state directory. Its state names the primary.
  rmSync(join(lab.dir, 'state'), { recursive: true, force: true });
  const t0 = Date.now();
  // The standby's own cron (guard every 3 s) and the witness's (check, failover --auto), for two leases.
  let guarding = true;
  const guardRuns: string[] = [];
  const guardLoop = (async () => {
    for (let i = 0; i < 40 && guarding; i++) {
      const g = await lab.guard('standby');
      guardRuns.push(`${Date.now() - t0}:${g.code}${g.code ? `:${g.stdout.trim().slice(0, 160)}` : ''}`);
      await sleep(3000 - ((Date.now() - t0) % 3000));
    }
  })();
  const runs: string[] = [];
  try {
    while (Date.now() - t0 < 60_000) {
      const c = await lab.hactl(['check']);
      const f = await lab.hactl(['failover', '--auto']);
      runs.push(`${Date.now() - t0}: check ${c.code}, failover ${f.code}: ${f.stdout.trim().slice(0, 100)}`);
      await sleep(1000);
    }
  } finally {
    guarding = false;
    await guardLoop;
  }
  const timeline = `guard: ${guardRuns.join(' ')}\nwitness:\n${runs.join('\n')}`;
  assert.ok(guardRuns.length >= 10, timeline);
  assert.ok(
    guardRuns.every((g) => g.endsWith(':0')),
    `the standby's guard stopped the one gateway serving\n${timeline}`,
  );
  assert.equal(lab.state().serving, 'standby', timeline);
  assert.ok(
    lab.history().some((h) => h.command === 'failover' && h.exitCode === 0 && /already serves/.test(h.summary)),
    timeline,
  );
  // Its polling never stopped: one window since the failover, still open; never two.
  const w = pollWindows(hosts()[1]!);
  assert.equal(w.length, 1, describeWindows(w));
  assert.deepEqual(
    serving(hosts()).map((x) => x.host),
    ['standby'],
  );
  assert.deepEqual(overlaps(hosts()), []);
  process.stdout.write(`# after the replacement (ms): ${runs.slice(0, 3).join(' | ')}; guard ${guardRuns.join(' ')}\n`);
  assert.deepEqual(lab.net.leaks(), []);
});
