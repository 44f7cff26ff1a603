// A Redis database (SELECT n) on top of a KeyTable: lazy expiry, keyspace
// statistics, and the hooks that tell WATCH a key changed. Commands reach the
// store only through this class.

import { ByteSpan, KeyTable, ValueType } from './keytable.js';
import type { LfuParams } from './lfu.js';

export interface KeyspaceStats {
  keyspaceHits: number;
  keyspaceMisses: number;
  expiredKeys: number;
}

export interface DbHooks {
  stats: KeyspaceStats;
  /** Called after a key's value or expiry changed or it was deleted (WATCH). */
  keyModified(db: Db, key: Buffer): void;
  /**
   * Called *before* the whole database changes at once: FLUSHDB/FLUSHALL
   * (replacedWith undefined) or SWAPDB (replacedWith is the db whose contents
   * `db` is about to get). Being called first lets WATCH do what Redis does:
   * dirty a watcher only if its key exists in `db` now or in `replacedWith`.
   */
  dbModified(db: Db, replacedWith?: Db): void;
  /** Wall clock in ms; a hook so DEBUG/tests can reason about one clock. */
  now(): number;
  /** LFU parameters when the eviction policy is an LFU one, else null (no counter upkeep). */
  readonly lfu: LfuParams | null;
  /** Keeps a handle the command holds from being evicted or moved until the next command. */
  pin(h: number): void;
}

/** A table that knows which database uses it (SWAPDB moves tables between databases). */
export interface OwnedTable extends KeyTable {
  owner: unknown;
}

export class Db {
  /** Number of WATCHes on keys of this db, kept by the transaction layer (hooks skip work when 0). */
  watchers = 0;

  constructor(
    readonly id: number,
    private readonly hooks: DbHooks,
    public table: OwnedTable,
  ) {
    table.owner = this;
  }

  get size(): number { return this.table.size; }
  get volatileSize(): number { return this.table.volatileSize; }

  /** The clock expiry decisions use. */
  now(): number { return this.hooks.now(); }

  /**
   * Handle of a live key or -1; an expired key is deleted first. Does not
   * touch statistics: use lookupRead for commands that read.
   */
  find(key: Buffer): number {
    const t = this.table;
    const h = t.find(key);
    if (h < 0) return -1;
    const at = t.expireAt(h);
    if (at !== 0 && at <= this.hooks.now()) {
      this.expire(h, key);
      return -1;
    }
    this.hooks.pin(h);
    return h;
  }

  /**
   * Lookup for reading: counts a hit or a miss and, unless `touch` is false
   * (Redis's LOOKUP_NOTOUCH: EXISTS, TYPE, TTL), updates the access time.
   */
  lookupRead(key: Buffer, touch = true): number {
    const h = this.find(key);
    if (h < 0) {
      this.hooks.stats.keyspaceMisses++;
      return -1;
    }
    this.hooks.stats.keyspaceHits++;
    if (touch) this.touch(h);
    return h;
  }

  /** Lookup for writing: no statistics, but updates the access time. */
  lookupWrite(key: Buffer): number {
    const h = this.find(key);
    if (h >= 0) this.touch(h);
    return h;
  }

  /** Records an access: the time (LRU) or, under an LFU policy, the counter; SIEVE's visited bit. */
  touch(h: number): void {
    this.table.touch(h, this.hooks.now());
  }

  exists(key: Buffer): boolean { return this.find(key) >= 0; }

  value(h: number): Buffer { return this.table.value(h); }
  /** The value's bytes without making a view (replies): valid until the next store call. */
  valueSpan(h: number): ByteSpan { return this.table.valueSpan(h); }
  valueLength(h: number): number { return this.table.valueLength(h); }
  type(h: number): ValueType { return this.table.type(h); }
  key(h: number): Buffer { return this.table.key(h); }
  /** Absolute expiry in ms, 0 for none (nearest double beyond 2^53: see expireAtExact). */
  expireAt(h: number): number { return this.table.expireAt(h); }
  /** The exact int64 expiry, 0n for none. */
  expireAtExact(h: number): bigint { return this.table.expireAtExact(h); }

