// Several witnesses, one actor: around each command's body (src/context.ts runCommand), campaign
// for the lead, pull the shared records, run, push what changed, resign. Without
// coordination.etcd none of this loads, and one witness works on its local files as before.
import { hostname } from 'node:os';
import type { Config, EtcdConfig } from '../config/types.js';
import type { RunContext, RunRecord } from '../context.js';
import { EXIT, HactlError } from '../errors.js';
import type { Reporter } from '../output.js';
import { EtcdCoordinator, NoQuorumError } from './etcd.js';
import { decideRun, kindOf } from './plan.js';
import { EtcdStore } from './store.js';

export const witnessName = (cfg: EtcdConfig): string => cfg.name ?? hostname();
export const pairPrefix = (config: Config, cfg: EtcdConfig): string =>
  cfg.prefix ?? `/hactl/${config.pair.primary}-${config.pair.standby}`;

export interface Coordination {
  run(ctx: RunContext, body: (ctx: RunContext) => Promise<RunRecord>): Promise<RunRecord>;
  close(): Promise<void>;
}

function noQuorum(cfg: EtcdConfig, e: unknown): HactlError {
  return new HactlError(
    `unknown: no quorum: ${(e as Error).message}; this witness acts on nothing`,
    EXIT.UNKNOWN,
    `check this witness's links to the etcd members: etcdctl --endpoints=${cfg.endpoints.join(',')} endpoint health`,
  );
}

/** Null for a command that touches nothing shared. Nothing is dialled until run(). */
export function coordinated(config: Config, command: string, lockName: string | null, out: Reporter): Coordination | null {
  const cfg = config.coordination?.etcd;
  const kind = kindOf(command, lockName);
  if (!cfg || kind === 'local') return null;
  const name = witnessName(cfg);
  let etcd: EtcdCoordinator | undefined;
  return {
    async run(ctx, body) {
      let store: EtcdStore;
      let verdict;
      let holder: string;
      try {
        etcd = await EtcdCoordinator.open(cfg, config.file, pairPrefix(config, cfg), name);
        const lead = await etcd.campaign((why) => {
          // The lease may expire on the server any moment now, and another witness take over:
          // stop acting at once (a kill -9 leaves no worse a state; the next leader carries on).
          out.error(`hactl: ${command}: lost the lead mid-run (${why}); stopping so that only one witness acts`);
          process.exit(EXIT.UNKNOWN);
        });
        holder = lead.holder;
        verdict = decideRun(kind, command, lead.leader, lead.holder);
        if (verdict.run === 'not-leader') return notLeader(verdict.summary, name, holder);
        store = new EtcdStore(config, etcd);
        await store.pull();
      } catch (e) {
        throw e instanceof NoQuorumError ? noQuorum(cfg, e) : e;
      }
      if (verdict.run !== 'body') return body(ctx);
      out.progress(verdict.push ? `witness ${name} leads` : `witness ${holder} leads; ${name} records locally`);
      const { Alerts } = await import('../adapters/telegram.js');
      // A witness that does not lead observes without alerting: the leader alerts for the pair.
      const run = verdict.muteAlerts ? { ...ctx, alerts: new Alerts(config, true) } : ctx;
      const rec = await body(run);
      const coordination = { witness: name, leader: holder, leading: verdict.push };
      rec.data = { ...rec.data, coordination };
      if (!verdict.push) return rec;
      let pushed: boolean;
      try {
        pushed = await store.push();
      } catch (e) {
        throw e instanceof NoQuorumError ? noQuorum(cfg, e) : e;
      }
      if (pushed) return rec;
      const lost = 'another witness wrote the shared records meanwhile: theirs kept, this run’s dropped';
      return { ...rec, exitCode: Math.max(rec.exitCode, EXIT.UNKNOWN), summary: `${rec.summary}; ${lost}` };
    },
    async close() {
      if (!etcd) return;
      await etcd.resign();
      etcd.close();
    },
  };
}

function notLeader(summary: string, name: string, holder: string): RunRecord {
  return { exitCode: EXIT.OK, summary, data: { acted: false, coordination: { witness: name, leader: holder, leading: false } } };
}

