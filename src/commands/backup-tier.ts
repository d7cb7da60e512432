// hactl backup-tier NAME: one hop of the backup chain (see src/backup/tier.ts).
// hactl backup-tier --list [NAME]: the snapshots per tier, with age, size, files.
// Runs under a lock of its own per tier, so a long backup never blocks check or
// failover. The clock can be set with HACTL_NOW (an ISO time) for tests and
// for replaying a schedule; nothing else in hactl reads it.
import type { Command } from 'commander';
import { runCommand, type GlobalOptions, type RunContext, type RunRecord } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import type { Config } from '../config/types.js';
import { shq } from '../adapters/shell.js';
import { commitSnapshot, destState, findTier, guardSaid, guardedRsyncPath, localPlace, planRetention, remotePlace, snapshotName, snapshots, sourceState, sqliteCopies, transfer, type Place, type Resolved } from '../backup/tier.js';
import { readBackupRecord, updateTierRecord, type TierRecord } from '../backup/record.js';
import { parseSnapshot } from '../backup/retention.js';

export function backupNow(): Date {
  const v = process.env.HACTL_NOW;
  if (!v) return new Date();
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new UsageError(`HACTL_NOW=${v} is not a date (ISO 8601, e.g. 2026-11-22T14:00:00Z)`);
  return d;
}

export async function openPlaces(config: Config, r: Resolved): Promise<{ src: Place; dst: Place; close: () => Promise<void> }> {
  const open = (h: Resolved['src']['host']) => (h ? remotePlace(config, h) : Promise.resolve(localPlace()));
  const same = (r.src.host?.name ?? '') === (r.dst.host?.name ?? '');
  const [src, dst] = await Promise.all([open(r.src.host), same ? undefined : open(r.dst.host)]);
  return { src, dst: dst ?? src, close: async () => { await src.close(); if (dst) await dst.close(); } };
}

type Outcome = { result: TierRecord['lastResult']; line: string; alert?: string; snapshot?: string | null; files?: number; bytes?: number; sent?: number; pruned?: string[]; warnings?: string[] };

