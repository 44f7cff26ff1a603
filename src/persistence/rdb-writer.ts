// Writing the RDB format of Redis 7.0 (version 10): the header, AUX fields,
// SELECTDB / RESIZEDB, each key with its expiry and access hints, strings in
// the encodings Redis writes (integer, LZF, raw), module values (MODULE_2),
// and the EOF opcode with the CRC-64 of everything before it.
//
// Bytes go through a sink that buffers small writes and hands big ones (a
// 64 MiB value) to the file as they are, so a value is never copied just to
// be written; the CRC is updated over every byte, in order.

import { Crc64 } from './crc64.js';
import { lzfCompress, newTable } from './lzf.js';

import {
  MODULE_OP_EOF, MODULE_OP_STRING, MODULE_OP_UINT, OP_AUX, OP_EOF, OP_EXPIRETIME_MS, OP_FREQ, OP_IDLE, OP_RESIZEDB, OP_SELECTDB, RDB_VERSION,
} from './rdb-format.js';

/** Where the bytes go: a file (fs.writeSync) or memory (a DUMP payload). */
export interface ByteSink {
  write(buf: Uint8Array, start: number, end: number): void;
}

/** Below this a write is gathered into the buffer; above it the bytes go to the sink as they are. */
const DIRECT_WRITE = 64 * 1024;
const BUFFER_SIZE = 1024 * 1024;
/** The longest string Redis writes as an integer (canonical, within int32). */
const INT_ENCODING_MAX_LEN = 11;

export interface RdbWriterOptions {
  /** rdbcompression: LZF for strings longer than 20 bytes when it saves at least 4. */
  compression: boolean;
  /** rdbchecksum: the CRC-64 in the EOF trailer (else 0). */
  checksum: boolean;
  /** Bytes gathered before they go to the sink (default 1 MiB; a background save writes smaller pieces, each a shorter stall). */
  bufferSize?: number;
}

export class RdbWriter {
  private readonly buf: Buffer;
  private len = 0;
  private readonly crc = new Crc64();
  private readonly lzfTable = newTable();
  /** Scratch for LZF output, grown to the longest compressed string. */
  private lzfOut = Buffer.allocUnsafe(4096);
  /** Bytes written so far, header included. */
  written = 0;

  constructor(private readonly sink: ByteSink, private readonly opts: RdbWriterOptions) {
    this.buf = Buffer.allocUnsafe(opts.bufferSize ?? BUFFER_SIZE);
  }

  // ---------------------------------------------------------------------------
  // Bytes

  private flushBuffer(): void {
    if (this.len === 0) return;
    if (this.opts.checksum) this.crc.update(this.buf, 0, this.len);
    this.sink.write(this.buf, 0, this.len);
    this.len = 0;
  }

  /** Hands what is gathered to the sink (a background save's records kept in memory, before they are read). */
  flush(): void {
    this.flushBuffer();
  }

  private room(n: number): void {
    if (this.len + n > this.buf.length) this.flushBuffer();
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
    this.written++;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (n >= DIRECT_WRITE) {
      this.flushBuffer();
      if (this.opts.checksum) this.crc.update(src, start, end);
      this.sink.write(src, start, end);
    } else {
      this.room(n);
      // No view below 128 bytes: a save writes millions of keys and values,
      // and a view each (Buffer.copy makes one too) was 59 MB of garbage per
      // BGSAVE of 1M keys × 64 B (a sampling heap profile of the walk).
      const b = this.buf;
      const at = this.len;
      if (n < 128) for (let i = 0; i < n; i++) b[at + i] = src[start + i];
      else if (src instanceof Buffer) src.copy(b, at, start, end);
      else b.set(src.subarray(start, end), at);
      this.len += n;
    }
    this.written += n;
  }

