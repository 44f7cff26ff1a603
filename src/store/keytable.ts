// The storage interface: one key table per database. It is byte-oriented so a
// slab allocator can implement it: keys and values go in and come out as
// Buffers, entries are named by integer handles, nothing else is kept per key
// by callers.
//
// Handle lifetime: a handle stays valid until its own entry is removed or
// changed by a call that returns a handle (replace, resizeValue, rename,
// setExpireAt): use the one returned. Removing or inserting *other* entries
// never invalidates it, even when an insert evicts or compacts: the store
// pins every handle a command looked up until the next command starts.

import type { ByteSpan } from './keyspace.js';

export type { ByteSpan };

/** Value types, numbered as Redis's OBJ_* constants. */
export const enum ValueType {
  String = 0,
  List = 1,
  Set = 2,
  ZSet = 3,
  Hash = 4,
  Stream = 6,
  /** A KV.* tensor (src/tensor/layout.ts): Redis has no such type; 7 is free in its numbering. */
  KvTensor = 7,
}


/** The name TYPE and SCAN TYPE use for a value type. */
export function typeName(t: ValueType): string {
  switch (t) {
    case ValueType.String: return 'string';
    case ValueType.List: return 'list';
    case ValueType.Set: return 'set';
    case ValueType.ZSet: return 'zset';
    case ValueType.Hash: return 'hash';
    case ValueType.Stream: return 'stream';
    case ValueType.KvTensor: return 'kvtensor';
    default: return 'unknown';
  }
}

export interface KeyTable {
  /** Number of keys, expired or not. */
  readonly size: number;
  /** Number of keys with an expiry time. */
  readonly volatileSize: number;

  /** Handle of `key`, or -1. Does not look at expiry. */
  find(key: Buffer): number;
  /**
   * The key bytes, as a view: read them before the next write to the table.
   * The bytes read just before remove(h) stay intact until the next insert,
   * because Db hands them to the WATCH hook after removing the entry.
   */
  key(h: number): Buffer;
  /** The value bytes as a view into store memory: read it before the next write, copy it to keep it. */
  value(h: number): Buffer;
  /** The value bytes as a span, without making a view (the reply path's way); valid until the next call. */
  valueSpan(h: number): ByteSpan;
  /**
   * The value bytes to change in place (SETRANGE, SETBIT within the value);
   * tell Db.valueChanged afterwards. Valid until the next call.
   */
  writableSpan(h: number): ByteSpan;
  valueLength(h: number): number;
  type(h: number): ValueType;
  /**
   * Absolute expiry in ms since the epoch, 0 when the key has none. Beyond
   * 2^53 this is the nearest double; expireAtExact has the exact value.
   */
  expireAt(h: number): number;
  /** Sets the expiry (0 removes it). Returns the handle, which changes if the entry had to move. */
  setExpireAt(h: number, at: number): number;
  /** The exact int64 expiry (0n when none): Redis accepts any int64 time. */
  expireAtExact(h: number): bigint;
  setExpireAtExact(h: number, at: bigint): number;
  /** Milliseconds since the last access, at time `now` (OBJECT IDLETIME, LRU). */
  idleMs(h: number, now: number): number;
  /** The logarithmic access counter (LFU, 0..255) after its decay by `now`; meaningful under an LFU policy. */
  lfuCounter(h: number, now: number): number;
  /** Records an access at `now` (time, LFU counter, SIEVE's bit). */
  touch(h: number, now: number): void;

  /** Adds a key that is not present; the bytes are copied. Returns its handle. */
  insert(key: Buffer, type: ValueType, value: Buffer, expireAt: number, now: number): number;
  /** Replaces the value of an existing entry, keeping its expiry. Returns the (possibly new) handle. */
  replace(h: number, type: ValueType, value: Buffer, now: number): number;
  /**
   * insert and replace with a value of `len` bytes left for the caller to
   * write (writableSpan), so that a big value is copied once, from the request
   * into the store, not first into a Buffer of its own.
   */
  insertSized(key: Buffer, type: ValueType, len: number, expireAt: number, now: number): number;
  replaceSized(h: number, type: ValueType, len: number, now: number): number;
  /**
   * Changes the value's length to `len`, keeping its bytes up to the shorter
   * of the two lengths (or only the first `keep`); new bytes are zero when `zero`, else undefined for the
   * caller to write. `grow`: leave room for further growth (APPEND). Returns
   * the (possibly new) handle.
   */
  resizeValue(h: number, len: number, zero: boolean, grow: boolean, keep?: number): number;
  /**
   * Gives an entry a new key (RENAME), keeping value, type, expiry and access
   * data. `key` must not be present. Returns the (possibly new) handle.
   */
  rename(h: number, key: Buffer): number;
  remove(h: number): void;
  /**
   * Cuts a value held in a large block to its first `len` bytes, giving the
   * rest of the block back, without moving the entry or allocating from the
   * slabs (trimming under memory pressure). Returns the bytes freed.
   */
  shrinkLarge(h: number, len: number): number;
  clear(): void;

  /**
   * Visits the entries of one step of a SCAN from `cursor` and returns the
   * next cursor (0 when done; 0 also starts a scan). An entry present for the
   * whole scan is visited at least once; one may be visited twice. Entries
   * are visited whether expired or not. The visitor must not write the table.
   */
  scan(cursor: number, visit: (h: number) => void): number;
  /** A random entry, or -1 when empty. */
  randomEntry(): number;
  /** A random entry with an expiry time, or -1. */
  randomVolatile(): number;
  /**
   * The i-th entry with an expiry time (0 <= i < volatileSize), for the
   * active expiry cycle's sequential sampling. Removing an entry may move
   * another one into its position.
   */
  volatileAt(i: number): number;
  /** Bytes used by one entry (MEMORY USAGE): its chunk, its share of the index, a large block. */
  entryBytes(h: number): number;
  /**
   * Background housekeeping from the cron (an incremental rehash), for up
   * to about `ms` milliseconds. Returns whether more remains.
   */
  maintain(ms: number): boolean;
}
