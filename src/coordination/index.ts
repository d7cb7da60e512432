// Several witnesses, one actor: around each command's body (src/context.ts runCommand), campaign
// for the lead, pull the shared records, run, push what changed, resign. Without
// coordination.etcd none of this loads, and one witness works on its local files as before.
import { hostname } from 'node:os';
import type { Config, EtcdConfig } from '../config/types.js';
import type { RunContext, RunRecord } from '../context.js';
import { ConfigError, EXIT, HactlError } from '../errors.js';
import type { Reporter } from '../output.js';
import { EtcdCoordinator, NoQuorumError } from './etcd.js';
import { campaigns, changedHosts, decideRun, etcdTimes, kindOf, parseIntent, type Intent } from './plan.js';
import { EtcdStore, foldPending, markUnfinished } from './store.js';

export const witnessName = (cfg: EtcdConfig): string => cfg.name ?? hostname();
export const pairPrefix = (config: Config, cfg: EtcdConfig): string =>
  cfg.prefix ?? `/hactl/${config.pair.primary}-${config.pair.standby}`;

export interface Coordination {
  run(ctx: RunContext, body: (ctx: RunContext) => Promise<RunRecord>): Promise<RunRecord>;
  close(): Promise<void>;
}

function noQuorum(cfg: EtcdConfig, e: unknown): unknown {
  if (!(e instanceof NoQuorumError)) return e;
  return new HactlError(
    `unknown: no quorum: ${e.message}; this witness acts on nothing`,
    EXIT.UNKNOWN,
    `check this witness's links to the etcd members: etcdctl --endpoints=${cfg.endpoints.join(',')} endpoint health`,
  );
}

