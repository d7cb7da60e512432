// hactl alert: the alerts that wait, and the channels that carry them.
//   hactl alert                      list what waits in the outbox (id, event, per-channel errors)
//   hactl alert --test [--channel N] send one test message on each channel now, each result said;
//                                    exit 2 if any channel failed
//   hactl alert --retry ID           forget ID's failures (a refusal given up on too) and send it again
//   hactl alert --drop ID            remove ID from the outbox for every channel
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { runCommand, type GlobalOptions } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { event } from '../alerts/events.js';
import { cut } from '../alerts/render.js';

interface AlertOptions {
  test?: boolean;
  channel?: string;
  retry?: string;
  drop?: string;
}

export default async function alert(_p: Command, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  const o = cmd.opts() as AlertOptions;
  const acts = [o.test, o.retry, o.drop].filter(Boolean).length;
  if (acts > 1) throw new UsageError('alert: give one of --test, --retry ID, --drop ID');
  if (o.channel && !o.test) throw new UsageError('alert: --channel goes with --test');
  return runCommand('alert', opts, null, async ({ out, alerts }) => {
    if (o.test) {
      const chosen = alerts.channels.filter((c) => !o.channel || c.id === o.channel || c.name === o.channel);
      if (!alerts.channels.length)
        throw new UsageError('alert --test: no channel is configured (alerts.telegram, alerts.webhooks)');
      if (!chosen.length) {
        const names = alerts.channels.map((c) => `${c.id} (${c.name})`).join(', ');
        throw new UsageError(`alert --test: no channel ${o.channel}; configured: ${names}`);
      }
      const results: Array<{ channel: string; kind: string; ok: boolean; error: string | null }> = [];
      for (const c of chosen) {
        let error: string | null = c.problem ?? null;
        if (!error && !opts.dryRun) {
          const who = `by hand: ${process.env.USER ?? 'someone'}@${hostname()}`;
          const e = event('test', 'low', 'notice', `test alert from hactl: ${c.name} works`, new Date(), { by: who });
          const r = await c.send(e);
          if (!r.ok) error = r.message;
        }
        results.push({ channel: c.id, kind: c.name, ok: !error, error });
        out.detail(`  ${c.id.padEnd(18)} ${error ? `FAILED: ${error}` : opts.dryRun ? 'would send' : 'delivered'}`);
      }
      const failed = results.filter((r) => !r.ok);
      const verb = opts.dryRun ? 'would test' : 'tested';
      return {
        exitCode: failed.length ? EXIT.CRITICAL : EXIT.OK,
        summary: failed.length
          ? `alert --test: ${failed.length} of ${results.length} channel(s) FAILED: ` +
            failed.map((f) => `${f.channel}: ${f.error}`).join('; ')
          : `alert --test: ${verb} ${results.length} channel(s): ${results.map((r) => r.channel).join(', ')}`,
        data: { channels: results },
      };
    }
    const outbox = alerts.outbox;
    if (o.retry || o.drop) {
      const id = (o.retry ?? o.drop)!;
      const found = opts.dryRun
        ? (await outbox.list()).some((p) => p.id === id)
        : await (o.retry ? outbox.retry(id) : outbox.drop(id));
      if (!found) {
        return {
          exitCode: EXIT.WARNING,
          summary: `alert: no pending alert ${id} (hactl alert lists them)`,
          data: { id, found },
        };
      }
      const report = o.retry && !opts.dryRun ? await alerts.flush() : null;
      const what = o.retry ? `retried${report ? `: ${report.pending} pending after it` : ''}` : 'dropped';
      return {
        exitCode: EXIT.OK,
        summary: `alert: ${id} ${opts.dryRun ? `would be ${o.retry ? 'retried' : 'dropped'}` : what}`,
        data: { id, found, report },
      };
    }
    const pending = await outbox.list();
    const ids = alerts.channels.map((c) => c.id);
    for (const p of pending) {
      const left = ids.filter((c) => !p.done?.includes(c));
      const errs = Object.entries(p.channels ?? {})
        .filter(([, s]) => s.lastError)
        .map(([c, s]) => `${c}: ${s.lastError} (${s.tries} tries${s.gaveUp ? ', given up' : ''})`);
      out.detail(`  ${p.id}  ${p.at}  ${p.event.severity.padEnd(8)} ${p.event.kind}: ${cut(p.event.message, 100)}`);
      out.detail(`      waiting for: ${left.join(', ') || '(none)'}${errs.length ? `; ${errs.join('; ')}` : ''}`);
    }
    return {
      exitCode: EXIT.OK,
      summary: `alert: ${pending.length} alert(s) pending`,
      data: {
        pending: pending.map((p) => ({
          id: p.id,
          at: p.at,
          kind: p.event.kind,
          severity: p.event.severity,
          message: p.event.message,
          raw: !!p.raw,
          done: p.done ?? [],
          channels: p.channels ?? {},
        })),
      },
    };
  });
}
