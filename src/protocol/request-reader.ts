// Request parsing, as Redis's processInlineBuffer/processMultibulkBuffer do it:
// a request starting with '*' is a multibulk frame, anything else an inline
// command. The same checks, in the same order, with the same error texts.
//
// Arguments are zero-copy views of the read they arrived in. A read that ends
// inside a command keeps only what it must, and parsing resumes where it
// stopped (never from the command's start, so a command of a million
// arguments arriving over many reads is parsed once):
// - the arguments already read are copied when the read's memory is about
//   to be reused (releaseInput);
// - a bulk payload cut by the end of a read is copied into a buffer of its
//   own, which grows with what arrives (a length announced is not allocated
//   before its bytes come);
// - a header or inline line cut by the end of a read is kept, at most
//   PROTO_INLINE_MAX_SIZE bytes of it: a longer one is a protocol error. A
//   line holding a NUL can never end (Redis looks for its terminator with
//   strchr), so only its length is kept, until that passes the maximum.
// What a command holds (its arguments so far, each with the cost of its
// object, and the cut line or payload) counts against client-query-buffer-limit.

import { splitInlineArgs } from './inline.js';

/** Longest unterminated inline command or header line Redis waits for (PROTO_INLINE_MAX_SIZE). */
const PROTO_INLINE_MAX_SIZE = 64 * 1024;
const INT_MAX = 2147483647;
/** proto-max-bulk-len cannot be set below this: shorter lengths need no look at the config. */
const MIN_PROTO_MAX_BULK_LEN = 1024 * 1024;
/** client-query-buffer-limit cannot be set below this. */
const MIN_QUERY_BUFFER_LIMIT = 1024 * 1024;
/**
 * What an argument held costs besides its bytes: its Buffer on the V8 heap
 * (about 100 bytes). Counted against the limit, so that a frame announcing
 * two billion empty arguments cannot fill the heap six wire bytes at a time.
 */
const ARG_HEAP_COST = 100;
/** A cut payload's first buffer holds at least this much (unless the payload is shorter). */
const BULK_MIN_ROOM = 64 * 1024;
/** A cut payload at least this long gets its whole buffer at once (see startBulk). */
const BULK_UPFRONT = 4 * 1024 * 1024;
/** A payload buffer at least this long is kept for the client's next big payload (see spare). */
const SPARE_MIN = 1024 * 1024;

// What a cut line is, for its "too big" error.
const NO_LINE = 0;
const INLINE = 1;
const MBULK_COUNT = 2;
const BULK_COUNT = 3;
const TOO_BIG = ['', 'too big inline request', 'too big mbulk count string', 'too big bulk count string'];

// scanLine results besides an index.
const NOT_FOUND = -1;
const NUL_FIRST = -2;

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

export class RequestReader {
  private stopped = false;
  /**
   * The sink parked the command it was given (pauseAfterCommand): parsing
   * stops after it, and the rest of that read and every read after it wait
   * here, in order and copied, until resume().
   */
  private held: Buffer[] | null = null;
  private pausing = false;

  /** Arguments the current multibulk frame still expects (0: no frame in progress). */
  private mbLeft = 0;
  /** Length of the bulk being read; -1 while its header is still to come. */
  private bulkLen = -1;
  /** The current frame's arguments so far. */
  private argv: Buffer[] = [];
  /** argv[0, argvOwned) no longer view a read's memory. */
  private argvOwned = 0;
  private argvBytes = 0;

  /** A line cut by the end of the last read (NO_LINE: none). */
  private lineKind = NO_LINE;
  private lineLen = 0;
  /** The line holds a NUL: it cannot end, and its bytes are not kept. */
  private lineDead = false;
  /** line[0, lineLen) are the cut line's bytes (a header's may end with its '\r'). */
  private line: Buffer | null = null;

  /**
   * The buffer of the last big payload, reused for the next one: a client
   * streaming tensor blocks does not map, fault in and unmap megabytes per
   * command. Commands never keep their argv (they copy what they store, as
   * they must for arguments that view the shared read buffer), so a buffer is
   * free again once its command has run. Given back when the client idles.
   */
  private spare: Buffer | null = null;
  /** A big payload buffer of the frame being read: the spare once the command has run. */
  private lent: Buffer | null = null;

  /** A bulk payload cut by the end of a read: bulkGot bytes of bulkLen + 2 (CRLF) came. */
  private bulk: Buffer | null = null;
  private bulkGot = 0;

  constructor(
    private readonly sink: RequestSink,
    private readonly limits: ReaderLimits,
  ) {}

