// The only module that writes to the terminal. Three audiences:
// - a terminal: progress and details on stderr, the summary on stdout;
// - cron (stdout is not a TTY) or --quiet: the one summary line only (and, with --dry-run, the plan);
// - --json: one JSON document on stdout, nothing else: the envelope below, written once per
//   invocation by src/cli.ts, whatever the command did or threw. schema/output.schema.json
//   publishes it.
// Every string passes through redact() so a secret never reaches output or logs.

import { fstatSync, writeSync } from 'node:fs';

/** Where hactl's words go: node's process.stdout and process.stderr, or a descriptor sink (below). */
export interface Sink {
  write(s: string | Uint8Array): unknown;
  readonly isTTY?: boolean;
}

/** A reader that went away (`hactl ... | head`) must not turn the run into a crash: its exit code stays. */
const closedPipe = (e: NodeJS.ErrnoException): boolean => e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED';

/**
 * A pipe or a file (cron, a script, a test), written with fs.writeSync on the descriptor: node's
 * process.stdout builds a stream on first use, and for a pipe that loads net and the streams (~150 page
 * faults of a `status`, issue 25). Bytes, encoded once per write and written on from where a short write
 * stopped. A reader gone (EPIPE) drops the rest, as node's stream did; a descriptor that someone else made
 * non-blocking and that is full (EAGAIN) hands the rest, and all that follows, to node's stream, which
 * waits for it.
 */
class FdSink implements Sink {
  readonly isTTY = false;
  private stream?: Sink;
  private gone = false;
  constructor(private readonly fd: 1 | 2) {}
  write(s: string | Uint8Array): boolean {
    if (this.gone) return true;
    if (this.stream) return !!this.stream.write(s);
    const buf = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
    let at = 0;
    try {
      while (at < buf.length) at += writeSync(this.fd, buf, at, buf.length - at);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EPIPE') {
        this.gone = true; // the reader went away: the rest of the run's words have nowhere to go
        return true;
      }
      if (err.code !== 'EAGAIN') throw e;
      this.stream = this.fd === 1 ? process.stdout : process.stderr;
      this.stream.write(buf.subarray(at)); // bytes: a short write may have stopped inside a character
    }
    return true;
  }
}

const sinks: Partial<Record<1 | 2, Sink>> = {};

/**
 * stdout (1) or stderr (2): a descriptor sink for a pipe, a socket or a file; node's own stream for a
 * terminal or any other device (isTTY, and /dev/null, which node writes cheaply), or a descriptor that
 * cannot be read.
 */
export function sink(fd: 1 | 2): Sink {
  let s = sinks[fd];
  if (s) return s;
  try {
    const st = fstatSync(fd);
    if (st.isFIFO() || st.isSocket() || st.isFile()) s = new FdSink(fd);
  } catch {
    /* node's stream says what it can */
  }
  return (sinks[fd] = s ?? (fd === 1 ? process.stdout : process.stderr));
}

/**
 * Node's process.stdout and process.stderr, whenever something first uses them (a terminal, node itself):
 * a reader gone is ignored there too. They are made on first use, not here.
 */
export function ignoreClosedPipes(): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const d = Object.getOwnPropertyDescriptor(process, name);
    const guard = (s: NodeJS.WriteStream) =>
      s.on('error', (e: NodeJS.ErrnoException) => {
        if (!closedPipe(e)) throw e;
      });
    if (!d?.get || !d.configurable) {
      guard(process[name]);
      continue;
    }
    const made = d.get;
    let stream: NodeJS.WriteStream | undefined;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: d.enumerable,
      get: () => (stream ??= guard(made.call(process) as NodeJS.WriteStream)),
    });
  }
}

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
export function writeEnvelope(exitCode: number, error?: ErrorInfo, stdout: Sink = sink(1)): void {
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
    private readonly stdout: Sink = sink(1),
    private readonly stderr: Sink = sink(2),
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
    if (this.interactive) sink(2).write(redact(`… ${this.tag}${line}`) + '\n');
  }
}
