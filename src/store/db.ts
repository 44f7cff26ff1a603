// A Redis database (SELECT n): one index over the shared keyspace, with lazy
// expiry, keyspace statistics, and the events that tell WATCH a key changed
// (so every write is seen without each command signalling it). With Store,
// it is the only door into the store: nothing above store/ reaches further.
//
// Handles are items' refs (see key-index.ts for how long one stays valid).
// Every handle a lookup returns is pinned until the next command starts, so
// that an eviction or compaction a later write of the same command triggers
// never moves or frees it.

import type { KeyIndex } from './key-index.js';
import type { Keyspace } from './keyspace.js';
import { OutOfMemoryError } from './errors.js';
import { LOOKUP_NOTOUCH, ValueType, type ByteSpan, type KeyspaceStats } from './types.js';

/** What a database needs of the store that holds it (store.ts). */
export interface DbContext {
  readonly stats: KeyspaceStats;
  /** The store's clock, in ms: every lookup of a command, or of a pipeline read at once, agrees on "now". */
  now(): number;
  /** After a key's value or expiry changed or it was deleted (WATCH). */
  keyModified(db: Db, key: Buffer): void;
  /** keyModified in a db nobody WATCHes: the change counted without a Buffer of the key (a load adds millions). */
  unwatchedKeyModified(db: Db): void;
  /**
   * *Before* the whole database changes at once: FLUSHDB/FLUSHALL
   * (replacedWith undefined) or SWAPDB (replacedWith is the db whose contents
   * `db` is about to get). Being told first lets WATCH do what Redis does:
   * dirty a watcher only if its key exists in `db` now or in `replacedWith`.
   */
  dbModified(db: Db, replacedWith?: Db): void;
}

export class Db {
  /** Number of WATCHes on keys of this db, kept by the transaction layer (events skip work when 0). */
  watchers = 0;

  constructor(
    readonly id: number,
    private index: KeyIndex,
    private readonly ks: Keyspace,
    private readonly ctx: DbContext,
  ) {}

  get size(): number { return this.index.size; }
  get volatileSize(): number { return this.index.volatileSize; }
  /** The index this database uses now (SWAPDB exchanges them); the store's to know. */
  get indexId(): number { return this.index.id; }

  /** The clock expiry decisions use. */
  now(): number { return this.ctx.now(); }

  // ---------------------------------------------------------------------------
  // Lookups

  /**
   * Handle of a live key or -1; an expired key is deleted first. Does not
   * touch statistics: use lookupRead for commands that read.
   */
  find(key: Buffer): number {
    const t = this.index;
    const h = t.find(key);
    if (h < 0) return -1;
    const at = t.expireAt(h);
    if (at !== 0 && at <= this.ctx.now()) {
      this.expire(h, key);
      return -1;
    }
    this.ks.pins.pin(h);
    return h;
  }

  /**
   * Lookup for reading: counts a hit or a miss and, unless LOOKUP_NOTOUCH is
   * in `flags` (EXISTS, TYPE, TTL), updates the access time.
   */
  lookupRead(key: Buffer, flags = 0): number {
    const h = this.find(key);
    if (h < 0) {
      this.ctx.stats.keyspaceMisses++;
      return -1;
    }
    this.ctx.stats.keyspaceHits++;
    if ((flags & LOOKUP_NOTOUCH) === 0) this.touch(h);
    return h;
  }

  /** Lookup for writing: no statistics, but updates the access time. */
  lookupWrite(key: Buffer): number {
    const h = this.find(key);
    if (h >= 0) this.touch(h);
    return h;
  }

  /**
   * A key's expiry as it is, without deleting an expired key, counting or
   * pinning: -1 when absent, 0 without a TTL, else the time in ms (WATCH and
   * EXEC look at keys this way, as Redis's watch code does).
   */
  peekExpireAt(key: Buffer): number {
    const h = this.index.find(key);
    return h < 0 ? -1 : this.index.expireAt(h);
  }

  /**
   * Handle of an entry, logically expired or not, or -1: nothing is deleted,
   * counted or pinned, so read it before the next store call (DEBUG
   * DIGEST-VALUE sees expired keys, as Redis's does).
   */
  peek(key: Buffer): number {
    return this.index.find(key);
  }

