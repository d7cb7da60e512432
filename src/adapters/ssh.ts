// The only module that talks SSH (through ssh2-promise). Every connection has
// a deadline (readyTimeout plus a local guard), every remote command runs under
// `timeout -k` on the host and a local timer here. Failures are classified:
// unreachable, ssh-timeout, auth-failure, hostkey-failure.
import { accessSync, constants } from 'node:fs';
import type { HostConfig } from '../config/types.js';
import { remoteDeadline } from './shell.js';
import { knownKeysFor, verifyHostKey, type KnownKey } from './knownhosts.js';
import { ByteCollector, describeCommand, OUTPUT_CAP, OutputCapError } from './bytes.js';
import { newNonce, settleRun, withExitStatus, type SshFailureKind } from './remote-run.js';
import type { ExecOptions, ExecStream } from './ssh-exec.js';

export type SshFailure = SshFailureKind;

export class SshError extends Error {
  constructor(
    readonly kind: SshFailure,
    readonly host: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RunResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  ms: number;
}

/** How much a run may print, and what its cap's error names. */
export interface RunOptions {
  /** Bytes each of stdout and stderr may hold (default OUTPUT_CAP, 1 MiB); past it: OutputCapError. */
  cap?: number;
  /** The command as the cap's error names it (default: the script's first line). */
  what?: string;
  /** It may wait for runs sent with it (MuxSession runs it after them): a reading that decides nothing. */
  behind?: boolean;
}

/**
 * What the probes need of a connection to a host: run a script under a deadline, and let go.
 * SshSession (ssh2, its own connection) and MuxSession (a warm OpenSSH master, ssh-mux.ts) are both one;
 * both wrap the script the same way and read its end with the one classifier (remote-run.ts).
 */
export interface RemoteSession {
  readonly host: HostConfig;
  run(script: string, timeoutSec?: number, opts?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}

interface Stream {
  on(ev: string, fn: (...a: never[]) => void): unknown;
  stderr: { on(ev: string, fn: (d: Buffer) => void): unknown };
  close?: () => void;
  destroy?: () => void;
}
interface Conn {
  sshConnection?: { destroy(): void };
  spawn(cmd: string, params?: string[] | null, opts?: object): Promise<Stream>;
  close(): Promise<unknown>;
}

const HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export class SshSession implements RemoteSession {
  private constructor(
    private readonly conn: Conn,
    readonly host: HostConfig,
    private readonly commandTimeout: number,
  ) {}

  static async open(host: HostConfig, connectTimeout: number, commandTimeout: number): Promise<SshSession> {
    const label = `${host.name} (${host.user}@${host.address}:${host.port})`;
    try {
      accessSync(host.key, constants.R_OK);
    } catch {
      throw new SshError('auth-failure', host.name, `${label}: key file ${host.key} is missing or unreadable`);
    }
    let keys: KnownKey[];
    try {
      keys = knownKeysFor(host.knownHosts, host.address, host.port);
    } catch (e) {
      const why = (e as Error).message;
      throw new SshError('hostkey-failure', host.name, `${label}: cannot read known_hosts ${host.knownHosts}: ${why}`);
    }
    // Offer only key types we can check; else the server may pick one we do not know.
    const rsa = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
    const types = new Set(keys.filter((k) => !k.revoked).flatMap((k) => (k.type === 'ssh-rsa' ? rsa : [k.type])));
    let hostKeyProblem: string | undefined;
    const { default: SSH2Promise } = await import('ssh2-promise');
    const { readFileSync } = await import('node:fs');
    const ssh = new SSH2Promise(
      {
        host: host.address,
        port: host.port,
        username: host.user,
        privateKey: readFileSync(host.key),
        reconnect: false,
        readyTimeout: connectTimeout * 1000,
        keepaliveInterval: 5000,
        keepaliveCountMax: 2,
        algorithms: types.size ? { serverHostKey: HOST_KEY_ALGOS.filter((a) => types.has(a)) } : undefined,
        hostVerifier: (key: Buffer) => {
          const r = verifyHostKey(keys, key);
          if (!r.ok) hostKeyProblem = r.reason;
          return r.ok;
        },
        // ssh2-promise's types lack ssh2's hostVerifier and algorithms: the object goes through as is.
      } as never,
      true, // disableCache: never reuse another instance's connection (and its checks)
    ) as unknown as { connect(): Promise<unknown>; close(): Promise<unknown> };
    let guard: NodeJS.Timeout | undefined;
    let conn: Conn | undefined;
    try {
      // connect() resolves to ssh2-promise's SSHConnection. Commands go to it directly:
      // with disableCache, SSH2Promise.spawn() would open a new connection per command.
      // Its ssh2 Client is destroyed on close (ssh2's end() only half-closes the socket,
      // which kept the process alive after the last command).
      await Promise.race([
        ssh.connect().then((c) => {
          conn = c as Conn;
        }),
        new Promise((_, reject) => {
          const late = () => reject(new Error('Timed out while waiting for handshake (local guard)'));
          guard = setTimeout(late, connectTimeout * 1000 + 2000);
        }),
      ]);
    } catch (e) {
      ssh.close().catch(() => undefined);
      conn?.sshConnection?.destroy();
      throw classify(e, label, host.name, hostKeyProblem, host.knownHosts);
    } finally {
      clearTimeout(guard);
    }
    return new SshSession(conn!, host, commandTimeout);
  }

  /**
   * Runs a shell script on the host under a remote deadline (`timeout -k` there) and a local
   * one here, which covers opening the channel too: a server that never answers the exec
   * request cannot hold the run. The exit status is read from the channel's `close`
   * arguments (ssh2 keeps it on the channel): an `exit` listener attached after the
   * spawn resolved misses a status that arrived in the same TCP segment as the channel's
   * confirmation, as it does behind a relay that coalesces writes. Output is kept as bytes and decoded
   * once at the end; past the cap the channel is closed and the run fails with OutputCapError.
   */
  run(script: string, timeoutSec = this.commandTimeout, opts: RunOptions = {}): Promise<RunResult> {
    const started = Date.now();
    const nonce = newNonce();
    const cap = opts.cap ?? OUTPUT_CAP;
    const label = `${this.host.name} (${this.host.user}@${this.host.address}:${this.host.port})`;
    const localSec = timeoutSec + 7;
    return new Promise<RunResult>((resolve, reject) => {
      let stream: Stream | undefined;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const stop = (s: Stream | undefined) => {
        try {
          s?.close?.();
          s?.destroy?.();
        } catch {
          /* already closed */
        }
      };
      const timer = setTimeout(() => {
        settle(() =>
          reject(
            new SshError(
              'ssh-timeout',
              this.host.name,
              `${label}: remote command did not finish within ${localSec} s (local deadline)`,
            ),
          ),
        );
        stop(stream);
      }, localSec * 1000);
      this.conn.spawn(withExitStatus(remoteDeadline(script, timeoutSec), nonce), null).then(
        (s) => {
          if (settled) return stop(s); // the local deadline passed while the channel opened
          stream = s;
          const out = new ByteCollector(cap);
          const err = new ByteCollector(cap);
          const overCap = () =>
            settle(() => {
              stop(s);
              reject(new OutputCapError(cap, `${this.host.name} ${opts.what ?? describeCommand(script)}`));
            });
          s.on('data', (d: Buffer) => {
            if (!out.push(d)) overCap();
          });
          s.stderr.on('data', (d: Buffer) => {
            if (!err.push(d)) overCap();
          });
          s.on('close', (code?: number | null, signal?: string) =>
            settle(() => {
              const raw = { transport: 'ssh2' as const, code, signal, stdout: out.text(), stderr: err.text() };
              const r = settleRun(raw, nonce);
              if (!r.ok) reject(new SshError(r.kind, this.host.name, `${label}: ${r.why}`));
              else
                resolve({
                  code: r.code,
                  signal: r.signal,
                  stdout: r.stdout,
                  stderr: r.stderr,
                  ms: Date.now() - started,
                });
            }),
          );
          s.on('error', (e: Error) => settle(() => reject(classify(e, label, this.host.name, undefined, ''))));
        },
        (e: unknown) => settle(() => reject(classify(e, label, this.host.name, undefined, ''))),
      );
    });
  }

  /**
   * A remote command with its stdin open, for a caller that streams (postgres/psql.ts): stdin open,
   * stdout as Buffers, the same deadlines as run() and byte caps (ssh-exec.ts).
   */
  async exec(
    script: string,
    timeoutSec: number,
    onData?: (b: Buffer) => void,
    opts: ExecOptions = {},
  ): Promise<ExecStream> {
    const { openExec } = await import('./ssh-exec.js');
    return openExec((cmd) => this.conn.spawn(cmd, null), this.host, script, timeoutSec, onData, opts);
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
    this.conn.sshConnection?.destroy();
  }
}

const UNREACHABLE = [
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
];

export function classify(
  e: unknown,
  label: string,
  host: string,
  hostKeyProblem: string | undefined,
  knownHosts: string,
): SshError {
  if (e instanceof SshError) return e;
  const err = e as NodeJS.ErrnoException & { level?: string };
  const msg = typeof e === 'string' ? e : (err?.message ?? String(e));
  const code = err?.code ?? '';
  if (hostKeyProblem || /Host denied|verification failed/i.test(msg)) {
    const why = hostKeyProblem ?? 'host key verification failed';
    return new SshError('hostkey-failure', host, `${label}: ${why} (known_hosts: ${knownHosts})`);
  }
  if (/authentication methods failed/i.test(msg) || err?.level === 'client-authentication') {
    const hint = "is the public key in the host's authorized_keys?";
    return new SshError('auth-failure', host, `${label}: authentication failed (${hint})`);
  }
  if (UNREACHABLE.includes(code)) {
    return new SshError('unreachable', host, `${label}: ${code.toLowerCase()}: ${msg}`);
  }
  if (/timed out|timeout|before handshake|ETIMEDOUT/i.test(msg) || code === 'ETIMEDOUT') {
    return new SshError('ssh-timeout', host, `${label}: SSH timed out: ${msg}`);
  }
  return new SshError('unreachable', host, `${label}: ${msg}`);
}
