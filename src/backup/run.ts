// One run of a backup tier: observe -> plan -> run, step by step. A dated
// snapshot at the destination, unchanged files hard-linked to the previous one
// (--link-dest), written under a hidden name and renamed into place only when
// its count matches the source's; `latest` points at the newest complete one;
// retention prunes the rest. The decisions are in plan.ts; the record in fold.ts.
import type { Config } from '../config/types.js';
import type { Reporter } from '../output.js';
import type { HostConfig } from '../config/types.js';
import { prepareShare, runThroughMaster, type SshShare } from '../adapters/ssh-master.js';
import { lastLine, localPlace, openPlaces, type Place } from './places.js';
import { arrived, destState, guardSaid, sourceState } from './observe.js';
import * as plan from './plan.js';
import { readBackupRecord } from './record.js';
import * as sh from './scripts.js';
import { sqliteCopies } from './sqlite.js';
import { transfer } from './transfer.js';
import type { Outcome, Resolved } from './types.js';

export interface TierDeps {
  config: Config;
  out: Reporter;
  /** When this run started, from the one clock: it names the snapshot and judges the upstream's age. */
  startedAt: Date;
}

interface Sides {
  src: Place;
  dst(): Promise<Place>;
  prefetch(): void;
  close(): Promise<void>;
}

/**
 * The destination over OpenSSH through the master rsync's ssh opened for the copy: the count check and the
 * commit need no handshake, no ssh2 module and no second connection competing with rsync (issue 12 #7).
 */
function masterPlace(config: Config, host: HostConfig, share: SshShare | undefined): Place {
  const t = config.thresholds.connectTimeout;
  return {
    host,
    label: host.name,
    exec: (script, timeoutSec) => runThroughMaster(host, share, t, `cd "$HOME" && ${script}`, timeoutSec),
    close: async () => undefined,
  };
}

/**
 * Pushing from the witness to a remote destination (the fast path): the copy
 * starts at once, with the destination's guards in rsync's own connection
 * (scripts.guardedRsyncPath); the steps after the copy reuse that connection.
 * Every other shape prepares the destination first.
 */
async function openSides(config: Config, hop: Resolved, fast: boolean, share?: SshShare): Promise<Sides> {
  if (fast) {
    const dst = masterPlace(config, hop.dst.host!, share);
    return { src: localPlace(), dst: async () => dst, prefetch: () => undefined, close: dst.close };
  }
  const both = await openPlaces(config, hop);
  return { src: both.src, dst: async () => both.dst, prefetch: () => undefined, close: both.close };
}

export async function runTier(deps: TierDeps, hop: Resolved, dryRun: boolean): Promise<Outcome> {
  const { config, out, startedAt } = deps;
  const tier = hop.tier;
  const timeout = config.thresholds.commandTimeout;
  // The record is read only when a decision needs it: the upstream's freshness, or the deep-verify turn.
  const records = tier.upstream || tier.deepVerifyEvery > 0 ? await readBackupRecord(config) : {};
  const up = tier.upstream ? config.backup.tiers.find((other) => other.name === tier.upstream) : undefined;
  const stale = plan.planUpstream(up, up && records[up.name], startedAt);
  const warnings = stale ? [stale] : [];
  const fast = !dryRun && !hop.src.host && !!hop.dst.host;
  const share = fast ? await prepareShare(config.stateDir, hop.dst.host!) : undefined;
  const sides = await openSides(config, hop, fast, share);
  try {
    const refused = plan.planSource(await sourceState(sides.src, hop.src.path, timeout), hop);
    if (refused) return refused;
    let snap = plan.planSnapshot(startedAt, { entries: [], latest: null });
    if (!fast) {
      const dst = await sides.dst();
      const dest = await destState(dst, hop.dst.path, timeout, !dryRun);
      const full = plan.planFreeSpace(dest.freeKB, hop);
      if (full) return full;
      snap = plan.planSnapshot(startedAt, dest);
      if (dryRun) return plan.planDryRun(hop, snap, warnings);
      if (snap.leftovers.length) await dst.exec(sh.removeEntriesScript(hop.dst.path, snap.leftovers), timeout);
    }
    const tmp = `.incomplete-${snap.name}`;
    let filters = [...tier.filters];
    if (tier.sqlite.length) {
      out.progress(`${tier.name}: consistent copies of SQLite databases on ${sides.src.label}`);
      const dbs = await sqliteCopies(sides.src, hop.src.path, tier.sqlite, timeout);
      filters = [...dbs.filters, ...filters];
      out.detail(`  sqlite: ${dbs.copied.length ? dbs.copied.join(', ') : 'no database matched'}`);
    }
    const via = snap.prev ? ` (link-dest ${snap.prev})` : fast ? ' (link-dest latest)' : '';
    out.progress(`${tier.name}: ${plan.where(hop.src)} -> ${plan.where(hop.dst)}/${snap.name}${via}`);
    // The fast path links against whatever `latest` names at the destination (a missing one only makes rsync say so).
    const linkDest = fast ? '../latest' : snap.prev ? `../${snap.prev}` : undefined;
    const guard = fast ? { rsyncPath: sh.guardedRsyncPath(hop.dst.path, tier.minFreeMB) } : {};
    const at = fast ? localPlace() : await sides.dst();
    const running = transfer(config, hop, `${hop.dst.path}/${tmp}`, { linkDest, filters, share, ...guard }, at);
    sides.prefetch();
    const copy = await running;
    let prev = snap.prev;
    if (fast) {
      const said = guardSaid(copy.stderr);
      prev = said.latest;
      if (said.refusedFreeKB !== undefined) return plan.freeSpaceRefusal(said.refusedFreeKB, hop);
    }
    const dst = await sides.dst();
    if (!copy.ok) {
      await dst.exec(sh.removeTreeScript(`${hop.dst.path}/${tmp}`), timeout).catch(() => undefined);
      return plan.transferFailed(hop, copy.detail, prev);
    }
    // What arrived, against what rsync says the source held; only then into place, and the pointer swapped.
    const got = await arrived(dst, hop.dst.path, tmp, Math.max(timeout, 60));
    const commit = plan.planCommit(snap.name, plan.expectedTree(copy), got.count, got.entries, tier.retention);
    if (!commit.commit) {
      await dst.exec(sh.rejectScript(hop.dst.path, tmp, commit.rejectAs), timeout).catch(() => undefined);
      return plan.rejected(hop, snap.name, commit.why, prev);
    }
    const done = await dst.exec(sh.commitScript(hop.dst.path, tmp, commit.name, commit.prune), Math.max(timeout, 300));
    if (!/^COMMITTED$/m.test(done.stdout)) return plan.commitFailed(hop, commit.name, lastLine(done));
    if (done.code !== 0) warnings.push(`pruning ${commit.prune.join(', ')} failed: ${lastLine(done)}`);
    // Now and then, a deep verify: the snapshot against the source, by checksum.
    if (plan.planDeepVerify(records[tier.name]?.runs ?? 0, tier.deepVerifyEvery)) {
      out.progress(`${tier.name}: deep verify (checksums)`);
      const verified = await transfer(config, hop, `${hop.dst.path}/${commit.name}`, { filters, verify: true }, dst);
      const warning = plan.deepVerifyWarning(commit.name, verified);
      if (warning) warnings.push(warning);
    }
    const made = { name: commit.name, prev, count: got.count, sent: copy.sent, pruned: commit.prune };
    return plan.snapshotMade(made, warnings);
  } finally {
    await sides.close();
  }
}