  /**
   * Sets `key` to a string value. `expireAt` is absolute ms, 0 for none, or
   * -1 to keep the current expiry (KEEPTTL).
   */
  setString(key: Buffer, value: Buffer, expireAt = 0): void {
    this.setValue(key, ValueType.String, value, expireAt);
  }

  setValue(key: Buffer, type: ValueType, value: Buffer, expireAt = 0): void {
    const t = this.table;
    const now = this.hooks.now();
    const h = this.find(key);
    if (h < 0) {
      t.insert(key, type, value, expireAt > 0 ? expireAt : 0, now);
    } else {
      const nh = t.replace(h, type, value, now);
      if (expireAt !== -1) t.setExpireAt(nh, expireAt);
    }
    this.hooks.keyModified(this, key);
  }

  /**
   * Adds a key known to be absent (MOVE, COPY) with an exact expiry (0n for
   * none). The bytes are copied. Returns the handle.
   */
  add(key: Buffer, type: ValueType, value: Buffer, expireAt: bigint = 0n): number {
    const t = this.table;
    let h = t.insert(key, type, value, 0, this.hooks.now());
    if (expireAt !== 0n) h = t.setExpireAtExact(h, expireAt);
    this.hooks.keyModified(this, key);
    return h;
  }

  /**
   * The value's bytes to change in place (SETBIT, SETRANGE); call
   * valueChanged afterwards. Valid until the next store call.
   */
  writable(h: number): ByteSpan { return this.table.writableSpan(h); }

  /**
   * The bytes of the value were changed in place (SETBIT, SETRANGE within the
   * current length): no copy, but WATCH must still see the write.
   */
  valueChanged(h: number): void {
    this.hooks.keyModified(this, this.table.key(h));
  }

  /**
   * Gives a live entry's value `len` bytes, keeping the old bytes that fit;
   * new bytes are zero when `zero` (SETRANGE, SETBIT) or left for the caller
   * to write (APPEND, with `grow` leaving room for more). Returns the handle.
   */
  resize(h: number, len: number, zero: boolean, grow: boolean, keep?: number): number {
    return this.table.resizeValue(h, len, zero, grow, keep);
  }

  /**
   * Sets `key` to a value of `type` and `len` bytes for the caller to write
   * through writable(h) before the next store call (KV.PUT: the payload is
   * copied once, into the store). `expireAt` as for setValue. Returns the handle.
   */
  setValueSized(key: Buffer, type: ValueType, len: number, expireAt = 0): number {
    const t = this.table;
    const now = this.hooks.now();
    let h = this.find(key);
    if (h < 0) {
      h = t.insertSized(key, type, len, expireAt > 0 ? expireAt : 0, now);
    } else {
      h = t.replaceSized(h, type, len, now);
      if (expireAt !== -1) h = t.setExpireAt(h, expireAt);
    }
    this.hooks.keyModified(this, key);
    return h;
  }

  /** See KeyTable.shrinkLarge; the entry counts as modified. */
  shrinkLarge(h: number, len: number): number {
    const freed = this.table.shrinkLarge(h, len);
    if (freed > 0) this.hooks.keyModified(this, this.table.key(h));
    return freed;
  }

  /** Replaces the value of a live entry (INCR), keeping its expiry. */
  overwrite(h: number, value: Buffer): void {
    const nh = this.table.replace(h, this.table.type(h), value, this.hooks.now());
    this.hooks.keyModified(this, this.table.key(nh));
  }

