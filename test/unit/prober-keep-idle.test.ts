// Issue 21 item 10, between the check and the guard: an earlier leader launched the idle side (its
// permit granted under the rule) and died before recording the move. The next leader's check keeps
// that permit while its gateway answers and the serving side's does not; otherwise the idle host's
// guard stopped the very gateway the next leader then recorded as serving (netns case b). Never two:
// in no case does one check grant both sides. The hosts are stand-in sessions that answer the probe,
// grant and revoke scripts as a host would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prober } from '../../dist/failover/observe.js';
import { systemClock } from '../../dist/adapters/clock.js';
import { machineStamp } from '../../dist/guard/local.js';
import { config } from './helpers.ts';

type Role = 'primary' | 'standby';

async function check(o: {
  keepIdle: boolean;
  idleOver: boolean;
  healthy: Record<Role, boolean>;
  /** The token the idle host's permit holds (live); none: no permit there. */
  held?: number;
  /** The intent's start token; default 7 with keepIdle. */
  keepToken?: number | null;
  /** The serving host (the primary) holds a live permit: an extension lands there. */
  servingLive?: boolean;
}) {
  const gateway = { probe: { command: { run: 'probe-gateway' } } };
  const host = { address: '127.0.0.1', port: 1, user: 'claw', key: '/k', knownHosts: '/kh', gateway };
  const cfg = await config({
    stateDir: '/tmp/hactl-unit-prober',
    hosts: { pc1: host, pc2: host },
    guard: { lease: '45s', interval: '5s' },
  });
  const acts: string[] = [];
  const session = (role: Role) => ({
    host: cfg.hosts[cfg.pair[role]],
    run: async (script: string) => {
      if (script.includes('f="$d/permit"')) {
        // An extension (src/guard/remote.ts grantScript onlyLive): the host writes it only over its live permit.
        const liveHere = role === 'primary' ? !!o.servingLive : o.held !== undefined;
        if (script.includes('not-live') && !liveHere) {
          acts.push(`refused ${role}`);
          return { code: 3, stdout: 'not-live\n', stderr: '' };
        }
        acts.push(`${script.includes('not-live') ? 'extend' : 'grant'} ${role}`);
        return { code: 0, stdout: 'token=9\n', stderr: '' };
      }
      if (script.includes('cat "$HOME/.hactl/permit"')) {
        const st = machineStamp();
        const held = role === 'standby' && o.held !== undefined;
        const permit = { token: o.held, lease: 45, boot: st.boot, uptime: st.uptime - 1, by: 'w1' };
        return {
          code: 0,
          stdout: `boot=${st.boot} uptime=${st.uptime}\n${held ? JSON.stringify(permit) : ''}\n`,
          stderr: '',
        };
      }
      if (script.includes('rm -f "$HOME/.hactl/permit"')) {
        acts.push(`revoke ${role}`);
        return { code: 0, stdout: '', stderr: '' };
      }
      return { code: o.healthy[role] ? 0 : 1, stdout: o.healthy[role] ? 'ok\n' : 'down\n', stderr: '' };
    },
    close: async () => undefined,
  });
  const duty = {
    serving: 'primary' as Role,
    token: 9,
    lease: 45,
    by: 'w2',
    here: machineStamp,
    idleOver: o.idleOver,
    journal: () => undefined,
    keepIdle: o.keepIdle,
    keepTokens: o.keepIdle && o.keepToken !== null ? [o.keepToken ?? 7] : [],
  };
  const prober = new Prober(cfg, systemClock(), undefined, duty as any);
  for (const r of ['primary', 'standby'] as const) (prober as any).sessions.set(r, session(r));
  const [p, s] = await Promise.all([prober.observe('primary'), prober.observe('standby')]);
  await prober.close();
  const only = (w: string) => acts.filter((a) => a.startsWith(w));
  return { acts: only('grant'), extended: only('extend'), revokes: only('revoke'), refused: only('refused'), p, s };
}

test("an earlier leader's launch answers, the serving side's gateway does not: its permit is kept", async () => {
  const r = await check({ keepIdle: true, idleOver: false, held: 7, healthy: { primary: false, standby: true } });
  assert.deepEqual(r.acts, ['grant standby']);
  assert.deepEqual(r.revokes, []);
  assert.match(r.p.detail, /not renewed: the idle host may still hold a live permit/);
  assert.deepEqual(r.refused, ['refused primary'], 'an extension was tried, and refused: no live permit there');
});

