// The single mapping from anything thrown to an exit code, and the one place an
// error is printed: one line (or the --json document), a stack only with --debug.
import { CommanderError } from 'commander';
import { EXIT, ExitWith, HactlError } from './errors.js';
import { Reporter, redact } from './output.js';

/** The single mapping from anything thrown to an exit code. */
export function exitCodeFor(err: unknown, debug: boolean, json: boolean): number {
  const out = new Reporter({ json, debug });
  if (err instanceof ExitWith) return err.exitCode;
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return EXIT.OK; // --help, --version
    return EXIT.USAGE; // commander already printed the message
  }
  if (err instanceof HactlError) {
    if (json) {
      out.summary('', {
        ok: false,
        error: err.name,
        message: redact(err.message),
        hint: err.hint,
        exitCode: err.exitCode,
      });
    } else {
      out.error(`hactl: ${err.message}`);
      if (err.hint) out.error(`hactl: hint: ${err.hint}`);
    }
    if (debug && err.stack) out.error(err.stack);
    return err.exitCode;
  }
  const e = err as Error;
  const more = debug ? '' : ' (run with --debug for details)';
  out.error(`hactl: unexpected error: ${e?.message ?? String(err)}${more}`);
  if (debug && e?.stack) out.error(e.stack);
  return EXIT.UNKNOWN;
}
