// The storage interface: one key table per database. It is byte-oriented so a
// slab allocator can implement it: keys and values go in and come out as
// Buffers, entries are named by integer handles, nothing else is kept per key
// by callers. A handle is valid until the next insert or delete.

export const enum ValueType {
  String = 0,
}

export interface KeyTable {
  /** Number of keys, expired or not. */
  readonly size: number;
  /** Number of keys with an expiry time. */
  readonly volatileSize: number;
  /** Bytes held for keys, values and per-entry overhead (for INFO and maxmemory). */
  readonly usedBytes: number;

  /** Handle of `key`, or -1. Does not look at expiry. */
  find(key: Buffer): number;
  key(h: number): Buffer;
  /**
   * The value bytes. May be a view into store memory: read it before the next
   * write to the table, copy it to keep it.
   */
  value(h: number): Buffer;
  type(h: number): ValueType;
  /** Absolute expiry in ms since the epoch, 0 when the key has none. */
  expireAt(h: number): number;
  setExpireAt(h: number, at: number): void;
  /** Last access time in ms, for OBJECT IDLETIME and eviction. */
  accessTime(h: number): number;
  /** Logarithmic access counter (LFU), 0..255. */
  freq(h: number): number;
  touch(h: number, now: number): void;

  /** Adds a key that is not present; the bytes are copied. Returns its handle. */
  insert(key: Buffer, type: ValueType, value: Buffer, expireAt: number, now: number): number;
  /** Replaces the value of an existing entry, keeping its expiry. Returns the (possibly new) handle. */
  replace(h: number, type: ValueType, value: Buffer, now: number): number;
  remove(h: number): void;
  clear(): void;

  /**
   * Visits the entries of one step of a SCAN from `cursor` and returns the
   * next cursor (0 when done). An entry present for the whole scan is visited
   * at least once.
   */
  scan(cursor: number, visit: (h: number) => void): number;
  /** A random entry, or -1 when empty. */
  randomEntry(): number;
  /** A random entry with an expiry time, or -1. */
  randomVolatile(): number;
  /** Approximate bytes used by one entry (MEMORY USAGE). */
  entryBytes(h: number): number;
}
