// The single mapping from anything thrown to an exit code, and the one place an
// error is described: one line on stderr (or error{} in the --json envelope, which
// src/cli.ts writes), a stack only with --debug.
import { CommanderError } from 'commander';
import { ConfigError, ERROR_CODES, EXIT, ExitWith, HactlError } from './errors.js';
import { Reporter, redact, type ErrorInfo } from './output.js';

export interface Failure {
  exitCode: number;
  /** undefined for ExitWith (the command said all there was) and --help/--version. */
  error?: ErrorInfo;
}

/** What was thrown, as an exit code and the envelope's error; the text goes to stderr unless --json. */
export function failureOf(err: unknown, debug: boolean, json: boolean, command = 'hactl'): Failure {
  const out = new Reporter({ json, debug });
  if (err instanceof ExitWith) return { exitCode: err.exitCode };
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return { exitCode: EXIT.OK }; // --help, --version
    // Commander already printed its message on stderr; the envelope says it again for a machine.
    const message =
      err.code === 'commander.help'
        ? 'no command given'
        : err.message
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ');
    const hint = `see hactl ${command === 'hactl' ? '' : command + ' '}--help`;
    return { exitCode: EXIT.USAGE, error: { code: 'usage', message, hint, where: command } };
  }
  if (err instanceof HactlError) {
    if (!json) {
      out.error(`hactl: ${err.message}`);
      if (err.hint) out.error(`hactl: hint: ${err.hint}`);
    }
    if (debug && err.stack) out.error(err.stack);
    const error: ErrorInfo = {
      code: ERROR_CODES[err.name] ?? 'error',
      message: redact(err.message),
      hint: err.hint ?? null,
      where: err.where ?? (err.exitCode === EXIT.USAGE ? command : null),
      ...(err instanceof ConfigError ? { problems: err.problems.map(redact) } : {}),
    };
    return { exitCode: err.exitCode, error };
  }
  const e = err as Error;
  const more = debug ? '' : ' (run with --debug for details)';
  const message = `unexpected error: ${e?.message ?? String(err)}`;
  out.error(`hactl: ${message}${more}`);
  if (debug && e?.stack) out.error(e.stack);
  return {
    exitCode: EXIT.UNKNOWN,
    error: { code: 'unexpected', message: redact(message), hint: 'run with --debug for details', where: command },
  };
}

/** The single mapping from anything thrown to an exit code. */
export function exitCodeFor(err: unknown, debug: boolean, json: boolean): number {
  return failureOf(err, debug, json).exitCode;
}