  /** Deletes `key` if its time has come; true when it did (SCAN's filter, as Redis's expireIfNeeded). */
  expireIfDue(key: Buffer): boolean {
    const h = this.index.find(key);
    if (h < 0) return false;
    const at = this.index.expireAt(h);
    if (at === 0 || at > this.ctx.now()) return false;
    this.expire(h, key);
    return true;
  }

  /** Records an access: the time (LRU) or, under an LFU policy, the counter; SIEVE's visited bit. */
  touch(h: number): void {
    this.index.touch(h, this.ctx.now());
  }

  exists(key: Buffer): boolean { return this.find(key) >= 0; }

  // ---------------------------------------------------------------------------
  // Reading an entry by handle

  /** The value bytes as a view into store memory: read it before the next write, copy it to keep it. */
  value(h: number): Buffer { return this.index.value(h); }
  /** The value's bytes without making a view (replies): valid until the next store call. */
  valueSpan(h: number): ByteSpan { return this.index.valueSpan(h); }
  /** valueSpan into a span of the caller's: a snapshot reading between a command's steps leaves the command's span alone. */
  valueSpanInto(h: number, s: ByteSpan): ByteSpan { return this.ks.valueSpanInto(h, s); }
  valueLength(h: number): number { return this.index.valueLength(h); }
  type(h: number): ValueType { return this.index.type(h); }
  /** The key bytes, as a view: read them before the next write. */
  key(h: number): Buffer { return this.index.key(h); }
  /** The key's bytes as a span, without making a view (a snapshot's walk writes millions). */
  keyInto(h: number, s: ByteSpan): ByteSpan { return this.index.keyInto(h, s); }
  /** Absolute expiry in ms, 0 for none (nearest double beyond 2^53: see expireAtExact). */
  expireAt(h: number): number { return this.index.expireAt(h); }
  /** The exact int64 expiry, 0n for none. */
  expireAtExact(h: number): bigint { return this.index.expireAtExact(h); }
  /** Milliseconds since the entry was last accessed (minute resolution under an LFU policy). */
  idleMs(h: number): number { return this.index.idleMs(h, this.ctx.now()); }
  /** The LFU counter after its decay (meaningful under an LFU policy). */
  lfuCounter(h: number): number { return this.index.lfuCounter(h, this.ctx.now()); }
  /** Bytes the entry uses (MEMORY USAGE): its chunk, its share of the index, a large block. */
  entryBytes(h: number): number { return this.index.entryBytes(h); }
  /**
   * A loaded or restored entry's access data, as a dump or RESTORE gives it:
   * idle seconds (LRU) or the LFU counter; -1 for what is not given.
   */
  restoreAccess(h: number, idleSeconds: number, freq: number): void {
    this.ks.access.restore(h, this.ctx.now(), idleSeconds, freq);
  }

  /** Keeps the entry from eviction until `untilMs` on the store's clock (KV.PIN). */
  lease(h: number, untilMs: number): void { this.ks.pins.lease(h, untilMs); }

  // ---------------------------------------------------------------------------
  // Writing

  /**
   * Sets `key` to a string value. `expireAt` is absolute ms, 0 for none, or
   * -1 to keep the current expiry (KEEPTTL).
   */
  setString(key: Buffer, value: Buffer, expireAt = 0): void {
    this.setValue(key, ValueType.String, value, expireAt);
  }

  setValue(key: Buffer, type: ValueType, value: Buffer, expireAt = 0): void {
    const t = this.index;
    const now = this.ctx.now();
    const h = this.find(key);
    if (h < 0) {
      t.insert(key, type, value, expireAt > 0 ? expireAt : 0, now);
    } else {
      const nh = t.replace(h, type, value, now);
      if (expireAt !== -1) t.setExpireAt(nh, expireAt);
    }
    this.ctx.keyModified(this, key);
  }

  /**
   * Makes sure the strings argv[first], argv[first + 1] (key, value), ...
   * can all be stored, evicting first as the policy allows, or throws
   * OutOfMemoryError before anything changes: MSET is all or nothing.
   */
  reserveStrings(argv: Buffer[], first: number): void {
    // Without maxmemory every write fits: nothing to work out.
    if (!this.ks.budgeted) return;
    const pairs: number[] = [];
    for (let i = first; i + 1 < argv.length; i += 2) pairs.push(argv[i].length, argv[i + 1].length);
    if (!this.ks.reserveItems(pairs, this.index.growthBytes((argv.length - first) / 2))) throw new OutOfMemoryError();
  }

