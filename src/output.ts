// The only module that writes to the terminal. Three audiences:
// - a terminal: progress and details on stderr, the summary on stdout;
// - cron (stdout is not a TTY) or --quiet: the one summary line only (and, with --dry-run, the plan);
// - --json: one JSON document on stdout, nothing else: the envelope below, written once per
//   invocation by src/cli.ts, whatever the command did or threw. schema/output.schema.json
//   publishes it.
// Every string passes through redact() so a secret never reaches output or logs.

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
  dryRun?: boolean;
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

/** The error part of the envelope: a stable code, the one-line message, the fix, and where. */
export interface ErrorInfo {
  code: string;
  message: string;
  hint: string | null;
  where: string | null;
  problems?: string[];
}

/** The keys the envelope owns; a command's data never replaces them. */
export const ENVELOPE_KEYS = ['command', 'version', 'ok', 'exitCode', 'summary', 'error'] as const;

/**
 * One invocation's document. A command hands its data to Reporter.summary(); src/cli.ts writes
 * the envelope once at the end with the real exit code (and the error, if one was thrown), so a
 * command cannot forget it nor write a second one.
 */
const invocation: { command: string; version: string; summary: string | null; data: Record<string, unknown> } = {
  command: 'hactl',
  version: '0.0.0',
  summary: null,
  data: {},
};

export function beginInvocation(command: string, version: string): void {
  Object.assign(invocation, { command, version, summary: null, data: {} });
}

export function envelope(exitCode: number, error?: ErrorInfo): Record<string, unknown> {
  const data = { ...invocation.data };
  for (const k of ENVELOPE_KEYS) delete data[k];
  const summary = invocation.summary ?? (error ? `${invocation.command}: ${error.message.split('\n')[0]}` : '');
  return {
    command: invocation.command,
    version: invocation.version,
    ok: exitCode === 0,
    exitCode,
    summary,
    ...data,
    ...(error ? { error } : {}),
  };
}

/** Writes the envelope: the only JSON document on stdout. */
export function writeEnvelope(exitCode: number, error?: ErrorInfo, stdout = process.stdout): void {
  stdout.write(redact(JSON.stringify(envelope(exitCode, error), null, 2)) + '\n');
}

export class Reporter {
  readonly json: boolean;
  readonly interactive: boolean;
  readonly debugOn: boolean;
  /** A dry run's plan is its output: printed under cron and --quiet too (not under --json: it is in the data). */
  readonly planOn: boolean;

  constructor(
    opts: OutputOptions,
    private readonly stdout = process.stdout,
    private readonly stderr = process.stderr,
  ) {
    this.json = !!opts.json;
    this.debugOn = !!opts.debug;
    this.interactive = !this.json && !opts.quiet && !!stdout.isTTY;
    this.planOn = !this.json && !!opts.dryRun;
  }

  /** Step-by-step news for a person watching. Silent under cron and --json. */
  progress(msg: string): void {
    if (this.interactive || this.debugOn) this.stderr.write(redact(`… ${msg}`) + '\n');
  }

  /** A detail line worth reading in a terminal (plan steps, per-host results); always with --dry-run. */
  detail(msg: string): void {
    if (this.interactive || this.debugOn || this.planOn) this.stdout.write(redact(msg) + '\n');
  }

  debug(msg: string): void {
    if (this.debugOn) this.stderr.write(redact(`debug: ${msg}`) + '\n');
  }

  /**
   * The one line under cron; with --json, the command's data for the envelope (written once by
   * src/cli.ts). `data` null: text only (its fields, if any, were given before).
   */
  summary(line: string, data: unknown): void {
    if (this.json) {
      invocation.summary = line;
      if (data && typeof data === 'object') Object.assign(invocation.data, data);
    } else this.stdout.write(redact(line) + '\n');
  }

  error(msg: string): void {
    this.stderr.write(redact(msg) + '\n');
  }
}

/**
 * The reporter of one run inside a `--watch` loop (guard --watch, sync-memory --watch): its summary
 * is one progress line tagged with the tick in a terminal, nothing under cron or --json; the loop
 * itself says the one summary line.
 */
export class TickReporter extends Reporter {
  constructor(
    opts: OutputOptions,
    private readonly tag: string,
  ) {
    super(opts);
  }
  override summary(line: string): void {
    if (this.interactive) process.stderr.write(redact(`… ${this.tag}${line}`) + '\n');
  }
}
