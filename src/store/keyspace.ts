// The keyspace: one arena shared by every database. It owns the slab
// allocator, the large blocks, the queue of all items in insertion order, the
// eviction policy and the memory budget, and it builds, moves and frees
// items. Each database's index (slab-table.ts) links items by ref; nothing
// here is a JS object per key.
//
// Memory is a hard budget: an allocation that finds no free chunk first takes
// units from a class that has idle chunks to spare (moving its live chunks
// together), and only then evicts, one policy victim at a time, until the
// chunk can be had. An item the current command holds a handle to is pinned:
// it is neither evicted nor moved until the next command starts.

import { SlabAllocator } from './slabs.js';
import { Items, itemSize, F_EXT, F_LARGE, F_MAIN, HEADER, EXT_BYTES, MAX_INLINE_VALUE } from './items.js';
import { LargeBlock, LargeStore, grownCapacity } from './large.js';
import { randomSeed } from './hash.js';
import { copyBytes } from '../util/bytes.js';
import { LFU_INIT_VAL, LfuParams, lfuDecayed, lfuIncremented } from './lfu.js';
import type { EvictionPolicy } from './eviction/policy.js';
import type { SlabKeyTable } from './slab-table.js';

/** No memory can be had for a write within maxmemory (and nothing may be evicted). */
export class OutOfMemoryError extends Error {
  constructor() {
    super("OOM command not allowed when used memory > 'maxmemory'.");
  }
}

/** A key too long to fit with its header in the largest chunk. */
export class KeyTooLongError extends Error {
  constructor(max: number) {
    super(`ERR key is too long (kvslab keys are at most ${max} bytes)`);
  }
}

/** A value's bytes: buf[start, end). `block` is set when they are a large block's. */
export interface ByteSpan {
  buf: Buffer;
  start: number;
  end: number;
  block: LargeBlock | null;
}

export interface KeyspaceHooks {
  /** Whether the store may hold `bytes` more within maxmemory. */
  mayGrow(bytes: number): boolean;
  /** Item `ref` of `table` is about to be evicted (statistics, WATCH). */
  evicting(table: SlabKeyTable, ref: number): void;
  /**
   * Instead of evicting item `ref` (which holds a large block), give back
   * part of it (kv-tail-trim); true when it did. It may not allocate chunks.
   */
  trim?(table: SlabKeyTable, ref: number): boolean;
  /** The clock commands see, in ms. */
  now(): number;
}

const TICKS_PER_MS = 256 / 1000;
/** A large block shrinks (is copied into a smaller one) when its value uses less than this share. */
const SHRINK_BELOW = 0.25;
const EMPTY = Buffer.alloc(0);

export class Keyspace {
  readonly slabs: SlabAllocator;
  readonly items: Items;
  readonly large = new LargeStore();
  readonly tables: SlabKeyTable[] = [];
  readonly seed = randomSeed();
  policy: EvictionPolicy = { name: 'noeviction', volatileOnly: false, victim: () => 0 };
  /** LFU parameters while an LFU policy is set (the counters are kept up only then, as in Redis). */
  lfu: LfuParams | null = null;

  /**
   * Items in insertion order, newest at the head, oldest at the tail: every
   * item is in the first queue unless a policy (S3-FIFO) moved it to the
   * second, its main queue.
   */
  head = 0;
  tail = 0;
  queueCount = 0;
  mainHead = 0;
  mainTail = 0;
  mainCount = 0;
  itemCount = 0;
  /** Bytes of every table's bucket and TTL arrays. */
  indexBytes = 0;
  /** Bytes of index arrays let go since last asked (see takeDroppedBytes). */
  droppedBytes = 0;
  /** Evictions, in all and per slab class. */
  evictions = 0;
  readonly classEvictions: Float64Array;

  private readonly epoch = Date.now();
  private pins = new Uint32Array(16);
  private pinCount = 0;
  /** Returned by valueSpan and writableSpan: read it before the next call. */
  private readonly span: ByteSpan = { buf: EMPTY, start: 0, end: 0, block: null };
  private readonly mover = (ref: number): boolean => this.relocate(ref);

