// The keyspace: one arena shared by every database. It owns the slab
// allocator and its page mover, the large blocks, the item queues, the access
// clock, the pins and leases, the eviction policy and the memory budget, and
// it builds, moves and frees items. Each database's index (key-index.ts)
// links items by ref; nothing here is a JS object per key.
//
// Memory is a hard budget: an allocation that finds no free chunk first takes
// units from a class that has idle chunks to spare (moving its live chunks
// together), and only then evicts, one policy victim at a time, until the
// chunk can be had. An item the current command holds a handle to is pinned:
// it is neither evicted nor moved until the next command starts.

import { SlabAllocator } from './slabs.js';
import { SlabMover } from './slab-mover.js';
import { Items, itemSize, ITEM_EXT, ITEM_LARGE, ITEM_SNAP, HEADER, EXT_BYTES, MAX_INLINE_VALUE } from './items.js';
import { LargeStore, grownCapacity } from './large.js';
import { randomSeed } from './hash.js';
import { copyBytes } from '../util/bytes.js';
import { AccessClock } from './access-clock.js';
import { Pins } from './pins.js';
import { ItemQueues } from './item-queues.js';
import { KeyTooLongError, OutOfMemoryError } from './errors.js';
import type { EvictionPolicy, PolicyView, TableView } from './eviction/policy.js';
import { RESIZE_GROW, RESIZE_ZERO, type ByteSpan } from './types.js';

/** What the keyspace needs of a database's index (key-index.ts). */
export interface ItemIndex extends TableView {
  /** Item `from` now lives at `to` (same key): its bucket and TTL array entry must name `to`. */
  relink(from: number, to: number): void;
  /** Unlinks and frees item `ref` (eviction). */
  removeRef(ref: number): void;
}

export interface KeyspaceHooks {
  /** Whether the store may hold `bytes` more within maxmemory. */
  mayGrow(bytes: number): boolean;
  /** Item `ref` of index `table` is about to be evicted (statistics, WATCH). */
  evicting(table: number, ref: number): void;
  /**
   * Instead of evicting item `ref` (which holds a large block), give back
   * part of it (kv-tail-trim); true when it did. It may not allocate chunks.
   */
  trim?(table: number, ref: number): boolean;
  /** The store's clock, in ms. */
  now(): number;
}

/** A large block shrinks (is copied into a smaller one) when its value uses less than this share. */
const SHRINK_BELOW = 0.25;
const EMPTY = Buffer.alloc(0);
const NO_EVICTION: EvictionPolicy = { name: 'noeviction', volatileOnly: false, victim: () => 0 };

export class Keyspace implements PolicyView {
  readonly slabs: SlabAllocator;
  private readonly mover: SlabMover;
  readonly items: Items;
  readonly large = new LargeStore();
  readonly tables: ItemIndex[] = [];
  readonly seed = randomSeed();
  readonly queues: ItemQueues;
  readonly access: AccessClock;
  readonly pins: Pins;
  policy: EvictionPolicy = NO_EVICTION;
  itemCount = 0;
  /** Evictions, in all and per slab class. */
  evictions = 0;
  readonly classEvictions: Float64Array;
  /** Values shortened instead of evicted (kv-tail-trim). */
  trims = 0;
  /**
   * The snapshot mark new items get (ITEM_SNAP or 0). A snapshot starts by
   * flipping it: every item there is then differs from it, "yet to write",
   * and items made later match it, so the snapshot leaves them out.
   */
  private snapMark = 0;
  /**
   * While a snapshot runs: called before a write changes or frees an item it
   * has yet to write, so that it writes the old value first. Must not write
   * the store.
   */
  private snapshotHook: ((table: number, ref: number) => void) | null = null;

  /** Bytes of every table's bucket and TTL arrays, and of the policy's own arrays. */
  private metadata = 0;
  /** Bytes of index arrays let go since last asked (see takeDroppedBytes). */
  private dropped = 0;
  /** Returned by valueSpan and writableSpan: read it before the next call. */
  private readonly span: ByteSpan = { buf: EMPTY, start: 0, end: 0, block: null };
  private readonly relocator = (ref: number): boolean => this.relocate(ref);

  constructor(pageSize: number, growthFactor: number, private readonly hooks: KeyspaceHooks) {
    this.slabs = new SlabAllocator(pageSize, growthFactor, (bytes) => hooks.mayGrow(bytes));
    this.mover = new SlabMover(this.slabs);
    this.items = new Items(this.slabs);
    this.queues = new ItemQueues(this.items);
    this.access = new AccessClock(this.items, hooks.now());
    this.pins = new Pins(() => hooks.now());
    this.classEvictions = new Float64Array(this.slabs.classCount);
  }

