// Replies from another server (MIGRATE's target): RESP2 or RESP3, read as
// they arrive. A caller needs only whether a reply is an error and its first
// line, so a reply comes out as its type byte and that line; the rest of it
// (a bulk's bytes, an aggregate's elements) is skipped whole, so the next
// reply starts where it should. Aggregates are walked with a counter, not
// recursion: a target cannot nest its way to a stack overflow.

/** One whole reply: its type byte ('+', '-', ':', '$', '*'...) and the text of its first line after that byte. */
export interface TargetReply {
  type: number;
  line: Buffer;
}

const CR = 0x0d;
const LF = 0x0a;

/** Types whose header counts elements (map and attribute count pairs). */
const AGGREGATE = new Set([0x2a /* * */, 0x7e /* ~ */, 0x3e /* > */]);
const PAIRS = new Set([0x25 /* % */, 0x7c /* | */]);
/** Types followed by a length and that many bytes. */
const BLOB = new Set([0x24 /* $ */, 0x3d /* = */, 0x21 /* ! */]);

export class ReplyReader {
  private buf = Buffer.alloc(0);
  private start = 0;
  private end = 0;

  /** Bytes received and not yet taken as replies. */
  get pending(): number { return this.end - this.start; }

  feed(chunk: Buffer): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const grown = Buffer.allocUnsafe(Math.max(live + chunk.length, this.buf.length * 2, 4096));
      this.buf.copy(grown, 0, this.start, this.end);
      this.buf = grown;
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  /** The next whole reply, or null until all of it has arrived. */
  next(): TargetReply | null {
    const buf = this.buf;
    let pos = this.start;
    let first: TargetReply | null = null;
    // Replies still to be skipped: the one asked for, then an aggregate's elements.
    let todo = 1;
    while (todo > 0) {
      const nl = buf.indexOf(LF, pos);
      if (nl < 0 || nl >= this.end) return null;
      // A bare LF ends a line too, as Redis's line reads take it.
      const line = buf.subarray(pos + 1, nl > pos && buf[nl - 1] === CR ? nl - 1 : nl);
      const type = buf[pos];
      pos = nl + 1;
      first ??= { type, line: Buffer.from(line) };
      todo--;
      const n = Number.parseInt(line.toString('latin1'), 10);
      if (BLOB.has(type) && n >= 0) {
        if (this.end - pos < n + 2) return null;
        pos += n + 2;
      } else if (AGGREGATE.has(type) && n > 0) {
        todo += n;
      } else if (PAIRS.has(type) && n > 0) {
        todo += 2 * n;
      }
    }
    this.start = pos;
    if (this.start === this.end) this.start = this.end = 0;
    return first;
  }
}