  /** Stops processing (client is closing); further input is ignored and what was held is let go. */
  stop(): void {
    this.stopped = true;
    this.argv = [];
    this.argvOwned = this.argvBytes = 0;
    this.bulk = null;
    this.line = null;
    this.lineKind = NO_LINE;
    this.spare = this.lent = null;
  }

  /** Bytes of the spare payload buffer (part of the client's memory). */
  spareBytes(): number {
    return this.spare === null ? 0 : this.spare.length;
  }

  /** Lets go of the spare payload buffer (the client is idle); returns its bytes. */
  releaseSpare(): number {
    const n = this.spare === null ? 0 : this.spare.length;
    this.spare = null;
    return n;
  }

  /** Bytes received and held for a command not yet complete. */
  pendingBytes(): number {
    return this.argvBytes + (this.lineKind !== NO_LINE ? this.lineLen : 0) + (this.bulk !== null ? this.bulkGot : 0);
  }

  /** Bytes of the buffers held for a cut line or payload (CLIENT LIST's qbuf and qbuf-free). */
  heldBufferBytes(): number {
    let held = 0;
    for (const b of this.held ?? []) held += b.length;
    return held + (this.line?.length ?? 0) + (this.bulk?.length ?? 0) + (this.spare?.length ?? 0);
  }

  /** Bytes of the unfinished command's arguments already read (CLIENT LIST's argv-mem). */
  partialArgvBytes(): number {
    return this.argvBytes;
  }

  /** Whether the next byte fed starts a new request (nothing cut, held or paused). */
  get atRequestStart(): boolean {
    return !this.stopped && this.held === null && this.lineKind === NO_LINE && this.bulk === null && this.mbLeft === 0;
  }

