// One database's index over the shared keyspace: a chained hash table in
// typed arrays (a bucket holds the ref of the first item, each item the ref
// of the next in its bucket), and a dense array of the items that have a TTL
// (for the active expiry cycle and the volatile-* policies).
//
// The table doubles when it holds as many keys as buckets and halves when
// fewer than a tenth are used, incrementally, as Redis's dict does: while a
// rehash runs both arrays are live, every lookup moves one bucket across and
// the cron moves more for a millisecond at a time, so no single call copies
// the whole table. SCAN walks buckets in reverse-binary cursor order, which
// keeps its guarantee (every key present for the whole scan is returned)
// across resizes, with the same argument as Redis's dictScan.

import type { ByteSpan, ValueType } from './types.js';
import type { ItemIndex, Keyspace } from './keyspace.js';
import { OutOfMemoryError } from './errors.js';
import { hashBytes } from './hash.js';
import { copyBytes } from '../util/bytes.js';
import { RefArray } from './ref-array.js';

const MIN_BUCKETS = 4;
/**
 * Past this many keys per bucket a table grows even when that means evicting
 * to make room (Redis 7's dictExpandAllowed: HASHTABLE_MAX_LOAD_FACTOR); below
 * it, a table only grows into room maxmemory has free.
 */
const FORCE_RESIZE_LOAD = 1.618;
/** Shrink when fewer than one bucket in this many holds a key. */
const SHRINK_FILL = 10;
/** Buckets moved per cron slice between clock checks. */
const REHASH_BATCH = 100;

function reverseBits(x: number): number {
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
  return ((x >>> 16) | (x << 16)) >>> 0;
}

/** The cursor after `v` for a table of mask `m`: increment the reversed bits above the mask. */
function nextCursor(v: number, m: number): number {
  return reverseBits((reverseBits((v | ~m) >>> 0) + 1) >>> 0);
}

/**
 * Handle lifetime: a handle (an item's ref) stays valid until its own entry
 * is removed or changed by a call that returns a handle (replace,
 * resizeValue, rename, setExpireAt): use the one returned. Removing or
 * inserting *other* entries never invalidates it, even when an insert evicts
 * or compacts: the store pins every handle a command looked up until the
 * next command starts.
 */
export class KeyIndex implements ItemIndex {
  private ht0: Uint32Array = new Uint32Array(MIN_BUCKETS);
  /** The table being grown or shrunk into, while a rehash runs. */
  private ht1: Uint32Array | null = null;
  /** Buckets of ht0 below this index have moved to ht1. */
  private rehashIdx = 0;
  size = 0;
  private readonly vol = new RefArray();
  /** prefetch's scratch (hashes, then bucket heads), and what it read, kept. */
  private prefetched = new Uint32Array(0);
  private prefetchSink = 0;

  /** `id` is written in each item of this index (an item's way back to its database). */
  constructor(private readonly ks: Keyspace, readonly id: number) {
    ks.chargeMetadata(this.ht0.byteLength + this.vol.bytes);
  }

  private hashKey(key: Buffer): number {
    return hashBytes(key, 0, key.length, this.ks.seed);
  }

  private hashOf(ref: number): number {
    const items = this.ks.items;
    return hashBytes(items.buf(ref), items.keyStart(ref), items.keyLength(ref), this.ks.seed);
  }

  /** Buckets in use by the index (both arrays while a rehash runs). */
  get buckets(): number {
    return this.ht0.length + (this.ht1 === null ? 0 : this.ht1.length);
  }

  get rehashing(): boolean { return this.ht1 !== null; }
  /** Bytes of the bucket arrays, and of the TTL array (MEMORY STATS). */
  get bucketBytes(): number { return this.ht0.byteLength + (this.ht1?.byteLength ?? 0); }
  get volatileBytes(): number { return this.vol.bytes; }
  get volatileSize(): number { return this.vol.length; }

  // ---------------------------------------------------------------------------
  // Lookup and links.

