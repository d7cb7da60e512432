// Two real OpenClaw 2026.9.6 gateways (issue 5): hactl's defaults (probe
// /readyz, start criterion /startupz, start methods systemd-user ->
// `openclaw gateway start` -> detached `openclaw gateway run`) against the
// real thing. Installs Node 24 and openclaw into a cache on first run; fails,
// not skips, when that is impossible (HACTL_SKIP_REAL=1 skips on purpose).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../lab/lab.ts';
import { killGroup, readyz, REAL_THRESHOLDS, realLab, startReal, startupz } from '../lab/real.ts';

const skip = process.env.HACTL_SKIP_REAL === '1' ? 'HACTL_SKIP_REAL=1' : false;
let lab: Lab;
let openclaw: string;

before(
  async () => {
    if (skip) return;
    ({ lab, openclaw } = await realLab());
    lab.writeConfig({ thresholds: REAL_THRESHOLDS });
  },
  { timeout: 300_000 },
);
after(async () => {
  await lab?.stop();
});

test(
  'real gateways: kill, confirmed failure, failover, failback, one gateway serving',
  { skip, timeout: 600_000 },
  async () => {
    const P = lab.host('primary');
    const S = lab.host('standby');

    // 1. primary healthy
    const pid = await startReal(openclaw, P);
    const ok = await lab.hactl(['check']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(lab.state().lastCheck.hosts.primary.status, 'healthy');
    assert.equal(lab.state().lastCheck.hosts.standby.status, 'gateway-down', 'a stopped real gateway is reported down');

    // 2. SIGKILL of the primary gateway; 3. confirmed failure
    killGroup(pid);
    const down = await lab.hactl(['check']);
    assert.equal(down.code, 2, down.stdout);
    assert.equal(lab.state().lastCheck.hosts.primary.status, 'gateway-down');
    assert.equal(lab.state().lastCheck.hosts.primary.confirmed, true);
    assert.equal(lab.state().streaks.primary.failures, 1);

    // 4. failover, with the standby's /startupz started
    const fo = await lab.hactl(['failover', '--auto']);
    assert.equal(fo.code, 0, fo.stdout + fo.stderr);
    assert.equal(lab.state().serving, 'standby');
    assert.deepEqual(((await startupz(S.gatewayPort)) as { status: string }).status, 'started');
    assert.equal(await readyz(S.gatewayPort), 200);
    assert.equal(await readyz(P.gatewayPort), 0, 'the primary serves nothing');
    const start = lab
      .history()
      .at(-1)
      .steps.find((s: { op: string }) => s.op === 'start');
    assert.match(start.detail, /started by (openclaw-cli|detached)/);
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(
      texts[0]!,
      /^\[lab\] 🟠 primary OFFLINE \(gateway-down\) — standby takes over \(automatic: hactl --auto on \S+\)$/,
    );
    assert.match(
      readFileSync(join(S.openclawDir, 'workspace', 'MEMORY.md'), 'utf8'),
      /short answers/,
      'the last-chance sync carried the memory',
    );

    // 5. the primary is back (its host answers; hactl restarts its gateway), 6. failback
    const back = await lab.hactl(['check']);
    assert.equal(back.code, 1, back.stdout);
    const fb = await lab.hactl(['failback', '--auto']);
    assert.equal(fb.code, 0, fb.stdout + fb.stderr);
    assert.equal(lab.state().serving, 'primary');
    assert.equal(await readyz(P.gatewayPort), 200, 'the primary serves');
    assert.equal(await readyz(S.gatewayPort), 0, 'the standby was stopped: exactly one gateway serves');
    const h = lab.history().at(-1);
    assert.ok(h.timing.gapMs >= REAL_THRESHOLDS.settle * 1000, `gap ${h.timing.gapMs} ms covers the settle time`);
    assert.match(lab.telegram.texts().at(-1)!, /primary ONLINE/);

    const final = await lab.hactl(['check']);
    assert.equal(final.code, 0, final.stdout);
    assert.equal(lab.state().lastCheck.hosts.standby.status, 'gateway-down', 'the stopped standby is reported down');
  },
);
