// The operator's pieces wired into the failover loop, in the lab: the metrics
// textfile is written after a run (and parses as Prometheus text), and a pause
// holds failover --auto on a confirmed failure until hactl resume.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { Lab } from '../lab/lab.ts';

let lab: Lab;
const P = () => lab.host('primary');
const S = () => lab.host('standby');
const textfile = () => join(lab.dir, 'metrics', 'hactl.prom');

before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});
beforeEach(async () => {
  await lab.reset();
  lab.writeConfig({ metrics: { textfile: textfile() } });
  await P().startGateway();
});

describe('operator wiring', () => {
  test('check writes the metrics textfile, which parses as Prometheus text', async () => {
    assert.ok(!existsSync(textfile()));
    const r = await lab.hactl(['check']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const families = parsePrometheus(readFileSync(textfile(), 'utf8')) as Array<{ name: string; metrics: any[] }>;
    const healthy = families.find((f) => f.name === 'hactl_host_healthy');
    assert.ok(healthy, `families: ${families.map((f) => f.name).join(', ')}`);
    const byRole = Object.fromEntries(healthy.metrics.map((m) => [m.labels.role, m.value]));
    assert.deepEqual(byRole, { primary: '1', standby: '0' });
  });

  test('a pause holds failover --auto on a confirmed failure; after resume it acts', async () => {
    assert.equal((await lab.hactl(['pause', '--for', '1h', '--reason', 'kernel upgrade'])).code, 0);
    P().crashGateway();
    assert.equal((await lab.hactl(['check'])).code, 2);
    const held = await lab.hactl(['failover', '--auto']);
    assert.equal(held.code, 1, held.stdout + held.stderr);
    assert.match(held.stdout, /nothing done: paused by .* kernel upgrade; automatic actions are skipped/);
    assert.equal(S().gatewayPid(), 0, 'the standby was not started while paused');
    assert.equal(lab.state().serving, 'primary');
    assert.equal((await lab.hactl(['resume'])).code, 0);
    const acted = await lab.hactl(['failover', '--auto']);
    assert.equal(acted.code, 0, acted.stdout + acted.stderr);
    assert.ok(S().gatewayPid() > 0, 'the standby serves after resume');
    assert.equal(lab.state().serving, 'standby');
  });
});
