// Prometheus metrics: the rendered text is read back with a real parser of
// the text format (parse-prometheus-text-format), not a regex, and its values
// checked; the writer replaces the file atomically and only when configured.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { renderMetrics } from '../../dist/operator/metrics.js';
import { writeMetrics } from '../../dist/operator/metrics-file.js';
import { initialState } from '../../dist/core/model.js';
import { writeJson } from '../../dist/state/files.js';
import { Outbox } from '../../dist/state/outbox.js';
import { event } from '../../dist/alerts/events.js';
import { config } from './helpers.ts';

const NOW = new Date('2026-11-22T14:00:00Z');
const T = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

function clusterState() {
  const s = initialState(new Date(T(7200)));
  s.lastCheck = {
    at: T(90),
    hosts: {
      primary: { status: 'unreachable', detail: 'refused', confirmed: true },
      standby: { status: 'healthy', detail: 'ready', confirmed: true },
    },
  };
  s.serving = 'standby';
  s.level = 'degraded';
  s.streaks = {
    primary: { failures: 4, healthy: 0, reachable: 0 },
    standby: { failures: 0, healthy: 12, reachable: 12 },
  };
  s.failover = { attempts: 1, lastAttemptAt: T(600), escalatedAt: null, lastResult: 'ok' };
  return s;
}

type Parsed = Array<{
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value: string; labels?: Record<string, string> }>;
}>;
const value = (p: Parsed, name: string, labels: Record<string, string> = {}): number | undefined => {
  const f = p.find((x) => x.name === name);
  const m = f?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return m ? Number(m.value) : undefined;
};

describe('renderMetrics', () => {
  const tiers = [
    { name: 'server-to-pca', source: '/a', destination: '/b' },
    { name: 'never-ran', source: '/a', destination: '/c' },
  ];
  const render = async () =>
    renderMetrics({
      config: await config({ pair: { primary: 'pc1', standby: 'pc2' }, backup: { tiers } }),
      state: clusterState(),
      memory: { version: 1, lastRunAt: T(60), lastGoodAt: T(300), lastResult: 'invalid', files: 42 },
      backup: {
        'server-to-pca': { lastRunAt: T(100), lastOkAt: T(1800), lastResult: 'ok', runs: 3, bytes: 1024, files: 7 },
      },
      now: NOW,
    });

  test('parses as Prometheus text format: every family a gauge with HELP, every value a number', async () => {
    const p: Parsed = parsePrometheus(await render());
    assert.ok(p.length >= 15, `${p.length} families`);
    for (const f of p) {
      assert.match(f.name, /^hactl_[a-z_]+$/);
      assert.equal(f.type, f.name.endsWith('s_total') ? 'COUNTER' : 'GAUGE', f.name);
      assert.ok(f.help.length > 10, f.name);
      for (const m of f.metrics) assert.ok(Number.isFinite(Number(m.value)), `${f.name} ${m.value}`);
    }
    assert.equal(new Set(p.map((f) => f.name)).size, p.length, 'no family twice');
  });

  test('role, host health, ages, consecutive counts, last sync and snapshot', async () => {
    const p: Parsed = parsePrometheus(await render());
    assert.equal(value(p, 'hactl_serving', { role: 'standby', host: 'pc2' }), 1);
    assert.equal(value(p, 'hactl_serving', { role: 'primary', host: 'pc1' }), 0);
    assert.equal(value(p, 'hactl_level', { level: 'degraded' }), 1);
    assert.equal(value(p, 'hactl_host_status', { host: 'pc1', status: 'unreachable' }), 1);
    assert.equal(value(p, 'hactl_host_status', { host: 'pc1', status: 'healthy' }), 0);
    assert.equal(value(p, 'hactl_host_healthy', { host: 'pc2' }), 1);
    assert.equal(value(p, 'hactl_host_observation_timestamp_seconds', { host: 'pc1' }), NOW.getTime() / 1000 - 90);
    assert.equal(value(p, 'hactl_host_consecutive_failures', { host: 'pc1' }), 4);
    assert.equal(value(p, 'hactl_host_consecutive_healthy', { host: 'pc2' }), 12);
    assert.equal(value(p, 'hactl_failover_attempts'), 1);
    assert.equal(value(p, 'hactl_memory_sync_last_good_timestamp_seconds'), NOW.getTime() / 1000 - 300);
    assert.equal(value(p, 'hactl_memory_sync_last_result', { result: 'invalid' }), 1);
    assert.equal(
      value(p, 'hactl_backup_last_snapshot_timestamp_seconds', { tier: 'server-to-pca' }),
      NOW.getTime() / 1000 - 1800,
    );
    assert.equal(value(p, 'hactl_backup_snapshot_bytes', { tier: 'server-to-pca' }), 1024);
    assert.equal(value(p, 'hactl_backup_last_result', { tier: 'never-ran' }), undefined);
    assert.equal(value(p, 'hactl_metrics_written_timestamp_seconds'), NOW.getTime() / 1000);
  });

  test('no state yet: only the written timestamp; label values with quotes survive the parser', async () => {
    const p: Parsed = parsePrometheus(
      renderMetrics({ config: { pair: { primary: 'a', standby: 'b' }, backup: { tiers: [] } } as never, now: NOW }),
    );
    assert.deepEqual(
      p.map((f) => f.name),
      ['hactl_metrics_written_timestamp_seconds'],
    );
    const odd = 'pc "one"\\two\nx';
    const q: Parsed = parsePrometheus(
      renderMetrics({
        config: { pair: { primary: odd, standby: 'b' }, backup: { tiers: [] } } as never,
        state: clusterState(),
        now: NOW,
      }),
    );
    assert.equal(value(q, 'hactl_serving', { role: 'primary' }), 0);
    assert.equal(q.find((f) => f.name === 'hactl_serving')!.metrics[0]!.labels!.host, odd);
  });
});

