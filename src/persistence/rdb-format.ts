// The RDB format's numbers (Redis 7.0's rdb.h): the version kvslab writes and
// the newest it reads, value types, record opcodes, module field opcodes.
// The writer and the reader both take them from here.

/** Redis 7.0 writes version 10; a loader refuses anything newer than its own. */
export const RDB_VERSION = 10;

export const RDB_TYPE_STRING = 0;
export const RDB_TYPE_LIST = 1;
export const RDB_TYPE_SET = 2;
export const RDB_TYPE_ZSET = 3;
export const RDB_TYPE_HASH = 4;
export const RDB_TYPE_ZSET_2 = 5;
export const RDB_TYPE_MODULE = 6;
export const RDB_TYPE_MODULE_2 = 7;
export const RDB_TYPE_HASH_ZIPMAP = 9;
export const RDB_TYPE_LIST_ZIPLIST = 10;
export const RDB_TYPE_SET_INTSET = 11;
export const RDB_TYPE_ZSET_ZIPLIST = 12;
export const RDB_TYPE_HASH_ZIPLIST = 13;
export const RDB_TYPE_LIST_QUICKLIST = 14;
export const RDB_TYPE_STREAM_LISTPACKS = 15;
export const RDB_TYPE_HASH_LISTPACK = 16;
export const RDB_TYPE_ZSET_LISTPACK = 17;
export const RDB_TYPE_LIST_QUICKLIST_2 = 18;
export const RDB_TYPE_STREAM_LISTPACKS_2 = 19;

export const OP_FUNCTION2 = 245;
export const OP_FUNCTION = 246;
export const OP_MODULE_AUX = 247;
export const OP_IDLE = 248;
export const OP_FREQ = 249;
export const OP_AUX = 250;
export const OP_RESIZEDB = 251;
export const OP_EXPIRETIME_MS = 252;
export const OP_EXPIRETIME = 253;
export const OP_SELECTDB = 254;
export const OP_EOF = 255;

/** Module value field opcodes (MODULE_2 values and MODULE_AUX records). */
export const MODULE_OP_EOF = 0;
export const MODULE_OP_SINT = 1;
export const MODULE_OP_UINT = 2;
export const MODULE_OP_FLOAT = 3;
export const MODULE_OP_DOUBLE = 4;
export const MODULE_OP_STRING = 5;

/** The Redis type (TYPE's reply) of an RDB value type, for messages; null for a byte that is no type. */
export function rdbTypeName(type: number): string | null {
  switch (type) {
    case RDB_TYPE_STRING: return 'string';
    case RDB_TYPE_LIST: case RDB_TYPE_LIST_ZIPLIST: case RDB_TYPE_LIST_QUICKLIST: case RDB_TYPE_LIST_QUICKLIST_2: return 'list';
    case RDB_TYPE_SET: case RDB_TYPE_SET_INTSET: return 'set';
    case RDB_TYPE_ZSET: case RDB_TYPE_ZSET_2: case RDB_TYPE_ZSET_ZIPLIST: case RDB_TYPE_ZSET_LISTPACK: return 'zset';
    case RDB_TYPE_HASH: case RDB_TYPE_HASH_ZIPMAP: case RDB_TYPE_HASH_ZIPLIST: case RDB_TYPE_HASH_LISTPACK: return 'hash';
    case RDB_TYPE_MODULE: case RDB_TYPE_MODULE_2: return 'module';
    case RDB_TYPE_STREAM_LISTPACKS: case RDB_TYPE_STREAM_LISTPACKS_2: return 'stream';
    default: return null;
  }
}
