// Request parsing: multibulk frames go through redis-parser (returnBuffers, so
// arguments are zero-copy views of the socket's chunks); inline commands are
// split here. The checks Redis makes on frames (element type, bulk length,
// query buffer size) are applied around the parser.
//
// redis-parser is a reply parser: it accepts any RESP type inside an array, so
// elements are checked after parsing, and its pending state (bigStrSize,
// bufferCache) is read to enforce limits before a huge frame is buffered whole.
//
// A read that ends inside a command leaves that command's bytes in one carry
// buffer, reused from read to read, and the parser starts afresh on the next
// read appended to them: redis-parser would otherwise allocate the leftover
// plus the whole next read on every read of a pipelined stream. Only a bulk
// string too big to fit in a read is left to the parser's own chunk list.

import RedisParser from 'redis-parser';
import { splitInlineArgs } from './inline.js';

/** Longest inline command or frame header line Redis accepts (PROTO_INLINE_MAX_SIZE). */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
/**
 * An unfinished command up to this size is carried and parsed again from its
 * start with the next read; a longer one (a big bulk string arriving over
 * many reads) is left to redis-parser, which collects its chunks once.
 */
const CARRY_MAX = 512 * 1024;
const INT_MAX = 2147483647;

export interface ReaderLimits {
  protoMaxBulkLen: number;
  queryBufferLimit: number;
}

export interface RequestSink {
  /** Runs one command. Returns false when the reader must stop (client closing). */
  onCommand(argv: Buffer[]): boolean;
  /** A protocol error: reply with it and close. `msg` lacks the "ERR " prefix. */
  onProtocolError(msg: string): void;
  /** The query buffer outgrew its limit: close without a reply, as Redis does. */
  onQueryBufferOverflow(size: number): void;
  /** Whether the client still needs to authenticate (tighter limits apply). */
  authRequired(): boolean;
}

interface ParserInternals {
  buffer: Buffer | null;
  offset: number;
  bigStrSize: number;
  totalChunkSize: number;
  arrayCache: unknown[][];
  bufferCache: Buffer[];
  execute(b: Buffer): void;
  reset(): void;
}

export class RequestReader {
  private readonly parser: ParserInternals;
  /** Partial inline line carried over from the previous chunk. */
  private inlinePending: Buffer | null = null;
  /** Bytes the parser handed back because the next request is inline. */
  private diverted: Buffer | null = null;
  private stopped = false;
  /** The unfinished command of the last read (carry[0, carryLen)); reused across reads. */
  private carry: Buffer | null = null;
  private carryLen = 0;
  /** Where the parser's current frame starts in its buffer. */
  private frameStart = 0;

  constructor(
    private readonly sink: RequestSink,
    private readonly limits: ReaderLimits,
  ) {
    this.parser = new RedisParser({
      returnBuffers: true,
      returnReply: (reply: unknown) => this.onFrame(reply),
      returnError: () => this.fail("Protocol error: expected '$', got '-'"),
      returnFatalError: (err: Error) => this.fail(this.describeFatal(err)),
    }) as unknown as ParserInternals;
  }

  /** Stops processing (client is closing); further input is ignored. */
  stop(): void {
    this.stopped = true;
  }

  /** Bytes received but not yet turned into commands. */
  pendingBytes(): number {
    const p = this.parser;
    let n = this.carryLen + (this.inlinePending ? this.inlinePending.length : 0);
    if (p.buffer !== null) n += p.bigStrSize > 0 ? p.totalChunkSize : p.buffer.length - p.offset;
    return n;
  }

  feed(chunk: Buffer): void {
    if (this.stopped) return;
    let input = chunk;
    if (this.carryLen > 0) {
      const need = this.carryLen + chunk.length;
      this.growCarry(need, this.carryLen);
      const carry = this.carry as Buffer;
      chunk.copy(carry, this.carryLen);
      input = carry.subarray(0, need);
      this.carryLen = 0;
    }
    if (this.parser.buffer !== null) this.runParser(input);
    else this.process(input, 0);
    if (!this.stopped) this.checkLimits();
    if (!this.stopped) this.keepUnfinished();
  }

