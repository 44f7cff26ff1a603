// An item's layout inside its chunk. Every key lives in one chunk: a 21-byte
// header, 15 more bytes when it has (or had) a TTL, the key, then the value
// (or, for a value too big to keep inline, the 4-byte id of its large block).
//
//   bytes  0-3   hash chain: next item in the same index bucket (ref, 0 = end)
//          4-7   eviction queue: next older item (ref, 0 = this is the tail)
//          8-11  eviction queue: next newer item (ref, 0 = this is the head)
//         12-15  access data, read by the policy in force (as Redis's 24-bit lru field):
//                ticks of 1/256 s since start-up (wraps after 194 days, as Redis's LRU clock),
//                or under an LFU policy minutes (24 bits) << 8 | the logarithmic counter
//         16-19  key length (7 bits; 127: a 4-byte length precedes the key) | SNAP
//                | value length (16 bits) << 8 | type (3 bits) << 24 | EXT | LARGE
//                | hits (2 bits: a saturating count of accesses, cleared by the policy) | MAIN
//         20     table id (which database's index holds the item)
//   with EXT (from byte 24, so the fields stay 4-byte aligned):
//         24-31  expiry, ms since the epoch as a 64-bit integer (0: none)
//         32-35  position in the table's array of keys with a TTL
//
// Items are 8-byte aligned, so the 4-byte fields are read through a
// Uint32Array view of the page; refs address 8-byte steps (see slabs.ts).

import type { SlabAllocator } from './slabs.js';
import { copyBytes } from '../util/bytes.js';
import { hashBytes } from './hash.js';

export const HEADER = 21;
/** Where the key starts when the item has the EXT fields. */
const EXT_HEADER = 36;
export const EXT_BYTES = EXT_HEADER - HEADER;
/** Longest value kept inside the chunk; longer ones get a large block. */
export const MAX_INLINE_VALUE = (1 << 16) - 1;
/** Word (4-byte) offsets within the header. */
const W_HNEXT = 0;
const W_OLDER = 1;
const W_NEWER = 2;
const W_ACCESS = 3;
const W_META = 4;
const W_EXP_LO = 6;
const W_EXP_HI = 7;
const W_VPOS = 8;
const B_TABLE = 20;
/** Fields of the meta word. */
const KLEN_MASK = 0x7f;
/**
 * The snapshot mark: an item whose SNAP bit differs from the keyspace's
 * current mark is one a running BGSAVE has yet to write (see Keyspace.snapMark).
 */
export const ITEM_SNAP = 1 << 7;
const VLEN_SHIFT = 8;
const VLEN_MASK = MAX_INLINE_VALUE;
const TYPE_SHIFT = 24;
const TYPE_MASK = 7;
export const ITEM_EXT = 1 << 27;
export const ITEM_LARGE = 1 << 28;
const HITS_SHIFT = 29;
const HITS_MASK = 3 << HITS_SHIFT;
/** In the keyspace's second queue (S3-FIFO's main queue). */
export const ITEM_MAIN = 1 << 31;
const LONG_KEY = KLEN_MASK;
const TWO32 = 4294967296;