  /**
   * Renames a live entry to `newKey`, which must be absent (delete it first),
   * keeping value and expiry. Both names count as modified.
   */
  rename(h: number, newKey: Buffer): number {
    // The entry's key buffer is replaced by rename; this one stays valid for the hook.
    const oldKey = this.table.key(h);
    const nh = this.table.rename(h, newKey);
    this.hooks.keyModified(this, oldKey);
    this.hooks.keyModified(this, newKey);
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
    // The key buffer belongs to the entry; removal drops the table's reference only.
    const key = this.table.key(h);
    this.table.remove(h);
    this.hooks.keyModified(this, key);
  }

  /** Sets the absolute expiry (ms) of a live entry; 0 removes it. Returns the handle. */
  setExpire(h: number, at: number): number {
    const nh = this.table.setExpireAt(h, at);
    this.hooks.keyModified(this, this.table.key(nh));
    return nh;
  }

  /** setExpire with an exact int64 time (Redis accepts any; doubles stop being exact at 2^53). */
  setExpireExact(h: number, at: bigint): number {
    const nh = this.table.setExpireAtExact(h, at);
    this.hooks.keyModified(this, this.table.key(nh));
    return nh;
  }

  /** Deletes an entry whose time has come (lazy or active expiry). */
  expire(h: number, key: Buffer = this.table.key(h)): void {
    this.table.remove(h);
    this.hooks.stats.expiredKeys++;
    this.hooks.keyModified(this, key);
  }

  flush(): void {
    // Hook first: WATCH needs to see which watched keys existed.
    this.hooks.dbModified(this);
    this.table.clear();
  }

  /** A random live key, or null. Expired keys met on the way are deleted, as Redis does on a master. */
  randomKey(): Buffer | null {
    // Each miss deletes a key, so this ends: at worst the db empties.
    for (;;) {
      const h = this.table.randomEntry();
      if (h < 0) return null;
      const at = this.table.expireAt(h);
      if (at !== 0 && at <= this.hooks.now()) {
        this.expire(h);
        continue;
      }
      return this.table.key(h);
    }
  }

  /**
   * One SCAN call over live keys: visits keys until `count` were found or
   * 10*count table steps were made (Redis bounds the work the same way), and
   * returns the next cursor. Expired keys met are deleted, not visited.
   */
  scan(cursor: number, count: number, visit: (key: Buffer, type: ValueType, h: number) => void): number {
    const t = this.table;
    const now = this.hooks.now();
    const expired: Buffer[] = [];
    let found = 0;
    cursor = this.scanRaw(cursor, count, (h) => {
      const at = t.expireAt(h);
      if (at !== 0 && at <= now) {
        expired.push(t.key(h));
        return false;
      }
      found++;
      visit(t.key(h), t.type(h), h);
      return true;
    });
    for (const k of expired) this.find(k); // removes them
    return cursor;
  }

  /**
   * One SCAN call over every entry, expired or not (the SCAN command filters
   * as Redis does). `visit` returns whether the entry counts toward `count`.
   * It must not write the table.
   */
  scanRaw(cursor: number, count: number, visit: (h: number) => boolean): number {
    const t = this.table;
    let found = 0;
    let steps = count * 10;
    const step = (h: number) => { if (visit(h)) found++; };
    do {
      cursor = t.scan(cursor, step);
    } while (cursor !== 0 && found < count && --steps > 0);
    return cursor;
  }

  /** Visits every entry, expired or not (KEYS). `visit` must not write the table. */
  forEachEntry(visit: (h: number) => void): void {
    let cursor = 0;
    do cursor = this.table.scan(cursor, visit);
    while (cursor !== 0);
  }

  /** Replaces this db's contents with another's (SWAPDB). */
  swapWith(other: Db): void {
    if (other === this) return;
    this.hooks.dbModified(this, other);
    this.hooks.dbModified(other, this);
    const t = this.table;
    this.table = other.table;
    other.table = t;
    this.table.owner = this;
    other.table.owner = other;
  }

  /** Background housekeeping from the cron (incremental rehash) for about `ms`. Returns whether more remains. */
  maintain(ms: number): boolean {
    return this.table.maintain(ms);
  }
}
