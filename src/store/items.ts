// An item's layout inside its chunk. Every key lives in one chunk: a 24-byte
// header, 12 more bytes when it has (or had) a TTL, the key, then the value
// (or, for a value too big for any chunk, the 4-byte id of its large block).
//
//   bytes  0-3   hash chain: next item in the same index bucket (ref, 0 = end)
//          4-7   eviction queue: next older item (ref, 0 = this is the tail)
//          8-11  eviction queue: next newer item (ref, 0 = this is the head)
//         12-15  last access, in ticks of 1/256 s (wraps after 194 days, as Redis's LRU clock)
//         16-19  value length in bytes
//         20     flags: value type (3 bits) | EXT | VISITED | LARGE
//         21     LFU counter (Redis's logarithmic 8-bit counter)
//         22     table id (which database's index holds the item)
//         23     key length, or 255 when a 4-byte length precedes the key
//   with EXT:
//         24-31  expiry, ms since the epoch as a 64-bit integer (0: none)
//         32-35  position in the table's array of keys with a TTL
//
// Items are 8-byte aligned, so the 4-byte fields are read through a
// Uint32Array view of the page; refs address 8-byte steps (see slabs.ts).

import type { SlabAllocator } from './slabs.js';

export const HEADER = 24;
export const EXT_BYTES = 12;
/** Word (4-byte) offsets within the header. */
const W_HNEXT = 0;
const W_OLDER = 1;
const W_NEWER = 2;
const W_ATIME = 3;
const W_VLEN = 4;
const W_EXP_LO = 6;
const W_EXP_HI = 7;
const W_VPOS = 8;
/** Byte offsets within the header. */
const B_FLAGS = 20;
const B_FREQ = 21;
const B_TABLE = 22;
const B_KLEN = 23;

export const TYPE_MASK = 7;
export const F_EXT = 8;
export const F_VISITED = 16;
export const F_LARGE = 32;
const LONG_KEY = 255;
const TWO32 = 4294967296;

/** Chunk bytes an item needs. */
export function itemSize(keyLen: number, valueBytes: number, ext: boolean): number {
  return HEADER + (ext ? EXT_BYTES : 0) + (keyLen >= LONG_KEY ? 4 : 0) + keyLen + valueBytes;
}

/** Field access on items by ref, over the allocator's pages. */
export class Items {
  private readonly bufs: (Buffer | undefined)[];
  private readonly words: (Uint32Array | undefined)[];
  private readonly shift: number;
  private readonly mask: number;

  constructor(slabs: SlabAllocator) {
    this.bufs = slabs.bufs;
    this.words = slabs.words;
    this.shift = slabs.pageShift;
    this.mask = slabs.offsetMask;
  }

  /** The page buffer holding `ref`. */
  buf(ref: number): Buffer { return this.bufs[ref >>> this.shift] as Buffer; }
  /** Byte offset of `ref` within its page. */
  off(ref: number): number { return (ref & this.mask) << 3; }
  private w(ref: number): Uint32Array { return this.words[ref >>> this.shift] as Uint32Array; }
  private wi(ref: number): number { return (ref & this.mask) << 1; }

  hnext(ref: number): number { return this.w(ref)[this.wi(ref) + W_HNEXT]; }
  setHnext(ref: number, v: number): void { this.w(ref)[this.wi(ref) + W_HNEXT] = v; }
  older(ref: number): number { return this.w(ref)[this.wi(ref) + W_OLDER]; }
  setOlder(ref: number, v: number): void { this.w(ref)[this.wi(ref) + W_OLDER] = v; }
  newer(ref: number): number { return this.w(ref)[this.wi(ref) + W_NEWER]; }
  setNewer(ref: number, v: number): void { this.w(ref)[this.wi(ref) + W_NEWER] = v; }
  atime(ref: number): number { return this.w(ref)[this.wi(ref) + W_ATIME]; }
  setAtime(ref: number, ticks: number): void { this.w(ref)[this.wi(ref) + W_ATIME] = ticks; }
  valueLength(ref: number): number { return this.w(ref)[this.wi(ref) + W_VLEN]; }
  setValueLength(ref: number, n: number): void { this.w(ref)[this.wi(ref) + W_VLEN] = n; }

  flags(ref: number): number { return this.buf(ref)[this.off(ref) + B_FLAGS]; }
  setFlags(ref: number, f: number): void { this.buf(ref)[this.off(ref) + B_FLAGS] = f; }
  type(ref: number): number { return this.flags(ref) & TYPE_MASK; }
  setType(ref: number, t: number): void {
    const b = this.buf(ref);
    const o = this.off(ref) + B_FLAGS;
    b[o] = (b[o] & ~TYPE_MASK) | t;
  }
  /** Marks an access for SIEVE: one bit, nothing moves. */
  markVisited(ref: number): void { this.buf(ref)[this.off(ref) + B_FLAGS] |= F_VISITED; }
  visited(ref: number): boolean { return (this.flags(ref) & F_VISITED) !== 0; }
  clearVisited(ref: number): void { this.buf(ref)[this.off(ref) + B_FLAGS] &= ~F_VISITED; }
  isLarge(ref: number): boolean { return (this.flags(ref) & F_LARGE) !== 0; }
  hasExt(ref: number): boolean { return (this.flags(ref) & F_EXT) !== 0; }

