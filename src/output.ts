// The only module that writes to the terminal. Three audiences:
// - a terminal: progress and details on stderr, the summary on stdout;
// - cron (stdout is not a TTY) or --quiet: the one summary line only;
// - --json: one JSON document on stdout, nothing else.
// Every string passes through redact() so a secret never reaches output or logs.

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

const secrets = new Set<string>();

export function addSecret(s: string | undefined): void {
  if (s && s.length >= 6) secrets.add(s);
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

export class Reporter {
  readonly json: boolean;
  readonly interactive: boolean;
  readonly debugOn: boolean;

  constructor(
    opts: OutputOptions,
    private readonly stdout = process.stdout,
    private readonly stderr = process.stderr,
  ) {
    this.json = !!opts.json;
    this.debugOn = !!opts.debug;
    this.interactive = !this.json && !opts.quiet && !!stdout.isTTY;
  }

  /** Step-by-step news for a person watching. Silent under cron and --json. */
  progress(msg: string): void {
    if (this.interactive || this.debugOn) this.stderr.write(redact(`… ${msg}`) + '\n');
  }

  /** A detail line worth reading in a terminal (plan steps, per-host results). */
  detail(msg: string): void {
    if (this.interactive || this.debugOn) this.stdout.write(redact(msg) + '\n');
  }

  debug(msg: string): void {
    if (this.debugOn) this.stderr.write(redact(`debug: ${msg}`) + '\n');
  }

  /** The one line under cron, or the JSON document with --json. */
  summary(line: string, data: unknown): void {
    if (this.json) this.stdout.write(redact(JSON.stringify(data, null, 2)) + '\n');
    else this.stdout.write(redact(line) + '\n');
  }

  error(msg: string): void {
    this.stderr.write(redact(msg) + '\n');
  }
}
