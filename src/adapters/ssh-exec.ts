// SshSession.exec's body (ssh.ts): a remote command over the session's ssh2
// connection with its stdin open, for a caller that streams (postgres/psql.ts:
// SQL on psql's stdin, never in argv or a file). The same deadlines as
// SshSession.run: `timeout -k` on the host and a local timer here, which also
// covers opening the channel. Bytes are capped: stderr always, stdout when it
// is collected (a caller that takes it chunk by chunk through onData streams
// it onwards). Output stays bytes; the caller decodes once, at the end. The
// exit status is read from the channel's `close` arguments (see SshSession.run).
import type { HostConfig } from '../config/types.js';
import { remoteDeadline } from './shell.js';
import { ByteCollector, describeCommand, OUTPUT_CAP, OutputCapError } from './bytes.js';
import { classify, SshError } from './ssh.js';

/** ssh2's exec channel, as far as it is used here (a Duplex: write = remote stdin, data = remote stdout). */
export interface ExecChannel {
  on(ev: string, fn: (...a: never[]) => void): unknown;
  stderr: { on(ev: string, fn: (d: Buffer) => void): unknown };
  write(b: Buffer | string): boolean;
  end(): void;
  once(ev: 'drain', fn: () => void): unknown;
  close?: () => void;
  destroy?: () => void;
}

/** A remote command with its stdin open (SshSession.exec). */
export interface ExecStream {
  /** To the remote stdin; false: wait for drain before the next write. */
  write(b: Buffer | string): boolean;
  onceDrain(fn: () => void): void;
  /** End of the remote stdin. */
  end(): void;
  kill(): void;
  /**
   * Settles when the channel closes: the exit status (null: a signal) and stderr, decoded once. Rejects
   * with SshError (link lost, local deadline) or OutputCapError (a cap passed: the channel was closed).
   */
  done: Promise<{ code: number | null; stderr: string }>;
  /** Collected stdout (no onData), as bytes, once done settled. */
  stdout(): Buffer;
}

/** How much an exec stream may print: stdout only when it is collected (no onData), stderr always. */
export interface ExecOptions {
  /** Bytes of stderr, and of stdout when collected (default OUTPUT_CAP, 1 MiB). */
  cap?: number;
  /** The command as the cap's error names it (default: the script's first line). */
  what?: string;
}

export async function openExec(
  spawn: (cmd: string) => Promise<unknown>,
  host: HostConfig,
  script: string,
  timeoutSec: number,
  onData?: (b: Buffer) => void,
  opts: ExecOptions = {},
): Promise<ExecStream> {
  const label = `${host.name} (${host.user}@${host.address}:${host.port})`;
  const localSec = timeoutSec + 7;
  const cap = opts.cap ?? OUTPUT_CAP;
  const stop = (s: ExecChannel | undefined) => {
    try {
      s?.close?.();
      s?.destroy?.();
    } catch {
      /* already closed */
    }
  };
  let ch: ExecChannel | undefined;
  let fail!: (e: Error) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const timer = setTimeout(() => {
    stop(ch);
    fail(new SshError('ssh-timeout', host.name, `${label}: remote command did not finish within ${localSec} s`));
  }, localSec * 1000);
  try {
    ch = (await Promise.race([spawn(remoteDeadline(script, timeoutSec)), failed])) as ExecChannel;
  } catch (e) {
    clearTimeout(timer);
    throw classify(e, label, host.name, undefined, '');
  }
  const c = ch;
  const out: Buffer[] = [];
  let outBytes = 0;
  const err = new ByteCollector(cap);
  const overCap = () => {
    stop(c);
    fail(new OutputCapError(cap, `${host.name} ${opts.what ?? describeCommand(script)}`));
  };
  c.stderr.on('data', (d: Buffer) => !err.push(d) && overCap());
  c.on('data', (d: Buffer) => {
    if (onData) return onData(d);
    if ((outBytes += d.length) > cap) return overCap();
    out.push(d);
  });
  const closed = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    c.on('close', (code?: number | null) => {
      if (code === undefined)
        reject(new SshError('unreachable', host.name, `${label}: connection lost during a remote command`));
      else resolve({ code, stderr: err.text() });
    });
    c.on('error', (e: Error) => reject(classify(e, label, host.name, undefined, '')));
  });
  const done = Promise.race([closed, failed]).finally(() => clearTimeout(timer));
  done.catch(() => undefined);
  return {
    write: (b) => c.write(b),
    onceDrain: (fn) => void c.once('drain', fn),
    end: () => c.end(),
    kill: () => stop(c),
    done,
    stdout: () => Buffer.concat(out),
  };
}
