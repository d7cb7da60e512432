// The one quoting helper. Every configured string that reaches a shell, on a
// host or on the witness, passes through shq (or one of the helpers below,
// which use it); nothing else in hactl builds shell text from a value.

import { shq } from '../core/shq.js';

// shq and shArgs live in src/core/shq.ts (pure: doctor's fix hints use them too).
export { shq, shArgs } from '../core/shq.js';

/** Wraps a script so the host itself kills it after `seconds` (KILL 5 s later). */
export function remoteDeadline(script: string, seconds: number): string {
  return `timeout -k 5 ${Math.max(1, Math.ceil(seconds))} sh -c ${shq(script)}`;
}

// OpenSSH and rsync's -e do not go through a shell, but each parses its text in its own way:
// the two helpers below quote for them, and sshValueProblem says what neither can carry.

/** Only these pass unquoted to OpenSSH or rsync's -e: nothing in them is special to either. */
const PLAIN = /^[A-Za-z0-9_./=:@+,-]+$/;

/**
 * One argument of rsync's -e (--rsh) value. rsync splits that string on spaces itself (no shell),
 * honouring single and double quotes; inside quotes a doubled quote is the quote itself, and a
 * backslash is nothing special (rsync's main.c do_cmd).
 */
export function rshWord(s: string): string {
  return PLAIN.test(s) ? s : `'${s.replace(/'/g, "''")}'`;
}

/**
 * A path as the value of an OpenSSH option (`-o Key=VALUE`, or a line of an ssh_config): ssh splits
 * the value into words honouring "quotes" and \ escapes (misc.c argv_split), and expands %-tokens in
 * file paths (IdentityFile, UserKnownHostsFile, ControlPath): %% is a literal %.
 */
export function sshPathValue(s: string): string {
  const p = s.replace(/%/g, '%%');
  return PLAIN.test(p) ? p : `"${p.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Why a path cannot be handed to OpenSSH at all, or null: ssh replaces ${NAME} in file paths by an
 * environment variable and has no escape for it; a line break ends its option line.
 */
export function sshPathProblem(s: string): string | null {
  if (s.includes('${'))
    return "contains '${', which OpenSSH replaces by an environment variable (it has no escape for it)";
  if (/[\0\n\r]/.test(s)) return 'contains a line break, which ends an OpenSSH option line';
  return null;
}