  /** An RDB length: 6 bits, 14 bits, or a 32- or 64-bit big-endian number after a marker byte. */
  length(n: number): void {
    this.room(9);
    const b = this.buf;
    let at = this.len;
    if (n < 1 << 6) {
      b[at++] = n;
    } else if (n < 1 << 14) {
      b[at++] = 0x40 | (n >>> 8);
      b[at++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      b[at++] = 0x80;
      b.writeUInt32BE(n, at);
      at += 4;
    } else {
      b[at++] = 0x81;
      b.writeUInt32BE(Math.floor(n / 2 ** 32), at);
      b.writeUInt32BE(n >>> 0, at + 4);
      at += 8;
    }
    this.written += at - this.len;
    this.len = at;
  }

  /** A 64-bit length (module ids, which do not fit a double). */
  length64(n: bigint): void {
    this.room(9);
    this.buf[this.len] = 0x81;
    this.buf.writeBigUInt64BE(n, this.len + 1);
    this.len += 9;
    this.written += 9;
  }

  // ---------------------------------------------------------------------------
  // Strings

  /** A string as Redis's rdbSaveRawString writes it: an integer, LZF, or raw. */
  string(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (n <= INT_ENCODING_MAX_LEN && n > 0 && this.intString(src, start, end)) return;
    if (this.opts.compression && n > 20 && this.lzfString(src, start, end)) return;
    this.length(n);
    this.bytes(src, start, end);
  }

  /** A string written from several parts, raw (a tensor's streams): `total` is the sum of their lengths. */
  stringParts(total: number, parts: (write: (src: Uint8Array, start: number, end: number) => void) => void): void {
    this.length(total);
    let n = 0;
    parts((src, start, end) => {
      n += end - start;
      this.bytes(src, start, end);
    });
    if (n !== total) throw new Error(`rdb: string parts of ${n} bytes, ${total} announced`);
  }

  /** The integer encodings (int8/16/32 little-endian) for a canonical decimal integer; false when it is not one. */
  private intString(src: Uint8Array, start: number, end: number): boolean {
    let i = start;
    const neg = src[i] === 0x2d;
    if (neg) i++;
    if (i === end) return false;
    // Canonical: no leading zero (but "0" itself), no "-0", digits only.
    if (src[i] === 0x30 && (end - i > 1 || neg)) return false;
    let v = 0;
    for (; i < end; i++) {
      const d = src[i] - 0x30;
      if (d < 0 || d > 9) return false;
      v = v * 10 + d;
    }
    if (neg) v = -v;
    this.room(5);
    const b = this.buf;
    const at = this.len;
    if (v >= -128 && v <= 127) {
      b[at] = 0xc0;
      b.writeInt8(v, at + 1);
      this.len += 2;
    } else if (v >= -32768 && v <= 32767) {
      b[at] = 0xc1;
      b.writeInt16LE(v, at + 1);
      this.len += 3;
    } else if (v >= -2147483648 && v <= 2147483647) {
      b[at] = 0xc2;
      b.writeInt32LE(v, at + 1);
      this.len += 5;
    } else {
      return false;
    }
    this.written += this.len - at;
    return true;
  }

  /** LZF when it saves at least 4 bytes (Redis's rdbSaveLzfStringObject). */
  private lzfString(src: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    const max = n - 4;
    if (this.lzfOut.length < max) this.lzfOut = Buffer.allocUnsafe(max);
    const c = lzfCompress(src, start, end, this.lzfOut, 0, max, this.lzfTable);
    if (c === 0) return false;
    this.byte(0xc3);
    this.length(c);
    this.length(n);
    this.bytes(this.lzfOut, 0, c);
    return true;
  }

  // ---------------------------------------------------------------------------
  // Records

  header(): void {
    this.bytes(Buffer.from(`REDIS${String(RDB_VERSION).padStart(4, '0')}`, 'latin1'));
  }

  aux(key: string, value: string | number): void {
    this.byte(OP_AUX);
    this.string(Buffer.from(key, 'latin1'));
    this.string(Buffer.from(String(value), 'latin1'));
  }

  selectDb(db: number): void {
    this.byte(OP_SELECTDB);
    this.length(db);
  }

  resizeDb(size: number, expires: number): void {
    this.byte(OP_RESIZEDB);
    this.length(size);
    this.length(expires);
  }

  /** An absolute expiry in Unix ms, 8 bytes little-endian (before the key it belongs to). */
  expireAt(ms: bigint): void {
    this.byte(OP_EXPIRETIME_MS);
    this.room(8);
    this.buf.writeBigInt64LE(ms, this.len);
    this.len += 8;
    this.written += 8;
  }

  /** LRU idle seconds (before the key; Redis writes it under an LRU policy). */
  idle(seconds: number): void {
    this.byte(OP_IDLE);
    this.length(seconds);
  }

  /** The LFU counter (before the key; Redis writes it under an LFU policy). */
  freq(counter: number): void {
    this.byte(OP_FREQ);
    this.byte(counter);
  }

  /** The type byte and the key; the value follows. */
  keyHeader(type: number, key: Uint8Array, start = 0, end = key.length): void {
    this.byte(type);
    this.string(key, start, end);
  }

  /** A module value's start: its 64-bit type id. Fields follow, then moduleEnd(). */
  moduleStart(id: bigint): void {
    this.length64(id);
  }

  moduleUint(v: number): void {
    this.length(MODULE_OP_UINT);
    this.length(v);
  }

  moduleString(src: Uint8Array, start = 0, end = src.length): void {
    this.length(MODULE_OP_STRING);
    this.string(src, start, end);
  }

  moduleEnd(): void {
    this.length(MODULE_OP_EOF);
  }

  /** EOF and the checksum (0 with rdbchecksum no); everything is handed to the sink. */
  end(): void {
    this.byte(OP_EOF);
    this.flushBuffer();
    const trailer = Buffer.alloc(8);
    if (this.opts.checksum) this.crc.writeLE(trailer, 0);
    this.sink.write(trailer, 0, 8);
    this.written += 8;
  }

  /** For a DUMP payload: the version and the CRC of everything before it, then all is flushed. */
  /** Starts over: nothing written, the CRC of nothing (a DumpWriter makes payload after payload with one writer). */
  reset(): void {
    this.len = 0;
    this.written = 0;
    this.crc.reset();
  }

  dumpTrailer(): void {
    this.room(2);
    this.buf.writeUInt16LE(RDB_VERSION, this.len);
    this.len += 2;
    this.written += 2;
    this.flushBuffer();
    const crc = Buffer.alloc(8);
    this.crc.writeLE(crc, 0);
    this.sink.write(crc, 0, 8);
    this.written += 8;
  }
}

/** A sink that keeps everything in memory (DUMP payloads, tests). */
export class MemorySink implements ByteSink {
  private parts: Buffer[] = [];

  write(buf: Uint8Array, start: number, end: number): void {
    this.parts.push(Buffer.from(buf.subarray(start, end)));
  }

  take(): Buffer {
    const b = Buffer.concat(this.parts);
    this.parts = [];
    return b;
  }
}