  /** Handle of `key`, or -1. Does not look at expiry. */
  find(key: Buffer): number {
    if (this.size === 0) return -1;
    if (this.ht1 !== null) this.rehashStep();
    return this.lookup(key, 0, key.length, this.hashKey(key));
  }

  /** The entry of key[start, start + len) with hash `h` in either array, or -1. */
  private lookup(key: Buffer, start: number, len: number, h: number): number {
    const items = this.ks.items;
    let tab = this.ht0;
    for (let ref = tab[h & (tab.length - 1)]; ref !== 0; ref = items.hnext(ref)) {
      if (items.keyEquals(ref, key, start, len)) return ref;
    }
    if (this.ht1 !== null) {
      tab = this.ht1;
      for (let ref = tab[h & (tab.length - 1)]; ref !== 0; ref = items.hnext(ref)) {
        if (items.keyEquals(ref, key, start, len)) return ref;
      }
    }
    return -1;
  }

  /**
   * Reads the buckets, and the first entry of each, that lookups of the keys
   * buf[starts[i], ends[i]) (i < count) are about to read, all at once: their
   * cache misses overlap, where one lookup after another waits for each in
   * turn (loading a dump knows the next keys before it looks them up). A hint
   * only: nothing changes.
   */
  prefetch(buf: Buffer, starts: Uint32Array, ends: Uint32Array, count: number): void {
    if (this.size === 0) return;
    const items = this.ks.items;
    const tab = this.ht1 ?? this.ht0;
    const mask = tab.length - 1;
    const refs = this.prefetched.length >= count ? this.prefetched : (this.prefetched = new Uint32Array(count));
    // Hashes first, then the loads in tight loops, so that many are in flight together.
    for (let i = 0; i < count; i++) refs[i] = hashBytes(buf, starts[i], ends[i] - starts[i], this.ks.seed);
    for (let i = 0; i < count; i++) refs[i] = tab[refs[i] & mask];
    let sink = 0;
    for (let i = 0; i < count; i++) if (refs[i] !== 0) sink ^= items.hnext(refs[i]);
    // Kept, so that the compiler cannot drop the reads as unused.
    this.prefetchSink = sink;
  }

  /** Links a new item at the head of its bucket (in the new array while rehashing). */
  private link(ref: number, h: number): void {
    const tab = this.ht1 ?? this.ht0;
    const i = h & (tab.length - 1);
    this.ks.items.setHnext(ref, tab[i]);
    tab[i] = ref;
  }

  /** Makes whatever points at `from` in its bucket point at `to` (null `to`: at from's successor). */
  private replaceLink(from: number, to: number | null, h: number): void {
    const items = this.ks.items;
    const next = to === null ? items.hnext(from) : to;
    for (let t = 0; t < 2; t++) {
      const tab = t === 0 ? this.ht0 : this.ht1;
      if (tab === null) break;
      const i = h & (tab.length - 1);
      let ref = tab[i];
      if (ref === from) {
        tab[i] = next;
        return;
      }
      while (ref !== 0) {
        const n = items.hnext(ref);
        if (n === from) {
          items.setHnext(ref, next);
          return;
        }
        ref = n;
      }
    }
    throw new Error(`index: item ${from} not found in table ${this.id}`);
  }

  /** Item `from` now lives at `to` (same key): fixes its bucket and TTL array entry. */
  relink(from: number, to: number): void {
    this.replaceLink(from, to, this.hashOf(to));
    const items = this.ks.items;
    if (items.hasExt(to) && items.expireAt(to) !== 0) this.vol.set(items.vpos(to), to);
  }

  // ---------------------------------------------------------------------------
  // Growing and shrinking.

  /** Starts growing before an insert would pass one key per bucket, if memory allows. */
  private growForInsert(): void {
    if (this.ht1 !== null || this.size + 1 <= this.ht0.length) return;
    const bytes = this.ht0.byteLength * 2;
    if (!this.ks.canGrow(bytes)) {
      if (this.size < this.ht0.length * FORCE_RESIZE_LOAD) return;
      if (!this.ks.reserve(bytes)) throw new OutOfMemoryError();
    }
    // Reserving may have evicted keys of this very table.
    if (this.ht1 === null && this.size + 1 > this.ht0.length) this.startRehash(this.ht0.length * 2);
  }