  constructor(pageSize: number, growthFactor: number, private readonly hooks: KeyspaceHooks) {
    this.slabs = new SlabAllocator(pageSize, growthFactor, (bytes) => hooks.mayGrow(bytes));
    this.items = new Items(this.slabs);
    this.classEvictions = new Float64Array(this.slabs.classCount);
  }

  /** Bytes held: pages, allocator bookkeeping, indexes, large blocks. */
  get usedBytes(): number {
    return this.slabs.pageBytes + this.slabs.metadataBytes + this.indexBytes + this.large.bytes;
  }

  /** Whether `bytes` more fit within the budget as it is (no eviction). */
  canGrow(bytes: number): boolean {
    return this.hooks.mayGrow(bytes);
  }

  get volatileCount(): number {
    let n = 0;
    for (const t of this.tables) n += t.volatileSize;
    return n;
  }

  // ---------------------------------------------------------------------------
  // Access data. Under an LFU policy an item's access field holds minutes
  // since start-up and the LFU counter, otherwise ticks of 1/256 s; like
  // Redis's lru field it changes meaning with the policy, and after a switch
  // the old values read as noise until keys are touched again.

  now(): number {
    return this.hooks.now();
  }

  ticksAt(ms: number): number {
    return Math.floor((ms - this.epoch) * TICKS_PER_MS) >>> 0;
  }

  private minutesAt(ms: number): number {
    return Math.floor((ms - this.epoch) / 60000) & 0xffffff;
  }

  /** The access field of an item accessed now (a new item: counter at its initial value). */
  private freshAccess(nowMs: number, counter = LFU_INIT_VAL): number {
    return this.lfu === null ? this.ticksAt(nowMs) : ((this.minutesAt(nowMs) << 8) | counter) >>> 0;
  }

  /** Records an access: the time, the LFU counter under an LFU policy, SIEVE's visited bit. */
  touch(ref: number, nowMs: number): void {
    const items = this.items;
    const lfu = this.lfu;
    if (lfu === null) items.setAccess(ref, this.ticksAt(nowMs));
    else items.setAccess(ref, this.freshAccess(nowMs, lfuIncremented(this.lfuCounter(ref, nowMs), lfu)));
    items.markVisited(ref);
  }

  /** Milliseconds since item `ref` was last accessed (minute resolution under LFU). */
  idleMs(ref: number, nowMs: number): number {
    const a = this.items.access(ref);
    if (this.lfu === null) return ((this.ticksAt(nowMs) - a) >>> 0) / TICKS_PER_MS;
    return (((this.minutesAt(nowMs) - (a >>> 8)) & 0xffffff) * 60000);
  }

  /** The LFU counter after the decay due by now (meaningful under an LFU policy). */
  lfuCounter(ref: number, nowMs: number): number {
    const counter = this.items.access(ref) & 0xff;
    return this.lfu === null ? counter : lfuDecayed(counter, this.idleMs(ref, nowMs) / 60000, this.lfu);
  }

  // ---------------------------------------------------------------------------
  // Pins: handles a command holds are neither evicted nor moved under it.

  pin(ref: number): void {
    if (this.pinCount === this.pins.length) {
      const p = new Uint32Array(this.pins.length * 2);
      p.set(this.pins);
      this.pins = p;
    }
    this.pins[this.pinCount++] = ref;
  }

  unpinAll(): void {
    this.pinCount = 0;
  }

  isPinned(ref: number): boolean {
    for (let i = 0; i < this.pinCount; i++) if (this.pins[i] === ref) return true;
    return this.leases.size !== 0 && this.leased(ref);
  }

  // Leases (KV.PIN): an item is kept from eviction until a time, so that a
  // client that found it can read it next. A leased item is pinned: it is
  // not moved either, so its ref stays its name until a write moves it
  // (rewire carries the lease along) or it is freed.
  private readonly leases = new Map<number, number>();

  /** Keeps item `ref` from eviction until `untilMs` (a later lease wins). */
  lease(ref: number, untilMs: number): void {
    const cur = this.leases.get(ref);
    if (cur === undefined || cur < untilMs) this.leases.set(ref, untilMs);
  }

