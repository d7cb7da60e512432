// The one quoting helper. Every configured string that reaches a shell, on a
// host or on the witness, passes through shq (or one of the helpers below,
// which use it); nothing else in hactl builds shell text from a value.

/** Quote a value for a POSIX shell: nothing in it is interpreted. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote each value and join them with spaces: an argv for a shell command line. */
export function shArgs(args: readonly string[]): string {
  return args.map(shq).join(' ');
}

/** Wraps a script so the host itself kills it after `seconds` (KILL 5 s later). */
export function remoteDeadline(script: string, seconds: number): string {
  return `timeout -k 5 ${Math.max(1, Math.ceil(seconds))} sh -c ${shq(script)}`;
}