async function runTier(ctx: RunContext, r: Resolved, dryRun: boolean): Promise<Outcome> {
  const { config, out } = ctx;
  const t = r.tier;
  const timeout = config.thresholds.commandTimeout;
  const where = (p: { host?: { name: string }; path: string }) => (p.host ? `${p.host.name}:${p.path}` : p.path);
  const warnings: string[] = [];
  // The upstream tier feeds this one: without a fresh snapshot there, this one copies old data.
  if (t.upstream) {
    const up = config.backup.tiers.find((x) => x.name === t.upstream)!;
    const rec = (await readBackupRecord(config))[up.name];
    const age = rec?.lastOkAt ? (backupNow().getTime() - new Date(rec.lastOkAt).getTime()) / 60000 : Infinity;
    if (age > 2 * up.interval) warnings.push(`upstream tier ${up.name} has no fresh snapshot (${rec?.lastOkAt ? `last ${Math.round(age)} min ago` : 'none recorded'}; every ${up.interval} min)`);
  }
  // Pushing from the witness to a remote destination (the fast path): the copy
  // starts at once, with the destination's guards in rsync's own connection
  // (guardedRsyncPath), while hactl's SSH session, needed only for the commit,
  // opens alongside. Every other shape prepares the destination first.
  const fast = !dryRun && !r.src.host && !!r.dst.host;
  let places: { src: Place; dst?: Place; close: () => Promise<void> };
  let dstP: Promise<Place> | undefined;
  // Opened once rsync is running: loading the SSH module and the handshake then cost no wall time.
  const openDst = () => {
    if (!dstP) { dstP = remotePlace(config, r.dst.host!); dstP.catch(() => undefined); } // awaited in dstPlace; never an unhandled rejection
    return dstP;
  };
  if (fast) places = { src: localPlace(), close: async () => { await (await dstP?.catch(() => null))?.close(); } };
  else places = await openPlaces(config, r);
  const dstPlace = async () => (places.dst ??= await openDst());
  try {
    const state = await sourceState(places.src, r.src.path, timeout);
    if (state !== 'ok') {
      const why = state === 'missing' ? `source ${where(r.src)} is missing` : `source ${where(r.src)} is empty`;
      return { result: 'refused', line: `REFUSED: ${why}; no snapshot made, nothing pruned`, alert: `backup tier ${t.name} refused: ${why} (unmounted or deleted?). The snapshots at ${where(r.dst)} are untouched.` };
    }
    const refuseFree = (freeKB: number): Outcome => {
      const freeMB = Math.floor(freeKB / 1024);
      return { result: 'refused', line: `REFUSED: ${freeMB} MB free at ${where(r.dst)}, below the floor of ${t.minFreeMB} MB`, alert: `backup tier ${t.name} refused: only ${freeMB} MB free at ${where(r.dst)} (floor ${t.minFreeMB} MB). Free space or lower backup.tiers[].minFreeMB.` };
    };
    const now = backupNow();
    let name = snapshotName(now);
    let prev: string | null = null;
    if (!fast) {
      const dst = await dstPlace();
      const dest = await destState(dst, r.dst.path, timeout, !dryRun);
      if (dest.freeKB / 1024 < t.minFreeMB) return refuseFree(dest.freeKB);
      const existing = snapshots(dest.entries);
      prev = dest.latest ?? existing.at(-1) ?? null;
      if (existing.includes(name)) name = snapshotName(new Date(now.getTime() + 1000));
      if (dryRun) {
        const { prune } = planRetention([...existing, name], t.retention);
        return { result: 'ok', line: `--dry-run: would snapshot ${where(r.src)} to ${where(r.dst)}/${name}${prev ? ` (unchanged files hard-linked to ${prev})` : ' (first snapshot)'}; would prune ${prune.length ? prune.join(', ') : 'nothing'}`, snapshot: prev, warnings };
      }
      // Leftovers of a run that was killed: hidden, never the latest; removed now.
      const leftovers = dest.entries.filter((e) => e.startsWith('.incomplete-'));
      if (leftovers.length) await dst.exec(`cd -- ${shq(r.dst.path)} && rm -rf -- ${leftovers.map(shq).join(' ')}`, timeout);
    }
    const tmp = `.incomplete-${name}`;
    let filters = [...t.filters];
    if (t.sqlite.length) {
      out.progress(`${t.name}: consistent copies of SQLite databases on ${places.src.label}`);
      const s = await sqliteCopies(places.src, r.src.path, t.sqlite, timeout);
      filters = [...s.filters, ...filters];
      out.detail(`  sqlite: ${s.copied.length ? s.copied.join(', ') : 'no database matched'}`);
    }
    out.progress(`${t.name}: ${where(r.src)} -> ${where(r.dst)}/${name}${prev ? ` (link-dest ${prev})` : fast ? ' (link-dest latest)' : ''}`);
    // The fast path links against whatever `latest` names at the destination (a missing one only makes rsync say so).
    const linkDest = fast ? '../latest' : prev ? `../${prev}` : undefined;
    const running = transfer(config, r, r.src.path, `${r.dst.path}/${tmp}`, { linkDest, filters, ...(fast ? { rsyncPath: guardedRsyncPath(r.dst.path, t.minFreeMB) } : {}) }, { dst: fast ? localPlace() : await dstPlace() });
    if (fast) openDst();
    const x = await running;
    if (fast) {
      const g = guardSaid(x.stderr);
      prev = g.latest;
      if (g.refusedFreeKB !== undefined) return refuseFree(g.refusedFreeKB);
    }
    const dst = await dstPlace();
    if (!x.ok) {
      await dst.exec(`rm -rf -- ${shq(`${r.dst.path}/${tmp}`)}`, timeout).catch(() => undefined);
      return { result: 'failed', line: `FAILED: ${x.detail}; ${prev ? `${prev} stays the latest` : 'no snapshot yet'}`, alert: `backup tier ${t.name} failed: ${x.detail}. ${prev ? `${prev} stays the latest snapshot.` : ''}` };
    }
    // Check what arrived against what rsync says the source held; only then into place, and the pointer swapped.
    // Files that vanished from live data during the copy are in rsync's count but not in the snapshot (their bytes are unknown).
    const expect = x.vanished && x.files !== undefined ? { files: x.files - x.vanished } : { files: x.files, size: x.size };
    const c = await commitSnapshot(dst, r.dst.path, tmp, name, expect, Math.max(timeout, 60));
    if (c.error) return { result: 'failed', line: `FAILED: could not put ${name} into place: ${c.error}`, alert: `backup tier ${t.name} failed: could not put ${name} into place: ${c.error}` };
    if (!c.committed) {
      const why = `the snapshot holds ${c.files} files / ${c.bytes} bytes, the source had ${x.files} / ${x.size}`;
      return { result: 'failed', line: `FAILED: ${why}; kept as .rejected-${name} for inspection; ${prev ?? 'nothing'} stays the latest`, alert: `backup tier ${t.name} failed verification: ${why}. Kept as .rejected-${name}.` };
    }
    name = c.committed;
    // Now and then, a deep verify: the snapshot against the source, by checksum.
    const runs = ((await readBackupRecord(config))[t.name]?.runs ?? 0) + 1;
    if (t.deepVerifyEvery > 0 && runs % t.deepVerifyEvery === 0) {
      out.progress(`${t.name}: deep verify (checksums)`);
      const v = await transfer(config, r, r.src.path, `${r.dst.path}/${name}`, { filters, verify: true }, { dst });
      if (!v.ok || v.changed.length) warnings.push(`deep verify of ${name}: ${v.ok ? `${v.changed.length} file(s) differ from the source (e.g. ${v.changed.slice(0, 3).join(', ')}); changed during the copy, or damaged` : v.detail}`);
    }
    const { prune } = planRetention(c.entries, t.retention);
    if (prune.length) await dst.exec(`cd -- ${shq(r.dst.path)} && rm -rf -- ${prune.map(shq).join(' ')}`, Math.max(timeout, 300));
    const line = `${name}: ${c.files} files, ${c.bytes} bytes (${x.sent} bytes moved)${prev ? `, unchanged files linked to ${prev}` : ''}; pruned ${prune.length}`;
    return { result: warnings.length ? 'warning' : 'ok', line: warnings.length ? `WARNING: ${line}; ${warnings.join('; ')}` : line, snapshot: name, files: c.files, bytes: c.bytes, sent: x.sent, pruned: prune, warnings };
  } finally {
    await places.close();
  }
}

