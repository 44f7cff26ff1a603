// A Redis database (SELECT n) on top of a KeyTable: lazy expiry, keyspace
// statistics, and the hook that tells WATCH a key changed. Commands reach the
// store only through this class.

import { KeyTable, ValueType } from './keytable.js';
import { MapKeyTable } from './map-table.js';

export interface KeyspaceStats {
  keyspaceHits: number;
  keyspaceMisses: number;
  expiredKeys: number;
}

export interface DbHooks {
  stats: KeyspaceStats;
  /** Called after a key's value or expiry changed or it was deleted (WATCH). */
  keyModified(db: Db, key: Buffer): void;
  /** Called when the whole database changes at once (FLUSHDB, SWAPDB). */
  dbModified(db: Db): void;
  /** Wall clock in ms; a hook so DEBUG/tests can reason about one clock. */
  now(): number;
}

export class Db {
  table: KeyTable = new MapKeyTable();
  /** Watched keys of this db (latin1 key -> number of watchers), kept by the transaction layer. */
  watchers = 0;

  constructor(
    readonly id: number,
    private readonly hooks: DbHooks,
  ) {}

  get size(): number { return this.table.size; }
  get volatileSize(): number { return this.table.volatileSize; }

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
    return h;
  }

  /** Lookup for reading: counts a hit or a miss and updates the access time. */
  lookupRead(key: Buffer): number {
    const h = this.find(key);
    if (h < 0) {
      this.hooks.stats.keyspaceMisses++;
      return -1;
    }
    this.hooks.stats.keyspaceHits++;
    this.table.touch(h, this.hooks.now());
    return h;
  }

  /** Lookup for writing: no statistics, but updates the access time. */
  lookupWrite(key: Buffer): number {
    const h = this.find(key);
    if (h >= 0) this.table.touch(h, this.hooks.now());
    return h;
  }

  exists(key: Buffer): boolean { return this.find(key) >= 0; }

  value(h: number): Buffer { return this.table.value(h); }
  type(h: number): ValueType { return this.table.type(h); }
  key(h: number): Buffer { return this.table.key(h); }
  expireAt(h: number): number { return this.table.expireAt(h); }

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

  /** Replaces the value of a live entry (APPEND, SETRANGE, INCR), keeping its expiry. */
  overwrite(h: number, value: Buffer): void {
    const key = this.table.key(h);
    this.table.replace(h, this.table.type(h), value, this.hooks.now());
    this.hooks.keyModified(this, key);
  }

  delete(key: Buffer): boolean {
    const h = this.find(key);
    if (h < 0) return false;
    this.table.remove(h);
    this.hooks.keyModified(this, key);
    return true;
  }

  /** Sets the absolute expiry (ms) of a live entry; 0 removes it. */
  setExpire(h: number, at: number): void {
    const key = this.table.key(h);
    this.table.setExpireAt(h, at);
    this.hooks.keyModified(this, key);
  }

  /** Deletes an entry whose time has come (lazy or active expiry). */
  expire(h: number, key: Buffer = this.table.key(h)): void {
    // The key buffer may belong to the table: keep it alive past removal for the hook.
    this.table.remove(h);
    this.hooks.stats.expiredKeys++;
    this.hooks.keyModified(this, key);
  }

  flush(): void {
    this.table.clear();
    this.hooks.dbModified(this);
  }

  /** A random live key, or null. */
  randomKey(): Buffer | null {
    // Bounded retries: a db full of expired keys may have no live one.
    for (let tries = 0; tries < 100; tries++) {
      const h = this.table.randomEntry();
      if (h < 0) return null;
      const key = this.table.key(h);
      if (this.find(key) >= 0) return key;
    }
    return null;
  }

  /**
   * One SCAN call: visits at least `count` slots' worth of keys from `cursor`
   * (bounded work, as Redis's 10*count steps) and returns the next cursor.
   */
  scan(cursor: number, count: number, visit: (key: Buffer, type: ValueType, h: number) => void): number {
    const t = this.table;
    const now = this.hooks.now();
    let found = 0;
    let steps = count * 10;
    const expired: Buffer[] = [];
    do {
      cursor = t.scan(cursor, (h) => {
        const at = t.expireAt(h);
        if (at !== 0 && at <= now) {
          expired.push(t.key(h));
          return;
        }
        found++;
        visit(t.key(h), t.type(h), h);
      });
    } while (cursor !== 0 && found < count && --steps > 0);
    for (const k of expired) this.find(k); // removes them
    return cursor;
  }

  /** Replaces this db's contents with another's (SWAPDB). */
  swapWith(other: Db): void {
    const t = this.table;
    this.table = other.table;
    other.table = t;
    this.hooks.dbModified(this);
    this.hooks.dbModified(other);
  }

  get usedBytes(): number { return this.table.usedBytes; }
}
