// How a remote script's run ends, the same for both transports (issue 25): ssh2 (ssh.ts) and OpenSSH
// (ssh-mux.ts through a master, ssh-master.ts's runThroughMaster). Every script runs wrapped by
// withExitStatus, which prints the script's own status last on stderr, after a newline and with a marker
// made for this run only; `settleRun` then reads what came back. Pure: no I/O, the transports throw.
//   - The marker came: the script finished; its status is the marker's, whatever the transport said
//     (OpenSSH's 255 is then the script's own, and a script's stderr without a final newline changes
//     nothing).
//   - No marker: the transport decides. OpenSSH's exit 255 is ssh's own failure (refused, host key, a
//     dead link); over ssh2 a channel that closed without a status is a lost connection.
// The nonce is new for every run, so a script that prints marker-like text (an old run's line, the fixed
// part) is not taken for finished. It is not a secret from the script, though: over ssh2 and
// runThroughMaster it is in the host shell's command line (/proc/$$/cmdline), and a script that reads it can
// forge its own status, which it could as well exit with. Where several scripts share one command
// (ssh-mux.ts), each one's marker and separator come from a secret the shell reads from stdin, never on a
// command line: no script can settle another's result.
import { randomBytes } from 'node:crypto';

/** The marker's fixed part; the nonce and the status follow. */
const DONE = 'hactl-ssh-exit';

export type Transport = 'ssh2' | 'openssh';
export type SshFailureKind = 'unreachable' | 'ssh-timeout' | 'auth-failure' | 'hostkey-failure';

/** A fresh nonce for one run's marker. */
export function newNonce(): string {
  return randomBytes(8).toString('hex');
}

/**
 * The script in a subshell (an `exit` in it ends only the subshell), then its status on stderr, on a line
 * of its own: a newline first, so that stderr without a final newline cannot hide it.
 */
export function withExitStatus(remote: string, nonce: string, exit = true): string {
  const status = `(${remote}); hactl_s=$?; printf '\\n%s %s\\n' ${DONE}-${nonce} "$hactl_s" >&2`;
  // Not the last of several in one command (ssh-mux.ts): the next one runs.
  return exit ? `${status}; exit "$hactl_s"` : status;
}

/**
 * The script's status from its marker, and stderr as the script wrote it (the marker's line and the newline
 * before it taken out). Anything after the marker is the transport's own (ssh's goodbye): dropped.
 */
export function exitStatusOf(stderr: string, nonce: string): { status?: number; stderr: string } {
  const mark = `\n${DONE}-${nonce} `;
  const i = stderr.lastIndexOf(mark);
  if (i < 0) return { stderr };
  const m = /^(\d+)\n/.exec(stderr.slice(i + mark.length));
  return m ? { status: Number(m[1]), stderr: stderr.slice(0, i) } : { stderr };
}

/** What an OpenSSH client's exit 255 (its own failure, not the remote script's) says. */
export function sshFailureKind(stderr: string): SshFailureKind {
  if (/host key|IDENTIFICATION/i.test(stderr)) return 'hostkey-failure';
  if (/Permission denied/i.test(stderr)) return 'auth-failure';
  return /timed out/i.test(stderr) ? 'ssh-timeout' : 'unreachable';
}

/** What the transport saw of one run. `code` undefined: no exit status came (ssh2's channel closed without one). */
export interface RawRun {
  transport: Transport;
  code: number | null | undefined;
  signal?: string | null;
  stdout: string;
  stderr: string;
}

export type Settled =
  | { ok: true; code: number | null; signal?: string; stdout: string; stderr: string }
  | { ok: false; kind: SshFailureKind; why: string };

/** The one classifier: the run's result, or the transport's failure. */
export function settleRun(raw: RawRun, nonce: string): Settled {
  const { status, stderr } = exitStatusOf(raw.stderr, nonce);
  if (status !== undefined) return { ok: true, code: status, stdout: raw.stdout, stderr };
  if (raw.transport === 'openssh' && raw.code === 255) {
    const said = raw.stderr.trim().split('\n').pop() ?? '';
    return { ok: false, kind: sshFailureKind(raw.stderr), why: `ssh: ${said}` };
  }
  if (raw.code === undefined) return { ok: false, kind: 'unreachable', why: 'connection lost during a remote command' };
  return { ok: true, code: raw.code, signal: raw.signal ?? undefined, stdout: raw.stdout, stderr };
}