async function list(ctx: RunContext, names: string[]): Promise<RunRecord> {
  const { config, out } = ctx;
  const tiers = names.length ? names : config.backup.tiers.map((t) => t.name);
  const now = backupNow();
  const data: Record<string, Array<{ name: string; ageMin: number; files: number; bytes: number; latest: boolean }>> = {};
  for (const n of tiers) {
    const r = findTier(config, n);
    const { dst, close } = await openPlaces(config, r);
    try {
      const res = await dst.exec(`cd -- ${shq(r.dst.path)} 2>/dev/null || exit 0; echo "LATEST $(readlink latest 2>/dev/null)"; for s in *; do case "$s" in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z) printf '%s ' "$s"; find "$s" -type f -printf '%s\\n' | awk '{n++; b+=$1} END {printf "%d %d\\n", n, b}';; esac; done`, config.thresholds.commandTimeout * 6);
      const latest = /^LATEST (.*)$/m.exec(res.stdout)?.[1]?.trim();
      data[n] = res.stdout.split('\n').map((l) => l.split(' ')).filter((p) => p.length === 3 && parseSnapshot(p[0]!)).map(([s, f, b]) => ({ name: s!, ageMin: Math.round((now.getTime() - parseSnapshot(s!)!.getTime()) / 60000), files: Number(f), bytes: Number(b), latest: s === latest }));
    } finally {
      await close();
    }
    out.detail(`${n} (${config.backup.tiers.find((t) => t.name === n)!.destination}):`);
    for (const s of data[n]!) out.detail(`  ${s.name}${s.latest ? ' (latest)' : '         '}  ${fmtAge(s.ageMin).padStart(8)}  ${fmtBytes(s.bytes).padStart(9)}  ${s.files} files`);
    if (!data[n]!.length) out.detail('  no snapshots');
  }
  const summary = tiers.map((n) => `${n}: ${data[n]!.length} snapshot(s)${data[n]!.length ? `, latest ${data[n]!.find((s) => s.latest)?.name ?? 'none'}` : ''}`).join('; ');
  return { exitCode: EXIT.OK, summary: `backup-tier --list: ${summary}`, data: { tiers: data } };
}

