// One renderer per channel (src/alerts/render.ts), pure: the same event has the same
// severity and emoji everywhere; each channel's limits hold; long lists are cut with
// "and N more"; nothing is cut inside a surrogate pair; host text cannot mention or format.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cut,
  discordPayload,
  fallbackEvent,
  fit,
  genericPayload,
  LIMITS,
  slackEscape,
  slackPayload,
  telegramText,
} from '../../dist/alerts/render.js';
import { event, SEVERITY_EMOJI } from '../../dist/alerts/events.js';
import { foldGuard } from '../../dist/guard/fold.js';

const AT = '2026-11-22T14:00:00.000Z';
const SRC = 'hactl check on witness';
const ev = (severity: string, message = 'm', more: any = {}) =>
  event('failover-done', severity as never, 'open', message, AT, { key: 'service', ...more });

/** The emoji each channel shows for an event. */
function emojis(e: any) {
  const tg = telegramText(e, '[p]').split(' ')[1];
  const d = discordPayload(e, '[p]', SRC);
  const s = slackPayload(e, '[p]', SRC);
  return {
    telegram: tg,
    discord: d.content.split(' ')[1],
    discordTitle: d.embeds[0]!.title.split(' ')[0],
    slack: (s.blocks[0] as any).text.text.split(' ')[1],
    generic: genericPayload(e, '[p]', SRC).emoji,
  };
}

describe('one severity, one emoji, every channel', () => {
  for (const [severity, emoji] of Object.entries(SEVERITY_EMOJI)) {
    test(`${severity} -> ${emoji} on Telegram, Discord, Slack and the generic webhook`, () => {
      const got = emojis(ev(severity));
      assert.deepEqual(new Set(Object.values(got)), new Set([emoji]), JSON.stringify(got));
    });
  }
  test('a resolve is ✅ everywhere', () => {
    const e = event('resolved', 'low', 'resolve', 'back', AT, { key: 'service', facts: { lastedSeconds: 720 } });
    assert.deepEqual(new Set(Object.values(emojis(e))), new Set(['✅']));
    assert.equal(telegramText(e, '[p]'), '[p] ✅ back (lasted 12 min)');
  });
  test("the guard's 'could NOT stop its gateway' is critical (🔴) on every channel", () => {
    const o: any = { self: 'pc1', peer: 'pc2', peerAnswers: false, permit: { left: -90 } };
    const plan: any = { contact: 'nobody', action: 'stop', reason: 'lease expired', exitCode: 2 };
    const f = foldGuard(undefined, o, plan, { ok: false, detail: 'systemctl timed out' }, new Date(AT), '[p]');
    const e = f.alert!;
    assert.deepEqual(new Set(Object.values(emojis(e))), new Set(['🔴']));
    assert.match(
      discordPayload(e, '[p]', SRC).content,
      /\*\*CRITICAL\*\*: pc1 holds no live serving permit and its guard could NOT stop/,
    );
    assert.match(
      (slackPayload(e, '[p]', SRC).blocks[0] as any).text.text,
      /\*CRITICAL\*: pc1 holds no live serving permit/,
    );
    assert.equal(genericPayload(e, '[p]', SRC).severity, 'critical');
  });
});