  /** A carry buffer of at least `size` bytes whose first `keep` bytes are kept. */
  private growCarry(size: number, keep: number): void {
    const old = this.carry;
    if (old !== null && old.length >= size) return;
    const next = Buffer.allocUnsafeSlow(Math.max(size, 2 * (old?.length ?? 0), 16 * 1024));
    if (old !== null && keep > 0) old.copy(next, 0, 0, keep);
    this.carry = next;
  }

  /**
   * After a read: the parser's unfinished frame goes to the front of the carry
   * and the parser starts over, unless it is collecting a big bulk string.
   */
  private keepUnfinished(): void {
    const p = this.parser;
    const buf = p.buffer;
    if (buf === null) return;
    // redis-parser collects any bulk string a read cut in two (bigStrSize); a short one is carried all the same.
    if (p.bigStrSize > 0 && (p.bufferCache.length > 1 || p.bigStrSize - this.frameStart > CARRY_MAX)) {
      // The parser keeps the chunks: if the carry is one of them, it is the parser's now.
      const carry = this.carry;
      if (carry !== null && (buf.buffer === carry.buffer || p.bufferCache.some((b) => b.buffer === carry.buffer))) this.carry = null;
      return;
    }
    const n = buf.length - this.frameStart;
    // The frame may already live in the carry: growing keeps nothing, copying moves it to the front.
    if (this.carry === null || this.carry.length < n || buf.buffer !== this.carry.buffer) this.growCarry(n, 0);
    buf.copy(this.carry as Buffer, 0, this.frameStart, buf.length);
    this.carryLen = n;
    p.reset();
  }

  /**
   * Makes the reader independent of the memory `input` (an ArrayBuffer about
   * to be reused for other data): an unfinished frame the parser holds is
   * copied, with the arguments already taken from it.
   */
  releaseInput(input: ArrayBufferLike): void {
    const p = this.parser;
    if (p.buffer === null) return;
    const copies = new Map<Buffer, Buffer>();
    const own = (b: Buffer): Buffer => {
      if (b.buffer !== input) return b;
      let c = copies.get(b);
      if (c === undefined) {
        c = Buffer.from(b);
        copies.set(b, c);
      }
      return c;
    };
    p.buffer = own(p.buffer);
    for (let i = 0; i < p.bufferCache.length; i++) p.bufferCache[i] = own(p.bufferCache[i]);
    for (const arr of p.arrayCache) {
      for (let i = 0; i < arr.length; i++) {
        const a = arr[i];
        if (a instanceof Uint8Array) arr[i] = own(a as Buffer);
      }
    }
  }

  private process(buf: Buffer, off: number): void {
    const len = buf.length;
    while (off < len && !this.stopped) {
      if (this.inlinePending === null && buf[off] === 0x2a) {
        if (!this.checkMultibulkHeader(buf, off)) return;
        this.runParser(off === 0 ? buf : buf.subarray(off));
        return;
      }
      const nl = buf.indexOf(0x0a, off);
      if (nl < 0) {
        const rest = buf.subarray(off);
        this.inlinePending = this.inlinePending ? Buffer.concat([this.inlinePending, rest]) : Buffer.from(rest);
        if (this.inlinePending.length > PROTO_INLINE_MAX_SIZE) this.fail('Protocol error: too big inline request');
        return;
      }
      let line = buf;
      let start = off;
      let end = nl;
      if (this.inlinePending !== null) {
        line = Buffer.concat([this.inlinePending, buf.subarray(off, nl)]);
        start = 0;
        end = line.length;
        this.inlinePending = null;
      }
      off = nl + 1;
      if (end - start > PROTO_INLINE_MAX_SIZE) return this.fail('Protocol error: too big inline request');
      if (end > start && line[end - 1] === 0x0d) end--;
      const argv = splitInlineArgs(line, start, end);
      if (argv === null) return this.fail('Protocol error: unbalanced quotes in request');
      // An empty line is ignored, as in Redis (telnet users hit enter).
      if (argv.length > 0 && !this.sink.onCommand(argv)) return this.stop();
    }
  }