  feed(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.held !== null) {
      this.held.push(Buffer.from(chunk));
      return;
    }
    let off = 0;
    if (this.lineKind !== NO_LINE) off = this.continueLine(chunk);
    else if (this.bulk !== null) off = this.continueBulk(chunk);
    if (this.pausing) return this.hold(chunk, off);
    if (off >= 0) this.parse(chunk, off);
    if (!this.stopped && this.held === null) this.checkQueryLimit();
  }

  /** Called by the sink inside onCommand: no command after this one runs until resume(). */
  pauseAfterCommand(): void {
    this.pausing = true;
  }

  /** Whether commands wait for resume(). */
  get paused(): boolean {
    return this.held !== null;
  }

  /** Runs what waited since the pause, until it pauses again. */
  resume(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    for (let i = 0; i < held.length && !this.stopped; i++) {
      this.feed(held[i]);
      // feed may have paused again (TS cannot see that it sets held).
      const again = this.held as Buffer[] | null;
      if (again !== null) {
        again.push(...held.slice(i + 1));
        return;
      }
    }
  }

  /** The pause begins after the command that ended at buf[off]: the rest of the read waits (the frame state is clean there). */
  private hold(buf: Buffer, off: number): void {
    this.pausing = false;
    this.held = off >= 0 && off < buf.length ? [Buffer.from(buf.subarray(off))] : [];
  }

  /**
   * Makes the reader independent of the memory `input` (an ArrayBuffer about
   * to be reused for other data): the unfinished frame's arguments viewing it
   * are copied, in one piece (they lie in order in it, the last ones of argv).
   */
  releaseInput(input: ArrayBufferLike): void {
    const argv = this.argv;
    let i = this.argvOwned;
    while (i < argv.length && argv[i].buffer !== input) i++;
    if (i < argv.length) {
      const from = argv[i].byteOffset;
      const last = argv[argv.length - 1];
      const copy = Buffer.from(Buffer.from(input, from, last.byteOffset + last.length - from));
      for (; i < argv.length; i++) {
        const at = argv[i].byteOffset - from;
        argv[i] = copy.subarray(at, at + argv[i].length);
      }
    }
    this.argvOwned = argv.length;
  }

  /** Parses the requests from buf[off] on. */
  private parse(buf: Buffer, off: number): void {
    const len = buf.length;
    while (off < len && !this.stopped) {
      if (this.mbLeft === 0) {
        off = buf[off] === 0x2a ? this.multibulkHeader(buf, off) : this.inlineRequest(buf, off);
        if (off < 0) return;
        if (this.pausing) return this.hold(buf, off);
        continue;
      }
      if (this.bulkLen < 0) {
        off = this.bulkHeader(buf, off);
        if (off < 0 || off >= len) return;
      }
      const end = off + this.bulkLen;
      if (end + 2 > len) return this.startBulk(buf, off);
      this.argv.push(buf.subarray(off, end));
      this.argvBytes += this.bulkLen;
      this.bulkLen = -1;
      off = end + 2;
      if (--this.mbLeft === 0 && !this.dispatch()) return;
      if (this.pausing) return this.hold(buf, off);
    }
  }

  // Each step below returns where parsing goes on in `buf`, or -1 when this
  // read is done with (cut, stopped, or failed).

  private inlineRequest(buf: Buffer, off: number): number {
    const nl = scanLine(buf, off, 0x0a);
    if (nl < 0) return this.keepLine(INLINE, buf, off, nl);
    if (nl - off > PROTO_INLINE_MAX_SIZE) return this.fail(TOO_BIG[INLINE]);
    return this.runInline(buf, off, nl) ? nl + 1 : -1;
  }

  private multibulkHeader(buf: Buffer, off: number): number {
    // The usual header, "*<1 to 9>\r\n", at a glance.
    if (off + 3 < buf.length && buf[off + 2] === 0x0d) {
      const c = buf[off + 1] - 0x30;
      if (c >= 1 && c <= 9) {
        this.mbLeft = c;
        return off + 4;
      }
    }
    const cr = scanLine(buf, off, 0x0d);
    if (cr < 0) return this.keepLine(MBULK_COUNT, buf, off, cr);
    if (cr - off > PROTO_INLINE_MAX_SIZE) return this.fail(TOO_BIG[MBULK_COUNT]);
    // Redis wants one byte after the '\r' (and skips it, whatever it is).
    if (cr + 1 >= buf.length) return this.keepLine(MBULK_COUNT, buf, off, cr);
    return this.multibulkCount(buf, off, cr) ? cr + 2 : -1;
  }

  private bulkHeader(buf: Buffer, off: number): number {
    // The usual header, "$<1 to 15 digits, no leading zero>\r\n", in one pass.
    const len = buf.length;
    if (buf[off] === 0x24) {
      let i = off + 1;
      let n = 0;
      for (; i < len; i++) {
        const c = buf[i] - 0x30;
        if (c < 0 || c > 9) break;
        n = n * 10 + c;
      }
      const digits = i - off - 1;
      if (i + 1 < len && buf[i] === 0x0d && digits > 0 && digits < 16 && (buf[off + 1] !== 0x30 || digits === 1) &&
          (n <= MIN_PROTO_MAX_BULK_LEN || n <= this.limits.protoMaxBulkLen) && (n <= 16384 || !this.sink.authRequired())) {
        this.bulkLen = n;
        return i + 2;
      }
    }
    const cr = scanLine(buf, off, 0x0d);
    if (cr < 0) return this.keepLine(BULK_COUNT, buf, off, cr);
    if (cr - off > PROTO_INLINE_MAX_SIZE) return this.fail(TOO_BIG[BULK_COUNT]);
    if (cr + 1 >= len) return this.keepLine(BULK_COUNT, buf, off, cr);
    return this.bulkCount(buf, off, cr) ? cr + 2 : -1;
  }

  /** `*<count>` in buf[start, cr): sets up the frame (a count <= 0 is no command, as in Redis). */
  private multibulkCount(buf: Buffer, start: number, cr: number): boolean {
    const n = parseLongLong(buf, start + 1, cr);
    if (Number.isNaN(n) || n > INT_MAX) return this.reject('invalid multibulk length');
    if (n > 10 && this.sink.authRequired()) return this.reject('unauthenticated multibulk length');
    if (n > 0) this.mbLeft = n;
    return true;
  }

  /** `$<length>` in buf[start, cr). */
  private bulkCount(buf: Buffer, start: number, cr: number): boolean {
    if (buf[start] !== 0x24) return this.reject(`expected '$', got '${String.fromCharCode(buf[start])}'`);
    const n = parseLongLong(buf, start + 1, cr);
    if (Number.isNaN(n) || n < 0 || n > this.limits.protoMaxBulkLen) return this.reject('invalid bulk length');
    if (n > 16384 && this.sink.authRequired()) return this.reject('unauthenticated bulk length');
    this.bulkLen = n;
    return true;
  }

  /** The inline command in buf[start, nl), nl being its '\n'. */
  private runInline(buf: Buffer, start: number, nl: number): boolean {
    const end = nl > start && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    const argv = splitInlineArgs(buf, start, end);
    if (argv === null) return this.reject('unbalanced quotes in request');
    // An empty line is ignored, as in Redis (telnet users hit enter).
    if (argv.length === 0) return true;
    if (!this.sink.onCommand(argv)) {
      this.stop();
      return false;
    }
    this.recycleLent();
    return true;
  }

  /** The command has run: its big payload buffer is free for the next one (the bigger of the two is kept). */
  private recycleLent(): void {
    if (this.lent === null) return;
    if (this.spare === null || this.lent.length > this.spare.length) this.spare = this.lent;
    this.lent = null;
  }

  private dispatch(): boolean {
    const argv = this.argv;
    this.argv = [];
    this.argvOwned = this.argvBytes = 0;
    if (!this.sink.onCommand(argv)) {
      this.stop();
      return false;
    }
    this.recycleLent();
    return true;
  }

  /**
   * Keeps the line from buf[start] that the read cut, `found` telling how
   * (scanLine's result; an index: a header's '\r', last in the read). Only its
   * length is kept if it holds a NUL. Past the maximum, one whose terminator
   * has not come is an error.
   */
  private keepLine(kind: number, buf: Buffer, start: number, found: number): number {
    const n = buf.length - start;
    if (found < 0 && n > PROTO_INLINE_MAX_SIZE) return this.fail(TOO_BIG[kind]);
    const dead = found === NUL_FIRST;
    this.lineKind = kind;
    this.lineDead = dead;
    this.lineLen = 0;
    if (dead) this.lineLen = n;
    else this.appendLine(buf, start, buf.length);
    return -1;
  }

  private appendLine(buf: Buffer, start: number, end: number): void {
    const need = this.lineLen + end - start;
    let line = this.line;
    if (line === null || line.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, 2 * (line?.length ?? 0), 64));
      if (line !== null) line.copy(grown, 0, 0, this.lineLen);
      this.line = line = grown;
    }
    buf.copy(line, this.lineLen, start, end);
    this.lineLen = need;
  }

  /** The cut line goes on in `chunk`: completes it and runs it if its end came. */
  private continueLine(chunk: Buffer): number {
    const kind = this.lineKind;
    if (this.lineDead) {
      this.lineLen += chunk.length;
      return this.lineLen > PROTO_INLINE_MAX_SIZE ? this.fail(TOO_BIG[kind]) : -1;
    }
    const line = this.line as Buffer;
    let end: number;
    let next: number;
    if (kind !== INLINE && line[this.lineLen - 1] === 0x0d) {
      // The header's '\r' came last time: the byte after it is skipped, whatever it is.
      end = this.lineLen - 1;
      next = 1;
    } else {
      const t = scanLine(chunk, 0, kind === INLINE ? 0x0a : 0x0d);
      if (t === NUL_FIRST) {
        this.lineDead = true;
        this.lineLen += chunk.length;
        return this.lineLen > PROTO_INLINE_MAX_SIZE ? this.fail(TOO_BIG[kind]) : -1;
      }
      if (t === NOT_FOUND) {
        if (this.lineLen + chunk.length > PROTO_INLINE_MAX_SIZE) return this.fail(TOO_BIG[kind]);
        this.appendLine(chunk, 0, chunk.length);
        return -1;
      }
      if (this.lineLen + t > PROTO_INLINE_MAX_SIZE) return this.fail(TOO_BIG[kind]);
      if (kind !== INLINE && t + 1 >= chunk.length) {
        this.appendLine(chunk, 0, chunk.length);
        return -1;
      }
      this.appendLine(chunk, 0, t);
      end = this.lineLen;
      next = kind === INLINE ? t + 1 : t + 2;
    }
    const buf = this.line as Buffer;
    this.lineKind = NO_LINE;
    this.lineLen = 0;
    // A line grown big is not kept for the next.
    if (buf.length > 1024) this.line = null;
    let ok: boolean;
    if (kind === INLINE) {
      // runInline wants the '\n' position: the line without it.
      ok = this.runInline(buf, 0, end);
    } else if (kind === MBULK_COUNT) {
      ok = this.multibulkCount(buf, 0, end);
    } else {
      ok = this.bulkCount(buf, 0, end);
    }
    return ok ? next : -1;
  }

  /** The payload at buf[off] is cut by the end of the read: copies what came of it. */
  private startBulk(buf: Buffer, off: number): void {
    const got = buf.length - off;
    const want = this.bulkLen;
    let bulk: Buffer | null = null;
    if (want >= SPARE_MIN && this.spare !== null && this.spare.length >= want) {
      bulk = this.spare;
      this.spare = null;
    } else if (want >= BULK_UPFRONT) {
      // Room for the whole payload at once, as Redis makes for a big argument. So big a
      // buffer is a mapping of its own (bin/kvslab-server sets glibc's mmap threshold
      // below BULK_UPFRONT): not zeroed, its pages become resident only as the bytes arrive
      // (what the query buffer limit counts), it is never copied to grow, and it leaves
      // the process when freed. (Allocation fails only when the address space is out.)
      try {
        bulk = Buffer.allocUnsafe(want);
      } catch {
        bulk = null;
      }
    }
    // Smaller payloads grow with what arrives, in buffers the heap reuses.
    if (bulk === null) bulk = Buffer.allocUnsafe(Math.min(want, Math.max(got, BULK_MIN_ROOM)));
    buf.copy(bulk, 0, off, off + Math.min(got, want));
    this.bulk = bulk;
    this.bulkGot = got;
    this.checkQueryLimit();
  }

  /** The cut payload goes on in `chunk`. */
  private continueBulk(chunk: Buffer): number {
    const want = this.bulkLen;
    const take = Math.min(want + 2 - this.bulkGot, chunk.length);
    const copy = Math.min(want - this.bulkGot, take);
    let bulk = this.bulk as Buffer;
    if (copy > 0) {
      const need = this.bulkGot + copy;
      if (need > bulk.length) {
        // Grows with what arrives: twice the size, at most the payload's.
        const grown = Buffer.allocUnsafe(Math.min(want, Math.max(need, 2 * bulk.length)));
        bulk.copy(grown, 0, 0, this.bulkGot);
        this.bulk = bulk = grown;
      }
      chunk.copy(bulk, this.bulkGot, 0, copy);
    }
    this.bulkGot += take;
    if (this.checkQueryLimit()) return -1;
    if (this.bulkGot < want + 2) return -1;
    this.argv.push(bulk.length === want ? bulk : bulk.subarray(0, want));
    this.argvBytes += want;
    if (bulk.length >= SPARE_MIN && (this.lent === null || bulk.length > this.lent.length)) this.lent = bulk;
    this.bulk = null;
    this.bulkLen = -1;
    if (--this.mbLeft === 0 && !this.dispatch()) return -1;
    return take;
  }

  /** Closes the client when what it holds passes client-query-buffer-limit; true if so. */
  private checkQueryLimit(): boolean {
    const held = this.pendingBytes() + this.argv.length * ARG_HEAP_COST;
    if (held <= MIN_QUERY_BUFFER_LIMIT || held <= this.limits.queryBufferLimit) return false;
    this.stop();
    this.sink.onQueryBufferOverflow(held);
    return true;
  }

  private reject(msg: string): false {
    this.fail(msg);
    return false;
  }

  private fail(msg: string): number {
    if (this.stopped) return -1;
    this.stop();
    this.sink.onProtocolError(`Protocol error: ${msg}`);
    return -1;
  }
}