test('both gateways answer: neither is granted (the failover fences one)', async () => {
  const r = await check({ keepIdle: true, idleOver: false, held: 7, healthy: { primary: true, standby: true } });
  assert.deepEqual(r.acts, []);
});

test("the launch's permit already over: the serving side's is renewed as ever, the idle side's never", async () => {
  const r = await check({ keepIdle: true, idleOver: true, held: 7, healthy: { primary: false, standby: true } });
  assert.deepEqual(r.acts, ['grant primary']);
});

test("the host no longer holds the launch's permit: a later grant landed, or none; or no token on record", async () => {
  const healthy = { primary: false, standby: true };
  assert.deepEqual((await check({ keepIdle: true, idleOver: false, held: 8, healthy })).acts, []);
  assert.deepEqual((await check({ keepIdle: true, idleOver: false, healthy })).acts, []);
  assert.deepEqual((await check({ keepIdle: true, idleOver: false, held: 7, keepToken: null, healthy })).acts, []);
});

test('no unfinished move: an idle gateway that answers is a second gateway, never granted', async () => {
  const r = await check({ keepIdle: false, idleOver: false, healthy: { primary: false, standby: true } });
  assert.deepEqual(r.acts, []);
  const down = await check({ keepIdle: false, idleOver: false, healthy: { primary: true, standby: false } });
  assert.deepEqual(down.revokes, ['revoke standby']);
  assert.deepEqual(down.acts, ['grant primary']);
});

// A witness that cannot date the idle side's grant (rebooted, replaced) still keeps the serving side
// serving: an extension of the live permit it holds, never a grant that could make one live
// (src/fencing/rule.ts renewAllowed; test/unit/fencing-liveness.test.ts found the outage without it).
test('the idle grant not over: the serving host is extended over its live permit, refused without one', async () => {
  const healthy = { primary: true, standby: true }; // the idle one answers: not revoked, its grant not over
  const ext = await check({ keepIdle: false, idleOver: false, servingLive: true, healthy });
  assert.deepEqual(ext.extended, ['extend primary']);
  assert.deepEqual([...ext.acts, ...ext.refused, ...ext.revokes], []);
  const none = await check({ keepIdle: true, idleOver: false, held: 7, healthy: { primary: false, standby: true } });
  assert.deepEqual(none.acts, ['grant standby'], 'the launch kept, the serving side not made live');
  assert.deepEqual([...none.extended, ...none.refused], ['refused primary']);
  assert.match(none.p.detail, /this host holds none to extend/);
  const over = await check({ keepIdle: false, idleOver: true, healthy });
  assert.deepEqual([...over.acts, ...over.extended], ['grant primary'], 'the idle grant over: a plain grant');
});

// A sole witness that lost its state.json just after a failover (no etcd to share it): its empty state names
// the primary, which died, while the standby serves under the forgotten move's permit. Its check extends that
// live permit, never grants one, until the failover adopts the standby (moves.ts adoptPlan); left to lapse,
// the standby's guard stopped the one gateway serving (test/unit/fencing-liveness.test.ts found it).
test('a live permit on record nowhere, on the one gateway that answers: extended, never granted', async () => {
  const lost = await check({ keepIdle: false, idleOver: false, held: 5, healthy: { primary: false, standby: true } });
  assert.deepEqual(lost.extended, ['extend standby']);
  assert.deepEqual(lost.acts, [], 'no grant to either side');
  assert.deepEqual(lost.revokes, []);
  // Not when the serving side's gateway answers too (a second gateway: the failover fences one), nor when
  // this witness's records say the idle side's grant is over, nor without a permit there to extend.
  const both = await check({ keepIdle: false, idleOver: false, held: 5, healthy: { primary: true, standby: true } });
  assert.deepEqual(
    both.extended.filter((a) => a.endsWith('standby')),
    [],
  );
  const over = await check({ keepIdle: false, idleOver: true, held: 5, healthy: { primary: false, standby: true } });
  assert.deepEqual(
    [...over.extended, ...over.acts].filter((a) => a.endsWith('standby')),
    [],
  );
  const none = await check({ keepIdle: false, idleOver: false, healthy: { primary: false, standby: true } });
  assert.deepEqual([...none.extended, ...none.acts], []);
});
