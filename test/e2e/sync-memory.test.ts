// Memory sync end to end: the built hactl, real rsync over real sshd on
// 127.0.0.2 (primary) / 127.0.0.3 (standby), the witness staging in the lab's
// state directory, a local Bot API server for alerts.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Lab } from '../lab/lab.ts';
import { inFlightBytes, memRoot, plantHostile, readMem, rsyncPids, seedTree, writeMem } from '../lab/memory.ts';

let lab: Lab;
const P = () => lab.host('primary');
const S = () => lab.host('standby');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});
beforeEach(async () => {
  await lab.reset();
  for (const h of [P(), S()]) {
    for (const d of ['workspace', 'agents', 'openclaw.json'])
      rmSync(join(h.openclawDir, d), { recursive: true, force: true });
    for (const d of readdirSync(h.home).filter((n) => n.startsWith('-oc')))
      rmSync(join(h.home, d), { recursive: true, force: true });
  }
});

/** The pid of the real push (not its dry run) to the standby, once it runs. */
async function pushSeen(): Promise<number> {
  let pid = 0;
  for (let i = 0; i < 1200 && !pid; i++) {
    // Only this lab's rsync (its staging path is in the argv): other labs on this machine use the same addresses.
    pid =
      rsyncPids(`${S().address}:`, lab.dir).find(
        (p) => !readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--dry-run'),
      ) ?? 0;
    if (!pid) await sleep(50);
  }
  assert.ok(pid, 'the push to the standby was seen');
  return pid;
}

const memRecord = () => JSON.parse(readFileSync(join(lab.dir, 'state', 'memory.json'), 'utf8'));