  /**
   * Bytes of bucket arrays that inserting `n` more keys may make this index
   * allocate even when memory is short (the growth that load forces: see
   * FORCE_RESIZE_LOAD), for Keyspace.reserveItems.
   */
  growthBytes(n: number): number {
    let buckets = this.ht1?.length ?? this.ht0.length;
    let bytes = 0;
    while (this.size + n >= buckets * FORCE_RESIZE_LOAD) {
      buckets *= 2;
      bytes += buckets * 4;
    }
    return bytes;
  }

  /**
   * Sizes an empty index for `n` keys at once (a dump's RESIZEDB, as Redis's
   * dictExpand when loading), so that loading them rehashes nothing. Skipped
   * when the index is not empty or the memory is not there.
   */
  expand(n: number): void {
    if (this.size !== 0 || this.ht1 !== null) return;
    let buckets = this.ht0.length;
    while (buckets < n) buckets *= 2;
    if (buckets === this.ht0.length || !this.ks.canGrow((buckets - this.ht0.length) * 4)) return;
    this.ks.chargeMetadata(-this.ht0.byteLength);
    this.ks.noteDropped(this.ht0.byteLength);
    this.ht0 = new Uint32Array(buckets);
    this.ks.chargeMetadata(this.ht0.byteLength);
  }

  private startRehash(buckets: number): void {
    this.ht1 = new Uint32Array(buckets);
    this.ks.chargeMetadata(this.ht1.byteLength);
    this.rehashIdx = 0;
  }

  /** Moves one bucket (skipping at most 10 empty ones) into the new array. */
  private rehashStep(): void {
    const ht0 = this.ht0;
    let empty = 10;
    while (this.rehashIdx < ht0.length && ht0[this.rehashIdx] === 0) {
      this.rehashIdx++;
      if (--empty === 0) break;
    }
    if (this.rehashIdx < ht0.length && ht0[this.rehashIdx] !== 0) this.moveBucket(this.rehashIdx++);
    if (this.rehashIdx >= ht0.length) this.finishRehash();
  }

  private moveBucket(i: number): void {
    const items = this.ks.items;
    const ht1 = this.ht1 as Uint32Array;
    const mask = ht1.length - 1;
    let ref = this.ht0[i];
    while (ref !== 0) {
      const next = items.hnext(ref);
      const j = this.hashOf(ref) & mask;
      items.setHnext(ref, ht1[j]);
      ht1[j] = ref;
      ref = next;
    }
    this.ht0[i] = 0;
  }

  private finishRehash(): void {
    this.ks.chargeMetadata(-this.ht0.byteLength);
    this.ks.noteDropped(this.ht0.byteLength);
    this.ht0 = this.ht1 as Uint32Array;
    this.ht1 = null;
    this.rehashIdx = 0;
  }

  /**
   * Background work from the cron: rehashes for up to `ms` milliseconds and
   * starts a shrink when the table is mostly empty. Returns whether a rehash
   * is still running.
   */
  maintain(ms: number): boolean {
    if (this.ht1 === null && this.ht0.length > MIN_BUCKETS && this.size * SHRINK_FILL < this.ht0.length) {
      let n = MIN_BUCKETS;
      while (n < this.size) n *= 2;
      this.startRehash(n);
    }
    if (this.ht1 === null) return false;
    const start = performance.now();
    do {
      for (let i = 0; i < REHASH_BATCH && this.ht1 !== null; i++) {
        const ht0 = this.ht0;
        while (this.rehashIdx < ht0.length && ht0[this.rehashIdx] === 0) this.rehashIdx++;
        if (this.rehashIdx < ht0.length) this.moveBucket(this.rehashIdx++);
        if (this.rehashIdx >= ht0.length) this.finishRehash();
      }
    } while (this.ht1 !== null && performance.now() - start < ms);
    return this.ht1 !== null;
  }