  get leaseCount(): number { return this.leases.size; }

  private leased(ref: number): boolean {
    const until = this.leases.get(ref);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.leases.delete(ref);
    return false;
  }

  // ---------------------------------------------------------------------------
  // Building and freeing items.

  /**
   * A new item holding `key` and `value`, linked at the head of the queue but
   * in no index yet. `ext` reserves room for an expiry. May evict other items;
   * throws OutOfMemoryError when no memory can be had.
   */
  createItem(table: number, key: Buffer, type: number, value: Buffer | number, ext: boolean, nowMs: number): number {
    const items = this.items;
    // A length instead of bytes: the value is left for the caller to write (KV.PUT writes it in place).
    const vlen = typeof value === 'number' ? value : value.length;
    let size = itemSize(key.length, vlen, ext);
    let flags = ext ? F_EXT : 0;
    let blockId = 0;
    if (vlen > MAX_INLINE_VALUE || size > this.slabs.maxChunk) {
      size = this.checkKeyFits(key.length, ext);
      flags |= F_LARGE;
      blockId = this.addBlock(vlen, vlen);
    }
    let ref: number;
    try {
      ref = this.allocChunk(size);
    } catch (e) {
      if (blockId !== 0) this.large.remove(blockId);
      throw e;
    }
    items.init(ref, key, type, blockId !== 0 ? 4 : vlen, flags, table, this.freshAccess(nowMs));
    const at = items.valueStart(ref);
    if (blockId !== 0) {
      items.buf(ref).writeUInt32LE(blockId, at);
      if (typeof value !== 'number') value.copy(this.large.get(blockId).buf, 0);
    } else if (typeof value !== 'number') {
      copyBytes(value, 0, vlen, items.buf(ref), at);
    }
    this.linkNewest(ref);
    this.pin(ref);
    return ref;
  }

  /** Frees an item its table has already unlinked. */
  freeItem(ref: number): void {
    const items = this.items;
    this.policy.forget?.(ref);
    if (this.leases.size !== 0) this.leases.delete(ref);
    this.unqueue(ref);
    if (items.isLarge(ref)) this.large.remove(items.largeId(ref));
    this.itemCount--;
    this.slabs.release(ref);
  }

  private linkNewest(ref: number): void {
    this.enqueue(ref, false);
    this.itemCount++;
    this.policy.inserted?.(ref);
  }

  /** Links an item at the head of the first queue, or of the main queue. */
  private enqueue(ref: number, main: boolean): void {
    const items = this.items;
    items.setFlag(ref, F_MAIN, main);
    const head = main ? this.mainHead : this.head;
    items.setOlder(ref, head);
    items.setNewer(ref, 0);
    if (head !== 0) items.setNewer(head, ref);
    else if (main) this.mainTail = ref;
    else this.tail = ref;
    if (main) {
      this.mainHead = ref;
      this.mainCount++;
    } else {
      this.head = ref;
      this.queueCount++;
    }
  }

  private unqueue(ref: number): void {
    const items = this.items;
    const older = items.older(ref);
    const newer = items.newer(ref);
    const main = items.inMain(ref);
    this.pointNeighbours(older, newer, main, newer, older);
    if (main) this.mainCount--;
    else this.queueCount--;
  }

  /**
   * In an item's queue, its older neighbour (or the tail, when it has none)
   * now names `fromOlder`, and its newer one (or the head) `fromNewer`.
   */
  private pointNeighbours(older: number, newer: number, main: boolean, fromOlder: number, fromNewer: number): void {
    const items = this.items;
    if (older !== 0) items.setNewer(older, fromOlder);
    else if (main) this.mainTail = fromOlder;
    else this.tail = fromOlder;
    if (newer !== 0) items.setOlder(newer, fromNewer);
    else if (main) this.mainHead = fromNewer;
    else this.head = fromNewer;
  }

  /** Moves an item to the head of the first or the main queue (S3-FIFO's promotion and reinsertion). */
  requeue(ref: number, main: boolean): void {
    this.unqueue(ref);
    this.enqueue(ref, main);
  }

