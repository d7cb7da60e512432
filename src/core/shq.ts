// The one quoting helper's core, pure so that pure files (doctor's fix hints) can quote the
// paths they paste. src/adapters/shell.ts re-exports it with the helpers built on it; nothing
// else in hactl builds shell text from a value.

/** Quote a value for a POSIX shell: nothing in it is interpreted. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote each value and join them with spaces: an argv for a shell command line. */
export function shArgs(args: readonly string[]): string {
  return args.map(shq).join(' ');
}