describe('sync-memory: primary serving', () => {
  test('create, change, delete on the primary reach the standby in one run; SQLite and others left alone', async () => {
    writeMem(P(), {
      ...seedTree(10),
      'agents/joe/agent/openclaw-agent.sqlite': 'live db',
      'workspace/memory/index.sqlite': 'db',
      'workspace/memory/index.sqlite-wal': 'wal',
      'openclaw.json': '{"primary": true}',
    });
    writeMem(S(), { 'openclaw.json': '{"standby": true}', 'workspace/memory/index.sqlite': 'standby db' });
    const r1 = await lab.hactl(['sync-memory']);
    assert.equal(r1.code, 0, r1.stdout + r1.stderr);
    assert.equal(r1.stdout.trim().split('\n').length, 1, 'one summary line under cron');
    const noDb = (t: Record<string, string>) =>
      Object.fromEntries(Object.entries(t).filter(([k]) => !/\.sqlite/.test(k)));
    assert.deepEqual(noDb(readMem(S())), noDb(readMem(P())), 'memory copied');
    assert.equal(
      readMem(S())['workspace/memory/index.sqlite'],
      'standby db',
      "the standby's own SQLite is neither overwritten nor deleted",
    );
    assert.ok(
      !existsSync(join(memRoot(S()), 'agents/joe/agent/openclaw-agent.sqlite')),
      'a live SQLite file is never copied',
    );
    assert.ok(!existsSync(join(memRoot(S()), 'workspace/memory/index.sqlite-wal')));
    assert.equal(
      readFileSync(join(memRoot(S()), 'openclaw.json'), 'utf8'),
      '{"standby": true}',
      'files outside the memory are not touched',
    );

    writeMem(P(), {
      'workspace/memory/2026-09-11.md': 'new note\n',
      'workspace/MEMORY.md': '# Memory\n\n- the user likes coffee now\n',
      'workspace/memory/2026-09-01.md': null,
      'agents/ann/memory/a.md': 'ann\n',
    });
    const r2 = await lab.hactl(['sync-memory', '--json']);
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    const j = JSON.parse(r2.stdout);
    assert.equal(j.result, 'ok');
    assert.equal(j.deleted, 1);
    assert.equal(j.changed, 3);
    const s = readMem(S());
    assert.equal(s['workspace/memory/2026-09-11.md'], 'new note\n');
    assert.equal(s['workspace/MEMORY.md'], '# Memory\n\n- the user likes coffee now\n');
    assert.equal(s['agents/ann/memory/a.md'], 'ann\n');
    assert.ok(!('workspace/memory/2026-09-01.md' in s), 'a deletion reaches the standby');
    const rec = memRecord();
    assert.equal(rec.lastResult, 'ok');
    assert.equal(rec.files, 15);
    assert.ok(rec.lastGoodAt && rec.bytes > 0);
    const h = lab.history().filter((l) => l.command === 'sync-memory');
    assert.equal(h.length, 2);
    assert.deepEqual(lab.telegram.texts(), [], 'no alert when all is well');
  });

  test('truncated YAML, bad JSON on the primary: the standby keeps its good copy; one alert names them', async () => {
    writeMem(P(), seedTree(5));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    const good = readMem(S());
    writeMem(P(), {
      'workspace/memory/facts.yaml': 'user:\n  name: "Lin',
      'agents/joe/memory/state.json': '{"mood": "calm",',
      'workspace/memory/2026-09-06.md': 'a valid new note\n',
    });
    const r = await lab.hactl(['sync-memory']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        String.raw`^sync-memory: INVALID: 2 invalid memory file\(s\) from primary: ` +
          String.raw`agents/joe/memory/state\.json, workspace/memory/facts\.yaml`,
      ),
    );
    assert.deepEqual(readMem(S()), good, 'nothing of the rejected copy reached the standby');
    const texts = lab.telegram.texts();
    assert.equal(texts.length, 1);
    assert.match(texts[0]!, /agents\/joe\/memory\/state\.json:1:17: invalid JSON/);
    assert.match(texts[0]!, /workspace\/memory\/facts\.yaml:2:13: invalid YAML: Missing closing "quote/);
    assert.match(texts[0]!, /standby keeps its last good copy/);
    assert.equal(
      readFileSync(join(lab.dir, 'state/memory/from-primary/agents/joe/memory/state.json'), 'utf8'),
      '{"mood": "calm",',
      'the rejected staging copy is kept for inspection',
    );
    assert.equal(memRecord().lastResult, 'invalid');

    const again = await lab.hactl(['sync-memory']);
    assert.equal(again.code, 1);
    assert.equal(lab.telegram.texts().length, 1, 'the same problem is not alerted every run');

    writeMem(P(), {
      'workspace/memory/facts.yaml': 'user:\n  name: Linou\n',
      'agents/joe/memory/state.json': '{"mood": "calm"}',
    });
    const fixed = await lab.hactl(['sync-memory']);
    assert.equal(fixed.code, 0, fixed.stdout);
    assert.equal(readMem(S())['workspace/memory/2026-09-06.md'], 'a valid new note\n');
    assert.match(lab.telegram.texts()[1]!, /OK again/);
  });

  test('a file rewritten with the same size within the same second still reaches the standby', async () => {
    // rsync's quick check compares whole seconds unless told otherwise: the second write below has the
    // size and the second of the first, only its nanoseconds differ (as a rewrite 0.4 s later would).
    const file = join(memRoot(P()), 'workspace/memory/facts.yaml');
    writeMem(P(), { 'workspace/memory/facts.yaml': 'mood: calm\n' });
    utimesSync(file, 1_790_000_000.1, 1_790_000_000.1);
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    assert.equal(readMem(S())['workspace/memory/facts.yaml'], 'mood: calm\n');
    writeMem(P(), { 'workspace/memory/facts.yaml': 'mood: glad\n' });
    utimesSync(file, 1_790_000_000.6, 1_790_000_000.6);
    const r = await lab.hactl(['sync-memory']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readMem(S())['workspace/memory/facts.yaml'], 'mood: glad\n', 'the new words, not the stale copy');
  });

  test('a run ends at its change scan only while the tree is as the last good run found it (issue 25)', async () => {
    writeMem(P(), seedTree(10));
    const run = async (what: string) => {
      const r = await lab.hactl(['--json', 'sync-memory']);
      assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
      return { data: JSON.parse(r.stdout) as { unchanged: boolean; pushed: boolean } };
    };
    assert.equal((await run('first copy, no master yet: no scan')).data.unchanged, false);
    assert.equal((await run('a scan, but no print on record yet')).data.unchanged, false);
    const seenFile = join(lab.dir, 'state', 'memory', 'seen.json');
    assert.equal(JSON.parse(readFileSync(seenFile, 'utf8')).mode, 'push', 'the good run recorded its print');
    assert.equal((await run('nothing moved')).data.unchanged, true, 'ended at the scan');
    // Live databases and their journals are never copied: they do not move the print.
    writeMem(P(), { 'workspace/memory/index.sqlite': 'pages', 'workspace/memory/index.sqlite-wal': 'w' });
    assert.equal((await run('a database written')).data.unchanged, true);
    // A memory file moved: copied, and the standby has it.
    writeMem(P(), { 'workspace/memory/facts.yaml': 'user:\n  name: Linou\n  tea: black, strong\n' });
    assert.equal((await run('a file changed')).data.unchanged, false);
    assert.match(readMem(S())['workspace/memory/facts.yaml']!, /black, strong/);
    assert.equal((await run('settled again')).data.unchanged, true);
    // A deleted file: the print moves, the deletion reaches the standby.
    writeMem(P(), { 'workspace/MEMORY.md': null });
    assert.equal((await run('a file deleted')).data.unchanged, false);
    assert.equal(readMem(S())['workspace/MEMORY.md'], undefined);
    await run('settled after the delete');
    // A run that finds an invalid file forgets the print: the staging copy holds what it refused.
    writeMem(P(), { 'workspace/memory/broken.json': '{"cut": ' });
    const bad = await lab.hactl(['--json', 'sync-memory']);
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.equal(existsSync(seenFile), false, 'no print stands for a refused copy');
    writeMem(P(), { 'workspace/memory/broken.json': null });
    assert.equal((await run('fixed')).data.unchanged, false);
    assert.equal((await run('settled after the fix')).data.unchanged, true);
    // Another filter: the print stands for another copy.
    lab.writeConfig({ memory: { exclude: ['*.tmp'] } });
    assert.equal((await run('a filter changed')).data.unchanged, false);
    assert.equal((await run('settled under the new filter')).data.unchanged, true);
    // The witness's staging copy gone (a state directory cleaned by hand): copied afresh.
    rmSync(join(lab.dir, 'state', 'memory', 'from-primary'), { recursive: true, force: true });
    assert.equal((await run('staging copy gone')).data.unchanged, false);
    assert.equal(existsSync(join(lab.dir, 'state', 'memory', 'from-primary', 'workspace')), true);
    // The periodic full push: never spared by a scan.
    lab.writeConfig({ memory: { exclude: ['*.tmp'], fullPushEvery: 0 } });
    const due = await run('full push due');
    assert.equal(due.data.unchanged, false);
    assert.equal(due.data.pushed, true);
    lab.writeConfig();
  });

  test('source directory missing: nothing deleted on the standby, alert, exit 2', async () => {
    writeMem(P(), seedTree(5));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    const good = readMem(S());
    renameSync(memRoot(P()), memRoot(P()) + '.away');
    try {
      const r = await lab.hactl(['sync-memory']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /REFUSED: .*\.openclaw is missing on primary/);
      assert.deepEqual(readMem(S()), good);
      assert.match(lab.telegram.texts().join('\n'), /missing on primary/);
    } finally {
      renameSync(memRoot(P()) + '.away', memRoot(P()));
    }
  });

  test('source empty (e.g. unmounted): nothing deleted on the standby, alert, exit 2', async () => {
    writeMem(P(), seedTree(5));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    const good = readMem(S());
    rmSync(join(memRoot(P()), 'workspace'), { recursive: true });
    rmSync(join(memRoot(P()), 'agents'), { recursive: true });
    const r = await lab.hactl(['sync-memory']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /REFUSED: no memory files on primary/);
    assert.deepEqual(readMem(S()), good);
    assert.equal(lab.telegram.texts().length, 1);
  });

  test('deletions above the threshold are refused; --allow-mass-delete accepts them', async () => {
    writeMem(P(), seedTree(26)); // 30 files: limit max(5, 20% of 30 = 6) = 6
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    const del: Record<string, null> = {};
    for (let i = 1; i <= 7; i++) del[`workspace/memory/2026-09-${String(i).padStart(2, '0')}.md`] = null;
    writeMem(P(), del);
    const r = await lab.hactl(['sync-memory']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /REFUSED: the push would delete 7 of 30 memory files \(limit 6/);
    assert.equal(Object.keys(readMem(S())).length, 30, 'nothing deleted');
    assert.match(lab.telegram.texts()[0]!, /would delete 7 of 30/);
    // Six are within the limit: delete one fewer and it goes through.
    const ok = await lab.hactl(['sync-memory', '--allow-mass-delete']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(Object.keys(readMem(S())).length, 23);
  });

  test('the guard counts what the standby would really lose, not files it never had (issue 24 #3)', async () => {
    writeMem(P(), seedTree(2)); // 6 files
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    const bad: Record<string, string | null> = {};
    for (let i = 0; i < 80; i++) bad[`workspace/memory/bad-${i}.json`] = '{"broken": ';
    writeMem(P(), bad);
    const invalid = await lab.hactl(['sync-memory']);
    assert.equal(invalid.code, 1, invalid.stdout + invalid.stderr);
    assert.equal(Object.keys(readMem(S())).length, 6, 'the invalid files never reached the standby');
    // The 80 are deleted on the primary: the standby never had them, it loses nothing.
    for (const k of Object.keys(bad)) bad[k] = null;
    writeMem(P(), bad);
    const r = await lab.hactl(['sync-memory', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).result, 'ok');
    assert.deepEqual(readMem(S()), readMem(P()));
    assert.equal(Object.keys(readMem(S())).length, 6);
    // A real mass delete is still refused, with the real numbers, and --allow-mass-delete reports them.
    writeMem(P(), seedTree(26)); // 30 files: limit 6
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    const del: Record<string, null> = {};
    for (let i = 1; i <= 10; i++) del[`workspace/memory/2026-09-${String(i).padStart(2, '0')}.md`] = null;
    writeMem(P(), del);
    const refused = await lab.hactl(['sync-memory']);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(refused.stdout, /REFUSED: the push would delete 10 of 30 memory files \(limit 6.*\) on standby;/);
    assert.equal(Object.keys(readMem(S())).length, 30, 'nothing deleted');
    const allowed = await lab.hactl(['sync-memory', '--allow-mass-delete', '--json']);
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    assert.equal(JSON.parse(allowed.stdout).deleted, 10);
    assert.match(JSON.parse(allowed.stdout).summary, /10 deleted on standby/);
    assert.equal(Object.keys(readMem(S())).length, 20);
  });

  test('rsync killed in the middle of the push: the live copy is intact, the next run completes', async () => {
    writeMem(P(), seedTree(5));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    const good = readMem(S());
    writeMem(P(), {
      'workspace/memory/big.md': randomBytes(3 * 1024 * 1024).toString('base64'),
      'workspace/MEMORY.md': '# Memory\n\nchanged\n',
    });
    lab.writeConfig({ memory: { bwlimit: 800 } }); // ~5 s per copy of the 4 MB file: it is caught in flight
    const run = lab.hactl(['sync-memory']);
    // Wait for the real push (not the dry run) to the standby, let data flow into the holding dir, then kill it.
    const pid = await pushSeen();
    // Kill it once part of the new file is on the standby (rsync's temporary file), not after a guessed time.
    let partial = 0;
    for (let i = 0; i < 600 && partial === 0; i++) {
      partial = inFlightBytes(join(memRoot(S()), 'workspace/memory'));
      if (partial === 0) await sleep(20);
    }
    assert.ok(partial > 0, 'part of the new file reached the standby before the kill');
    process.kill(pid, 'SIGKILL');
    const r = await run;
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /FAILED: pushing to standby: rsync killed by SIGKILL.*; the standby's live copy was not replaced/,
    );
    assert.deepEqual(readMem(S()), good, 'live copy intact');
    lab.writeConfig();
    const again = await lab.hactl(['sync-memory']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(readMem(S()), readMem(P()));
  });

  test('hactl itself killed mid-push: the next run validates and pushes what the witness pulled', async () => {
    writeMem(P(), seedTree(5));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    assert.equal((await lab.hactl(['sync-memory'])).code, 0); // a scan on record: the next could end there
    writeMem(P(), {
      'workspace/memory/big.md': randomBytes(3 * 1024 * 1024).toString('base64'),
      'workspace/MEMORY.md': '# Memory\n\nchanged before the kill\n',
    });
    lab.writeConfig({ memory: { bwlimit: 800 } });
    const run = lab.hactl(['sync-memory']);
    const pid = await pushSeen();
    // The run (hactl's node, rsync's parent) dies with its push: a kill -9 of the witness's cron job.
    const parent = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    process.kill(parent, 'SIGKILL');
    process.kill(pid, 'SIGKILL');
    await run;
    lab.writeConfig();
    // The witness's copy already holds the new files: a dry-run pull finds nothing to do. The run must still
    // validate them and push (the one before died between its pull and its push), not wait for the hour's push.
    const again = await lab.hactl(['--json', 'sync-memory']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(JSON.parse(again.stdout).unchanged, false);
    assert.deepEqual(readMem(S()), readMem(P()), 'the standby has what the killed run pulled');
  });

  test('a corrupt memory.json is set aside and rebuilt with one alert; the sync goes on (issue 24 #2)', async () => {
    writeMem(P(), seedTree(3));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    const file = join(lab.dir, 'state', 'memory.json');
    const garbage = '{"version": 1, "lastRunAt": "2026-12-0';
    writeFileSync(file, garbage); // a torn write, a bad disk
    const c = await lab.hactl(['check']);
    assert.match(c.stdout + c.stderr, /memory\.json is corrupt .*the next sync-memory sets it aside/);
    writeMem(P(), { 'workspace/memory/2026-09-04.md': 'after the corruption\n' });
    const r = await lab.hactl(['sync-memory', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.result, 'ok');
    assert.match(j.summary, /memory\.json was corrupt: set aside as .*memory\.json\.corrupt-/);
    assert.equal(readMem(S())['workspace/memory/2026-09-04.md'], 'after the corruption\n');
    assert.equal(readFileSync(j.recordSetAside.to, 'utf8'), garbage, 'the corrupt bytes are kept for inspection');
    assert.equal(memRecord().lastResult, 'ok', 'memory.json rebuilt');
    const alerts = () => lab.telegram.texts().filter((t) => /memory\.json was corrupt/.test(t));
    assert.equal(alerts().length, 1, lab.telegram.texts().join('\n'));
    assert.match(alerts()[0]!, /set aside as .*memory sync record started afresh/);
    const again = await lab.hactl(['sync-memory']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(alerts().length, 1, 'one alert, not one per run');
  });

  test('--dry-run changes nothing on the standby nor on the witness record', async () => {
    writeMem(P(), seedTree(3));
    const r = await lab.hactl(['sync-memory', '--dry-run']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /--dry-run: primary has 7 new or changed/);
    assert.deepEqual(readMem(S()), {});
    assert.ok(!existsSync(join(lab.dir, 'state', 'memory.json')));
  });
});

describe("sync-memory: the witness's staging copy is guarded too (issue 11 #1)", () => {
  const staged = () => {
    const d = join(lab.dir, 'state/memory/from-primary');
    return readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  };
  test('1 file where there were 500, then an empty source: nothing deleted on witness or standby', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 496; i++) many[`workspace/memory/n${i}.md`] = `note ${i}\n`;
    writeMem(P(), { ...seedTree(0), ...many });
    const first = await lab.hactl(['sync-memory']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(staged(), 500);
    const good = readMem(S());
    // All but one file gone on the primary (a half-restored backup, a wrong mount).
    rmSync(join(memRoot(P()), 'agents'), { recursive: true });
    rmSync(join(memRoot(P()), 'workspace'), { recursive: true });
    writeMem(P(), { 'workspace/MEMORY.md': '# one file left\n' });
    const one = await lab.hactl(['sync-memory']);
    assert.equal(staged(), 500, "the witness's staging copy kept every file");
    assert.equal(one.code, 2, one.stdout + one.stderr);
    assert.match(one.stdout, /REFUSED: the push would delete 499 of 500 memory files .* on standby; nothing deleted/);
    assert.deepEqual(readMem(S()), good);
    // Now nothing at all (an unmounted disk): still nothing deleted anywhere.
    rmSync(join(memRoot(P()), 'workspace'), { recursive: true });
    const empty = await lab.hactl(['sync-memory']);
    assert.equal(staged(), 500, "the witness's staging copy kept every file");
    assert.equal(empty.code, 2, empty.stdout + empty.stderr);
    assert.match(empty.stdout, /REFUSED: no memory files on primary/);
    assert.equal(readFileSync(join(lab.dir, 'state/memory/from-primary/workspace/memory/n7.md'), 'utf8'), 'note 7\n');
    assert.deepEqual(readMem(S()), good);
  });
});

describe('sync-memory: hostile trees (issue 11 #6-#11)', () => {
  test('a name that is not UTF-8 in an incremental sync is refused by name and never reaches the standby', async () => {
    writeMem(P(), seedTree(3));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    const good = readMem(S());
    // An invalid file whose name is Latin-1 (not UTF-8), beside a valid change.
    const dir = join(memRoot(P()), 'workspace/memory');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from('.json')]), '{"broken": ');
    writeMem(P(), { 'workspace/memory/2026-09-09.md': 'valid\n' });
    const r = await lab.hactl(['sync-memory', '--json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.result, 'invalid');
    assert.match(j.summary, /1 name\(s\) on primary are not UTF-8 \(workspace\/memory\/caf\\#351\.json\)/);
    assert.deepEqual(readMem(S()), good, 'nothing promoted');
    assert.deepEqual(
      readdirSync(join(memRoot(S()), 'workspace/memory')).filter((n) => n.startsWith('caf')),
      [],
    );
  });

  test('deep, huge, UTF-16, BOM+bad front matter, FIFO, symlink loop, dir x.json: named, unused, no hang', async () => {
    writeMem(P(), seedTree(3));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    const good = readMem(S());
    const want = plantHostile(memRoot(P()));
    // The name that is not UTF-8 is refused before anything is copied (the test above); take it out here.
    rmSync(
      Buffer.concat([
        Buffer.from(`${memRoot(P())}/workspace/memory/name-`),
        Buffer.from([0xe9, 0xff]),
        Buffer.from('.md'),
      ]),
    );
    delete want.invalid['workspace/memory/name-\\#351\\#377.md'];
    const r = await lab.hactl(['sync-memory', '--json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.result, 'invalid');
    assert.deepEqual([...j.invalid].sort(), Object.keys(want.invalid).sort());
    assert.deepEqual(readMem(S()), good, 'nothing of the hostile tree reached the standby');
    const alert = lab.telegram.texts().join('\n');
    assert.match(alert, /workspace\/memory\/deep-flow\.yaml:1:\d+: invalid YAML: nested deeper than 100 levels/);
    assert.match(alert, /workspace\/memory\/bom-broken\.md:\d+:\d+: invalid front matter/);
  });
});

describe('sync-memory: exit codes', () => {
  test('75 while another run holds the memory lock; 78 on a bad memory config', async () => {
    // A real run holds the lock: a slow copy (bwlimit) is in flight when the second run starts.
    writeMem(P(), { ...seedTree(3), 'workspace/memory/big.md': randomBytes(2 * 1024 * 1024).toString('base64') });
    lab.writeConfig({ memory: { bwlimit: 1500 } });
    const first = lab.hactl(['sync-memory']);
    let seen = false;
    for (let i = 0; i < 400 && !seen; i++) {
      seen = rsyncPids(`${P().address}:`, lab.dir).length > 0;
      if (!seen) await sleep(25);
    }
    assert.ok(seen, 'the first run is copying');
    const locked = await lab.hactl(['sync-memory']);
    assert.equal(locked.code, 75, locked.stdout + locked.stderr);
    assert.match(locked.stderr, /memory\.lock/);
    assert.equal((await first).code, 0, 'the first run was not disturbed');
    lab.writeConfig({ memory: { maxDeleteShare: 2, include: [] } });
    const bad = await lab.hactl(['sync-memory']);
    assert.equal(bad.code, 78, bad.stderr);
    assert.match(bad.stderr, /\/memory\/maxDeleteShare must be <= 1/);
    assert.match(bad.stderr, /\/memory\/include must NOT have fewer than 1 items/);
  });

  test('a validate rule that cannot compile: exit 78 naming the file and the rule, before any copy', async () => {
    writeMem(P(), seedTree(3));
    lab.writeConfig({ validate: { rules: [{ glob: '*/memory/*.json', schema: { type: 'no-such-type' } }] } });
    const r = await lab.hactl(['sync-memory']);
    assert.equal(r.code, 78, r.stdout + r.stderr);
    // Refused when the config loads (issue 11 #14), with the file:line:col of the rule's schema.
    assert.match(
      r.stderr,
      /hactl\.yaml:\d+:\d+: \/validate\/rules\/0\/schema: the inline schema is not a valid JSON Schema/,
    );
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    assert.ok(!existsSync(join(lab.dir, 'state/memory/from-primary/workspace')), 'nothing copied');
    assert.deepEqual(readMem(S()), {});
  });

  test('check warns (exit 1) when the last good sync is older than three intervals', async () => {
    await P().startGateway();
    const fresh = await lab.hactl(['check']);
    assert.equal(fresh.code, 0, 'no memory record yet: no warning');
    // The last good sync happened 16 minutes ago (hactl's one clock reads HACTL_NOW), none since.
    writeMem(P(), seedTree(3));
    const old = new Date(Date.now() - 16 * 60 * 1000).toISOString();
    const sync = await lab.hactl(['sync-memory'], { HACTL_NOW: old });
    assert.equal(sync.code, 0, sync.stdout + sync.stderr);
    const r = await lab.hactl(['check']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /WARNING: last good memory sync 16 min ago \(more than 3 intervals of 1 min/);
  });
});

describe('sync-memory: no injection through paths or filters', () => {
  test('names, filters with ; | $() newline quotes spaces globs, leading -: copied as is, run nothing', async () => {
    const mark = `pwned-${process.pid}-${Date.now()}`;
    const evil = `$(touch ${mark})`;
    const root = `-oc ${evil};|'"*?[x] \`touch ${mark}\``;
    const names = [
      `workspace/memory/${evil}.md`,
      `workspace/memory/a;touch ${mark}|b.md`,
      `workspace/memory/new\nline $(touch ${mark}).md`,
      `workspace/memory/quote's "dq" and spaces.md`,
      `workspace/memory/glob*?[ab].md`,
      `workspace/memory/-rf --delete.md`,
      `agents/-x ${evil}/memory/note.md`,
      `extra;|${evil}/keep.md`,
    ];
    const files: Record<string, string> = { 'workspace/MEMORY.md': '# m\n' };
    names.forEach((n, i) => (files[n] = `content ${i}\n`));
    writeMem(P(), files, root);
    const stateDir = join(lab.dir, `state ${evil};|-x`);
    lab.writeConfig({
      stateDir,
      memory: {
        root,
        include: ['workspace/MEMORY.md', 'workspace/memory/**', 'agents/*/memory/**', `extra;|${evil}/**`],
        exclude: [`${evil};|x`],
      },
    });
    const r = await lab.hactl(['sync-memory']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const got = readMem(S(), root, ['workspace', 'agents', `extra;|${evil}`]);
    assert.deepEqual(got, readMem(P(), root, ['workspace', 'agents', `extra;|${evil}`]));
    for (const n of names) assert.equal(got[n], files[n], `copied literally: ${JSON.stringify(n)}`);
    const where = [lab.dir, P().home, S().home, '/tmp', process.cwd(), '/'];
    for (const d of where) assert.ok(!existsSync(join(d, mark)), `no command ran (marker in ${d})`);
    for (const d of [P().home, S().home])
      assert.deepEqual(
        readdirSync(d).filter((f) => f === mark || f.startsWith(`${mark}`)),
        [],
        `no marker file in ${d}`,
      );
  });
});

describe('sync-memory: any path works everywhere (issue 24 #1)', () => {
  test('key, known_hosts with spaces, quotes, $, %; state dir, root with spaces: sync, failover and back', async () => {
    const dir = join(lab.dir, `my keys/it's "Application Support" $HOME 100%`);
    mkdirSync(dir, { recursive: true });
    const key = join(dir, 'my key');
    const knownHosts = join(dir, "known hosts 'lab'");
    copyFileSync(join(lab.dir, 'client_ed25519'), key);
    chmodSync(key, 0o600);
    copyFileSync(join(lab.dir, 'known_hosts'), knownHosts);
    const root = '.open claw';
    const stateDir = join(lab.dir, 'state with space');
    const paths = { key, knownHosts };
    lab.writeConfig({ stateDir, hosts: { primary: paths, standby: paths }, memory: { root } });
    const doctor = await lab.hactl(['doctor', '--json']);
    const rsyncSsh = JSON.parse(doctor.stdout).results.filter((x: any) => x.check === 'rsync-ssh');
    assert.deepEqual(
      rsyncSsh.map((x: any) => x.level),
      ['pass', 'pass'],
      `doctor runs rsync's ssh with these paths: ${doctor.stdout}`,
    );

    writeMem(P(), seedTree(3), root);
    await P().startGateway();
    const r = await lab.hactl(['sync-memory']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(readMem(S(), root), readMem(P(), root));

    writeMem(P(), { 'workspace/memory/2026-09-04.md': 'last words\n' }, root);
    P().crashGateway();
    await lab.hactl(['check']);
    const f = await lab.hactl(['failover', '--yes', '--json']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    const steps = JSON.parse(f.stdout).steps;
    assert.equal(steps[0].op, 'sync-last-chance');
    assert.match(steps[0].detail, /sync-last-chance: .*1 copied/, 'the last-chance sync ran, not skipped');
    assert.equal(readMem(S(), root)['workspace/memory/2026-09-04.md'], 'last words\n');

    await sleep(1100); // mtimes are compared in whole seconds
    writeMem(S(), { 'workspace/memory/2026-09-05.md': 'from the standby\n' }, root);
    const b = await lab.hactl(['failback', '--yes', '--json']);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.match(JSON.parse(b.stdout).steps[0].detail, /sent back 1 file\(s\)/);
    assert.equal(readMem(P(), root)['workspace/memory/2026-09-05.md'], 'from the standby\n');
    assert.equal(JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).serving, 'primary');
  });
});

describe('sync-memory: standby serving, failover and failback', () => {
  test('while the standby serves, its memory goes to the witness only; the primary is not overwritten', async () => {
    writeMem(P(), seedTree(3));
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    // Reach "the standby serves" the way hactl does: the primary's gateway dies, check sees it, failover.
    await P().startGateway();
    P().crashGateway();
    const c = await lab.hactl(['check']);
    assert.equal(c.code, 2, c.stdout + c.stderr);
    const f = await lab.hactl(['failover', '--yes']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(lab.state().serving, 'standby');
    writeMem(S(), { 'workspace/memory/2026-09-20.md': 'written while serving\n' });
    writeMem(P(), { 'workspace/MEMORY.md': '# stale primary copy\n' });
    const before = readMem(P());
    const standbyBefore = readMem(S());
    const r = await lab.hactl(['sync-memory']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /standby serves: its memory \(8 files, .*copied to the witness; the primary is not written until failback/,
    );
    assert.deepEqual(readMem(P()), before, 'primary untouched');
    assert.deepEqual(readMem(S()), standbyBefore, "the serving standby is not overwritten with the primary's memory");
    assert.equal(
      readFileSync(join(lab.dir, 'state/memory/from-standby/workspace/memory/2026-09-20.md'), 'utf8'),
      'written while serving\n',
    );
  });

  test('failover resyncs if only the gateway died; failback sends back, keeps both sides of conflicts', async () => {
    writeMem(P(), seedTree(3));
    await P().startGateway();
    assert.equal((await lab.hactl(['sync-memory'])).code, 0);
    // The primary's gateway dies after writing a note the 5-minute sync has not copied yet.
    writeMem(P(), { 'workspace/memory/2026-09-04.md': 'last words\n' });
    P().crashGateway();
    const c = await lab.hactl(['check']);
    assert.equal(lab.state().lastCheck.hosts.primary.status, 'gateway-down', c.stdout);
    const f = await lab.hactl(['failover', '--yes', '--json']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    const steps = JSON.parse(f.stdout).steps;
    assert.equal(steps[0].op, 'sync-last-chance');
    assert.match(steps[0].detail, /sync-last-chance: .*1 copied/);
    assert.equal(readMem(S())['workspace/memory/2026-09-04.md'], 'last words\n', 'nothing lost');

    // The standby serves and writes; the primary's disk also changed one file while it was out.
    await sleep(1100); // mtimes are compared in whole seconds
    writeMem(S(), {
      'workspace/memory/2026-09-05.md': 'from the standby\n',
      'workspace/MEMORY.md': '# Memory\n\nstandby version\n',
    });
    writeMem(P(), { 'workspace/MEMORY.md': '# Memory\n\nprimary version\n' });
    const b = await lab.hactl(['failback', '--yes', '--json']);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    const bj = JSON.parse(b.stdout);
    assert.equal(bj.steps[0].op, 'sync-back');
    assert.match(
      bj.steps[0].detail,
      new RegExp(
        String.raw`sent back 1 file\(s\).*1 conflict\(s\), both versions kept: workspace/MEMORY\.md \(primary's\) ` +
          String.raw`and workspace/MEMORY\.conflict-standby-\d{8}T\d{6}Z\.md`,
      ),
    );
    const p = readMem(P());
    assert.equal(p['workspace/memory/2026-09-05.md'], 'from the standby\n');
    assert.equal(p['workspace/MEMORY.md'], '# Memory\n\nprimary version\n');
    const conflict = Object.keys(p).find((k) => k.startsWith('workspace/MEMORY.conflict-standby-'));
    assert.ok(conflict, "the standby's version is kept beside it");
    assert.equal(p[conflict!], '# Memory\n\nstandby version\n');
    assert.match(lab.telegram.texts().join('\n'), /changed on both hosts; both versions kept/);
    assert.equal(lab.state().serving, 'primary');
  });
});