  /** Switches eviction policy; a policy without a main queue gets its items back at the old end of the first. */
  setPolicy(policy: EvictionPolicy): void {
    this.policy.dispose?.();
    this.policy = policy;
    if (policy.usesMainQueue || this.mainCount === 0) return;
    const items = this.items;
    for (let r = this.mainHead; r !== 0; r = items.older(r)) items.setFlag(r, F_MAIN, false);
    if (this.tail !== 0) {
      items.setNewer(this.mainHead, this.tail);
      items.setOlder(this.tail, this.mainHead);
    } else {
      this.head = this.mainHead;
    }
    this.tail = this.mainTail;
    this.queueCount += this.mainCount;
    this.mainHead = this.mainTail = this.mainCount = 0;
  }

  private checkKeyFits(keyLen: number, ext: boolean): number {
    const size = itemSize(keyLen, 4, ext);
    if (size > this.slabs.maxChunk) throw new KeyTooLongError(this.slabs.maxChunk - itemSize(0, 4, true) - 4);
    return size;
  }

  // ---------------------------------------------------------------------------
  // Values: reading, writing in place, resizing.

  valueLength(ref: number): number {
    const items = this.items;
    return items.isLarge(ref) ? this.large.get(items.largeId(ref)).len : items.inlineLength(ref);
  }

  valueSpan(ref: number): ByteSpan {
    const s = this.span;
    const items = this.items;
    if (items.inlineValue(ref, s)) {
      s.block = null;
      return s;
    }
    const b = this.large.get(items.largeId(ref));
    s.buf = b.buf;
    s.start = 0;
    s.end = b.len;
    s.block = b;
    return s;
  }

  /** The value's bytes to change in place; a large block with queued views is copied first. */
  writableSpan(ref: number): ByteSpan {
    const items = this.items;
    if (items.isLarge(ref)) {
      const id = items.largeId(ref);
      const b = this.large.get(id);
      if (b.readers > 0) {
        const copy = Buffer.allocUnsafeSlow(b.buf.length);
        b.buf.copy(copy, 0, 0, b.len);
        this.large.swap(id, copy);
      }
    }
    return this.valueSpan(ref);
  }

  /**
   * Gives item `ref` a value of `len` bytes keeping the first `keep` bytes of
   * the old one; bytes from `keep` on are zero when `zero`, else undefined
   * (the caller writes them). `grow`: leave room for more growth (APPEND).
   * Returns the item's ref, which changes when it had to move. May evict
   * other items and throw OutOfMemoryError; then the item is unchanged.
   */
  resizeValue(ref: number, len: number, keep: number, zero: boolean, grow: boolean): number {
    const items = this.items;
    const ext = items.hasExt(ref);
    const oldLen = this.valueLength(ref);
    if (keep > oldLen) keep = oldLen;
    if (keep > len) keep = len;
    const inlineSize = itemSize(items.keyLength(ref), len, ext);
    const large = items.isLarge(ref);
    if (len <= MAX_INLINE_VALUE && inlineSize <= this.slabs.maxChunk) {
      if (!large && this.slabs.classFor(inlineSize) === this.slabs.classOf(ref)) {
        items.setInlineLength(ref, len);
        if (zero && len > keep) items.buf(ref).fill(0, items.valueStart(ref) + keep, items.valueStart(ref) + len);
        return ref;
      }
      // Into a chunk of another class (or out of a large block into a chunk).
      const to = this.allocChunk(inlineSize);
      const from = this.valueSpan(ref);
      const prefix = items.valueStart(ref) - items.off(ref);
      items.copy(ref, to, prefix);
      const at = items.off(to) + prefix;
      from.buf.copy(items.buf(to), at, from.start, from.start + keep);
      if (zero && len > keep) items.buf(to).fill(0, at + keep, at + len);
      if (large) {
        this.large.remove(items.largeId(ref));
        items.setFlag(to, F_LARGE, false);
      }
      items.setInlineLength(to, len);
      this.rewire(ref, to);
      this.slabs.release(ref);
      return to;
    }
    if (!large) return this.moveToBlock(ref, len, keep, zero, grow);
    const id = items.largeId(ref);
    const b = this.large.get(id);
    const cap = b.buf.length;
    // Bytes past the old length are read by nobody: growing in place is safe even with queued views.
    const inPlace = len <= cap && len >= cap * SHRINK_BELOW && (b.readers === 0 || (len >= oldLen && keep >= oldLen));
    if (!inPlace) {
      const size = grow ? grownCapacity(len) : len;
      if (!this.reserve(size - cap)) throw new OutOfMemoryError();
      const buf = Buffer.allocUnsafeSlow(size);
      b.buf.copy(buf, 0, 0, keep);
      this.large.swap(id, buf);
    }
    const block = this.large.get(id);
    if (zero && len > keep) block.buf.fill(0, keep, len);
    block.len = len;
    return ref;
  }