const fmtAge = (m: number) => (m < 120 ? `${m} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} d`);
const fmtBytes = (b: number) => (b < 1024 ? `${b} B` : b < 1048576 ? `${(b / 1024).toFixed(1)} KiB` : b < 1073741824 ? `${(b / 1048576).toFixed(1)} MiB` : `${(b / 1073741824).toFixed(2)} GiB`);

const EXIT_FOR: Record<TierRecord['lastResult'], number> = { ok: EXIT.OK, warning: EXIT.WARNING, refused: EXIT.CRITICAL, failed: EXIT.CRITICAL };

export default async function backupTier(_p: Command, cmd: Command, args: unknown[]): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions & { list?: boolean };
  const name = args[0] as string | undefined;
  if (opts.list) return runCommand('backup-tier', opts, null, (ctx) => list(ctx, name ? [name] : []));
  if (!name) throw new UsageError('backup-tier needs a tier name (or --list); the tiers are under backup.tiers in the config');
  return runCommand('backup-tier', opts, `backup-${name}`, async (ctx) => {
    const { config, alerts } = ctx;
    const r = findTier(config, name);
    const t0 = Date.now();
    let o: Outcome;
    try {
      o = await runTier(ctx, r, !!opts.dryRun);
    } catch (e) {
      const msg = (e as Error).message;
      o = { result: 'failed', line: `FAILED: ${msg}`, alert: `backup tier ${name} failed: ${msg}` };
    }
    const ms = Date.now() - t0;
    let alertError: string | null = null;
    if (!opts.dryRun) {
      const prev = (await readBackupRecord(config))[name];
      const failing = o.result === 'failed' || o.result === 'refused';
      const problem = failing ? o.alert ?? o.line : o.warnings?.length ? o.warnings.join('; ') : null;
      // Alert a problem once (not every hour), and its end.
      let text: string | undefined;
      // The same problem with other numbers (free MB, snapshot times, ages) is not a new one: no alert every hour.
      const same = (a?: string | null, b?: string | null) => !!a && !!b && a.replace(/\d+/g, '#') === b.replace(/\d+/g, '#');
      if (problem && !same(problem, prev?.problem)) text = `${config.alerts.prefix} ⚠️ ${failing ? o.alert ?? o.line : `backup tier ${name}: ${problem}`}`;
      else if (!problem && prev?.problem) text = `${config.alerts.prefix} ✅ backup tier ${name} OK again: ${o.line}`;
      await updateTierRecord(config, name, (p) => ({
        lastRunAt: backupNow().toISOString(),
        lastOkAt: o.result === 'ok' || o.result === 'warning' ? backupNow().toISOString() : p?.lastOkAt ?? null,
        lastResult: o.result, detail: o.line.slice(0, 500),
        snapshot: o.snapshot ?? p?.snapshot ?? null,
        ...(o.files !== undefined ? { files: o.files, bytes: o.bytes ?? 0, sent: o.sent ?? 0 } : {}),
        ms, runs: (p?.runs ?? 0) + (o.result === 'ok' || o.result === 'warning' ? 1 : 0), problem,
      }));
      if (text) {
        const a = await alerts.send(text);
        if (a.errors.length) { alertError = a.errors.join('; '); ctx.out.error(`hactl: warning: ${alertError}`); }
      }
    }
    return {
      exitCode: EXIT_FOR[o.result],
      summary: `backup-tier ${name}: ${o.line}`,
      data: { tier: name, result: o.result, snapshot: o.snapshot ?? null, files: o.files ?? null, bytes: o.bytes ?? null, sent: o.sent ?? null, pruned: o.pruned ?? [], durationMs: ms, alertError },
    };
  });
}