  // ---------------------------------------------------------------------------
  // The TTL array.

  /** Room within the budget for one more TTL array entry (the array may grow). */
  private reserveVolatile(): void {
    const bytes = this.vol.growthBytes;
    if (bytes === 0) return;
    if (!this.ks.reserve(bytes)) throw new OutOfMemoryError();
    // Grown now, while the room is there (a page taken next would use it).
    this.ks.chargeMetadata(this.vol.ensureRoom());
  }

  private addVolatile(ref: number): void {
    const before = this.vol.bytes;
    this.ks.items.setVpos(ref, this.vol.push(ref));
    this.ks.chargeMetadata(this.vol.bytes - before);
  }

  private dropVolatile(ref: number): void {
    const items = this.ks.items;
    const before = this.vol.bytes;
    const p = items.vpos(ref);
    const last = this.vol.pop();
    if (last !== ref) {
      this.vol.set(p, last);
      items.setVpos(last, p);
    }
    this.ks.chargeMetadata(this.vol.bytes - before);
  }

  private isVolatile(ref: number): boolean {
    const items = this.ks.items;
    return items.hasExt(ref) && items.expireAt(ref) !== 0;
  }

  // ---------------------------------------------------------------------------
  // Entries: keys and values by handle.

  /**
   * The key bytes, as a view: read them before the next write to the table.
   * The bytes read just before remove(h) stay intact until the next insert,
   * because Db hands them to the WATCH event after removing the entry.
   */
  key(h: number): Buffer {
    const items = this.ks.items;
    const start = items.keyStart(h);
    return items.buf(h).subarray(start, start + items.keyLength(h));
  }

  keyInto(h: number, s: ByteSpan): ByteSpan {
    const items = this.ks.items;
    s.buf = items.buf(h);
    s.start = items.keyStart(h);
    s.end = s.start + items.keyLength(h);
    s.block = null;
    return s;
  }

  /** The value bytes as a view into store memory: read it before the next write, copy it to keep it. */
  value(h: number): Buffer {
    const s = this.ks.valueSpan(h);
    return s.buf.subarray(s.start, s.end);
  }

  /** The value bytes as a span, without making a view (the reply path's way); valid until the next call. */
  valueSpan(h: number): ByteSpan { return this.ks.valueSpan(h); }
  /** The value bytes to change in place (a large block with queued views is copied first); valid until the next call. */
  writableSpan(h: number): ByteSpan {
    this.ks.beforeWrite(h);
    return this.ks.writableSpan(h);
  }
  valueLength(h: number): number { return this.ks.valueLength(h); }
  type(h: number): ValueType { return this.ks.items.type(h); }
  /** Absolute expiry in ms, 0 when none; beyond 2^53 the nearest double (expireAtExact has the exact value). */
  expireAt(h: number): number { return this.ks.items.expireAt(h); }
  expireAtExact(h: number): bigint { return this.ks.items.expireAtExact(h); }
  /** Milliseconds since the last access, at time `now` (OBJECT IDLETIME, LRU). */
  idleMs(h: number, now: number): number { return this.ks.access.idleMs(h, now); }
  /** The logarithmic access counter (LFU, 0..255) after its decay by `now`; meaningful under an LFU policy. */
  lfuCounter(h: number, now: number): number { return this.ks.access.lfuCounter(h, now); }
  /** Records an access at `now` (time, LFU counter, SIEVE's bit). */
  touch(h: number, now: number): void { this.ks.access.touch(h, now); }

  /** Sets the expiry in ms (0 removes it). Returns the handle, which changes if the entry had to move. */
  setExpireAt(h: number, at: number): number {
    const items = this.ks.items;
    if (at === 0) {
      if (this.isVolatile(h)) {
        this.ks.beforeWrite(h);
        this.dropVolatile(h);
        items.setExpire(h, 0);
      }
      return h;
    }
    this.ks.beforeWrite(h);
    if (!this.isVolatile(h)) this.reserveVolatile();
    h = this.ks.addExt(h);
    const was = items.expireAt(h) !== 0;
    items.setExpire(h, at);
    if (!was) this.addVolatile(h);
    return h;
  }

