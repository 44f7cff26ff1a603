// The types the store shares with its users: value types, the span a value's
// bytes are handed out as, and the statistics it keeps.

import type { LargeBlock } from './large.js';

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

/**
 * A value's bytes: buf[start, end). `block` is set when they are a large
 * block's, which the reply path may then send as a view (see large.ts).
 */
export interface ByteSpan {
  buf: Buffer;
  start: number;
  end: number;
  block: LargeBlock | null;
}

/** What the store counts as commands use it (INFO stats). */
export interface KeyspaceStats {
  keyspaceHits: number;
  keyspaceMisses: number;
  expiredKeys: number;
  evictedKeys: number;
}

/** Db.lookupRead: leave the access time as it is (Redis's LOOKUP_NOTOUCH: EXISTS, TYPE, TTL). */
export const LOOKUP_NOTOUCH = 1;

/** Db.resize: the bytes past the kept ones are zeroed (SETRANGE, SETBIT)... */
export const RESIZE_ZERO = 1;
/** ... and the value keeps room to grow (APPEND). */
export const RESIZE_GROW = 2;
