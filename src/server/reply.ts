// RESP2/RESP3 reply encoder. Replies are appended to one growable output
// buffer per client; networking flushes it once per read batch.

import type { ByteSpan } from '../store/keytable.js';
import type { LargeBlock } from '../store/large.js';
import { copyBytes } from '../util/bytes.js';

const CRLF = 0x0d0a;
/** The shared reply buffer's first size, and what it goes back to after a very big reply. */
export const INITIAL_REPLY_BUFFER = 16 * 1024;
/** A shared reply buffer grown past this goes back to the first size once its reply is sent. */
const KEEP_REPLY_BUFFER = 128 * 1024;

/**
 * One reply buffer for every client. A client writes replies only while it
 * handles its own reads, and flushes them before it returns: once the kernel
 * has taken them the buffer is free for the next client. A client whose
 * write is left pending keeps the buffer it wrote from (the socket holds it)
 * and a new one is shared from then on. So an idle client holds no reply
 * buffer (Redis keeps 16 KB each), and a big reply does not leave one behind.
 */
export const sharedReply: { buf: Buffer; grownAt: number } = { buf: Buffer.allocUnsafe(INITIAL_REPLY_BUFFER), grownAt: 0 };

/** The shared buffer was handed to a socket with `buf`'s bytes still to send, or grew: take the one to share next. */
export function settleSharedReply(buf: Buffer, pending: boolean): void {
  if (pending) sharedReply.buf = Buffer.allocUnsafe(INITIAL_REPLY_BUFFER);
  else sharedReply.buf = buf.length > KEEP_REPLY_BUFFER ? Buffer.allocUnsafe(INITIAL_REPLY_BUFFER) : buf;
  if (sharedReply.buf.length > INITIAL_REPLY_BUFFER) sharedReply.grownAt = Date.now();
}

/**
 * Gives back a shared buffer grown for big replies (between reads, when no
 * reply is in it): when memory is short, or `idleMs` after it was last needed.
 * Returns the bytes given back.
 */
export function shrinkSharedReply(idleMs = 0): number {
  const n = sharedReply.buf.length - INITIAL_REPLY_BUFFER;
  if (n <= 0 || Date.now() - sharedReply.grownAt < idleMs) return 0;
  sharedReply.buf = Buffer.allocUnsafe(INITIAL_REPLY_BUFFER);
  return n;
}
/** A value at least this long, held in a large block, is sent as a view of the block rather than copied. */
const VIEW_MIN = 16 * 1024;
const TWO32 = 4294967296;

// Pre-encoded replies that are sent often.
const OK = Buffer.from('+OK\r\n');
const PONG = Buffer.from('+PONG\r\n');
const NULL_BULK = Buffer.from('$-1\r\n');
const NULL_ARRAY = Buffer.from('*-1\r\n');
const NULL3 = Buffer.from('_\r\n');
const EMPTY_ARRAY = Buffer.from('*0\r\n');
const ZERO = Buffer.from(':0\r\n');
const ONE = Buffer.from(':1\r\n');

/** Small integers are pre-encoded so the common INCR/EXISTS/DEL replies copy bytes only. */
const SHARED_INTS: Buffer[] = [];
for (let i = 0; i < 1000; i++) SHARED_INTS.push(Buffer.from(`:${i}\r\n`));
const SHARED_BULK_HDR: Buffer[] = [];
for (let i = 0; i < 1000; i++) SHARED_BULK_HDR.push(Buffer.from(`$${i}\r\n`));
const SHARED_MBULK_HDR: Buffer[] = [];
for (let i = 0; i < 100; i++) SHARED_MBULK_HDR.push(Buffer.from(`*${i}\r\n`));

export type Resp = 2 | 3;

/** Formats a double the way Redis 7 does for RESP3 doubles and RESP2 bulk replies (%.17g, inf/-inf/nan). */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  // %.17g: exponent notation below 1e-4 or at/above 1e17.
  const abs = Math.abs(d);
  if (d !== 0 && (abs < 1e-4 || abs >= 1e17)) {
    let s = d.toPrecision(17);
    // toPrecision gives e.g. 1.0000000000000000e+21; %g trims trailing zeros and pads exponent to 2 digits.
    const m = /^(-?)(\d)(?:\.(\d*?))?0*e([+-])(\d+)$/.exec(s);
    if (m) {
      const frac = m[3] ? `.${m[3]}` : '';
      const exp = m[5].length < 2 ? `0${m[5]}` : m[5];
      s = `${m[1]}${m[2]}${frac}e${m[4]}${exp}`;
    }
    return s;
  }
  let s = d.toPrecision(17);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