  /** setExpireAt with the exact int64 time (Redis accepts any int64). */
  setExpireAtExact(h: number, at: bigint): number {
    if (at === 0n) return this.setExpireAt(h, 0);
    h = this.setExpireAt(h, 1);
    this.ks.items.setExpireExact(h, at);
    return h;
  }

  /**
   * insert and replace with a value of `len` bytes left for the caller to
   * write (writableSpan), so that a big value is copied once, from the request
   * into the store, not first into a Buffer of its own.
   */
  insertSized(key: Buffer, type: ValueType, len: number, expireAt: number, now: number): number {
    return this.insert(key, type, len, expireAt, now);
  }

  replaceSized(h: number, type: ValueType, len: number, now: number): number {
    this.ks.beforeWrite(h);
    const nh = this.ks.resizeValue(h, len, 0);
    this.ks.items.setType(nh, type);
    this.touch(nh, now);
    return nh;
  }

  /** Adds a key that is not present; the bytes are copied. Returns its handle. */
  insert(key: Buffer, type: ValueType, value: Buffer | number, expireAt: number, now: number): number {
    // Every insert moves a bucket too: the rehash ends before the new array fills up.
    if (this.ht1 !== null) this.rehashStep();
    const ref = this.addItem(key, 0, key.length, this.hashKey(key), type, value, expireAt !== 0, now);
    if (expireAt !== 0) {
      this.ks.items.setExpire(ref, expireAt);
      this.addVolatile(ref);
    }
    return ref;
  }

  /**
   * Adds key[start, end) unless the index holds it, expired or not: one hash
   * and one walk of its bucket for both (loading a dump, where nearly every
   * key is new). `value` as for insert; `expireAt` exact, 0n for none.
   * Returns the new entry's handle, or -1 when the key is there.
   */
  insertAbsent(key: Buffer, start: number, end: number, type: ValueType, value: Buffer | number, expireAt: bigint, now: number): number {
    if (this.ht1 !== null) this.rehashStep();
    const len = end - start;
    const h = hashBytes(key, start, len, this.ks.seed);
    if (this.size !== 0 && this.lookup(key, start, len, h) >= 0) return -1;
    const ref = this.addItem(key, start, len, h, type, value, expireAt !== 0n, now);
    if (expireAt !== 0n) {
      this.ks.items.setExpireExact(ref, expireAt);
      this.addVolatile(ref);
    }
    return ref;
  }

  /** A new item for key[start, start + len) of hash `h`, linked; an expiring one has room in the TTL array. */
  private addItem(key: Buffer, start: number, len: number, h: number, type: ValueType, value: Buffer | number, expiring: boolean, now: number): number {
    this.growForInsert();
    if (expiring) this.reserveVolatile();
    const ref = this.ks.createItem(this.id, key, start, len, type, value, expiring, now);
    this.link(ref, h);
    this.size++;
    return ref;
  }

  /** Replaces the value of an existing entry, keeping its expiry. Returns the (possibly new) handle. */
  replace(h: number, type: ValueType, value: Buffer, now: number): number {
    const ks = this.ks;
    ks.beforeWrite(h);
    const nh = ks.resizeValue(h, value.length, 0);
    const s = ks.writableSpan(nh);
    copyBytes(value, 0, value.length, s.buf, s.start);
    ks.items.setType(nh, type);
    this.touch(nh, now);
    return nh;
  }

  /**
   * Changes the value's length to `len`, keeping its bytes up to the shorter
   * of the two lengths (or only the first `keep`); `how` as Db.resize. Returns
   * the (possibly new) handle.
   */
  resizeValue(h: number, len: number, how = 0, keep = this.ks.valueLength(h)): number {
    this.ks.beforeWrite(h);
    return this.ks.resizeValue(h, len, keep, how);
  }