/**
 * Where the line starting at buf[from] ends: the index of `term`; NUL_FIRST
 * if a NUL comes first (Redis's strchr stops there: the line never ends);
 * NOT_FOUND if the read ends first.
 */
function scanLine(buf: Buffer, from: number, term: number): number {
  for (let i = from; i < buf.length; i++) {
    const c = buf[i];
    if (c === term) return i;
    if (c === 0) return NUL_FIRST;
  }
  return NOT_FOUND;
}

/**
 * buf[start, end) as Redis's string2ll reads it: an optional '-', then "0" or
 * digits without a leading zero, within a long long. NaN if not that.
 */
function parseLongLong(buf: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len <= 0 || len >= 21) return NaN;
  if (len === 1 && buf[start] === 0x30) return 0;
  let i = start;
  const neg = buf[i] === 0x2d;
  if (neg) i++;
  if (i === end || buf[i] < 0x31 || buf[i] > 0x39) return NaN;
  let n = 0;
  for (; i < end; i++) {
    const c = buf[i] - 0x30;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  const digits = end - start - (neg ? 1 : 0);
  if (digits > 19 || (digits === 19 && beyondLongLong(buf, end - 19, neg))) return NaN;
  return neg ? -n : n;
}

const LLONG_MAX_DIGITS = Buffer.from('9223372036854775807');

/** Whether 19 digits at buf[at] exceed LLONG_MAX (or -LLONG_MIN when negative). */
function beyondLongLong(buf: Buffer, at: number, neg: boolean): boolean {
  for (let i = 0; i < 19; i++) {
    const limit = LLONG_MAX_DIGITS[i] + (neg && i === 18 ? 1 : 0);
    if (buf[at + i] !== limit) return buf[at + i] > limit;
  }
  return false;
}
