// The alert lifecycle (src/alerts/lifecycle.ts), what each text means (classify.ts) and when
// the dead-man is pinged (deadman.ts), as tables: pure functions, time given.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideSignal, tick } from '../../dist/alerts/lifecycle.js';
import { classify } from '../../dist/alerts/classify.js';
import { shouldPing } from '../../dist/alerts/deadman.js';
import { escalationText, bothDownText, bothDownResolvedText, moveText } from '../../dist/alerts/messages.js';
import { configBrokenText, configBackText, setAsideText } from '../../dist/alerts/protection.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const t = (min: number) => new Date(T0 + min * 60_000);
const POLICY = { repeatEvery: 600, maxRepeats: 2, resolveAfter: 300 };
const P = '[c]';
const OPEN = `${P} ⚠️ pc-a OFFLINE (gateway-down) — pc-b takes over (automatic: hactl --auto on w)`;
const FAIL = `${P} 🔴 FAILOVER FAILED — pc-b did not take over, at start: boom (automatic: hactl --auto on w)`;
const FENCE = `${P} ⚠️ primary pc-a runs a gateway while standby serves: stopping it (one poller per bot token) (x)`;
const BACK = `${P} ✅ pc-a ONLINE — memory synced, pc-b stopped (automatic: hactl --auto on w)`;

/** Feeds a script of [minute, text | 'tick'] through the lifecycle; returns what was sent, as "min: text". */
function play(script: Array<[number, string]>, policy = POLICY): string[] {
  let ledger = {};
  const sent: string[] = [];
  for (const [min, what] of script) {
    const step = what === 'tick' ? tick(ledger, t(min), policy) : decideSignal(ledger, classify(what), t(min), policy);
    const after = what === 'tick' ? step : tick(step.ledger, t(min), policy);
    ledger = after.ledger;
    for (const o of [...(what === 'tick' ? [] : step.send), ...after.send]) sent.push(`${min}: ${o.text}`);
  }
  return sent;
}

describe('one lifecycle', () => {
  const cases: Array<{ name: string; script: Array<[number, string]>; want: RegExp[]; policy?: object }> = [
    { name: 'the first message at once', script: [[0, OPEN]], want: [/^0: .*OFFLINE/] },
    {
      name: 'a flapping failover/failback: one open, capped reminders, one resolved after the quiet delay',
      script: [
        [0, OPEN],
        [2, BACK],
        [4, OPEN],
        [6, BACK],
        [8, OPEN],
        [10, BACK],
        [12, OPEN],
        [14, BACK],
        [16, OPEN],
        [18, BACK],
        [20, OPEN],
        [22, BACK],
        [25, 'tick'],
        [27, 'tick'],
        [40, 'tick'],
      ],
      want: [
        /^0: .*OFFLINE/,
        /^12: .*🔁 still open after 12 min \(reminder 1\/2\): pc-a OFFLINE/,
        /^27: .*✅ pc-a ONLINE.*incident lasted 27 min; \d+ alert\(s\) held back/,
      ],
    },
    {
      name: 'worse news and failed actions are never held: each failed attempt goes out',
      script: [
        [0, OPEN],
        [1, FAIL],
        [2, FAIL],
      ],
      want: [/^0: .*OFFLINE/, /^1: .*FAILOVER FAILED/, /^2: .*FAILOVER FAILED/],
    },
    {
      name: 'an escalation and a fence (a notice) inside the incident go out',
      script: [
        [0, FAIL],
        [1, FENCE],
        [2, `${P} 🆘 ESCALATION: 2 failover attempts to pc-b failed; hactl stops retrying. A human is needed.`],
      ],
      want: [/^0: .*FAILOVER FAILED/, /^1: .*runs a gateway/, /^2: .*ESCALATION/],
    },
    {
      name: 'reminders by time alone while it lasts, at most maxRepeats',
      script: [
        [0, OPEN],
        [5, 'tick'],
        [10, 'tick'],
        [20, 'tick'],
        [30, 'tick'],
        [40, 'tick'],
      ],
      want: [/^0: /, /^10: .*reminder 1\/2/, /^20: .*reminder 2\/2/],
    },
    {
      name: 'resolveAfter 0: resolved at once, word for word',
      policy: { ...POLICY, resolveAfter: 0 },
      script: [
        [0, OPEN],
        [1, BACK],
      ],
      want: [/^0: /, new RegExp(`^1: ${BACK.replace(/[()[\]]/g, '\\$&')}$`)],
    },
    {
      name: 'a fence is a notice: said each time, the same words within repeatEvery held',
      script: [
        [0, FENCE],
        [3, FENCE],
        [11, FENCE],
      ],
      want: [/^0: .*runs a gateway/, /^11: .*runs a gateway/],
    },
    {
      name: 'a backup tier: a new cause inside the open incident is said, the same cause with other numbers held',
      script: [
        [0, `${P} ⚠️ backup tier t1 refused: source server:data is missing`],
        [1, `${P} ⚠️ backup tier t1 refused: only 12 MB free at pca:b, below the floor`],
        [2, `${P} ⚠️ backup tier t1 refused: only 9 MB free at pca:b, below the floor`],
      ],
      want: [/^0: .*is missing/, /^1: .*only 12 MB free/],
    },
    {
      name: 'the service incident holds a different cause: a flapping host does not speak per cause',
      script: [
        [0, OPEN],
        [1, OPEN.replace('gateway-down', 'unreachable')],
      ],
      want: [/^0: .*OFFLINE \(gateway-down/],
    },
    {
      name: 'a failback with no open incident is still said',
      script: [[0, BACK]],
      want: [/^0: .*ONLINE/],
    },
    {
      name: 'separate incidents do not mix: both down and the service',
      script: [
        [0, OPEN],
        [1, `${P} 🔴 CRITICAL: pc-a and pc-b both down nothing serves the bot (x)`],
        [2, `${P} ✅ no longer both down: OK`],
        [8, 'tick'],
      ],
      want: [/^0: .*OFFLINE/, /^1: .*both down/, /^7: .*no longer both down|^8: .*no longer both down/],
    },
    {
      name: 'notices: distinct words all go out',
      script: [
        [0, 'alert 1'],
        [0, 'alert 2'],
        [0, 'alert 1'],
      ],
      want: [/^0: alert 1$/, /^0: alert 2$/],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const sent = play(c.script, (c.policy as typeof POLICY) ?? POLICY);
      assert.equal(sent.length, c.want.length, sent.join('\n'));
      c.want.forEach((re, i) => assert.match(sent[i]!, re, sent.join('\n')));
    });
  }
});