  /**
   * Gives an entry a new key (RENAME), keeping value, type, expiry and access
   * data. `key` must not be present. Returns the (possibly new) handle.
   */
  rename(h: number, key: Buffer): number {
    this.ks.beforeWrite(h);
    const hash = this.hashOf(h);
    this.replaceLink(h, null, hash);
    let nh: number;
    try {
      nh = this.ks.rekey(h, key);
    } catch (e) {
      this.link(h, hash);
      throw e;
    }
    this.link(nh, this.hashKey(key));
    if (this.isVolatile(nh)) this.vol.set(this.ks.items.vpos(nh), nh);
    return nh;
  }

  /** Unlinks and frees an entry. */
  remove(h: number): void {
    this.ks.beforeWrite(h);
    this.replaceLink(h, null, this.hashOf(h));
    if (this.isVolatile(h)) this.dropVolatile(h);
    this.size--;
    this.ks.freeItem(h);
  }

  /**
   * Cuts a value held in a large block to its first `len` bytes, giving the
   * rest of the block back, without moving the entry or allocating from the
   * slabs (trimming under memory pressure). Returns the bytes freed.
   */
  shrinkLarge(h: number, len: number): number {
    this.ks.beforeWrite(h);
    return this.ks.items.isLarge(h) ? this.ks.shrinkBlock(h, len) : 0;
  }

  /** Removes an item by ref (eviction); the same as remove. */
  removeRef(ref: number): void {
    this.remove(ref);
  }

  /** Frees every entry (FLUSHDB). */
  clear(): void {
    const items = this.ks.items;
    for (const tab of [this.ht0, this.ht1]) {
      if (tab === null) continue;
      for (let i = 0; i < tab.length; i++) {
        for (let ref = tab[i]; ref !== 0;) {
          const next = items.hnext(ref);
          // A running snapshot writes what it has yet to (FLUSHDB during BGSAVE: the dump keeps the db).
          this.ks.beforeWrite(ref);
          this.ks.freeItem(ref);
          ref = next;
        }
      }
    }
    this.forgetAll();
  }

  /** Drops the index without freeing items (the keyspace was reset as a whole). */
  forgetAll(): void {
    this.ks.chargeMetadata(-(this.ht0.byteLength + (this.ht1?.byteLength ?? 0) + this.vol.bytes));
    this.ht0 = new Uint32Array(MIN_BUCKETS);
    this.ht1 = null;
    this.rehashIdx = 0;
    this.vol.clear();
    this.ks.chargeMetadata(this.ht0.byteLength + this.vol.bytes);
    this.size = 0;
  }

  /**
   * Visits the entries of one step of a SCAN from `cursor` and returns the
   * next cursor (0 when done; 0 also starts a scan). An entry present for the
   * whole scan is visited at least once; one may be visited twice. Entries
   * are visited whether expired or not. The visitor must not write the table.
   */
  scan(cursor: number, visit: (h: number) => void): number {
    if (this.size === 0) return 0;
    let v = cursor >>> 0;
    let t0 = this.ht0;
    let t1 = this.ht1;
    if (t1 === null) {
      const m0 = t0.length - 1;
      this.visitBucket(t0, v & m0, visit);
      return nextCursor(v, m0);
    }
    if (t0.length > t1.length) {
      const t = t0;
      t0 = t1;
      t1 = t;
    }
    const m0 = t0.length - 1;
    const m1 = t1.length - 1;
    this.visitBucket(t0, v & m0, visit);
    // Then every bucket of the bigger array that the smaller one's bucket expands to.
    do {
      this.visitBucket(t1, v & m1, visit);
      v = nextCursor(v, m1);
    } while ((v & (m0 ^ m1)) !== 0);
    return v;
  }

  /**
   * One step of a running snapshot's walk: as scan, but visits only the
   * entries the snapshot has yet to write, marking them written. Each entry
   * there when the snapshot began is visited here once, or handed to the
   * snapshot's hook before a write changes it, never both.
   */
  snapshotScan(cursor: number, visit: (h: number) => void): number {
    this.snapshotVisit = visit;
    return this.scan(cursor, this.snapshotFilter);
  }