  freq(ref: number): number { return this.buf(ref)[this.off(ref) + B_FREQ]; }
  setFreq(ref: number, f: number): void { this.buf(ref)[this.off(ref) + B_FREQ] = f; }
  table(ref: number): number { return this.buf(ref)[this.off(ref) + B_TABLE]; }

  /** Expiry in ms (0: none); beyond 2^53 the nearest double. */
  expireAt(ref: number): number {
    if ((this.flags(ref) & F_EXT) === 0) return 0;
    const w = this.w(ref);
    const i = this.wi(ref);
    return w[i + W_EXP_HI] * TWO32 + w[i + W_EXP_LO];
  }
  expireAtExact(ref: number): bigint {
    if ((this.flags(ref) & F_EXT) === 0) return 0n;
    const w = this.w(ref);
    const i = this.wi(ref);
    return (BigInt(w[i + W_EXP_HI]) << 32n) | BigInt(w[i + W_EXP_LO]);
  }
  /** Sets the expiry of an item that has the EXT bytes. */
  setExpireExact(ref: number, at: bigint): void {
    const w = this.w(ref);
    const i = this.wi(ref);
    w[i + W_EXP_LO] = Number(at & 0xffffffffn);
    w[i + W_EXP_HI] = Number((at >> 32n) & 0xffffffffn);
  }
  setExpire(ref: number, at: number): void {
    const w = this.w(ref);
    const i = this.wi(ref);
    const hi = Math.floor(at / TWO32);
    w[i + W_EXP_HI] = hi;
    w[i + W_EXP_LO] = at - hi * TWO32;
  }
  vpos(ref: number): number { return this.w(ref)[this.wi(ref) + W_VPOS]; }
  setVpos(ref: number, p: number): void { this.w(ref)[this.wi(ref) + W_VPOS] = p; }

  /** Byte offset (in the page) where the key length field or the key starts. */
  private keyArea(ref: number): number {
    return this.off(ref) + HEADER + ((this.flags(ref) & F_EXT) !== 0 ? EXT_BYTES : 0);
  }
  keyLength(ref: number): number {
    const b = this.buf(ref);
    const n = b[this.off(ref) + B_KLEN];
    return n !== LONG_KEY ? n : b.readUInt32LE(this.keyArea(ref));
  }
  keyStart(ref: number): number {
    const long = this.buf(ref)[this.off(ref) + B_KLEN] === LONG_KEY;
    return this.keyArea(ref) + (long ? 4 : 0);
  }
  valueStart(ref: number): number {
    return this.keyStart(ref) + this.keyLength(ref);
  }
  /** The large block id of an item with F_LARGE. */
  largeId(ref: number): number {
    return this.buf(ref).readUInt32LE(this.valueStart(ref));
  }
  /** Chunk bytes this item occupies (its layout, not its chunk's size). */
  size(ref: number): number {
    const value = (this.flags(ref) & F_LARGE) !== 0 ? 4 : this.valueLength(ref);
    return itemSize(this.keyLength(ref), value, this.hasExt(ref));
  }

  /** Whether the item's key equals b. */
  keyEquals(ref: number, b: Buffer): boolean {
    const page = this.buf(ref);
    const o = this.off(ref);
    const n = page[o + B_KLEN];
    const len = b.length;
    if (n !== LONG_KEY) {
      if (n !== len) return false;
      let k = o + HEADER + ((page[o + B_FLAGS] & F_EXT) !== 0 ? EXT_BYTES : 0);
      if (len > 16) return page.compare(b, 0, len, k, k + len) === 0;
      for (let i = 0; i < len; i++, k++) if (page[k] !== b[i]) return false;
      return true;
    }
    return this.keyLength(ref) === len && page.compare(b, 0, len, this.keyStart(ref), this.keyStart(ref) + len) === 0;
  }

  /**
   * Writes a header and the key into a fresh chunk (value bytes are the
   * caller's). Queue links, hash link and EXT position start at 0.
   */
  init(ref: number, key: Buffer, type: number, valueLen: number, flags: number, table: number, ticks: number, freq: number): void {
    const w = this.w(ref);
    const i = this.wi(ref);
    w[i + W_HNEXT] = 0;
    w[i + W_OLDER] = 0;
    w[i + W_NEWER] = 0;
    w[i + W_ATIME] = ticks;
    w[i + W_VLEN] = valueLen;
    const b = this.buf(ref);
    const o = this.off(ref);
    b[o + B_FLAGS] = flags | type;
    b[o + B_FREQ] = freq;
    b[o + B_TABLE] = table;
    let k = o + HEADER;
    if ((flags & F_EXT) !== 0) {
      w[i + W_EXP_LO] = 0;
      w[i + W_EXP_HI] = 0;
      w[i + W_VPOS] = 0;
      k += EXT_BYTES;
    }
    if (key.length >= LONG_KEY) {
      b[o + B_KLEN] = LONG_KEY;
      b.writeUInt32LE(key.length, k);
      k += 4;
    } else {
      b[o + B_KLEN] = key.length;
    }
    key.copy(b, k);
  }

  /** Copies `bytes` bytes of item `from` into chunk `to`. */
  copy(from: number, to: number, bytes: number): void {
    const o = this.off(from);
    this.buf(from).copy(this.buf(to), this.off(to), o, o + bytes);
  }
}
