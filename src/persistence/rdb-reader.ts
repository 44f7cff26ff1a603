// Reading the RDB format, versions 1 to 10: a pull reader that the loader
// (rdb-load.ts) and RESTORE drive record by record. It knows the format, not
// the store: strings come back as bytes, values of types kvslab does not
// hold can be stepped over whole, module values come back as their fields.
//
// Bytes come from a source through a 1 MiB window, so a dump of any size is
// read with bounded memory; a string that does not fit the window gets a
// buffer of its own. Every length is checked against the bytes the source
// has left before anything is allocated, so a corrupt length is an error at
// its offset, never a huge allocation. The CRC-64 is kept over the bytes as
// they are consumed, and checked against the trailer after EOF.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Crc64 } from './crc64.js';
import { lzfDecompress, LzfError } from './lzf.js';
import { copyBytes } from '../util/bytes.js';
import {
  OP_EXPIRETIME, OP_EXPIRETIME_MS, OP_FREQ, OP_IDLE, MODULE_OP_DOUBLE, MODULE_OP_EOF, MODULE_OP_FLOAT, MODULE_OP_SINT, MODULE_OP_STRING, MODULE_OP_UINT,
  RDB_TYPE_HASH, RDB_TYPE_HASH_LISTPACK, RDB_TYPE_HASH_ZIPLIST, RDB_TYPE_HASH_ZIPMAP, RDB_TYPE_LIST,
  RDB_TYPE_LIST_QUICKLIST, RDB_TYPE_LIST_QUICKLIST_2, RDB_TYPE_LIST_ZIPLIST, RDB_TYPE_MODULE_2, RDB_TYPE_SET,
  RDB_TYPE_SET_INTSET, RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_2, RDB_TYPE_STRING, RDB_TYPE_ZSET,
  RDB_TYPE_ZSET_2, RDB_TYPE_ZSET_LISTPACK, RDB_TYPE_ZSET_ZIPLIST, RDB_VERSION,
} from './rdb-format.js';

/** A dump that cannot be read: what is wrong and the byte offset where it was found. */
export class RdbError extends Error {
  constructor(readonly reason: string, readonly offset: number) {
    super(`${reason} at offset ${offset}`);
  }
}

/** Where the bytes come from: a file or a buffer (a DUMP payload). */
export interface ByteSource {
  /** Bytes in all. */
  readonly size: number;
  /** Copies the bytes from `offset` into dst[start, end); returns how many there were. */
  read(dst: Buffer, start: number, end: number, offset: number): number;
  close(): void;
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(private readonly buf: Buffer, private readonly start = 0, end = buf.length) {
    this.size = end - start;
  }

  read(dst: Buffer, start: number, end: number, offset: number): number {
    const from = this.start + offset;
    const n = Math.max(0, Math.min(end - start, this.size - offset));
    this.buf.copy(dst, start, from, from + n);
    return n;
  }

  close(): void {}
}