  /** Bytes held: pages, allocator bookkeeping, indexes, large blocks. */
  get usedBytes(): number {
    return this.slabs.pageBytes + this.slabs.metadataBytes + this.metadata + this.large.bytes;
  }

  /** Bytes of the indexes' arrays (and the policy's), part of usedBytes. */
  get indexBytes(): number { return this.metadata; }

  /** An index or the policy grew (or shrank, negative) its arrays by `bytes`. */
  chargeMetadata(bytes: number): void {
    this.metadata += bytes;
  }

  /** An index let go of an array of `bytes` (it returns to the system once collected). */
  noteDropped(bytes: number): void {
    this.dropped += bytes;
  }

  /** Whether `bytes` more fit within the budget as it is (no eviction). */
  canGrow(bytes: number): boolean {
    return this.hooks.mayGrow(bytes);
  }

  /** Whether there is a budget at all (maxmemory): without one, any size fits. */
  get budgeted(): boolean {
    return !this.hooks.mayGrow(Number.MAX_SAFE_INTEGER);
  }

  get volatileCount(): number {
    let n = 0;
    for (const t of this.tables) n += t.volatileSize;
    return n;
  }

  now(): number {
    return this.hooks.now();
  }

  isPinned(ref: number): boolean {
    return this.pins.isPinned(ref);
  }

  isLive(ref: number): boolean {
    return this.slabs.isLive(ref);
  }

  // ---------------------------------------------------------------------------
  // Building and freeing items.

  /**
   * A new item holding the key key[keyStart, keyStart + keyLen) and `value`,
   * linked at the head of the queue but in no index yet. `ext` reserves room
   * for an expiry. May evict other items; throws OutOfMemoryError when no
   * memory can be had.
   */
  createItem(table: number, key: Buffer, keyStart: number, keyLen: number, type: number, value: Buffer | number, ext: boolean, nowMs: number): number {
    const items = this.items;
    // A length instead of bytes: the value is left for the caller to write (KV.PUT writes it in place).
    const vlen = typeof value === 'number' ? value : value.length;
    let size = itemSize(keyLen, vlen, ext);
    let flags = (ext ? ITEM_EXT : 0) | this.snapMark;
    let blockId = 0;
    if (vlen > MAX_INLINE_VALUE || size > this.slabs.maxChunk) {
      size = this.checkKeyFits(keyLen, ext);
      flags |= ITEM_LARGE;
      blockId = this.addBlock(vlen, vlen);
    }
    let ref: number;
    try {
      ref = this.allocChunk(size);
    } catch (e) {
      if (blockId !== 0) this.large.remove(blockId);
      throw e;
    }
    items.init(ref, key, keyStart, keyLen, type, blockId !== 0 ? 4 : vlen, flags, table, this.access.fresh(nowMs));
    const at = items.valueStart(ref);
    if (blockId !== 0) {
      items.buf(ref).writeUInt32LE(blockId, at);
      if (typeof value !== 'number') value.copy(this.large.get(blockId).buf, 0);
    } else if (typeof value !== 'number') {
      copyBytes(value, 0, vlen, items.buf(ref), at);
    }
    this.queues.link(ref, false);
    this.itemCount++;
    this.policy.inserted?.(ref);
    this.pins.pin(ref);
    return ref;
  }

  /** Frees an item its table has already unlinked. */
  freeItem(ref: number): void {
    const items = this.items;
    this.policy.forget?.(ref);
    this.pins.freed(ref);
    this.queues.unlink(ref);
    if (items.isLarge(ref)) this.large.remove(items.largeId(ref));
    this.itemCount--;
    this.slabs.release(ref);
  }

  /** Switches eviction policy; a policy without a main queue gets its items back at the old end of the first. */
  setPolicy(policy: EvictionPolicy): void {
    this.policy.dispose?.();
    this.policy = policy;
    if (!policy.usesMainQueue) this.queues.mergeMain();
  }

  private checkKeyFits(keyLen: number, ext: boolean): number {
    const size = itemSize(keyLen, 4, ext);
    if (size > this.slabs.maxChunk) throw new KeyTooLongError(this.slabs.maxChunk - itemSize(0, 4, true) - 4);
    return size;
  }

  // ---------------------------------------------------------------------------
  // Snapshots (a BGSAVE's point-in-time walk; see Store.beginSnapshot).