  /** Sizes the empty database's index for `n` keys (loading a dump that says how many it holds). */
  expand(n: number): void { this.index.expand(n); }

  /**
   * Adds a key known to be absent (MOVE, COPY) with an exact expiry (0n for
   * none). The bytes are copied. Returns the handle.
   */
  add(key: Buffer, type: ValueType, value: Buffer, expireAt: bigint = 0n): number {
    const t = this.index;
    let h = t.insert(key, type, value, 0, this.ctx.now());
    if (expireAt !== 0n) h = t.setExpireAtExact(h, expireAt);
    this.ctx.keyModified(this, key);
    return h;
  }

  /**
   * Adds key[start, end) unless the database holds it (loading a dump: the
   * check and the insert are one walk of the key's bucket). `value` is the
   * bytes, copied, or a length for the caller to write through writable(h)
   * before the next store call; `expireAt` exact ms, 0n for none. Returns the
   * handle, or -1 when the key is there, expired or not (find tells which).
   */
  addAbsent(key: Buffer, start: number, end: number, type: ValueType, value: Buffer | number, expireAt: bigint): number {
    const h = this.index.insertAbsent(key, start, end, type, value, expireAt, this.ctx.now());
    if (h < 0) return -1;
    if (this.watchers > 0) this.ctx.keyModified(this, this.index.key(h));
    else this.ctx.unwatchedKeyModified(this);
    return h;
  }

  /**
   * Warns the database that the keys buf[starts[i], ends[i]) (i < count) are
   * about to be looked up, one after another: their buckets are read into the
   * cache together (see KeyIndex.prefetch). Changes nothing.
   */
  prefetch(buf: Buffer, starts: Uint32Array, ends: Uint32Array, count: number): void {
    this.index.prefetch(buf, starts, ends, count);
  }

  /**
   * The value's bytes to change in place (SETBIT, SETRANGE); call
   * valueChanged afterwards. Valid until the next store call.
   */
  writable(h: number): ByteSpan { return this.index.writableSpan(h); }

  /**
   * The bytes of the value were changed in place (SETBIT, SETRANGE within the
   * current length): no copy, but WATCH must still see the write.
   */
  valueChanged(h: number): void {
    this.ctx.keyModified(this, this.index.key(h));
  }

  /**
   * Gives a live entry's value `len` bytes, keeping the old bytes that fit (or
   * only the first `keep`); new bytes are zero with RESIZE_ZERO in `how`
   * (SETRANGE, SETBIT), or left for the caller to write (APPEND, which asks
   * RESIZE_GROW for room to grow). Returns the handle.
   */
  resize(h: number, len: number, how = 0, keep?: number): number {
    return this.index.resizeValue(h, len, how, keep);
  }

  /**
   * Sets `key` to a value of `type` and `len` bytes for the caller to write
   * through writable(h) before the next store call (KV.PUT: the payload is
   * copied once, into the store). `expireAt` as for setValue. Returns the handle.
   */
  setValueSized(key: Buffer, type: ValueType, len: number, expireAt = 0): number {
    const t = this.index;
    const now = this.ctx.now();
    let h = this.find(key);
    if (h < 0) {
      h = t.insertSized(key, type, len, expireAt > 0 ? expireAt : 0, now);
    } else {
      h = t.replaceSized(h, type, len, now);
      if (expireAt !== -1) h = t.setExpireAt(h, expireAt);
    }
    this.ctx.keyModified(this, key);
    return h;
  }

  /** See KeyIndex.shrinkLarge; the entry counts as modified. */
  shrinkLarge(h: number, len: number): number {
    const freed = this.index.shrinkLarge(h, len);
    if (freed > 0) this.ctx.keyModified(this, this.index.key(h));
    return freed;
  }

  /** Replaces the value of a live entry (INCR), keeping its expiry. */
  overwrite(h: number, value: Buffer): void {
    const nh = this.index.replace(h, this.index.type(h), value, this.ctx.now());
    this.ctx.keyModified(this, this.index.key(nh));
  }