describe('limits', () => {
  const huge = ev('critical', `FAILOVER FAILED — at start: ${'rsync: error '.repeat(1100)}`, {
    by: 'automatic: hactl --auto on w1',
    list: Array.from({ length: 500 }, (_, i) => `memory/file-${i}.md: invalid front matter`),
    facts: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(3000)])),
  });

  test('a 13,000-character failure fits every channel, keeps who asked, says how many were left out', () => {
    assert.ok(huge.message.length + huge.list.join('').length > 13_000);
    const tg = telegramText(huge, '[p]');
    assert.ok(tg.length <= LIMITS.telegram, `${tg.length}`);
    assert.match(tg, /^\[p\] 🔴 FAILOVER FAILED/);
    assert.match(tg, /\(automatic: hactl --auto on w1\)/);
    assert.match(tg, /… and 500 more$/);
    const d = discordPayload(huge, '[p]', SRC);
    assert.ok(d.content.length <= LIMITS.discordContent);
    assert.ok(d.embeds[0]!.title.length <= LIMITS.discordTitle);
    assert.ok(d.embeds[0]!.description.length <= LIMITS.discordDescription);
    assert.equal(d.embeds[0]!.fields.length, 25);
    assert.ok(d.embeds[0]!.fields.every((f) => f.value.length <= 1024));
    const s = slackPayload(huge, '[p]', SRC);
    assert.ok((s.blocks[0] as any).text.text.length <= LIMITS.slackSection);
    assert.ok(s.text.length <= LIMITS.slackSection);
    assert.equal((s.blocks[1] as any).fields.length, 10);
  });

  test('a list that almost fits: as many items as fit, then "… and N more"', () => {
    const list = Array.from({ length: 10 }, (_, i) => `item-${i}`);
    const out = fit('H ', 'message', list, ' (by x)', 60);
    assert.ok(out.length <= 60);
    assert.match(out, /^H message \(by x\)\n• item-0\n/);
    const shown = out.split('\n').filter((l) => l.startsWith('• ')).length;
    assert.match(out, new RegExp(`\\n… and ${10 - shown} more$`));
  });

  test('never cut inside a surrogate pair (so never inside a UTF-8 sequence), at any length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.integer({ min: 2, max: 200 }), (s, max) => {
        const c = cut(s, max);
        assert.ok(c.length <= Math.max(max, s.length <= max ? s.length : 0));
        // A lone surrogate would not survive a UTF-8 round trip.
        assert.equal(Buffer.from(c, 'utf8').toString('utf8'), c);
      }),
    );
    assert.equal(cut('ab🔴cd', 4), 'ab…');
    assert.equal(cut('ab🔴cd', 5), 'ab🔴…');
  });

  test('the short form sent after a permanent refusal is short', () => {
    const f = fallbackEvent(huge, 'Bad Request: message is too long');
    assert.ok(telegramText(f, '[p]').length < 600);
    assert.match(
      telegramText(f, '[p]'),
      /\[shortened: the full alert was refused \(Bad Request: message is too long\)/,
    );
  });
});

describe('text from hosts', () => {
  const e = ev('high', 'pc-a OFFLINE — <@everyone> & co');
  test('Discord mentions are off; Slack control characters are escaped', () => {
    assert.deepEqual(discordPayload(e, '', SRC).allowed_mentions, { parse: [] });
    assert.equal(
      (slackPayload(e, '', SRC).blocks[0] as any).text.text,
      '🟠 *HIGH*: pc-a OFFLINE — &lt;@everyone&gt; &amp; co',
    );
    assert.equal(slackEscape('a<b>&c'), 'a&lt;b&gt;&amp;c');
  });
  test('the generic webhook carries the typed event', () => {
    const g = genericPayload(ev('high', 'x', { by: 'by hand: ann', hosts: ['pc-a'] }), '[p]', SRC);
    assert.deepEqual(
      [g.kind, g.severity, g.resolved, g.by, g.hosts, g.emoji, g.text],
      ['failover-done', 'high', false, 'by hand: ann', ['pc-a'], '🟠', '[p] 🟠 x (by hand: ann)'],
    );
  });
});

describe('text is cut between code points everywhere (review #7: one helper, render.cut)', () => {
  /** A lone half of a surrogate pair: text cut by UTF-16 units inside an emoji. */
  const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  /** `n` units, then emoji: every cut at n..n+3 lands inside or next to a pair. */
  const at = (n: number) => 'x'.repeat(n) + '😀'.repeat(200);
  test('set-aside, config-broken, both-down facts, command names: no half emoji', async () => {
    const { setAsideEvent, configBrokenEvent } = await import('../../dist/alerts/protection.js');
    const { bothDownEvent } = await import('../../dist/alerts/messages.js');
    const { describeCommand } = await import('../../dist/adapters/bytes.js');
    const { config } = await import('./helpers.ts');
    const c = await config();
    const texts: string[] = [];
    for (const n of [190, 191, 290, 291, 490, 491, 50, 51, 95, 96]) {
      texts.push(setAsideEvent('/s/state.json', at(n), '/s/x', 'then', new Date()).message);
      texts.push(configBrokenEvent('/etc/h.yaml', at(n), new Date()).message);
      const o = { status: 'unreachable', detail: at(n), confirmed: true };
      texts.push(...Object.values(bothDownEvent(c, { primary: o, standby: o } as any, new Date()).facts).map(String));
      texts.push(describeCommand(at(n)));
    }
    for (const s of texts) assert.doesNotMatch(s, LONE, s.slice(-12));
  });
});