export class FileSource implements ByteSource {
  readonly size: number;
  readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  read(dst: Buffer, start: number, end: number, offset: number): number {
    let got = 0;
    while (start + got < end) {
      const n = readSync(this.fd, dst, start + got, end - start - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Bytes buf[start, end): a string handed out without a view of its own. */
export interface Span {
  buf: Buffer;
  start: number;
  end: number;
}

/** Keys found ahead by peekKeys: buf[starts[i], ends[i]) for i < count. */
export interface KeyBatch {
  buf: Buffer;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  count: number;
}

/** One field of a module value: its opcode's kind and value. */
export type ModuleField =
  | { op: 'sint' | 'uint'; value: bigint }
  | { op: 'float' | 'double'; value: number }
  | { op: 'string'; value: Buffer };

const WINDOW = 1024 * 1024;
/** LZF's best case: 3 bytes of back reference make 264 of output. */
const LZF_MAX_RATIO = 88;

/** What stringLength found, for stringInto to write. */
const enum Pending { None, Raw, Int, Lzf }

export class RdbReader {
  private readonly win: Buffer;
  /** The source offset of win[0]. */
  private base = 0;
  /** win[pos, end) is read but not consumed. */
  private pos = 0;
  private end = 0;
  /** win[crcAt, pos) is consumed but not yet in the CRC. */
  private crcAt = 0;
  /** Null once the CRC is left to someone else (see leaveChecksum). */
  private crc: Crc64 | null = new Crc64();
  /** Where the current string's bytes are decoded: an integer's digits, LZF's output. */
  private scratch = Buffer.allocUnsafeSlow(4096);
  /** The RDB version of the header (DUMP payloads: their trailer's). */
  version = RDB_VERSION;
  /** A span the caller keeps across reads (see hold), and where its bytes go when the window or scratch would change under it. */
  private held: Span | null = null;
  private heldBuf = Buffer.allocUnsafeSlow(256);
  /** The string stringLength began: its kind, decoded length, LZF's compressed length and where its data starts, an integer's digits. */
  private pending = Pending.None;
  private pendingLen = 0;
  private pendingClen = 0;
  private pendingAt = 0;
  private pendingDigits = '';
  /** peekLength's second result: the length it read. */
  private peeked = 0;

  constructor(private readonly src: ByteSource, windowSize = WINDOW) {
    this.win = Buffer.allocUnsafeSlow(Math.min(windowSize, Math.max(64, src.size)));
  }

  /** The source offset of the next byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes the source has after the next one. */
  get remaining(): number {
    return this.src.size - this.offset;
  }

  fail(reason: string, at = this.offset): never {
    throw new RdbError(reason, at);
  }

  /** `n` bytes announced at the current offset run past the end of the source. */
  private shortRead(n: number, at = this.offset): never {
    return this.fail(`Short read: ${n} bytes announced where the file has ${this.remaining} left (it ends at offset ${this.src.size})`, at);
  }

  // ---------------------------------------------------------------------------
  // The window

  /** Makes `n` bytes available at win[pos] (n <= the window), or fails at the end of the source. */
  private need(n: number): void {
    if (this.end - this.pos >= n) return;
    if (this.held !== null && this.held.buf === this.win) this.moveHeld();
    this.crc?.update(this.win, this.crcAt, this.pos);
    this.win.copy(this.win, 0, this.pos, this.end);
    this.base += this.pos;
    this.end -= this.pos;
    this.pos = this.crcAt = 0;
    this.end += this.src.read(this.win, this.end, this.win.length, this.base + this.end);
    if (this.end < n) this.fail(`Short read: the file ends at offset ${this.src.size}`, this.base + this.pos);
  }

  byte(): number {
    this.need(1);
    return this.win[this.pos++];
  }

  /** Consumes `n` bytes (n <= 8) and returns where they start in the window, for a fixed-width read. */
  private take(n: number): number {
    this.need(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /**
   * The next `n` bytes: a view of the window (valid until the next read)
   * when they fit in it, else a buffer of their own.
   */
  bytes(n: number): Buffer {
    if (n > this.remaining) this.shortRead(n);
    if (n <= this.win.length) {
      this.need(n);
      const at = this.pos;
      this.pos += n;
      return this.win.subarray(at, at + n);
    }
    const out = Buffer.allocUnsafe(n);
    this.bigInto(out, 0, n);
    return out;
  }

  /**
   * Keeps `s` (a span stringSpan filled) valid across the reads that follow,
   * until the next hold: its bytes are copied, and `s` pointed at the copy,
   * only if the window or the scratch is about to change under them (a key
   * held while its value is read: once per window, not once per key).
   */
  hold(s: Span | null): void {
    this.held = s;
  }

  private moveHeld(): void {
    const s = this.held as Span;
    const n = s.end - s.start;
    if (this.heldBuf.length < n) this.heldBuf = Buffer.allocUnsafeSlow(Math.max(n, this.heldBuf.length * 2));
    copyBytes(s.buf, s.start, s.end, this.heldBuf, 0);
    s.buf = this.heldBuf;
    s.start = 0;
    s.end = n;
  }

  /** The scratch, of at least `len` bytes, for a string to be decoded into. */
  private scratchFor(len: number): Buffer {
    if (this.held !== null && this.held.buf === this.scratch) this.moveHeld();
    if (this.scratch.length < len) this.scratch = Buffer.allocUnsafeSlow(Math.max(len, this.scratch.length * 2));
    return this.scratch;
  }

  /** Steps over `n` bytes (they still count in the CRC). */
  skip(n: number): void {
    if (n > this.remaining) this.shortRead(n);
    while (n > 0) {
      const step = Math.min(n, this.win.length);
      this.need(step);
      this.pos += step;
      n -= step;
    }
  }

  /**
   * Looks ahead in the window without consuming anything: the keys of the
   * string records that come next (with their expiry, idle and freq records),
   * as many as `out` holds, stopping at any other record, at a key that is
   * not a plain string, or where the window ends. For a hint (see
   * Db.prefetch): what the records hold is checked when they are read.
   */
  peekKeys(out: KeyBatch): KeyBatch {
    const w = this.win;
    const end = this.end;
    let p = this.pos;
    let n = 0;
    while (n < out.starts.length && p >= 0 && p < end) {
      const op = w[p];
      if (op === OP_EXPIRETIME_MS) p += 9;
      else if (op === OP_EXPIRETIME) p += 5;
      else if (op === OP_FREQ) p += 2;
      else if (op === OP_IDLE) p = this.peekLength(p + 1);
      else if (op !== RDB_TYPE_STRING) break;
      else {
        const key = this.peekLength(p + 1);
        if (key < 0 || key + this.peeked > end) break;
        out.starts[n] = key;
        out.ends[n] = key + this.peeked;
        n++;
        p = this.peekString(key + this.peeked);
      }
    }
    out.buf = w;
    out.count = n;
    return out;
  }

  /** Where a length at win[p] ends (its value in `peeked`); -1 for a string encoding or one not whole in the window. */
  private peekLength(p: number): number {
    const w = this.win;
    if (p >= this.end) return -1;
    const b = w[p];
    switch (b >> 6) {
      case 0:
        this.peeked = b & 0x3f;
        return p + 1;
      case 1:
        if (p + 2 > this.end) return -1;
        this.peeked = ((b & 0x3f) << 8) | w[p + 1];
        return p + 2;
      case 2:
        if (b !== 0x80 || p + 5 > this.end) return -1;
        this.peeked = w.readUInt32BE(p + 1);
        return p + 5;
      default:
        return -1;
    }
  }

  /** Where a string at win[p], of any encoding, ends; -1 when the window does not tell. */
  private peekString(p: number): number {
    const at = this.peekLength(p);
    if (at >= 0) return at + this.peeked;
    if (p >= this.end) return -1;
    switch (this.win[p]) {
      case 0xc0: return p + 2;
      case 0xc1: return p + 3;
      case 0xc2: return p + 5;
      case 0xc3: {
        // LZF: the compressed length, the length it decompresses to, the data.
        const lengths = this.peekLength(p + 1);
        const clen = this.peeked;
        const data = lengths < 0 ? -1 : this.peekLength(lengths);
        return data < 0 ? -1 : data + clen;
      }
      default: return -1;
    }
  }

  // ---------------------------------------------------------------------------
  // Numbers

  /**
   * A length (6 bits, 14 bits, 32 or 64 bits big-endian after a marker byte).
   * An encoded-string marker (0b11...) is returned as -1 - its kind (see string()).
   */
  private lengthOrEncoding(): number {
    const at = this.offset;
    const b = this.byte();
    const kind = b >> 6;
    if (kind === 0) return b & 0x3f;
    if (kind === 1) return ((b & 0x3f) << 8) | this.byte();
    if (kind === 3) return -1 - (b & 0x3f);
    if (b === 0x80) return this.win.readUInt32BE(this.take(4));
    if (b === 0x81) {
      const v = this.win.readBigUInt64BE(this.take(8));
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`Length ${v} out of range`, at);
      return Number(v);
    }
    return this.fail(`Unknown length encoding ${b} in rdbLoadLen()`, at);
  }

  length(): number {
    const at = this.offset;
    const n = this.lengthOrEncoding();
    if (n < 0) this.fail('A string encoding where a length belongs', at);
    return n;
  }

  /** A length that is a count of things to read, each at least one byte: checked against what is left. */
  count(what: string): number {
    const at = this.offset;
    const n = this.length();
    if (n > this.remaining) this.fail(`Short read: ${what.toLowerCase()} of ${n} where the file has ${this.remaining} bytes left (it ends at offset ${this.src.size})`, at);
    return n;
  }

  /** A 64-bit unsigned length (module type ids, module integers). */
  length64(): bigint {
    this.need(1);
    if (this.win[this.pos] !== 0x81) return BigInt(this.length());
    this.pos++;
    return this.win.readBigUInt64BE(this.take(8));
  }

  uint32LE(): number {
    return this.win.readUInt32LE(this.take(4));
  }

  int64LE(): bigint {
    return this.win.readBigInt64LE(this.take(8));
  }

  // ---------------------------------------------------------------------------
  // Strings

  /**
   * A string in any of its encodings (raw, int8/16/32, LZF) as bytes: a view
   * valid until the next read (copy it to keep it).
   */
  string(): Buffer {
    const at = this.offset;
    const n = this.lengthOrEncoding();
    if (n >= 0) return this.bytes(n);
    const out = this.encoded(-1 - n, at);
    return out.subarray(0, this.pendingLen);
  }

  /**
   * A string as stringSpan's span `s` of the window, the scratch or a buffer
   * of its own, valid until the next read (see hold): as string() but
   * without a view (a load reads millions of keys).
   */
  stringSpan(s: Span): Span {
    const at = this.offset;
    const n = this.lengthOrEncoding();
    if (n >= 0) {
      if (n > this.remaining) this.shortRead(n);
      if (n <= this.win.length) {
        this.need(n);
        s.buf = this.win;
        s.start = this.pos;
        s.end = this.pos += n;
      } else {
        s.buf = this.bytes(n);
        s.start = 0;
        s.end = n;
      }
      return s;
    }
    s.buf = this.encoded(-1 - n, at);
    s.start = 0;
    s.end = this.pendingLen;
    return s;
  }

  /** An encoded string (integer or LZF, after its marker) decoded into the scratch or a buffer of its own; pendingLen is its length. */
  private encoded(kind: number, at: number): Buffer {
    if (kind === 3) {
      const len = this.lzfHeader(at);
      // Decompressed into the scratch when it fits a window's worth, else into a buffer of its own.
      const out = len <= WINDOW ? this.scratchFor(len) : Buffer.allocUnsafe(len);
      this.lzfInto(out, 0);
      return out;
    }
    const digits = this.intDigits(kind, at);
    const out = this.scratchFor(digits.length);
    this.pendingLen = out.write(digits, 0, 'latin1');
    return out;
  }

  /** A string kept past the next read (the window and the scratch are never pooled, so their buffers tell). */
  stringCopy(): Buffer {
    const s = this.string();
    return s.buffer === this.win.buffer || s.buffer === this.scratch.buffer ? Buffer.from(s) : s;
  }

  /**
   * Reads a string's encoding and lengths (checked against what the source
   * has left) and returns the length it decodes to; stringInto then writes
   * its bytes where the caller has room for them (a load: straight into the
   * store's item, so that a value is written once).
   */
  stringLength(): number {
    const at = this.offset;
    const n = this.lengthOrEncoding();
    if (n >= 0) {
      if (n > this.remaining) this.shortRead(n);
      this.pending = Pending.Raw;
      this.pendingLen = n;
      return n;
    }
    const kind = -1 - n;
    if (kind === 3) return this.lzfHeader(at);
    this.pendingDigits = this.intDigits(kind, at);
    this.pending = Pending.Int;
    this.pendingLen = this.pendingDigits.length;
    return this.pendingLen;
  }

  /** Writes the string stringLength began into dst[at, at + its length). */
  stringInto(dst: Buffer, at: number): void {
    const n = this.pendingLen;
    switch (this.pending) {
      case Pending.Raw:
        this.pending = Pending.None;
        if (n <= this.win.length) {
          this.need(n);
          copyBytes(this.win, this.pos, this.pos + n, dst, at);
          this.pos += n;
        } else {
          this.bigInto(dst, at, n);
        }
        return;
      case Pending.Int:
        this.pending = Pending.None;
        dst.write(this.pendingDigits, at, 'latin1');
        return;
      case Pending.Lzf:
        return this.lzfInto(dst, at);
      default:
        throw new Error('RdbReader.stringInto without stringLength');
    }
  }

  /** `n` bytes (more than the window holds) read into dst at `at`: what the window has, then straight from the source. */
  private bigInto(dst: Buffer, at: number, n: number): void {
    const have = this.end - this.pos;
    this.win.copy(dst, at, this.pos, this.end);
    this.pos = this.end;
    this.crc?.update(this.win, this.crcAt, this.pos);
    const got = this.src.read(dst, at + have, at + n, this.base + this.end);
    if (got !== n - have) this.fail(`Short read: the file ends at offset ${this.src.size}`, this.base + this.end);
    this.crc?.update(dst, at + have, at + n);
    this.base += this.end + got;
    this.pos = this.end = this.crcAt = 0;
  }

  /** Steps over a string without decoding it. */
  skipString(): void {
    const at = this.offset;
    const n = this.lengthOrEncoding();
    if (n >= 0) return this.skip(n);
    switch (-1 - n) {
      case 0: return this.skip(1);
      case 1: return this.skip(2);
      case 2: return this.skip(4);
      case 3: {
        const clen = this.length();
        this.length();
        return this.skip(clen);
      }
      default: return this.fail(`Unknown RDB string encoding type ${-1 - n}`, at);
    }
  }

  /** An integer-encoded string's digits (kind 0, 1, 2: int8, int16, int32). */
  private intDigits(kind: number, at: number): string {
    switch (kind) {
      case 0: return String(this.byte() << 24 >> 24);
      case 1: return String(this.win.readInt16LE(this.take(2)));
      case 2: return String(this.win.readInt32LE(this.take(4)));
      default: return this.fail(`Unknown RDB string encoding type ${kind}`, at);
    }
  }

  /** An LZF string's lengths (its marker at `at`, read), checked; returns the decompressed length. lzfInto reads the data. */
  private lzfHeader(at: number): number {
    const clen = this.length();
    const len = this.length();
    if (clen > this.remaining) this.shortRead(clen, at);
    if (len > clen * LZF_MAX_RATIO + 264) this.fail(`LZF string of ${clen} bytes cannot decompress to the ${len} it announces`, at);
    this.pending = Pending.Lzf;
    this.pendingLen = len;
    this.pendingClen = clen;
    this.pendingAt = this.offset;
    return len;
  }

  /** The LZF data lzfHeader announced, decompressed into dst at `at`: from the window, or a buffer of its own when longer. */
  private lzfInto(dst: Buffer, at: number): void {
    this.pending = Pending.None;
    const clen = this.pendingClen;
    let src: Buffer;
    let from: number;
    if (clen <= this.win.length) {
      this.need(clen);
      src = this.win;
      from = this.pos;
      this.pos += clen;
    } else {
      src = this.bytes(clen);
      from = 0;
    }
    try {
      lzfDecompress(src, from, from + clen, dst, at, this.pendingLen);
    } catch (e) {
      if (e instanceof LzfError) this.fail(`Invalid LZF compressed string: ${e.message}`, this.pendingAt);
      throw e;
    }
  }

  // ---------------------------------------------------------------------------
  // Values

  /**
   * Steps over a value of `type` (one kvslab does not hold: lists, sets,
   * sorted sets, hashes, streams, a module's data), checking its structure
   * as far as reading it needs.
   */
  skipValue(type: number): void {
    const at = this.offset;
    switch (type) {
      case RDB_TYPE_STRING:
      case RDB_TYPE_HASH_ZIPMAP:
      case RDB_TYPE_LIST_ZIPLIST:
      case RDB_TYPE_SET_INTSET:
      case RDB_TYPE_ZSET_ZIPLIST:
      case RDB_TYPE_HASH_ZIPLIST:
      case RDB_TYPE_HASH_LISTPACK:
      case RDB_TYPE_ZSET_LISTPACK:
        return this.skipString();
      case RDB_TYPE_LIST:
      case RDB_TYPE_SET:
      case RDB_TYPE_LIST_QUICKLIST:
        for (let n = this.count('Element count'); n > 0; n--) this.skipString();
        return;
      case RDB_TYPE_LIST_QUICKLIST_2:
        for (let n = this.count('Node count'); n > 0; n--) {
          this.length();
          this.skipString();
        }
        return;
      case RDB_TYPE_HASH:
        for (let n = this.count('Field count'); n > 0; n--) {
          this.skipString();
          this.skipString();
        }
        return;
      case RDB_TYPE_ZSET:
        for (let n = this.count('Member count'); n > 0; n--) {
          this.skipString();
          const len = this.byte();
          // 253, 254, 255: NaN, +inf, -inf, written as the length alone.
          if (len < 253) this.skip(len);
        }
        return;
      case RDB_TYPE_ZSET_2:
        for (let n = this.count('Member count'); n > 0; n--) {
          this.skipString();
          this.skip(8);
        }
        return;
      case RDB_TYPE_MODULE_2:
        this.length64();
        this.moduleFields(true);
        return;
      case RDB_TYPE_STREAM_LISTPACKS:
      case RDB_TYPE_STREAM_LISTPACKS_2:
        return this.skipStream(type === RDB_TYPE_STREAM_LISTPACKS_2);
      default:
        return this.fail(`Unknown RDB encoding type ${type}`, at - 1);
    }
  }

  /** A stream: its listpacks, counters, and consumer groups with their pending entries. */
  private skipStream(v2: boolean): void {
    for (let n = this.count('Stream listpack count'); n > 0; n--) {
      const at = this.offset;
      if (this.string().length !== 16) this.fail('Stream node key entry is not the size of a stream ID', at);
      this.skipString();
    }
    // Length, last id (ms, seq); with v2: first id, max deleted id, entries added.
    for (let i = v2 ? 8 : 3; i > 0; i--) this.length();
    for (let groups = this.count('Consumer group count'); groups > 0; groups--) {
      this.skipString();
      this.length();
      this.length();
      if (v2) this.length();
      // The group's pending entries: id, delivery time, delivery count.
      for (let pel = this.count('Pending entry count'); pel > 0; pel--) {
        this.skip(16 + 8);
        this.length();
      }
      for (let consumers = this.count('Consumer count'); consumers > 0; consumers--) {
        this.skipString();
        this.skip(8);
        for (let pel = this.count('Consumer pending entry count'); pel > 0; pel--) this.skip(16);
      }
    }
  }

  /**
   * A module value's (or MODULE_AUX record's) fields after its type id, up to
   * the EOF opcode. With `skip` strings are stepped over and nothing is kept.
   */
  moduleFields(skip = false): ModuleField[] {
    const fields: ModuleField[] = [];
    for (;;) {
      const at = this.offset;
      const op = this.length();
      switch (op) {
        case MODULE_OP_EOF:
          return fields;
        case MODULE_OP_SINT:
        case MODULE_OP_UINT: {
          const v = this.length64();
          if (!skip) fields.push({ op: op === MODULE_OP_SINT ? 'sint' : 'uint', value: op === MODULE_OP_SINT ? BigInt.asIntN(64, v) : v });
          break;
        }
        case MODULE_OP_FLOAT: {
          const v = this.win.readFloatLE(this.take(4));
          if (!skip) fields.push({ op: 'float', value: v });
          break;
        }
        case MODULE_OP_DOUBLE: {
          const v = this.win.readDoubleLE(this.take(8));
          if (!skip) fields.push({ op: 'double', value: v });
          break;
        }
        case MODULE_OP_STRING:
          if (skip) this.skipString();
          else fields.push({ op: 'string', value: this.stringCopy() });
          break;
        default:
          return this.fail(`Unknown module opcode ${op}`, at);
      }
    }
  }

  // ---------------------------------------------------------------------------
  // Header and trailer

  /** "REDIS" and four digits; returns the version. */
  header(): number {
    if (this.src.size < 9) this.fail('Wrong signature trying to load DB from file', 0);
    const sig = this.bytes(9);
    if (sig.toString('latin1', 0, 5) !== 'REDIS') this.fail('Wrong signature trying to load DB from file', 0);
    const digits = sig.toString('latin1', 5, 9);
    const version = /^\d{4}$/.test(digits) ? Number(digits) : -1;
    if (version < 1 || version > RDB_VERSION) this.fail(`Can't handle RDB format version ${version < 0 ? digits : version}`, 5);
    this.version = version;
    return version;
  }

  /**
   * No CRC is computed here from now on: the checksum is off, or another
   * thread works it out from the file (file-checksum.ts). trailer() then
   * only reads the stored one.
   */
  leaveChecksum(): void {
    this.crc = null;
  }

  /**
   * After the EOF opcode: the 8-byte CRC-64 (version 5 on), returned (0n
   * when the file has none). When this reader computes the CRC and `check`
   * is set, a stored one (not 0) must equal it.
   */
  trailer(check: boolean): bigint {
    if (this.version < 5) return 0n;
    const at = this.offset;
    this.crc?.update(this.win, this.crcAt, this.pos);
    // The trailer itself is not in the CRC.
    this.crcAt = this.pos;
    const stored = this.win.readBigUInt64LE(this.take(8));
    this.crcAt = this.pos;
    if (check && this.crc !== null) this.checkCrc(stored, this.crc.digest(), at);
    return stored;
  }

  /** A stored CRC (not 0) that is not the computed one fails at the trailer's offset `at`. */
  checkCrc(stored: bigint, computed: bigint, at: number): void {
    if (stored !== 0n && stored !== computed) {
      this.fail(`Wrong RDB checksum expected: (${stored.toString(16)}) got: (${computed.toString(16)})`, at);
    }
  }

  close(): void {
    this.src.close();
  }
}

/**
 * A DUMP payload's trailer: at least 10 bytes, an RDB version this reader
 * knows (2 bytes little-endian), and the CRC-64 of everything before the CRC
 * (Redis's verifyDumpPayload). False when any of them is wrong.
 */
export function verifyDumpPayload(p: Buffer): boolean {
  if (p.length < 10) return false;
  const version = p.readUInt16LE(p.length - 10);
  if (version > RDB_VERSION) return false;
  return new Crc64().update(p, 0, p.length - 8).equalsLE(p, p.length - 8);
}