export class ReplyWriter {
  /** Output buffer and the number of bytes in it not yet handed to the socket. */
  out: Buffer = sharedReply.buf;
  outLen = 0;
  resp: Resp = 2;
  /**
   * Views of large values queued between the bytes of `out`: views[i] goes
   * out after out[0, viewAt[i]). Each keeps its block's `readers` raised
   * until written, so the store copies a block before changing bytes a
   * queued view covers.
   */
  protected views: Buffer[] = [];
  protected viewAt: number[] = [];
  protected viewBlocks: LargeBlock[] = [];

  /** A point to roll the reply back to (replyRollback). */
  replyMark(): number {
    return this.views.length * TWO32 + this.outLen;
  }

  /** Drops everything added since replyMark returned `mark`. */
  replyRollback(mark: number): void {
    const views = Math.floor(mark / TWO32);
    this.outLen = mark - views * TWO32;
    while (this.views.length > views) {
      this.views.pop();
      this.viewAt.pop();
      (this.viewBlocks.pop() as LargeBlock).readers--;
    }
  }

  protected ensure(n: number): void {
    const need = this.outLen + n;
    if (need <= this.out.length) return;
    let size = this.out.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.out.copy(next, 0, 0, this.outLen);
    this.out = next;
  }

  /** Appends raw protocol bytes. */
  addRaw(b: Buffer): void {
    this.ensure(b.length);
    this.outLen += copyBytes(b, 0, b.length, this.out, this.outLen);
  }

  private addAscii(s: string): void {
    this.ensure(s.length);
    this.outLen += this.out.write(s, this.outLen, 'latin1');
  }

  private addHeader(prefix: number, n: number): void {
    this.ensure(24);
    const out = this.out;
    out[this.outLen++] = prefix;
    this.outLen += out.write(String(n), this.outLen, 'latin1');
    out.writeUInt16BE(CRLF, this.outLen);
    this.outLen += 2;
  }

  addOk(): void { this.addRaw(OK); }
  addPong(): void { this.addRaw(PONG); }

  /** +status reply; the text must not contain CR or LF. */
  addStatus(s: string): void { this.addAscii(`+${s}\r\n`); }

  /** -error reply; `msg` is the full text including the code, e.g. "ERR syntax error". */
  addError(msg: string): void {
    // Newlines would break the protocol: Redis replaces them with spaces.
    if (msg.includes('\n') || msg.includes('\r')) msg = msg.replace(/[\r\n]/g, ' ');
    // latin1: messages are ASCII, and user bytes quoted in them were decoded as latin1.
    this.ensure(msg.length + 3);
    this.out[this.outLen++] = 0x2d;
    this.outLen += this.out.write(msg, this.outLen, 'latin1');
    this.out.writeUInt16BE(CRLF, this.outLen);
    this.outLen += 2;
    this.onError(msg);
  }

  /** Hook for error statistics. */
  protected onError(_msg: string): void {}