  /** Moves an inline value into a new large block; the item shrinks to its header, key and block id. */
  private moveToBlock(ref: number, len: number, keep: number, zero: boolean, grow: boolean): number {
    const items = this.items;
    const size = this.checkKeyFits(items.keyLength(ref), items.hasExt(ref));
    const id = this.addBlock(grow ? grownCapacity(len) : len, len);
    let to: number;
    try {
      to = this.allocChunk(size);
    } catch (e) {
      this.large.remove(id);
      throw e;
    }
    const buf = this.large.get(id).buf;
    const from = this.valueSpan(ref);
    from.buf.copy(buf, 0, from.start, from.start + keep);
    if (zero && len > keep) buf.fill(0, keep, len);
    const prefix = items.valueStart(ref) - items.off(ref);
    items.copy(ref, to, prefix);
    items.buf(to).writeUInt32LE(id, items.off(to) + prefix);
    items.setFlag(to, F_LARGE, true);
    items.setInlineLength(to, 4);
    this.rewire(ref, to);
    this.slabs.release(ref);
    return to;
  }

  /** Gives an item the EXT fields (room for an expiry). Returns its ref, new when it moved. */
  addExt(ref: number): number {
    const items = this.items;
    if (items.hasExt(ref)) return ref;
    this.checkKeyFits(items.keyLength(ref), true);
    // An inline value that would no longer fit with the EXT fields goes to a block first.
    if (items.size(ref) + EXT_BYTES > this.slabs.maxChunk && !items.isLarge(ref)) {
      const len = items.inlineLength(ref);
      ref = this.moveToBlock(ref, len, len, false, false);
    }
    const oldSize = items.size(ref);
    const size = oldSize + EXT_BYTES;
    const o = items.off(ref);
    if (this.slabs.classFor(size) === this.slabs.classOf(ref)) {
      // Room in the chunk: shift the key and value up.
      const b = items.buf(ref);
      b.copy(b, o + HEADER + EXT_BYTES, o + HEADER, o + oldSize);
      items.setFlag(ref, F_EXT, true);
      items.setExpire(ref, 0);
      items.setVpos(ref, 0);
      return ref;
    }
    const to = this.allocChunk(size);
    items.copy(ref, to, HEADER);
    items.buf(ref).copy(items.buf(to), items.off(to) + HEADER + EXT_BYTES, o + HEADER, o + oldSize);
    items.setFlag(to, F_EXT, true);
    items.setExpire(to, 0);
    items.setVpos(to, 0);
    this.rewire(ref, to);
    this.slabs.release(ref);
    return to;
  }