  /**
   * Renames a live entry to `newKey`, which must be absent (delete it first),
   * keeping value and expiry. Both names count as modified.
   */
  rename(h: number, newKey: Buffer): number {
    // The entry's key buffer is replaced by rename; this one stays valid for the event.
    const oldKey = this.index.key(h);
    const nh = this.index.rename(h, newKey);
    this.ctx.keyModified(this, oldKey);
    this.ctx.keyModified(this, newKey);
    return nh;
  }

  delete(key: Buffer): boolean {
    const h = this.find(key);
    if (h < 0) return false;
    this.removeEntry(h);
    return true;
  }

  /** Deletes a live entry by handle. */
  removeEntry(h: number): void {
    // The key's bytes stay intact until the next insert (KeyIndex.key): the event may read them.
    const key = this.index.key(h);
    this.index.remove(h);
    this.ctx.keyModified(this, key);
  }

  /** Sets the absolute expiry (ms) of a live entry; 0 removes it. Returns the handle. */
  setExpire(h: number, at: number): number {
    const nh = this.index.setExpireAt(h, at);
    this.ctx.keyModified(this, this.index.key(nh));
    return nh;
  }

  /** setExpire with an exact int64 time (Redis accepts any; doubles stop being exact at 2^53). */
  setExpireExact(h: number, at: bigint): number {
    const nh = this.index.setExpireAtExact(h, at);
    this.ctx.keyModified(this, this.index.key(nh));
    return nh;
  }

  /** Deletes an entry whose time has come (lazy or active expiry). */
  expire(h: number, key: Buffer = this.index.key(h)): void {
    this.index.remove(h);
    this.ctx.stats.expiredKeys++;
    this.ctx.keyModified(this, key);
  }

  flush(): void {
    // The event first: WATCH needs to see which watched keys existed.
    this.ctx.dbModified(this);
    this.index.clear();
  }

  // ---------------------------------------------------------------------------
  // Walking the keys

  /** A random live key, or null. Expired keys met on the way are deleted, as Redis does on a master. */
  randomKey(): Buffer | null {
    // Each miss deletes a key, so this ends: at worst the db empties.
    for (;;) {
      const h = this.index.randomEntry();
      if (h < 0) return null;
      const at = this.index.expireAt(h);
      if (at !== 0 && at <= this.ctx.now()) {
        this.expire(h);
        continue;
      }
      return this.index.key(h);
    }
  }

  /**
   * One step of a SCAN over every entry, expired or not, from `cursor`:
   * visits the entries of one bucket (or two, while a resize runs) and
   * returns the next cursor, 0 when done. `visit` must not write the db.
   */
  scanStep(cursor: number, visit: (h: number) => void): number {
    return this.index.scan(cursor, visit);
  }

  /**
   * One SCAN call over every entry, expired or not (the SCAN command filters
   * as Redis does): steps until `count` entries counted or 10*count steps
   * were made (Redis bounds the work the same way). `visit` returns whether
   * the entry counts toward `count`; it must not write the db.
   */
  scanRaw(cursor: number, count: number, visit: (h: number) => boolean): number {
    const t = this.index;
    let found = 0;
    let steps = count * 10;
    const step = (h: number) => { if (visit(h)) found++; };
    do {
      cursor = t.scan(cursor, step);
    } while (cursor !== 0 && found < count && --steps > 0);
    return cursor;
  }

  /** Visits every entry, expired or not (KEYS). `visit` must not write the db. */
  forEachEntry(visit: (h: number) => void): void {
    let cursor = 0;
    do cursor = this.index.scan(cursor, visit);
    while (cursor !== 0);
  }

  /** The i-th entry with a TTL (0 <= i < volatileSize), for the active expiry cycle's walk. */
  volatileAt(i: number): number { return this.index.volatileAt(i); }

  /** Bytes of the index's bucket arrays and of its array of keys with a TTL (MEMORY STATS). */
  get bucketBytes(): number { return this.index.bucketBytes; }
  get volatileBytes(): number { return this.index.volatileBytes; }

  // ---------------------------------------------------------------------------
  // Housekeeping (the store's)

  /** Exchanges contents with another db (SWAPDB); clients keep their Db objects. Store.swapDbs calls it. */
  exchangeIndex(other: Db): void {
    const t = this.index;
    this.index = other.index;
    other.index = t;
  }

  /** Background work from the cron (incremental rehash) for about `ms`. Returns whether more remains. */
  maintain(ms: number): boolean {
    return this.index.maintain(ms);
  }
}
