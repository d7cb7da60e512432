// hactl guard, end to end, on a gateway host: observe (the serving permit, aged by this host's
// boot_id and uptime; the peer, for the message; the local gateway) -> plan (plan.ts, pure) ->
// run (stop the gateway locally, without a live permit) -> fold (fold.ts, pure) -> record
// (guard.json in the state directory; the history line and the alert through the run context).
import { join } from 'node:path';
import type { RunContext, RunRecord } from '../context.js';
import type { Config, HostConfig, Thresholds } from '../config/types.js';
import type { Clock } from '../adapters/clock.js';
import { ConfigError } from '../errors.js';
import { Gateway } from '../adapters/gateway.js';
import { readJson, writeJson } from '../state/files.js';
import { decideGuard, type GuardObservation } from './plan.js';
import { foldGuard, type GuardRecord } from './fold.js';
import { LocalShell, machineStamp, peerAnswers, readPermit } from './local.js';
import {
  FENCE_BUDGET,
  FENCE_FINAL,
  FENCE_KILL,
  FENCE_METHOD,
  GUARD_OBSERVE,
  fenceLead,
  permitLeft,
} from '../fencing/rule.js';
import * as scripts from '../adapters/remote-scripts.js';
import { monotonicMs } from '../adapters/clock.js';

/** This host and its peer in the pair, from --host or guard.self; exit 78 when they cannot be told. */
export function guardHosts(config: Config, host: string | undefined): { self: HostConfig; peer: HostConfig } {
  if (!config.guard)
    throw new ConfigError([`${config.file}: no guard section`], 'add guard: {lease: 45s, interval: 5s}');
  const name = host ?? config.guard.self;
  const pair = [config.pair.primary, config.pair.standby];
  if (!name || !pair.includes(name)) {
    throw new ConfigError(
      [`${config.file}: guard.self: ${name ? `'${name}' is not in pair` : 'not set'} (pair: ${pair.join(', ')})`],
      'set guard.self to this host name in the config on this host, or run hactl guard --host NAME',
    );
  }
  const peer = name === config.pair.primary ? config.pair.standby : config.pair.primary;
  return { self: config.hosts[name]!, peer: config.hosts[peer]! };
}

/**
 * The guard's stop, bounded hard by FENCE_BUDGET (src/fencing/rule.ts fenceLead): the stop methods
 * in order, each under `timeout -k` (FENCE_METHOD, then SIGKILL FENCE_KILL later), each followed by
 * a quick gone check, while the budget less FENCE_FINAL lasts; then SIGKILL of whatever of this
 * login listens on the gateway's port and of the run hactl started, and one gone check. No
 * graceful stop: a host without a live permit (or about to lose it) may not serve a moment longer,
 * and its guard must be done before the permit ends, which is all the witness waits for.
 */
export async function fenceLocal(
  self: HostConfig,
  t: Thresholds,
  clock: Clock,
): Promise<{ ok: boolean; detail: string }> {
  const t0 = monotonicMs();
  const spent = () => (monotonicMs() - t0) / 1000;
  const room = () => FENCE_BUDGET - FENCE_FINAL - spent();
  const quick = { term: 0.5, kill: 0.25 };
  const shell = (cap: { term: number; kill: number }) => new LocalShell(self, cap);
  // Builtins (pidfile, port-owner) SIGTERM then SIGKILL at once: stopDeadline 0 when fencing.
  const ft: Thresholds = { ...t, commandTimeout: FENCE_METHOD, stopDeadline: 0, pollInterval: 0.2 };
  const gw = new Gateway(shell({ term: FENCE_METHOD, kill: FENCE_KILL }), self.gateway, ft, clock);
  const check = new Gateway(shell(quick), self.gateway, ft, clock);
  const tried: string[] = [];
  for (const m of self.gateway.stop) {
    if (room() < FENCE_METHOD + FENCE_KILL) {
      tried.push(`${m.name}: skipped (stop budget of ${FENCE_BUDGET} s spent)`);
      continue;
    }
    const r = await gw.runMethod(m);
    tried.push(r.detail);
    if (room() < quick.term + quick.kill) continue;
    if ((await check.gone()).gone)
      return { ok: true, detail: `stopped by ${m.name}, verified gone [${tried.join('; ')}]` };
  }
  const kill = await shell(quick).run(
    [
      `(${scripts.portOwnerStop(self.gateway.port, 0)})`,
      `(${scripts.pidfileStop(self.gateway.runDir, 0)})`,
      'exit 0',
    ].join('\n'),
    quick.term,
  );
  tried.push(
    `SIGKILL of the port's owner and of hactl's run: ${kill.code === 0 ? 'done' : `exit ${kill.code ?? kill.signal}`}`,
  );
  const last = await new Gateway(shell({ term: 1, kill: 0.25 }), self.gateway, ft, clock).gone();
  const took = `in ${spent().toFixed(1)} s`;
  if (last.gone) return { ok: true, detail: `stopped ${took}, verified gone [${tried.join('; ')}]` };
  return { ok: false, detail: `${last.detail} after every stop method and SIGKILL ${took} [${tried.join('; ')}]` };
}

export async function guardHost(ctx: RunContext, host: string | undefined): Promise<RunRecord> {
  const { config, clock, out, opts } = ctx;
  const { self, peer } = guardHosts(config, host);
  const g = config.guard!;
  // The observation is bounded by GUARD_OBSERVE (src/fencing/rule.ts fenceLead): the gone check
  // under `timeout -k` (a check that cannot finish is "cannot tell": running, fail closed), the peer
  // connect beside it (it only informs).
  const obs = { term: GUARD_OBSERVE - 0.5, kill: 0.5 };
  const gw = new Gateway(new LocalShell(self, obs), self.gateway, config.thresholds, clock);
  const [reach, gone] = await Promise.all([
    peerAnswers(peer, Math.min(config.thresholds.connectTimeout, obs.term)),
    gw.gone(),
  ]);
  // The permit is judged after the observation, with the stamp read last: never older than the run.
  const permit = permitLeft(readPermit(), machineStamp());
  const o: GuardObservation = {
    self: self.name,
    peer: peer.name,
    permit,
    lead: fenceLead(config),
    peerAnswers: reach.answers,
    peerDetail: reach.detail,
    running: !gone.gone,
    ...(gone.unknown ? { runningUnknown: true } : {}),
    runningDetail: gone.detail,
  };
  const plan = decideGuard(g, o);
  out.progress(plan.reason);
  if (opts.dryRun) {
    const verb = plan.action === 'stop' ? 'would stop the gateway' : 'nothing to do';
    return {
      exitCode: plan.exitCode,
      summary: `guard --dry-run: ${verb}: ${plan.reason}`,
      data: { plan, observed: o },
    };
  }
  const stop = plan.action === 'stop' ? await fenceLocal(self, config.thresholds, clock) : null;
  const file = join(config.stateDir, 'guard.json');
  const prior = await readJson<GuardRecord>(file, 'guard-state').catch(() => undefined);
  const f = foldGuard(prior, o, plan, stop, clock.now(), config.alerts.prefix);
  writeJson(file, f.record);
  let alertError: string | null = null;
  if (f.alert) {
    const sent = await ctx.alerts.send(f.alert);
    alertError = sent.errors.length ? sent.errors.join('; ') : null;
    if (alertError) out.error(`hactl: warning: ${alertError}`);
  }
  return { exitCode: f.exitCode, summary: f.summary, data: { guard: f.record, alertError } };
}