  /**
   * The item `ref` under a new key, in a new chunk, keeping value, type, TTL
   * and access data (RENAME). Its table has unlinked it and links the result.
   */
  rekey(ref: number, key: Buffer): number {
    const items = this.items;
    const ext = items.hasExt(ref);
    this.checkKeyFits(key.length, true);
    let vbytes = items.inlineLength(ref);
    let flags = items.flags(ref);
    let blockId = 0;
    const vs = items.valueStart(ref);
    if (!items.isLarge(ref) && itemSize(key.length, vbytes, ext) > this.slabs.maxChunk) {
      // The value no longer fits beside the longer key: it goes to a block.
      blockId = this.addBlock(vbytes, vbytes);
      items.buf(ref).copy(this.large.get(blockId).buf, 0, vs, vs + vbytes);
      flags |= F_LARGE;
    }
    let to: number;
    try {
      to = this.allocChunk(itemSize(key.length, blockId !== 0 ? 4 : vbytes, ext));
    } catch (e) {
      if (blockId !== 0) this.large.remove(blockId);
      throw e;
    }
    items.init(to, key, items.type(ref), blockId !== 0 ? 4 : vbytes, flags, items.table(ref), items.access(ref));
    items.setOlder(to, items.older(ref));
    items.setNewer(to, items.newer(ref));
    if (ext) {
      items.setExpireExact(to, items.expireAtExact(ref));
      items.setVpos(to, items.vpos(ref));
    }
    if (blockId !== 0) items.buf(to).writeUInt32LE(blockId, items.valueStart(to));
    else items.buf(ref).copy(items.buf(to), items.valueStart(to), vs, vs + vbytes);
    this.replaceInQueue(ref, to);
    this.slabs.release(ref);
    return to;
  }

  // ---------------------------------------------------------------------------
  // Memory.

  /** A chunk for `size` bytes: a free one, a new slab, units taken from another class, or evictions. */
  private allocChunk(size: number): number {
    const slabs = this.slabs;
    const cls = slabs.classFor(size);
    const units = slabs.unitsPerSlab[cls];
    for (;;) {
      const ref = slabs.alloc(cls);
      if (ref !== 0) return ref;
      const pinned = this.pins.subarray(0, this.pinCount);
      if (slabs.reclaimFromIdleClass(units, this.mover, pinned)) continue;
      // The thorough search costs a walk over slabs: after one that found nothing,
      // the next waits until another unit's worth of chunks has gone idle.
      const idle = this.idleChunkBytes();
      if (idle >= units * slabs.unitSize && idle >= this.runSearchAt) {
        if (slabs.reclaimRun(units, this.mover, pinned)) continue;
        this.runSearchAt = this.idleChunkBytes() + slabs.unitSize;
      } else if (idle < this.runSearchAt - slabs.unitSize) {
        // Idle memory was used up meanwhile: the next search may come sooner.
        this.runSearchAt = idle + slabs.unitSize;
      }
      if (!this.evictOne()) throw new OutOfMemoryError();
    }
  }

  /** Idle chunk bytes at which allocChunk next searches for a run to compact (see there). */
  private runSearchAt = 0;

  private addBlock(capacity: number, len: number): number {
    if (!this.reserve(capacity)) throw new OutOfMemoryError();
    try {
      return this.large.add(capacity, len);
    } catch {
      throw new OutOfMemoryError();
    }
  }

  /**
   * Makes room for `bytes` more outside the slabs (an index array, a large
   * block): gives idle pages back, compacts a page free, evicts. False when
   * nothing more can be freed.
   */
  reserve(bytes: number): boolean {
    // Compacting a page free scans every page: try it when enough is idle, and again only once more is.
    let retryAt = this.slabs.pageSize;
    while (!this.hooks.mayGrow(bytes)) {
      if (this.dropEmptyPage()) continue;
      const idle = this.idleChunkBytes();
      if (idle >= retryAt) {
        if (this.compactPage()) continue;
        retryAt = idle + this.slabs.pageSize / 4;
      }
      if (!this.evictOne()) return false;
    }
    return true;
  }

  /**
   * Gives back one page without evicting: an empty one, or one emptied by
   * moving its chunks into idle chunks elsewhere (tried when at least
   * `minIdle` bytes of chunks are idle).
   */
  releaseIdle(minIdle = this.slabs.pageSize): boolean {
    return this.dropEmptyPage() || (this.idleChunkBytes() >= minIdle && this.compactPage());
  }

  private dropEmptyPage(): boolean {
    return this.slabs.emptyPages > 0 && this.slabs.dropEmptyPage();
  }

  /** Empties a page by moving its chunks (pinned ones stay put) and drops it. */
  private compactPage(): boolean {
    return this.slabs.reclaimPage(this.mover, this.pins.subarray(0, this.pinCount)) && this.slabs.dropEmptyPage();
  }

