// One run of a backup tier: observe -> plan -> run, step by step. A dated
// snapshot at the destination, unchanged files hard-linked to the previous one
// (--link-dest), written under a hidden name and renamed into place only when
// its count matches the source's; `latest` points at the newest complete one;
// retention prunes the rest. The decisions are in plan.ts; the record in fold.ts.
import type { Config } from '../config/types.js';
import type { Reporter } from '../output.js';
import { lastLine, localPlace, lazyPlace, openPlaces, type Place } from './places.js';
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

interface Sides { src: Place; dst(): Promise<Place>; prefetch(): void; close(): Promise<void> }

/**
 * Pushing from the witness to a remote destination (the fast path): the copy
 * starts at once, with the destination's guards in rsync's own connection
 * (scripts.guardedRsyncPath), while hactl's SSH session, needed only after the
 * copy, opens alongside. Every other shape prepares the destination first.
 */
async function openSides(config: Config, r: Resolved, fast: boolean): Promise<Sides> {
  if (fast) {
    const d = lazyPlace(config, r.dst.host!);
    return { src: localPlace(), dst: d.get, prefetch: d.prefetch, close: d.close };
  }
  const p = await openPlaces(config, r);
  return { src: p.src, dst: async () => p.dst, prefetch: () => undefined, close: p.close };
}

export async function runTier(deps: TierDeps, r: Resolved, dryRun: boolean): Promise<Outcome> {
  const { config, out, startedAt } = deps;
  const t = r.tier;
  const timeout = config.thresholds.commandTimeout;
  // The record is read only when a decision needs it: the upstream's freshness, or the deep-verify turn.
  const records = t.upstream || t.deepVerifyEvery > 0 ? await readBackupRecord(config) : {};
  const up = t.upstream ? config.backup.tiers.find((x) => x.name === t.upstream) : undefined;
  const warnings = [plan.planUpstream(up, up && records[up.name], startedAt)].filter((w): w is string => !!w);
  const fast = !dryRun && !r.src.host && !!r.dst.host;
  const sides = await openSides(config, r, fast);
  try {
    const refused = plan.planSource(await sourceState(sides.src, r.src.path, timeout), r);
    if (refused) return refused;
    let snap = plan.planSnapshot(startedAt, { entries: [], latest: null });
    if (!fast) {
      const dst = await sides.dst();
      const dest = await destState(dst, r.dst.path, timeout, !dryRun);
      const full = plan.planFreeSpace(dest.freeKB, r);
      if (full) return full;
      snap = plan.planSnapshot(startedAt, dest);
      if (dryRun) return plan.planDryRun(r, snap, warnings);
      if (snap.leftovers.length) await dst.exec(sh.removeEntriesScript(r.dst.path, snap.leftovers), timeout);
    }
    const tmp = `.incomplete-${snap.name}`;
    let filters = [...t.filters];
    if (t.sqlite.length) {
      out.progress(`${t.name}: consistent copies of SQLite databases on ${sides.src.label}`);
      const s = await sqliteCopies(sides.src, r.src.path, t.sqlite, timeout);
      filters = [...s.filters, ...filters];
      out.detail(`  sqlite: ${s.copied.length ? s.copied.join(', ') : 'no database matched'}`);
    }
    const via = snap.prev ? ` (link-dest ${snap.prev})` : fast ? ' (link-dest latest)' : '';
    out.progress(`${t.name}: ${plan.where(r.src)} -> ${plan.where(r.dst)}/${snap.name}${via}`);
    // The fast path links against whatever `latest` names at the destination (a missing one only makes rsync say so).
    const linkDest = fast ? '../latest' : snap.prev ? `../${snap.prev}` : undefined;
    const guard = fast ? { rsyncPath: sh.guardedRsyncPath(r.dst.path, t.minFreeMB) } : {};
    const at = fast ? localPlace() : await sides.dst();
    const running = transfer(config, r, `${r.dst.path}/${tmp}`, { linkDest, filters, ...guard }, at);
    sides.prefetch();
    const x = await running;
    let prev = snap.prev;
    if (fast) {
      const g = guardSaid(x.stderr);
      prev = g.latest;
      if (g.refusedFreeKB !== undefined) return plan.freeSpaceRefusal(g.refusedFreeKB, r);
    }
    const dst = await sides.dst();
    if (!x.ok) {
      await dst.exec(sh.removeTreeScript(`${r.dst.path}/${tmp}`), timeout).catch(() => undefined);
      return plan.transferFailed(r, x.detail, prev);
    }
    // What arrived, against what rsync says the source held; only then into place, and the pointer swapped.
    const got = await arrived(dst, r.dst.path, tmp, Math.max(timeout, 60));
    const c = plan.planCommit(snap.name, plan.expectedTree(x), got.count, got.entries, t.retention);
    if (!c.commit) {
      await dst.exec(sh.rejectScript(r.dst.path, tmp, c.rejectAs), timeout).catch(() => undefined);
      return plan.rejected(r, snap.name, c.why, prev);
    }
    const done = await dst.exec(sh.commitScript(r.dst.path, tmp, c.name, c.prune), Math.max(timeout, 300));
    if (!/^COMMITTED$/m.test(done.stdout)) return plan.commitFailed(r, c.name, lastLine(done));
    if (done.code !== 0) warnings.push(`pruning ${c.prune.join(', ')} failed: ${lastLine(done)}`);
    // Now and then, a deep verify: the snapshot against the source, by checksum.
    if (plan.planDeepVerify(records[t.name]?.runs ?? 0, t.deepVerifyEvery)) {
      out.progress(`${t.name}: deep verify (checksums)`);
      const v = await transfer(config, r, `${r.dst.path}/${c.name}`, { filters, verify: true }, dst);
      const w = plan.deepVerifyWarning(c.name, v);
      if (w) warnings.push(w);
    }
    return plan.snapshotMade({ name: c.name, prev, count: got.count, sent: x.sent, pruned: c.prune }, warnings);
  } finally {
    await sides.close();
  }
}
