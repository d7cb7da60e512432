// Memory's use of rsync: one copy job run dry (to observe) or for real, with
// its itemized result. The only place memory sync touches rsync.
import type { Config, HostConfig } from '../config/types.js';
import { runRsync, rsyncExitMeaning, type RsyncResult } from '../adapters/rsync.js';
import { prepareShare, type SshShare } from '../adapters/ssh-master.js';
import { parseItemized, rsyncFailure, type Itemized } from '../adapters/rsync-itemize.js';
import type { CopyObservation } from './gate.js';
import { filterRules } from './plan.js';

export interface CopyJob {
  from: { host?: HostConfig; path: string };
  to: { host?: HostConfig; path: string };
  options: string[];
  filters?: string[];
}

export interface CopyRun {
  res: RsyncResult;
  items: Itemized;
  ok: boolean;
  missingSource: boolean;
  problem?: string;
}

/**
 * A master check started ahead (primeShare), taken by the next copy to that host and by no other: the check
 * then runs while the run reads its records, not between them and the rsync (issue 25). Once: a later copy
 * (the push, a minute of validation later) checks afresh.
 */
const primed = new WeakMap<HostConfig, Promise<SshShare | undefined>>();

export function primeShare(config: Config, host: HostConfig): void {
  // Replaces any earlier one a run left untaken (it stopped before copying): never an old answer.
  const p = prepareShare(config.stateDir, host);
  p.catch(() => undefined); // said by the copy that takes it; none may: the run stopped before copying
  primed.set(host, p);
}

function shareFor(config: Config, host: HostConfig): Promise<SshShare | undefined> {
  const p = primed.get(host);
  primed.delete(host);
  return p ?? prepareShare(config.stateDir, host);
}

const MISSING = /change_dir .* failed: No such file or directory|link_stat .* failed: No such file or directory/;

export async function copy(
  config: Config,
  what: string,
  job: CopyJob,
  deadline: number,
  maxDelete?: number,
): Promise<CopyRun> {
  const m = config.memory;
  // Relative roots mean "under the login's HOME", as for hactl's own SSH commands; sshd starts the
  // remote command in the passwd home, which can differ from $HOME. A constant: no user data in it.
  const values: Array<[string, string]> = [['rsync-path', 'cd "$HOME" && rsync']];
  if (m.bwlimit > 0) values.push(['bwlimit', String(m.bwlimit)]);
  if (maxDelete !== undefined) values.push(['max-delete', String(maxDelete)]);
  const remote = job.from.host ?? job.to.host;
  const share = remote ? await shareFor(config, remote) : undefined;
  const res = await runRsync({
    from: job.from,
    to: job.to,
    flags: 'rlptz',
    options: [...job.options, 'itemize-changes', 'stats'],
    values,
    filters: job.filters ?? filterRules(m),
    connectTimeout: config.thresholds.connectTimeout,
    ioTimeout: m.ioTimeout,
    deadline,
    share,
  });
  const items = parseItemized(res.stdout);
  // 24: files vanished while copying live data; what was copied is whole.
  const ok = !res.timedOut && (res.code === 0 || res.code === 24);
  const missingSource = res.code === 23 && MISSING.test(res.stderr);
  let problem: string | undefined;
  if (res.code === 25)
    problem =
      `${what}: the source changed during the run (more deletions than were checked); ` +
      'nothing more was deleted, the next run checks again';
  else if (!ok) problem = rsyncFailure(what, res, deadline, rsyncExitMeaning);
  return { res, items, ok, missingSource, problem };
}

/** A dry run as the gate sees it. */
export function observed(r: CopyRun): CopyObservation {
  return {
    ok: r.ok,
    missingSource: r.missingSource,
    problem: r.problem,
    sourceFiles: r.items.files,
    created: r.items.created.length,
    deleted: r.items.deleted.length,
    undecodable: r.items.undecodable,
  };
}