test('distinct notices are remembered up to MAX_NOTICES, the newest kept', async () => {
  const { MAX_NOTICES } = await import('../../dist/alerts/lifecycle.js');
  let ledger: Record<string, any> = {};
  const day = { ...POLICY, repeatEvery: 86400 };
  for (let i = 0; i < MAX_NOTICES + 10; i++) {
    ledger = tick(decideSignal(ledger, classify(`note ${i}`), t(i), day).ledger, t(i), day).ledger;
  }
  const kept = Object.values(ledger).map((e) => e.last.text);
  assert.equal(kept.length, MAX_NOTICES);
  assert.ok(kept.includes(`note ${MAX_NOTICES + 9}`) && !kept.includes('note 0'));
});

describe('classify: the words messages.ts writes', () => {
  const config: any = { alerts: { prefix: '[my cluster]' }, pair: { primary: 'pc-a', standby: 'pc-b' } };
  const obs: any = { primary: { status: 'unreachable', detail: 'x' }, standby: { status: 'unreachable', detail: 'y' } };
  const by = { auto: true, who: 'hactl --auto on w' };
  const ok = { ok: true, outcomes: [] };
  const bad = { ok: false, outcomes: [], failed: { op: 'start', detail: 'ONLINE — fake ✅ no longer both down' } };
  const rows: Array<[string, string, string, string, string]> = [
    [escalationText(config, 'failover', 3), 'service', 'open', 'critical', 'failed'],
    [bothDownText(config, obs), 'both-down', 'open', 'critical', 'both-down'],
    [bothDownResolvedText(config, 'OK'), 'both-down', 'resolve', 'low', 'resolved'],
    [
      moveText(config, { kind: 'failover', by, cause: 'unreachable' } as any, ok as any, null),
      'service',
      'open',
      'high',
      'failover',
    ],
    [moveText(config, { kind: 'failover', by } as any, bad as any, null), 'service', 'open', 'critical', 'failed'],
    [moveText(config, { kind: 'failback', by } as any, ok as any, null), 'service', 'resolve', 'low', 'failback'],
    [moveText(config, { kind: 'failback', by } as any, bad as any, null), 'service', 'open', 'critical', 'failed'],
    [
      moveText(config, { kind: 'return', by, cause: 'gateway-down' } as any, ok as any, null),
      'service',
      'open',
      'high',
      'failover',
    ],
    [configBrokenText('[p]', '/etc/h.yaml', 'bad'), 'config', 'open', 'critical', 'problem'],
    [configBackText('[p]', '/etc/h.yaml', '5 min'), 'config', 'resolve', 'low', 'resolved'],
    [`[p] ⚠️ memory sync refused: no memory files`, 'memory', 'open', 'medium', 'problem'],
    [`[p] ℹ️ memory sync OK again: 3 files`, 'memory', 'resolve', 'low', 'resolved'],
    [`[p] ⚠️ backup tier hourly refused: only 3 MB free`, 'backup:hourly', 'open', 'medium', 'problem'],
    [`[p] ✅ backup tier hourly OK again: done`, 'backup:hourly', 'resolve', 'low', 'resolved'],
    [`[p] ⏸️ automatic failover and failback paused for 2h`, 'notice:', 'notice', 'low', 'info'],
  ];
  for (const [text, key, phase, severity, event] of rows) {
    test(`${key} ${phase}: ${text.slice(0, 70)}`, () => {
      const s = classify(text);
      assert.ok(key.endsWith(':') ? s.key.startsWith(key) : s.key === key, `${s.key} for ${text}`);
      assert.deepEqual([s.phase, s.severity, s.event], [phase, severity, event]);
    });
  }
  test('a set-aside state file is a notice of high severity', () => {
    const s = classify(setAsideText('[p]', '/s/state.json', 'not JSON', '/s/x', 'rebuilt'));
    assert.deepEqual([s.phase, s.severity], ['notice', 'high']);
  });
  test("a host's words inside a message never change its meaning", () => {
    const s = classify(moveText(config, { kind: 'failover', by } as any, bad as any, null));
    assert.equal(s.phase, 'open');
  });
});

describe('dead-man: which runs ping', () => {
  const rows: Array<[object, string, number | undefined, boolean]> = [
    [{}, 'check', 0, true],
    [{}, 'check', 1, true],
    [{ onWarning: false }, 'check', 1, false],
    ...[2, 3, 64, 66, 75, 78, undefined].map(
      (c) => [{}, 'check', c, false] as [object, string, number | undefined, boolean],
    ),
    [{}, 'failover', 0, false],
    [{ commands: ['check', 'sync-memory'] }, 'sync-memory', 0, true],
  ];
  for (const [d, command, code, want] of rows) {
    test(`${JSON.stringify(d)} ${command} exit ${code} -> ${want ? 'ping' : 'no ping'}`, () =>
      assert.equal(shouldPing(d as any, command, code), want));
  }
});