describe('writeMetrics', () => {
  test('unset: writes nothing; set: one 0644 file, no temp file left, replaced on the next run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-metrics-'));
    const c = await config({ stateDir: join(dir, 'state') });
    assert.deepEqual(await writeMetrics(c, NOW), {});
    const file = join(dir, 'textfile', 'hactl.prom');
    const withFile = await config({ stateDir: join(dir, 'state'), metrics: { textfile: file } });
    writeJson(join(dir, 'state', 'state.json'), clusterState());
    assert.deepEqual(await writeMetrics(withFile, NOW), { file });
    assert.equal(statSync(file).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(join(dir, 'textfile')), ['hactl.prom']);
    // Created by hactl under umask 077: 0755, or node_exporter cannot list it.
    assert.equal(statSync(join(dir, 'textfile')).mode & 0o777, 0o755);
    assert.equal(
      value(parsePrometheus(readFileSync(file, 'utf8')), 'hactl_host_consecutive_failures', { host: 'pc1' }),
      4,
    );
    await writeMetrics(withFile, new Date(NOW.getTime() + 60e3));
    assert.equal(
      value(parsePrometheus(readFileSync(file, 'utf8')), 'hactl_metrics_written_timestamp_seconds'),
      NOW.getTime() / 1000 + 60,
    );
    assert.ok(existsSync(file));
  });

  test('a relative path or a file not named *.prom is a config error', async () => {
    await assert.rejects(config({ metrics: { textfile: 'hactl.prom' } }), /metrics\/textfile/);
    await assert.rejects(config({ metrics: { textfile: '/var/lib/node_exporter/hactl.txt' } }), /metrics\/textfile/);
  });
});

