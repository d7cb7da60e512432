// hactl check over the masters sync-memory leaves (src/adapters/ssh-mux.ts), end to end: the built hactl,
// real ssh and sshd. A warm master must carry the probes without a new connection and change nothing in
// what check concludes; a master that hangs, a host that died and a link that went silent must end as
// they do without a master; a master trusted under another known_hosts is never used. No timings here.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lab } from '../lab/lab.ts';
import { seedTree, writeMem } from '../lab/memory.ts';
import { controlPathFor } from '../../src/adapters/ssh-master.ts';
import { masterPid, release, silence, sockets, stopListener } from '../lab/masters.ts';

let lab: Lab;
const P = () => lab.host('primary');
const S = () => lab.host('standby');
/** Processes to end after each test: masters, and connections left without their listener. */
let leftover: number[] = [];

before(async () => {
  lab = await Lab.start();
});
after(async () => {
  await lab?.stop();
});
beforeEach(async () => {
  await lab.reset();
  writeMem(P(), seedTree(3));
  await P().startGateway();
});
afterEach(() => {
  release([...leftover, ...sockets(lab).map(masterPid).filter(Boolean)]);
  leftover = [];
});

/** sync-memory as the default crontab runs it every minute; with a change to push it leaves one master per host. */
async function warmMasters(): Promise<number[]> {
  writeMem(P(), { 'workspace/memory/now.md': `# ${Math.random()}\n` });
  const r = await lab.hactl(['sync-memory']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const pids = sockets(lab).map(masterPid);
  assert.equal(pids.filter(Boolean).length, 2, 'one master per host answers');
  leftover.push(...pids);
  return pids;
}

/** Ends the masters the way an operator would (`ssh -O exit`): the next check finds none. */
function endMasters(): void {
  for (const s of sockets(lab)) spawnSync('ssh', ['-F', 'none', '-o', `ControlPath=${s}`, '-O', 'exit', 'x']);
}

async function check() {
  const r = await lab.hactl(['check', '--json']);
  const j = JSON.parse(r.stdout);
  return { code: r.code, summary: j.summary as string, hosts: j.hosts, out: r.stdout + r.stderr };
}
/** Each host's status and detail (curl's own "after N ms" aside). */
const seen = (c: Awaited<ReturnType<typeof check>>) =>
  Object.fromEntries(
    Object.entries(c.hosts as Record<string, any>).map(([k, o]) => [
      k,
      [o.status, String(o.detail).replace(/after \d+ ms/g, 'after N ms')],
    ]),
  );

test('with warm masters check makes no new SSH connection and concludes what a cold check does', async () => {
  await warmMasters();
  endMasters();
  const cold = await check();
  assert.equal(cold.code, 0, cold.out);
  await warmMasters();
  // From here on both hosts refuse every new connection; only the masters' connections live.
  leftover.push(...(await stopListener(P())), ...(await stopListener(S())));
  const warm = await check();
  assert.equal(warm.code, cold.code, warm.out);
  assert.equal(warm.summary, cold.summary);
  assert.deepEqual(seen(warm), seen(cold));
  assert.equal(warm.hosts.primary.transient, undefined, 'the first probe was believed');
  // The same check without the masters cannot reach the hosts: the one above made no new connection.
  endMasters();
  const none = await check();
  assert.equal(none.hosts.primary.status, 'unreachable', none.out);
  assert.equal(none.hosts.standby.status, 'unreachable', none.out);
});

test("a probe command that exits 255 is the gateway's answer, not ssh's: gateway-down, the master kept", async () => {
  await warmMasters();
  // ssh exits 255 when the remote command does: through a master that must not read as a transport
  // failure (here it would even read as an auth failure, a config problem that holds failover back).
  const run = "echo 'Permission denied (publickey).' >&2; exit 255";
  lab.writeConfig({ hosts: { primary: { gateway: { probe: { command: { run } } } } } });
  const sock = controlPathFor(join(lab.dir, 'state'), { ...lab.config().hosts.primary, name: 'primary' })!;
  const pid = masterPid(sock);
  assert.ok(pid > 0, 'the primary has a master');
  const c = await check();
  assert.equal(c.hosts.primary.status, 'gateway-down', c.out);
  assert.equal(masterPid(sock), pid, 'the socket was not set aside: the same master answers on it');
});

test('a cold check leaves a master per host it reached, which the next check uses', async () => {
  const cold = await check();
  assert.equal(cold.code, 0, cold.out);
  // Opened in the background, not awaited by check: wait for both (bounded).
  for (let i = 0; i < 100 && sockets(lab).map(masterPid).filter(Boolean).length < 2; i++) await sleep(100);
  const pids = sockets(lab).map(masterPid);
  leftover.push(...pids);
  assert.equal(pids.filter(Boolean).length, 2, 'one master per host');
  leftover.push(...(await stopListener(P())), ...(await stopListener(S())));
  const warm = await check();
  assert.equal(warm.code, 0, warm.out);
  assert.deepEqual(seen(warm), seen(cold));
});

test('a hung master is set aside, not used: check goes over a fresh connection and does not hang', async () => {
  const pids = await warmMasters();
  // The primary's socket: something listens and never answers the mux hello (a wedged master). The
  // standby's master is stopped (SIGSTOP).
  const sock = controlPathFor(join(lab.dir, 'state'), { ...lab.config().hosts.primary, name: 'primary' })!;
  const standbyPid = pids.find((p) => p !== masterPid(sock))!;
  process.kill(masterPid(sock), 'SIGKILL');
  rmSync(sock, { force: true });
  const wedged: Server = createServer(() => undefined);
  await new Promise<void>((r) => wedged.listen(sock, r));
  process.kill(standbyPid, 'SIGSTOP');
  try {
    const c = await check();
    assert.equal(c.code, 0, c.out);
    assert.deepEqual(
      Object.values(c.hosts).map((o: any) => [o.status, o.transient]),
      [
        ['healthy', undefined],
        ['gateway-down', undefined],
      ],
      "each first probe answered (the primary's did not go to the wedged socket and need the retry)",
    );
  } finally {
    wedged.close();
  }
  const now = sockets(lab).map(masterPid); // the stopped master's socket was moved: no hang here
  assert.ok(!now.includes(standbyPid), 'the stopped master is left on no socket');
});

test('a host that died under a warm master: its silent master is set aside, the retry connects anew', async () => {
  await warmMasters();
  // The primary takes no new connection and its master's connection says nothing more, as after a power
  // loss (no FIN, no RST) or a cut link: the master itself, on the witness, still answers its clients.
  const conns = await stopListener(P());
  leftover.push(...conns);
  silence(conns);
  const c = await check();
  assert.equal(c.hosts.primary.status, 'unreachable', c.out);
  // Refused: the confirming probe was a new connection (through the silent master it would time out).
  assert.match(c.hosts.primary.detail, /econnrefused/i, c.out);
  assert.equal(c.hosts.primary.confirmed, true);
  assert.equal(sockets(lab).length, 1, "the primary's socket was set aside, the standby's kept");
});

test('a master opened under another known_hosts is not used: the host key is checked again', async () => {
  await warmMasters();
  const other = join(lab.dir, 'other_ed25519');
  spawnSync('rm', ['-f', other, `${other}.pub`]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
  const otherKey = readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  const kh = join(lab.dir, 'known_hosts');
  const lines = readFileSync(kh, 'utf8').trim().split('\n');
  // The primary's line names another key now; the standby's stays.
  const mine = `[${P().address}]:${P().sshPort} `;
  writeFileSync(kh, lines.map((l) => (l.startsWith(mine) ? mine + otherKey : l)).join('\n') + '\n');
  const c = await check();
  assert.equal(c.hosts.primary.status, 'hostkey-failure', c.out);
  assert.equal(c.hosts.standby.status, 'gateway-down', c.out);
});