/** Chunk bytes an item needs (valueBytes: inline value length, or 4 for a block id). */
export function itemSize(keyLen: number, valueBytes: number, ext: boolean): number {
  return (ext ? EXT_HEADER : HEADER) + (keyLen >= LONG_KEY ? 4 : 0) + keyLen + valueBytes;
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
  access(ref: number): number { return this.w(ref)[this.wi(ref) + W_ACCESS]; }
  setAccess(ref: number, v: number): void { this.w(ref)[this.wi(ref) + W_ACCESS] = v; }

  private meta(ref: number): number { return this.w(ref)[this.wi(ref) + W_META]; }
  /** Flag bits of the meta word (ITEM_EXT, ITEM_LARGE, ITEM_MAIN) and the hit count. */
  flags(ref: number): number { return this.meta(ref) & (ITEM_EXT | ITEM_LARGE | ITEM_MAIN | HITS_MASK); }
  setFlag(ref: number, f: number, on: boolean): void {
    const w = this.w(ref);
    const i = this.wi(ref) + W_META;
    w[i] = on ? w[i] | f : w[i] & ~f;
  }
  type(ref: number): number { return (this.meta(ref) >>> TYPE_SHIFT) & TYPE_MASK; }
  setType(ref: number, t: number): void {
    const w = this.w(ref);
    const i = this.wi(ref) + W_META;
    w[i] = (w[i] & ~(TYPE_MASK << TYPE_SHIFT)) | (t << TYPE_SHIFT);
  }
  /** Length of the value kept in the chunk (4, the block id, for a large value). */
  inlineLength(ref: number): number { return (this.meta(ref) >>> VLEN_SHIFT) & VLEN_MASK; }
  setInlineLength(ref: number, n: number): void {
    const w = this.w(ref);
    const i = this.wi(ref) + W_META;
    w[i] = (w[i] & ~(VLEN_MASK << VLEN_SHIFT)) | (n << VLEN_SHIFT);
  }
  /** Counts an access (up to 3): SIEVE reads it as the visited bit, S3-FIFO as its frequency. Nothing moves. */
  markVisited(ref: number): void {
    const w = this.w(ref);
    const i = this.wi(ref) + W_META;
    const m = w[i];
    if ((m & HITS_MASK) !== HITS_MASK) w[i] = m + (1 << HITS_SHIFT);
  }
  visited(ref: number): boolean { return (this.meta(ref) & HITS_MASK) !== 0; }
  hits(ref: number): number { return (this.meta(ref) & HITS_MASK) >>> HITS_SHIFT; }
  setHits(ref: number, n: number): void {
    const w = this.w(ref);
    const i = this.wi(ref) + W_META;
    w[i] = (w[i] & ~HITS_MASK) | (n << HITS_SHIFT);
  }
  /** The item's snapshot mark (ITEM_SNAP or 0). */
  snapMark(ref: number): number { return this.meta(ref) & ITEM_SNAP; }
  setSnapMark(ref: number, mark: number): void {
    const w = this.w(ref);
    const i = this.wi(ref) + W_META;
    w[i] = (w[i] & ~ITEM_SNAP) | mark;
  }
  clearVisited(ref: number): void { this.w(ref)[this.wi(ref) + W_META] &= ~HITS_MASK; }
  inMain(ref: number): boolean { return (this.meta(ref) & ITEM_MAIN) !== 0; }
  isLarge(ref: number): boolean { return (this.meta(ref) & ITEM_LARGE) !== 0; }
  hasExt(ref: number): boolean { return (this.meta(ref) & ITEM_EXT) !== 0; }

  table(ref: number): number { return this.buf(ref)[this.off(ref) + B_TABLE]; }

  /** Expiry in ms (0: none); beyond 2^53 the nearest double. */
  expireAt(ref: number): number {
    const w = this.w(ref);
    const i = this.wi(ref);
    if ((w[i + W_META] & ITEM_EXT) === 0) return 0;
    return w[i + W_EXP_HI] * TWO32 + w[i + W_EXP_LO];
  }
  expireAtExact(ref: number): bigint {
    if (!this.hasExt(ref)) return 0n;
    const w = this.w(ref);
    const i = this.wi(ref);
    return (BigInt(w[i + W_EXP_HI]) << 32n) | BigInt(w[i + W_EXP_LO]);
  }
  /** Sets the expiry of an item that has the EXT fields. */
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
    return this.off(ref) + (this.hasExt(ref) ? EXT_HEADER : HEADER);
  }
  keyLength(ref: number): number {
    const n = this.meta(ref) & KLEN_MASK;
    return n !== LONG_KEY ? n : this.buf(ref).readUInt32LE(this.keyArea(ref));
  }
  keyStart(ref: number): number {
    return this.keyArea(ref) + ((this.meta(ref) & KLEN_MASK) === LONG_KEY ? 4 : 0);
  }
  valueStart(ref: number): number {
    return this.keyStart(ref) + this.keyLength(ref);
  }
  /** The large block id of an item with ITEM_LARGE. */
  largeId(ref: number): number {
    return this.buf(ref).readUInt32LE(this.valueStart(ref));
  }
  /** Chunk bytes this item occupies (its layout, not its chunk's size). */
  size(ref: number): number {
    return itemSize(this.keyLength(ref), this.inlineLength(ref), this.hasExt(ref));
  }

  /**
   * Where an inline value lies, from one read of the meta word (GET's path):
   * sets s.buf, s.start and s.end; false when the value is in a large block.
   */
  inlineValue(ref: number, s: { buf: Buffer; start: number; end: number }): boolean {
    const meta = this.w(ref)[this.wi(ref) + W_META];
    if ((meta & ITEM_LARGE) !== 0) return false;
    const b = this.buf(ref);
    let k = this.off(ref) + ((meta & ITEM_EXT) !== 0 ? EXT_HEADER : HEADER);
    let klen = meta & KLEN_MASK;
    if (klen === LONG_KEY) {
      klen = b.readUInt32LE(k);
      k += 4;
    }
    s.buf = b;
    s.start = k + klen;
    s.end = s.start + ((meta >>> VLEN_SHIFT) & VLEN_MASK);
    return true;
  }

  /** A hash of the item's key with `seed` (the eviction pool and S3-FIFO's ghosts keep them). */
  keyHash(ref: number, seed: number): number {
    return hashBytes(this.buf(ref), this.keyStart(ref), this.keyLength(ref), seed);
  }

  /** Whether the item's key equals b[start, start + len). */
  keyEquals(ref: number, b: Buffer, start: number, len: number): boolean {
    const meta = this.meta(ref);
    const n = meta & KLEN_MASK;
    if (n === LONG_KEY) return this.keyLength(ref) === len && this.buf(ref).compare(b, start, start + len, this.keyStart(ref), this.keyStart(ref) + len) === 0;
    if (n !== len) return false;
    const page = this.buf(ref);
    let k = this.off(ref) + ((meta & ITEM_EXT) !== 0 ? EXT_HEADER : HEADER);
    if (len > 16) return page.compare(b, start, start + len, k, k + len) === 0;
    for (let i = start, end = start + len; i < end; i++, k++) if (page[k] !== b[i]) return false;
    return true;
  }

  /**
   * Writes a header and the key key[keyStart, keyStart + keyLen) into a fresh
   * chunk (value bytes are the caller's). Queue links, hash link and EXT
   * fields start at 0.
   */
  init(ref: number, key: Buffer, keyStart: number, keyLen: number, type: number, inlineLen: number, flags: number, table: number, access: number): void {
    const w = this.w(ref);
    const i = this.wi(ref);
    const long = keyLen >= LONG_KEY;
    w[i + W_HNEXT] = 0;
    w[i + W_OLDER] = 0;
    w[i + W_NEWER] = 0;
    w[i + W_ACCESS] = access;
    w[i + W_META] = (long ? LONG_KEY : keyLen) | (inlineLen << VLEN_SHIFT) | (type << TYPE_SHIFT) | flags;
    const b = this.buf(ref);
    const o = this.off(ref);
    b[o + B_TABLE] = table;
    let k = o + HEADER;
    if ((flags & ITEM_EXT) !== 0) {
      w[i + W_EXP_LO] = 0;
      w[i + W_EXP_HI] = 0;
      w[i + W_VPOS] = 0;
      k = o + EXT_HEADER;
    }
    if (long) {
      b.writeUInt32LE(keyLen, k);
      k += 4;
    }
    copyBytes(key, keyStart, keyStart + keyLen, b, k);
  }

  /** Copies `bytes` bytes of item `from` into chunk `to`. */
  copy(from: number, to: number, bytes: number): void {
    const o = this.off(from);
    this.buf(from).copy(this.buf(to), this.off(to), o, o + bytes);
  }
}