describe('metrics for dashboards (issue 24 item 4)', () => {
  test('written 0644 under umask 077 (node_exporter runs as another user), no temp file left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-metrics-'));
    const file = join(dir, 'textfile', 'hactl.prom');
    const c = await config({ stateDir: join(dir, 'state'), metrics: { textfile: file } });
    const old = process.umask(0o077);
    try {
      assert.deepEqual(await writeMetrics(c, NOW), { file });
      assert.equal(statSync(file).mode & 0o777, 0o644);
      await writeMetrics(c, NOW); // replaced: still 0644
      assert.equal(statSync(file).mode & 0o777, 0o644);
    } finally {
      process.umask(old);
    }
    assert.deepEqual(readdirSync(join(dir, 'textfile')), ['hactl.prom']);
    // Created by hactl under umask 077: 0755, or node_exporter cannot list it.
    assert.equal(statSync(join(dir, 'textfile')).mode & 0o777, 0o755);
  });

  test('failover and failback counts, paused, pending alerts, last exit per command, last RTO; no ages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-metrics-'));
    const state = join(dir, 'state');
    const file = join(dir, 'hactl.prom');
    const c = await config({ stateDir: state, metrics: { textfile: file }, alerts: { telegram: { chatId: 1 } } });
    mkdirSync(state, { recursive: true });
    const line = (o: object) => JSON.stringify(o) + '\n';
    const hosts = (primary: string) => ({
      primary: { status: primary, confirmed: true },
      standby: { status: 'healthy', confirmed: true },
    });
    writeFileSync(
      join(state, 'history.jsonl'),
      line({ at: T(700), command: 'check', exitCode: 2, serving: 'primary', hosts: hosts('unreachable') }) +
        line({ at: T(640), command: 'failover', exitCode: 0, acted: true, ok: true, kind: 'failover', ms: 20_000 }) +
        line({ at: T(300), command: 'failback', exitCode: 2, acted: true, ok: false, kind: 'failback' }) +
        line({ at: T(200), command: 'check', exitCode: 1, serving: 'standby', hosts: hosts('unreachable') }),
    );
    writeJson(join(state, 'pause.json'), { version: 1, since: T(60), until: T(-3600), by: 'op', reason: 'x' });
    writeJson(join(state, 'outbox.json'), {
      version: 1,
      pending: [
        { id: 'a', at: T(10), text: 'one', tries: 0 },
        { id: 'b', at: T(9), text: 'two', tries: 3, lastError: 'telegram: 500' },
      ],
    });
    assert.deepEqual(await writeMetrics(c, NOW), { file });
    const p: Parsed = parsePrometheus(readFileSync(file, 'utf8'));
    assert.equal(value(p, 'hactl_failovers_total', { result: 'ok' }), 1);
    assert.equal(value(p, 'hactl_failbacks_total', { result: 'failed' }), 1);
    assert.equal(p.find((f) => f.name === 'hactl_failovers_total')!.type, 'COUNTER');
    assert.equal(value(p, 'hactl_last_recovery_seconds'), 80);
    assert.equal(value(p, 'hactl_last_exit_code', { command: 'check' }), 1);
    assert.equal(value(p, 'hactl_last_exit_code', { command: 'failback' }), 2);
    assert.equal(value(p, 'hactl_paused'), 1);
    assert.equal(value(p, 'hactl_alerts_pending'), 2);
    // An outbox from before the counts: every series there, at 0 (rate() needs them).
    assert.equal(value(p, 'hactl_alerts_total', { channel: 'telegram', result: 'delivered' }), 0);
    assert.equal(value(p, 'hactl_alerts_total', { channel: 'telegram', result: 'failed' }), 0);
    assert.deepEqual(
      p.filter((f) => f.name.endsWith('_age_seconds')).map((f) => f.name),
      [],
      'ages repeat the timestamps',
    );
  });

  test('hactl_alerts_total is a counter: it grows across deliveries (delivered alerts leave the outbox)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-metrics-'));
    const state = join(dir, 'state');
    const file = join(dir, 'hactl.prom');
    const c = await config({ stateDir: state, metrics: { textfile: file }, alerts: { telegram: { chatId: 1 } } });
    const box = new Outbox(state);
    const policy = { repeatEvery: 3600, maxRepeats: 2, resolveAfter: 0 };
    const chans = ['telegram'];
    const total = async (result: string) => {
      assert.deepEqual(await writeMetrics(c, NOW), { file });
      const p: Parsed = parsePrometheus(readFileSync(file, 'utf8'));
      assert.equal(p.find((f) => f.name === 'hactl_alerts_total')!.type, 'COUNTER');
      return value(p, 'hactl_alerts_total', { channel: 'telegram', result });
    };
    const send = async (answers: Array<'ok' | 'temporary' | 'permanent'>) => {
      for (const a of answers) {
        const m = (await box.nextFor('telegram'))!;
        assert.ok(m, 'an event to send');
        const r =
          a === 'ok'
            ? { ok: true as const }
            : a === 'permanent'
              ? { ok: false as const, permanent: true as const, message: '400' }
              : { ok: false as const, permanent: false as const, message: '502' };
        await box.record(m.id, 'telegram', r, chans);
      }
    };
    await box.prepare(
      [event('paused', 'medium', 'notice', 'one', NOW), event('resumed', 'medium', 'notice', 'two', NOW)],
      {
        policy,
        now: NOW,
      },
    );
    await send(['ok', 'ok']);
    assert.equal(await box.pending(), 0, 'delivered alerts left the outbox');
    assert.equal(await total('delivered'), 2);
    await box.prepare(
      [event('test', 'medium', 'notice', 'three', NOW), event('dropped', 'medium', 'notice', 'four', NOW)],
      {
        policy,
        now: NOW,
      },
    );
    await send(['temporary', 'ok', 'permanent']);
    assert.equal(await box.pending(), 0);
    assert.equal(await total('delivered'), 3);
    assert.equal(await total('failed'), 1);
    assert.equal(await total('gave_up'), 1);
  });
});
