// The RESP2/RESP3 reply encoder. Replies are appended to one growable output
// buffer; the connection (server/client-connection.ts) hands the buffer to
// its socket once per read batch, and a test reads it directly. Values long
// enough, in blocks the store keeps still while a view of them is queued,
// are queued as views instead of being copied.

import { copyBytes } from '../util/bytes.js';

/** A block of stored bytes that must not change while views of it are queued: `readers` counts them. */
export interface ViewedBlock {
  readers: number;
}

/** Bytes to reply: buf[start, end), from `block` when they are a stored block's (the store's ByteSpan is one). */
export interface ReplySpan {
  buf: Buffer;
  start: number;
  end: number;
  block: ViewedBlock | null;
}

const CRLF = 0x0d0a;
/** A writer's first buffer, when none is given. */
const INITIAL_BUFFER = 16 * 1024;

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

/**
 * A double as Redis 7 formats it for RESP3 doubles and RESP2 bulk replies:
 * printf's %.17g (17 significant digits; exponent form below 1e-4 and from
 * 1e17; trailing zeros dropped), inf, -inf, nan.
 */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const neg = d < 0;
  const a = neg ? -d : d;
  // 17 significant digits; JS rounds a tie up where glibc's printf rounds it to even.
  let e = a.toExponential(16);
  // A tie has a short exact expansion: "d.<16 digits>5" then zeros (101 digits show it exactly).
  const exact = a.toExponential(100);
  if (/^\d\.\d{16}50*e/.test(exact) && (exact.charCodeAt(17) - 48) % 2 === 0) e = exact.slice(0, 18) + exact.slice(exact.indexOf('e'));
  const at = e.indexOf('e');
  const x = Number(e.slice(at + 1));
  const digits = e[0] + e.slice(2, at);
  let out: string;
  if (x < -4 || x >= 17) {
    const m = digits.replace(/0+$/, '');
    const ax = Math.abs(x);
    out = `${m[0]}${m.length > 1 ? `.${m.slice(1)}` : ''}e${x < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  } else if (x >= 0) {
    const frac = digits.slice(x + 1).replace(/0+$/, '');
    out = frac === '' ? digits.slice(0, x + 1) : `${digits.slice(0, x + 1)}.${frac}`;
  } else {
    out = `0.${'0'.repeat(-x - 1)}${digits.replace(/0+$/, '')}`;
  }
  return neg ? `-${out}` : out;
}

export class ReplyWriter {
  /** Output buffer and the number of bytes in it not yet handed on. */
  out: Buffer;
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
  protected viewBlocks: ViewedBlock[] = [];

  constructor(out: Buffer = Buffer.allocUnsafe(INITIAL_BUFFER)) {
    this.out = out;
  }

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
      (this.viewBlocks.pop() as ViewedBlock).readers--;
    }
  }

  protected ensure(n: number): void {
    const need = this.outLen + n;
    if (need <= this.out.length) return;
    // An empty buffer (a connection between reads holds none) grows from a small one.
    let size = Math.max(this.out.length * 2, 256);
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
  addBulkSpan(s: ReplySpan): void {
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
  addBulkPart(s: ReplySpan): void {
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