  /** Starts a snapshot: every item now is yet to write; `hook` sees those a write is about to change. */
  beginSnapshot(hook: (table: number, ref: number) => void): void {
    this.snapMark ^= ITEM_SNAP;
    this.snapshotHook = hook;
  }

  /** Ends the snapshot: the hook is no longer called. Items it did not reach must be marked (markAll). */
  endSnapshot(): void {
    this.snapshotHook = null;
  }

  /** Whether the running snapshot has yet to write item `ref`; if so, it is marked written (the caller writes it). */
  takePending(ref: number): boolean {
    if (this.items.snapMark(ref) === this.snapMark) return false;
    this.items.setSnapMark(ref, this.snapMark);
    return true;
  }

  /** Marks item `ref` as written (a snapshot that stopped before reaching it). */
  markWritten(ref: number): void {
    this.items.setSnapMark(ref, this.snapMark);
  }

  /**
   * Every index calls this before it changes or frees an existing item:
   * a snapshot that has yet to write it writes its old value now.
   */
  beforeWrite(ref: number): void {
    const hook = this.snapshotHook;
    if (hook !== null && this.takePending(ref)) hook(this.items.table(ref), ref);
  }

  /** valueSpan into a span of the caller's (the snapshot's reads must not disturb a command's span). */
  valueSpanInto(ref: number, s: ByteSpan): ByteSpan {
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

  // ---------------------------------------------------------------------------
  // Values: reading, writing in place, resizing.

  valueLength(ref: number): number {
    const items = this.items;
    return items.isLarge(ref) ? this.large.get(items.largeId(ref)).len : items.inlineLength(ref);
  }

  valueSpan(ref: number): ByteSpan {
    return this.valueSpanInto(ref, this.span);
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
   * the old one; bytes from `keep` on are zero with RESIZE_ZERO in `how`, else
   * undefined (the caller writes them). RESIZE_GROW: leave room for more
   * growth (APPEND). Returns the item's ref, which changes when it had to
   * move. May evict other items and throw OutOfMemoryError; then the item is
   * unchanged.
   */
  resizeValue(ref: number, len: number, keep: number, how = 0): number {
    const zero = (how & RESIZE_ZERO) !== 0;
    const grow = (how & RESIZE_GROW) !== 0;
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
        items.setFlag(to, ITEM_LARGE, false);
      }
      items.setInlineLength(to, len);
      this.rewire(ref, to);
      this.slabs.release(ref);
      return to;
    }
    if (!large) return this.moveToBlock(ref, len, keep, how);
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
  private moveToBlock(ref: number, len: number, keep: number, how: number): number {
    const zero = (how & RESIZE_ZERO) !== 0;
    const items = this.items;
    const size = this.checkKeyFits(items.keyLength(ref), items.hasExt(ref));
    const id = this.addBlock((how & RESIZE_GROW) !== 0 ? grownCapacity(len) : len, len);
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
    items.setFlag(to, ITEM_LARGE, true);
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
      ref = this.moveToBlock(ref, len, len, 0);
    }
    const oldSize = items.size(ref);
    const size = oldSize + EXT_BYTES;
    const o = items.off(ref);
    if (this.slabs.classFor(size) === this.slabs.classOf(ref)) {
      // Room in the chunk: shift the key and value up.
      const b = items.buf(ref);
      b.copy(b, o + HEADER + EXT_BYTES, o + HEADER, o + oldSize);
      items.setFlag(ref, ITEM_EXT, true);
      items.setExpire(ref, 0);
      items.setVpos(ref, 0);
      return ref;
    }
    const to = this.allocChunk(size);
    items.copy(ref, to, HEADER);
    items.buf(ref).copy(items.buf(to), items.off(to) + HEADER + EXT_BYTES, o + HEADER, o + oldSize);
    items.setFlag(to, ITEM_EXT, true);
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
    // The renamed item is new to a running snapshot: its old self was written before the rename.
    let flags = items.flags(ref) | this.snapMark;
    let blockId = 0;
    const vs = items.valueStart(ref);
    if (!items.isLarge(ref) && itemSize(key.length, vbytes, ext) > this.slabs.maxChunk) {
      // The value no longer fits beside the longer key: it goes to a block.
      blockId = this.addBlock(vbytes, vbytes);
      items.buf(ref).copy(this.large.get(blockId).buf, 0, vs, vs + vbytes);
      flags |= ITEM_LARGE;
    }
    let to: number;
    try {
      to = this.allocChunk(itemSize(key.length, blockId !== 0 ? 4 : vbytes, ext));
    } catch (e) {
      if (blockId !== 0) this.large.remove(blockId);
      throw e;
    }
    items.init(to, key, 0, key.length, items.type(ref), blockId !== 0 ? 4 : vbytes, flags, items.table(ref), items.access(ref));
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
      const pinned = this.pins.pinned();
      if (this.mover.reclaimFromIdleClass(units, this.relocator, pinned)) continue;
      // The thorough search costs a walk over slabs: after one that found nothing,
      // the next waits until another unit's worth of chunks has gone idle.
      const idle = this.idleChunkBytes();
      if (idle >= units * slabs.unitSize && idle >= this.runSearchAt) {
        if (this.mover.reclaimRun(units, this.relocator, pinned)) continue;
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
   * Makes room, evicting as the policy allows, for new items with these key
   * and value lengths (flattened pairs) plus `extraBytes` of index arrays:
   * an upper bound of what writing them all takes, so that a command that
   * writes several (MSET) fails before its first write or not at all.
   * False when the room cannot be had.
   */
  reserveItems(lengths: number[], extraBytes: number): boolean {
    const slabs = this.slabs;
    const chunks = new Map<number, number>();
    let bytes = extraBytes;
    for (let i = 0; i < lengths.length; i += 2) {
      let size = itemSize(lengths[i], lengths[i + 1], false);
      if (lengths[i + 1] > MAX_INLINE_VALUE || size > slabs.maxChunk) {
        bytes += lengths[i + 1];
        size = itemSize(lengths[i], 4, false);
      }
      const cls = slabs.classFor(size);
      // A key too long for any chunk is refused by the write itself.
      if (cls >= 0) chunks.set(cls, (chunks.get(cls) ?? 0) + 1);
    }
    // New slabs for what the classes' free chunks cannot take; one-unit slabs may use units held but idle.
    let oneUnitSlabs = 0;
    for (const [cls, n] of chunks) {
      const short = n - slabs.free(cls);
      if (short <= 0) continue;
      const count = Math.ceil(short / slabs.perSlab[cls]);
      if (slabs.unitsPerSlab[cls] === 1) oneUnitSlabs += count;
      else bytes += count * slabs.unitsPerSlab[cls] * slabs.unitSize;
    }
    bytes += Math.max(0, oneUnitSlabs - slabs.freeUnits()) * slabs.unitSize;
    return bytes <= 0 || this.reserve(bytes);
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
    return this.mover.reclaimPage(this.relocator, this.pins.pinned()) && this.slabs.dropEmptyPage();
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
    const table = this.items.table(v);
    // A big value the owner can shorten gives back its tail first; it stays a candidate for the next round.
    if (this.hooks.trim !== undefined && this.items.isLarge(v) && this.hooks.trim(table, v)) {
      this.trims++;
      return true;
    }
    this.hooks.evicting(table, v);
    this.classEvictions[this.slabs.classOf(v)]++;
    this.evictions++;
    this.tables[table].removeRef(v);
    return true;
  }

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

  /** Item `from` was copied to `to`, header included: whatever named `from` (queue, policy, pins) names `to`. */
  private replaceInQueue(from: number, to: number): void {
    this.queues.replace(to);
    this.policy.moved?.(from, to);
    this.pins.moved(from, to);
  }

  /**
   * Bytes of memory the store let go of (pages, large blocks, index arrays)
   * since the last call. They live in ArrayBuffers that return to the system
   * only when the runtime collects them.
   */
  takeDroppedBytes(): number {
    const n = this.dropped + this.slabs.droppedBytes + this.large.droppedBytes;
    this.dropped = this.slabs.droppedBytes = this.large.droppedBytes = 0;
    return n;
  }

  /** Frees everything at once (FLUSHALL): every table must be cleared by its owner right after. */
  reset(): void {
    this.dropped += this.slabs.pageBytes + this.large.bytes;
    this.slabs.reset();
    this.large.clear();
    this.queues.reset();
    this.itemCount = 0;
    this.pins.reset();
  }

  /** Largest idle time (ms) among the items of a class, looking at up to `maxSlabs` of its slabs. */
  oldestIdleMs(cls: number, nowMs: number, maxSlabs: number): number {
    let max = 0;
    this.slabs.forEachLive(cls, (ref) => {
      const idle = this.access.idleMs(ref, nowMs);
      if (idle > max) max = idle;
    }, maxSlabs);
    return max;
  }
}
