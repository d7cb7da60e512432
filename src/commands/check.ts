// hactl check: probe both hosts in parallel, confirm a failure once after the
// retry delay, fold the observations into the state, alert on a change of level.
import type { Command } from 'commander';
import { runCommand, loadState, saveState, type GlobalOptions } from '../context.js';
import { applyCheck, needsRetry } from '../core/decide.js';
import type { Observation, Observations } from '../core/model.js';
import type { Role } from '../config/types.js';
import { Prober } from './observe.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export default async function check(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  return runCommand('check', opts, 'cluster', async ({ config, out, now, alerts }) => {
    const state = await loadState(config, now());
    out.progress(`probing ${config.pair.primary} and ${config.pair.standby}`);
    const prober = new Prober(config);
    const confirm = async (role: Role): Promise<Observation> => {
      const first = await prober.observe(role);
      // An idle standby's gateway is down by design; only unreachable/timeout is a failure there.
      const expectedDown = role !== state.serving && first.status === 'gateway-down';
      if (!needsRetry(first.status) || expectedDown) return first;
      out.progress(`${role} ${config.pair[role]}: ${first.status}; retrying in ${config.thresholds.retryDelay} s before believing it`);
      await sleep(config.thresholds.retryDelay * 1000);
      const second = await prober.observe(role);
      if (second.status === 'healthy') return { ...second, transient: true, detail: `${second.detail} (first probe: ${first.status}: ${first.detail})` };
      return { ...second, confirmed: true };
    };
    let primary: Observation;
    let standby: Observation;
    try {
      [primary, standby] = await Promise.all([confirm('primary'), confirm('standby')]);
    } finally {
      await prober.close();
    }
    const obs: Observations = { primary, standby };
    for (const r of ['primary', 'standby'] as const) out.detail(`  ${r.padEnd(8)} ${config.pair[r].padEnd(12)} ${obs[r].status.padEnd(15)} ${obs[r].detail}`);
    const { state: next, assessment, alert } = applyCheck(config, state, obs, now());
    saveState(config, next);
    let alertNote: string | undefined;
    if (alert) {
      const r = await alerts.send(alert);
      if (r.errors.length) { alertNote = r.errors.join('; '); out.error(`hactl: warning: ${alertNote}`); }
    }
    // Memory sync (issue 3): a last good sync older than three intervals is a warning.
    const { memoryWarning } = await import('../memory/check.js');
    const { backupWarnings } = await import('../backup/record.js');
    const warns = [await memoryWarning(config, now()), ...(await backupWarnings(config, now()))].filter((w): w is string => !!w);
    const memWarn = warns.length ? warns.join('; ') : null;
    if (memWarn) out.detail(`  warning  ${memWarn}`);
    const pg = await (await import('../postgres/steps.js')).checkReplication(config, next.serving, obs);
    if (pg) out.detail(`  ${pg.line}`);
    const code = memWarn && assessment.exitCode === 0 ? 1 : assessment.exitCode;
    return {
      exitCode: code === 3 ? code : Math.max(code, pg?.exitCode ?? 0),
      summary: `check: ${assessment.line}${memWarn ? `; WARNING: ${memWarn}` : ''}${pg && pg.level !== 'ok' ? `; ${pg.line}` : ''}`,
      data: { postgres: pg ?? null, memoryWarning: memWarn ?? null, level: assessment.level, serving: next.serving, hosts: obs, streaks: next.streaks, alert: alert ?? null, alertError: alertNote ?? null },
    };
  });
}