  /** snapshotScan's visitor and its filter, kept so that a step makes no closure. */
  private snapshotVisit: (h: number) => void = () => {};
  private readonly snapshotFilter = (h: number): void => {
    if (this.ks.takePending(h)) this.snapshotVisit(h);
  };

  /** Marks every entry written (a snapshot that stops early: the next one must see them as yet to write). */
  markAllWritten(): void {
    let cursor = 0;
    const ks = this.ks;
    do cursor = this.scan(cursor, (h) => ks.markWritten(h));
    while (cursor !== 0);
  }

  private visitBucket(tab: Uint32Array, i: number, visit: (h: number) => void): void {
    const items = this.ks.items;
    for (let ref = tab[i]; ref !== 0;) {
      const next = items.hnext(ref);
      visit(ref);
      ref = next;
    }
  }

  /** A random entry, or -1 when empty. */
  randomEntry(): number {
    if (this.size === 0) return -1;
    const items = this.ks.items;
    for (;;) {
      let ref: number;
      if (this.ht1 !== null) {
        const live0 = this.ht0.length - this.rehashIdx;
        const i = Math.floor(Math.random() * (live0 + this.ht1.length));
        ref = i < live0 ? this.ht0[this.rehashIdx + i] : this.ht1[i - live0];
      } else {
        ref = this.ht0[Math.floor(Math.random() * this.ht0.length)];
      }
      if (ref === 0) continue;
      let n = 0;
      for (let r = ref; r !== 0; r = items.hnext(r)) n++;
      for (let k = Math.floor(Math.random() * n); k > 0; k--) ref = items.hnext(ref);
      return ref;
    }
  }

  /** A random entry with an expiry time, or -1. */
  randomVolatile(): number {
    if (this.vol.length === 0) return -1;
    return this.vol.get(Math.floor(Math.random() * this.vol.length));
  }

  /**
   * The i-th entry with an expiry time (0 <= i < volatileSize), for the
   * active expiry cycle's sequential walk. Removing an entry may move another
   * one into its position.
   */
  volatileAt(i: number): number {
    return this.vol.get(i);
  }

  /**
   * Up to `n` items for an eviction sample, as Redis's dictGetSomeKeys: the
   * chains of consecutive buckets from a random one (volatile: random picks
   * from the TTL array). Appends to `out`; returns how many were added.
   */
  sample(n: number, volatileOnly: boolean, out: number[]): number {
    if (volatileOnly) {
      if (this.vol.length === 0) return 0;
      for (let i = 0; i < n; i++) out.push(this.vol.get(Math.floor(Math.random() * this.vol.length)));
      return n;
    }
    if (this.size === 0) return 0;
    const items = this.ks.items;
    const ht0 = this.ht0;
    const ht1 = this.ht1;
    // While a rehash runs, both arrays hold keys (ht0 from rehashIdx on): look at both, as Redis's dictGetSomeKeys.
    const big = ht1 !== null && ht1.length > ht0.length ? ht1 : ht0;
    const mask = big.length - 1;
    let i = Math.floor(Math.random() * big.length);
    let added = 0;
    for (let steps = n * 10; steps > 0 && added < n; steps--, i = (i + 1) & mask) {
      for (let t = 0; t < 2 && added < n; t++) {
        const tab = t === 0 ? ht0 : ht1;
        if (tab === null) break;
        const j = i & (tab.length - 1);
        if (t === 0 && ht1 !== null && j < this.rehashIdx) continue;
        for (let ref = tab[j]; ref !== 0 && added < n; ref = items.hnext(ref)) {
          out.push(ref);
          added++;
        }
      }
    }
    return added;
  }

  /** Bytes used by one entry (MEMORY USAGE): its chunk, its share of the index, a large block. */
  entryBytes(h: number): number {
    const ks = this.ks;
    const items = ks.items;
    let n = ks.slabs.chunkSize(h) + 4;
    if (items.isLarge(h)) n += ks.large.get(items.largeId(h)).buf.length;
    if (this.isVolatile(h)) n += 4;
    return n;
  }
}