  /** Bytes of chunks in slabs that hold no item. */
  idleChunkBytes(): number {
    let n = 0;
    const slabs = this.slabs;
    for (let c = 0; c < slabs.classCount; c++) n += slabs.free(c) * slabs.sizes[c];
    return n;
  }

  /** Evicts the policy's next victim, or trims it; false when there is none. */
  evictOne(): boolean {
    const v = this.policy.victim();
    if (v === 0) return false;
    const table = this.tables[this.items.table(v)];
    // A big value the owner can shorten gives back its tail first; it stays a candidate for the next round.
    if (this.hooks.trim !== undefined && this.items.isLarge(v) && this.hooks.trim(table, v)) {
      this.trims++;
      return true;
    }
    this.hooks.evicting(table, v);
    this.classEvictions[this.slabs.classOf(v)]++;
    this.evictions++;
    table.removeRef(v);
    return true;
  }

  /** Values shortened instead of evicted (kv-tail-trim). */
  trims = 0;

  /**
   * Cuts item `ref`'s large value to its first `len` bytes and gives the rest
   * back: the block is copied into one of exactly `len` bytes. Allocates
   * nothing from the slabs, so eviction may call it. Returns the bytes freed.
   */
  shrinkBlock(ref: number, len: number): number {
    const id = this.items.largeId(ref);
    const cap = this.large.get(id).buf.length;
    if (len >= cap) return 0;
    const buf = Buffer.allocUnsafeSlow(len);
    this.large.get(id).buf.copy(buf, 0, 0, len);
    this.large.swap(id, buf);
    this.large.get(id).len = len;
    return cap - len;
  }

  /** Moves a live item to another chunk of its class (compaction); false when it may not or cannot. */
  private relocate(from: number): boolean {
    if (this.isPinned(from)) return false;
    const to = this.slabs.alloc(this.slabs.classOf(from));
    if (to === 0) return false;
    this.items.copy(from, to, this.items.size(from));
    this.rewire(from, to);
    this.slabs.release(from);
    return true;
  }

  /** Points everything that names item `from` (index, TTL array, queue, policy, pins) at `to`. */
  private rewire(from: number, to: number): void {
    this.tables[this.items.table(to)].relink(from, to);
    this.replaceInQueue(from, to);
  }

  private replaceInQueue(from: number, to: number): void {
    const items = this.items;
    this.pointNeighbours(items.older(to), items.newer(to), items.inMain(to), to, to);
    this.policy.moved?.(from, to);
    for (let i = 0; i < this.pinCount; i++) if (this.pins[i] === from) this.pins[i] = to;
    if (this.leases.size !== 0) {
      const until = this.leases.get(from);
      if (until !== undefined) {
        this.leases.delete(from);
        this.leases.set(to, until);
      }
    }
  }

  /**
   * Bytes of memory the store let go of (pages, large blocks, index arrays)
   * since the last call. They live in ArrayBuffers that return to the system
   * only when the runtime collects them.
   */
  takeDroppedBytes(): number {
    const n = this.droppedBytes + this.slabs.droppedBytes + this.large.droppedBytes;
    this.droppedBytes = this.slabs.droppedBytes = this.large.droppedBytes = 0;
    return n;
  }

  /** Frees everything at once (FLUSHALL): every table must be cleared by its owner right after. */
  reset(): void {
    this.droppedBytes += this.slabs.pageBytes + this.large.bytes;
    this.slabs.reset();
    this.large.clear();
    this.head = this.tail = this.queueCount = 0;
    this.mainHead = this.mainTail = this.mainCount = 0;
    this.itemCount = 0;
    this.pinCount = 0;
    this.leases.clear();
  }

  /** Largest idle time (ms) among the items of a class, looking at up to `maxSlabs` of its slabs. */
  oldestIdleMs(cls: number, nowMs: number, maxSlabs: number): number {
    let max = 0;
    this.slabs.forEachLive(cls, (ref) => {
      const idle = this.idleMs(ref, nowMs);
      if (idle > max) max = idle;
    }, maxSlabs);
    return max;
  }
}
