// Reading a stream the one way hactl does (issue 23 #1, issue 25): bytes are kept as they come and
// decoded once, at the end, so a character split across two chunks arrives whole; and every reader has a
// cap, past which it stops (the caller closes the channel or kills the process, nothing more is buffered).
import { StringDecoder } from 'node:string_decoder';
import { cut } from '../alerts/render.js';

/** What one remote command may print on each of stdout and stderr by default. */
export const OUTPUT_CAP = 1024 * 1024;
/**
 * What a local process may print on each stream by default: rsync's itemized list of a large memory tree
 * is read whole (src/memory/copy.ts), about 60 bytes a changed file, so about a million files.
 */
export const PROCESS_OUTPUT_CAP = 64 * 1024 * 1024;

/** "1 MiB", "512 KiB", "300 B": caps as the errors name them. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

/** A read went past its cap: the rest was not read (the process was stopped, the channel closed). */
export class OutputCapError extends Error {
  constructor(
    readonly cap: number,
    readonly what: string,
  ) {
    super(`output over ${formatBytes(cap)} cap from ${what}`);
  }
}

/** A script as an error names it: its first line, shortened. */
export function describeCommand(script: string): string {
  const first = script.trim().split('\n')[0] ?? '';
  return cut(first, 60);
}

/**
 * The bytes of one stream, up to `cap`; `push` says false once the cap is passed (the chunk's bytes up to the
 * cap are kept, the rest dropped: a partial read ends exactly at the cap).
 */
export class ByteCollector {
  private readonly parts: Buffer[] = [];
  private bytes = 0;
  over = false;
  constructor(readonly cap: number) {}

  push(d: Buffer): boolean {
    if (this.over) return false;
    if (this.bytes + d.length > this.cap) {
      this.over = true;
      const fits = d.subarray(0, this.cap - this.bytes);
      this.parts.push(fits);
      this.bytes += fits.length;
      return false;
    }
    this.parts.push(d);
    this.bytes += d.length;
    return true;
  }

  get length(): number {
    return this.bytes;
  }

  /** The whole stream as UTF-8, decoded once. */
  text(): string {
    return Buffer.concat(this.parts, this.bytes).toString('utf8');
  }
}

/** Complete lines as they arrive; a character split across chunks is held until its last byte comes. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(d: Buffer): void {
    this.pending += this.decoder.write(d);
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const l of lines) this.onLine(l);
  }

  end(): void {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest) this.onLine(rest);
  }
}