  private runParser(buf: Buffer): void {
    if (this.parser.buffer === null) this.frameStart = 0;
    try {
      this.parser.execute(buf);
    } catch {
      // new Array(n) throws for absurd multibulk counts.
      this.fail('Protocol error: invalid multibulk length');
      return;
    }
    const rest = this.diverted;
    if (rest !== null && !this.stopped) {
      this.diverted = null;
      this.process(rest, 0);
    }
  }

  /** Validates `*<count>\r\n` when the whole header line is in `buf`. */
  private checkMultibulkHeader(buf: Buffer, off: number): boolean {
    const cr = buf.indexOf(0x0d, off);
    if (cr < 0) {
      if (buf.length - off > PROTO_INLINE_MAX_SIZE) {
        this.fail('Protocol error: too big mbulk count string');
        return false;
      }
      return true;
    }
    const n = parseSignedDecimal(buf, off + 1, cr);
    if (n === null || n > INT_MAX) {
      this.fail('Protocol error: invalid multibulk length');
      return false;
    }
    if (n > 10 && this.sink.authRequired()) {
      this.fail('Protocol error: unauthenticated multibulk length');
      return false;
    }
    return true;
  }

  private onFrame(reply: unknown): void {
    if (this.stopped) return this.haltParser();
    // `*0` and `*-1` carry no command; Redis skips them.
    if (Array.isArray(reply) && reply.length > 0) {
      for (let i = 0; i < reply.length; i++) {
        const a = reply[i];
        if (!(a instanceof Uint8Array)) return this.fail(elementError(a));
      }
      if (!this.sink.onCommand(reply as Buffer[])) {
        this.stop();
        return this.haltParser();
      }
    }
    const p = this.parser;
    const buf = p.buffer;
    this.frameStart = p.offset;
    if (buf === null || p.offset >= buf.length) return;
    if (buf[p.offset] !== 0x2a) {
      // The next request is inline: take the rest back from the parser.
      this.diverted = buf.subarray(p.offset);
      p.offset = buf.length;
    } else if (!this.checkMultibulkHeader(buf, p.offset)) {
      this.haltParser();
    }
  }

  /** Makes redis-parser's loop end after the current frame. */
  private haltParser(): void {
    const p = this.parser;
    if (p.buffer !== null) p.offset = p.buffer.length;
  }

  private checkLimits(): void {
    const p = this.parser;
    // A nested array is pending inside a request: Redis rejects it at once.
    if (p.arrayCache.length > 1) return this.fail("Protocol error: expected '$', got '*'");
    if (p.buffer !== null && p.bigStrSize > 0) {
      const declared = p.bigStrSize - p.offset - 2;
      if (declared > this.limits.protoMaxBulkLen) return this.fail('Protocol error: invalid bulk length');
      if (declared > 16384 && this.sink.authRequired()) return this.fail('Protocol error: unauthenticated bulk length');
    }
    const pending = this.pendingBytes();
    if (pending > this.limits.queryBufferLimit) {
      this.stop();
      this.parser.reset();
      this.sink.onQueryBufferOverflow(pending);
    }
  }

  private describeFatal(err: Error): string {
    const m = /got "(.)"/.exec(err.message);
    return `Protocol error: expected '$', got '${m ? m[1] : '?'}'`;
  }

  private fail(msg: string): void {
    if (this.stopped) return;
    this.stop();
    this.haltParser();
    this.sink.onProtocolError(msg);
  }
}

function elementError(a: unknown): string {
  if (a === null) return 'Protocol error: invalid bulk length';
  if (typeof a === 'number') return "Protocol error: expected '$', got ':'";
  if (Array.isArray(a)) return "Protocol error: expected '$', got '*'";
  return "Protocol error: expected '$', got '-'";
}

/** Parses an optionally negative decimal in buf[start, end); null if malformed. */
function parseSignedDecimal(buf: Buffer, start: number, end: number): number | null {
  if (start >= end || end - start > 20) return null;
  let i = start;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
    if (i === end) return null;
  }
  let n = 0;
  for (; i < end; i++) {
    const c = buf[i] - 0x30;
    if (c < 0 || c > 9) return null;
    n = n * 10 + c;
  }
  return neg ? -n : n;
}
