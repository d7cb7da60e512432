// The target's answer at the start of a sync-back (sql.ts targetAskSql), read
// from its psql's output: `tables` JSON lines (its columns), then its row
// digests up to a line `\.`, then its results. The digest bytes go on,
// untouched and never decoded, to a stream the source psql reads (with
// backpressure: push returns false while that stream is full); the column
// lines are each decoded once, whole; the results are kept as Buffers.
import { PassThrough } from 'node:stream';
import type { Columns } from './sql.js';
import { RELAY_MARK } from './sync-sql.js';

const NL = 10;
/** About 100k rows' digest lines. */
export const DIGEST_BUFFER = 8 * 1024 * 1024;
const END = Buffer.from('\\.');
const MARK = Buffer.from(RELAY_MARK);

/** Is buf[at, nl) exactly the line `line`? */
const isLine = (buf: Buffer, at: number, nl: number, line: Buffer) =>
  nl - at === line.length && buf.compare(line, 0, line.length, at, nl) === 0;

export class TargetAnswer {
  /**
   * The digest lines, as the target printed them (its `\.` line left out). Up to DIGEST_BUFFER bytes
   * wait here while the source is still digesting its own rows (the resume), so the target's digest
   * pass does not stall on a full SSH window; past it, backpressure: bounded, whatever the table's size.
   */
  readonly digests = new PassThrough({ highWaterMark: DIGEST_BUFFER });
  /** The target's columns per table, config order. */
  readonly columns: Promise<Columns[]>;
  /** Settles when the digests ended (the `\.` line), or rejects when the target ended first. */
  readonly ended: Promise<void>;
  private readonly cols: Columns[] = [];
  private readonly results: Buffer[] = [];
  private carry = Buffer.alloc(0);
  private state: 'columns' | 'digests' | 'results' | 'relay' = 'columns';
  /** With `relay`: what the target prints after the line RELAY_MARK (sql.ts backSql), for another psql. */
  readonly relayed = new PassThrough();
  private settle!: { cols: (c: Columns[]) => void; ended: () => void; fail: (e: Error) => void };

  constructor(
    private readonly tables: number,
    private readonly relay = false,
  ) {
    let cols!: (c: Columns[]) => void;
    let ended!: () => void;
    let failCols!: (e: Error) => void;
    let failEnded!: (e: Error) => void;
    this.columns = new Promise((res, rej) => ((cols = res), (failCols = rej)));
    this.ended = new Promise((res, rej) => ((ended = res), (failEnded = rej)));
    this.columns.catch(() => undefined);
    this.ended.catch(() => undefined);
    this.settle = {
      cols,
      ended,
      fail: (e) => {
        failCols(e);
        failEnded(e);
      },
    };
    if (tables === 0) {
      this.state = 'digests';
      cols([]);
    }
  }

  /** A chunk of the target's output. False: wait for the digests stream's 'drain'. */
  push(chunk: Buffer): boolean {
    if (this.state === 'relay') return this.relayed.write(chunk);
    if (this.state === 'results') {
      if (!this.relay) {
        this.results.push(chunk);
        return true;
      }
      return this.resultsUntilMark(chunk);
    }
    let buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let at = 0;
    while (this.state === 'columns') {
      const nl = buf.indexOf(NL, at);
      if (nl < 0) break;
      this.cols.push(JSON.parse(buf.toString('utf8', at, nl)) as Columns);
      at = nl + 1;
      if (this.cols.length === this.tables) {
        this.state = 'digests';
        this.settle.cols(this.cols);
      }
    }
    let ok = true;
    if (this.state === 'digests') {
      // Whole lines go on; the `\.` line ends them.
      const from = at;
      for (let nl = buf.indexOf(NL, at); nl >= 0; nl = buf.indexOf(NL, at)) {
        if (isLine(buf, at, nl, END)) {
          if (at > from) ok = this.digests.write(buf.subarray(from, at));
          this.digests.end();
          this.state = 'results';
          this.settle.ended();
          this.carry = Buffer.alloc(0);
          if (nl + 1 < buf.length) return this.push(buf.subarray(nl + 1)) && ok;
          return ok;
        }
        at = nl + 1;
      }
      if (at > from) ok = this.digests.write(buf.subarray(from, at));
    }
    buf = buf.subarray(at);
    this.carry = Buffer.from(buf); // a copy: the chunk is let go
    return ok;
  }

  /** Calls fn once every stream that refused a write (push returned false) has drained. */
  onDrain(fn: () => void): void {
    const full = [this.digests, this.relayed].filter((x) => x.writableNeedDrain && !x.destroyed);
    let left = full.length;
    if (!left) return fn();
    for (const x of full) x.once('drain', () => --left === 0 && fn());
  }

  /** The reader of the digests is gone (the source ended): what is left of them is dropped. */
  abandon(): void {
    this.digests.resume();
  }

  /** Results, line by line, until the line RELAY_MARK; what follows it is relayed. */
  private resultsUntilMark(chunk: Buffer): boolean {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let at = 0;
    for (let nl = buf.indexOf(NL, at); nl >= 0; nl = buf.indexOf(NL, at)) {
      if (isLine(buf, at, nl, MARK)) {
        this.results.push(buf.subarray(0, at));
        this.state = 'relay';
        this.carry = Buffer.alloc(0);
        return nl + 1 < buf.length ? this.relayed.write(buf.subarray(nl + 1)) : true;
      }
      at = nl + 1;
    }
    this.results.push(buf.subarray(0, at));
    this.carry = Buffer.from(buf.subarray(at));
    return true;
  }

  /** The target's output ended: before the digests ended, that is a failure (its exit says why). */
  end(why: () => Error): void {
    if (this.state === 'relay') this.relayed.end();
    if (this.state === 'results' || this.state === 'relay') {
      if (this.carry.length) this.results.push(this.carry);
      this.carry = Buffer.alloc(0);
      if (this.state === 'results') this.relayed.end();
      return;
    }
    const e = why();
    this.settle.fail(e);
    this.digests.destroy(e);
    this.relayed.end();
  }

  /** What the target printed after its answer (its results), as bytes. */
  result(): Buffer {
    return Buffer.concat(this.results);
  }
}