  addInt(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n < 1000 && Number.isInteger(n)) return this.addRaw(SHARED_INTS[n]);
    this.addAscii(`:${n}\r\n`);
  }
  addZero(): void { this.addRaw(ZERO); }
  addOne(): void { this.addRaw(ONE); }

  addBulk(b: Buffer): void {
    const len = b.length;
    if (len < 1000) this.addRaw(SHARED_BULK_HDR[len]);
    else this.addHeader(0x24, len);
    this.ensure(len + 2);
    b.copy(this.out, this.outLen);
    this.outLen += len;
    this.out.writeUInt16BE(CRLF, this.outLen);
    this.outLen += 2;
  }

  /** Bulk reply of part of a buffer, without creating a view of it. */
  addBulkRange(b: Buffer, start: number, end: number): void {
    const len = end - start;
    if (len < 1000) this.addRaw(SHARED_BULK_HDR[len]);
    else this.addHeader(0x24, len);
    this.ensure(len + 2);
    this.outLen += copyBytes(b, start, end, this.out, this.outLen);
    this.out.writeUInt16BE(CRLF, this.outLen);
    this.outLen += 2;
  }

  /** Bulk reply of a stored value's bytes: copied, or for a long one in a large block, a view of it. */
  addBulkSpan(s: ByteSpan): void {
    const len = s.end - s.start;
    if (s.block === null || len < VIEW_MIN) return this.addBulkRange(s.buf, s.start, s.end);
    this.addBulkHeader(len);
    this.addBulkPart(s);
    this.addBulkEnd();
  }

  /** Starts a bulk reply of `len` bytes that follow as parts (addBulkPart) and end with addBulkEnd. */
  addBulkHeader(len: number): void {
    if (len < 1000) this.addRaw(SHARED_BULK_HDR[len]);
    else this.addHeader(0x24, len);
  }

  /** Part of a bulk reply: stored bytes, queued as a view when long and in a large block, else copied. */
  addBulkPart(s: ByteSpan): void {
    const len = s.end - s.start;
    if (s.block === null || len < VIEW_MIN) {
      this.ensure(len);
      this.outLen += copyBytes(s.buf, s.start, s.end, this.out, this.outLen);
      return;
    }
    this.views.push(s.buf.subarray(s.start, s.end));
    this.viewAt.push(this.outLen);
    this.viewBlocks.push(s.block);
    s.block.readers++;
  }

  addBulkEnd(): void {
    this.ensure(2);
    this.out.writeUInt16BE(CRLF, this.outLen);
    this.outLen += 2;
  }

  /** Bulk reply of a JS string, encoded as UTF-8. */
  addBulkString(s: string): void {
    const len = Buffer.byteLength(s);
    this.addHeader(0x24, len);
    this.ensure(len + 2);
    this.outLen += this.out.write(s, this.outLen);
    this.out.writeUInt16BE(CRLF, this.outLen);
    this.outLen += 2;
  }

  /** Bulk reply of an integer rendered as text (RESP2 style). */
  addBulkInt(n: number | bigint): void { this.addBulkString(String(n)); }

  /** Null bulk string: `$-1` in RESP2, `_` in RESP3. */
  addNull(): void { this.addRaw(this.resp === 3 ? NULL3 : NULL_BULK); }
  /** Null array: `*-1` in RESP2, `_` in RESP3. */
  addNullArray(): void { this.addRaw(this.resp === 3 ? NULL3 : NULL_ARRAY); }

  addArrayLen(n: number): void {
    if (n < 100) this.addRaw(SHARED_MBULK_HDR[n]);
    else this.addHeader(0x2a, n);
  }
  addEmptyArray(): void { this.addRaw(EMPTY_ARRAY); }

  /** Map header: `%n` in RESP3, a flat array of 2n elements in RESP2. */
  addMapLen(n: number): void {
    if (this.resp === 3) this.addHeader(0x25, n);
    else this.addArrayLen(n * 2);
  }

  /** Set header: `~n` in RESP3, an array in RESP2. */
  addSetLen(n: number): void {
    if (this.resp === 3) this.addHeader(0x7e, n);
    else this.addArrayLen(n);
  }

  /** Double: `,d` in RESP3, a bulk string in RESP2. */
  addDouble(d: number): void {
    const s = formatDouble(d);
    if (this.resp === 3) this.addAscii(`,${s}\r\n`);
    else this.addBulkString(s);
  }

  /** Boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2. */
  addBool(b: boolean): void {
    if (this.resp === 3) this.addAscii(b ? '#t\r\n' : '#f\r\n');
    else this.addRaw(b ? ONE : ZERO);
  }

  /** Verbatim string (INFO, CLIENT LIST): `=len\r\ntxt:...` in RESP3, bulk in RESP2. */
  addVerbatim(s: string, format = 'txt'): void {
    if (this.resp !== 3) return this.addBulkString(s);
    const body = `${format}:${s}`;
    const len = Buffer.byteLength(body);
    this.addHeader(0x3d, len);
    this.ensure(len + 2);
    this.outLen += this.out.write(body, this.outLen);
    this.out.writeUInt16BE(CRLF, this.outLen);
    this.outLen += 2;
  }
}