/** Null for a command that touches nothing shared. Nothing is dialled until run(). */
export function coordinated(
  config: Config,
  command: string,
  lockName: string | null,
  out: Reporter,
): Coordination | null {
  const cfg = config.coordination?.etcd;
  const kind = kindOf(command, lockName);
  if (!cfg || kind === 'local') return null;
  const name = witnessName(cfg);
  const times = etcdTimes(cfg);
  if ('problems' in times) throw new ConfigError(times.problems.map((p) => `${config.file}: ${p}`));
  let etcd: EtcdCoordinator | undefined;
  // The lease may expire on the server any moment now and another witness take over: this run
  // stops acting (Patroni's watchdog). The runners look at the signal before each effect, the
  // push is refused by the leader compare anyway, and the run ends with exit 3 (lostLead below):
  // no process.exit here, where a whole check --watch would die with its run.
  const lead = new AbortController();
  // The cluster's acting runs (failover, failback) leave their intent in etcd while they act.
  const tracksIntent = kind === 'act' && lockName === 'cluster';
  const stop = (why: string) => {
    if (lead.signal.aborted) return;
    out.error(
      `hactl: ${command}: lost the lead mid-run (${why}); no further step starts, so that only one witness acts`,
    );
    lead.abort(`lost the etcd lead (${why})`);
  };
  const lostLead = () =>
    new HactlError(
      `unknown: ${command}: ${String(lead.signal.reason)}; this run stopped before its next step and shared nothing`,
      EXIT.UNKNOWN,
      "the next leader carries on from the shared records; check this witness's links to the etcd members",
    );
  return {
    async run(ctx, body) {
      let store: EtcdStore;
      let verdict;
      let holder = name;
      let grantsTouched = false;
      let keep: Intent | null = null;
      let mine: Intent | null = null;
      try {
        etcd = await EtcdCoordinator.open(cfg, times, config.file, pairPrefix(config, cfg), name);
        let leader = false;
        if (campaigns(kind)) ({ leader, holder } = await etcd.campaign(lockName ?? command, stop));
        verdict = decideRun(kind, command, leader, holder);
        if (verdict.run === 'not-leader') {
          const coordination = { witness: name, leader: holder, leading: false };
          return { exitCode: EXIT.LOCKED, summary: verdict.summary, data: { acted: false, coordination } };
        }
        store = new EtcdStore(config, etcd);
        await store.pull();
        // Item 10 of issue 21: the intent is shared before the first effect, and a later leader
        // that finds one unfinished does not start over on a shared state older than the pair.
        if (tracksIntent) {
          // Item 10: the earlier leader's step and token. The first leader to find it unfinished
          // holds until a check reads which side serves (its record is kept, marked held); the
          // one that then acts continues from the recorded step (src/failover/index.ts).
          const prior = parseIntent(await etcd.readIntent());
          if (prior && changedHosts(prior) && !prior.held && markUnfinished(config, JSON.stringify(prior), ctx.now()))
            out.error(
              `hactl: warning: ${command}: an earlier leader did not finish (${JSON.stringify(prior)}); ` +
                'no automatic action until a check reads which side serves',
            );
          if (prior && changedHosts(prior)) keep = { ...prior, held: true };
          mine = { command, witness: name, since: ctx.now().toISOString() };
          if (!(await etcd.writeIntent(JSON.stringify(mine)))) {
            lead.abort('lost the etcd lead before the first step');
            throw lostLead();
          }
        }
        // A leading check reads an unfinished move too: it leaves alone the permit of a start that
        // may be under way (src/failover/index.ts permitDuty), rather than revoke it as an idle
        // host's whose gateway is not ready yet (its guard would then fence the launch).
        if (
          kind === 'observe' &&
          verdict.run === 'body' &&
          leads(verdict.push) &&
          lockName === 'cluster' &&
          config.guard
        ) {
          const prior = parseIntent(await etcd.readIntent());
          if (prior && changedHosts(prior)) keep = prior;
        }
        // Issue 21: a leader records each grant in etcd before sending it; the grants an earlier
        // leader recorded and never followed with its shared state are dated here, by this
        // witness, so that no wait needs a margin for them (src/fencing/rule.ts withPending).
        if (verdict.run === 'body' && leads(verdict.push) && config.guard) {
          const found = await etcd.readGrants();
          if (found.size) {
            const { machineStamp } = await import('../guard/local.js');
            const folded = foldPending(config, found, machineStamp());
            grantsTouched = true;
            const what = folded.map((g) => `${g.role} token ${g.token}`).join(', ');
            out.progress(`an earlier leader's grant(s) not followed by its state: ${what}; dated from now`);
          }
        }
      } catch (e) {
        throw noQuorum(cfg, e);
      }
      if (verdict.run !== 'body') return body(ctx);
      if (verdict.push !== 'record-only')
        out.progress(leads(verdict.push) ? `witness ${name} leads` : `witness ${holder} leads; ${name} only records`);
      const { Alerts } = await import('../adapters/telegram.js');
      // A witness that does not lead observes without alerting: the leader alerts for the pair.
      // Only the leader is the authority over serving permits (src/fencing/rule.ts mayGrant).
      const led: RunContext = { ...ctx, signal: lead.signal, leading: leads(verdict.push) };
      if (keep) led.resume = keep;
      if (tracksIntent && mine) {
        const coordinator = etcd!;
        const base = mine;
        led.intentStep = async (s) => {
          if (lead.signal.aborted) return false;
          try {
            const { kind, token, ...step } = s;
            return await coordinator.writeIntent(JSON.stringify({ ...base, kind, step, token }));
          } catch {
            return false;
          }
        };
      }
      if (leads(verdict.push)) {
        const coordinator = etcd!;
        led.share = async (role, g) => {
          grantsTouched = true;
          if (lead.signal.aborted) return false;
          try {
            return await coordinator.writeGrant(
              role,
              JSON.stringify({ token: g.token, lease: g.lease, witness: name }),
            );
          } catch {
            return false;
          }
        };
      }
      const run = verdict.muteAlerts ? { ...led, alerts: new Alerts(config, true) } : led;
      const rec = await body(run);
      if (lead.signal.aborted) throw lostLead();
      const coordination = { witness: name, leader: holder, leading: leads(verdict.push) };
      rec.data = { ...rec.data, coordination };
      if (verdict.push === 'no') return rec;
      let pushed: boolean;
      try {
        pushed = await store.push(verdict.push === 'as-leader');
      } catch (e) {
        throw noQuorum(cfg, e);
      }
      if (pushed && grantsTouched) {
        try {
          await etcd!.clearGrants();
        } catch {
          /* left: the next leader dates them again, later (a longer wait, never a shorter one) */
        }
      }
      if (pushed && tracksIntent) {
        try {
          // A run that did not act leaves the earlier leader's unfinished record for the one that will.
          await etcd!.writeIntent(keep && rec.data?.acted !== true ? JSON.stringify(keep) : null);
        } catch {
          /* left: the next leader checks before it acts, one cycle later */
        }
      }
      if (pushed) return rec;
      const lost = 'another witness wrote the shared records meanwhile: theirs kept, this run’s dropped';
      return { ...rec, exitCode: Math.max(rec.exitCode, EXIT.UNKNOWN), summary: `${rec.summary}; ${lost}` };
    },
    async close() {
      if (!etcd) return;
      await etcd.resign();
      etcd.close();
      etcd = undefined;
    },
  };
}

const leads = (push: string): boolean => push === 'as-leader';
