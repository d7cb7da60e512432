// hactl guard, end to end, on a gateway host: observe (the serving permit, aged by this host's
// boot_id and uptime; the peer, for the message; the local gateway) -> plan (plan.ts, pure) ->
// run (stop the gateway locally, without a live permit) -> fold (fold.ts, pure) -> record
// (guard.json in the state directory; the history line and the alert through the run context).
import { join } from 'node:path';
import type { RunContext, RunRecord } from '../context.js';
import type { Config, HostConfig, Thresholds } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { Gateway } from '../adapters/gateway.js';
import { readJson, writeJson } from '../state/files.js';
import { decideGuard, type GuardObservation } from './plan.js';
import { foldGuard, type GuardRecord } from './fold.js';
import { LocalShell, machineStamp, peerAnswers, readPermit } from './local.js';
import { permitLeft } from '../fencing/rule.js';

/** This host and its peer in the pair, from --host or guard.self; exit 78 when they cannot be told. */
export function guardHosts(config: Config, host: string | undefined): { self: HostConfig; peer: HostConfig } {
  if (!config.guard)
    throw new ConfigError([`${config.file}: no guard section`], 'add guard: {lease: 90s, interval: 1m}');
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

/** Stop methods in order until no gateway process is left (the failover's own rule, run locally). */
async function stopLocal(gw: Gateway, t: Thresholds): Promise<{ ok: boolean; detail: string }> {
  const tried: string[] = [];
  for (const m of gw.gw.stop) {
    const r = await gw.runMethod(m, t.stopDeadline);
    tried.push(r.detail);
    const w = await gw.waitGone(r.ok ? t.stopDeadline : 0.01);
    if (w.gone) return { ok: true, detail: `stopped by ${m.name}, verified gone [${tried.join('; ')}]` };
  }
  const still = await gw.gone();
  return { ok: false, detail: `${still.detail} after every stop method [${tried.join('; ')}]` };
}

export async function guardHost(ctx: RunContext, host: string | undefined): Promise<RunRecord> {
  const { config, clock, out, opts } = ctx;
  const { self, peer } = guardHosts(config, host);
  const g = config.guard!;
  const gw = new Gateway(new LocalShell(self), self.gateway, config.thresholds, clock);
  // The peer connect runs beside the gone check (it only informs): the guard's run stays within
  // max(connectTimeout, commandTimeout) before it stops anything (src/fencing/rule.ts fenceBound).
  const [reach, gone] = await Promise.all([peerAnswers(peer, config.thresholds.connectTimeout), gw.gone()]);
  // The permit is judged after the observation, with the stamp read last: never older than the run.
  const permit = permitLeft(readPermit(), machineStamp());
  const o: GuardObservation = {
    self: self.name,
    peer: peer.name,
    permit,
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
  const stop = plan.action === 'stop' ? await stopLocal(gw, config.thresholds) : null;
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
