// Keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY,
// RENAME, RENAMENX, COPY, MOVE, TOUCH, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB.

import type { CommandContext, Handler } from './context.js';
import type { Db } from '../store/db.js';
import { LOOKUP_NOTOUCH, typeName } from '../store/types.js';
import { matchBytes } from '../util/glob.js';
import { argIs, cText, parseInt64, ERR_NOT_INTEGER, ERR_SYNTAX } from './args.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_DANGEROUS, ACL_KEYSPACE, CMD_DENYOOM, CMD_FAST, CMD_READONLY, CMD_WRITE } from './model/flags.js';
import { keyAt, keysFrom, KS_ACCESS, KS_DELETE, KS_INSERT, KS_OW, KS_RM, KS_RO, KS_RW, KS_UPDATE } from './model/key-specs.js';

const ERR_NO_SUCH_KEY = 'ERR no such key';
const ERR_SAME_OBJECT = 'ERR source and destination objects are the same';
const ERR_DB_RANGE = 'ERR DB index is out of range';
const ERR_INT_RANGE = 'ERR value is out of range, value must between -2147483648 and 2147483647';

/** Redis's getIntFromObjectOrReply: an int64 that must also fit in 32 bits. */
function int32OrReply(c: CommandContext, b: Buffer, msg?: string): number | null {
  const v = parseInt64(b);
  if (v === null) {
    c.addError(msg ?? ERR_NOT_INTEGER);
    return null;
  }
  if (v < -2147483648 || v > 2147483647) {
    c.addError(msg ?? ERR_INT_RANGE);
    return null;
  }
  return v;
}

/** A db by index, or null after replying that it is out of range. */
function dbOrReply(c: CommandContext, id: number): Db | null {
  const dbs = c.server.store.dbs;
  if (id < 0 || id >= dbs.length) {
    c.addError(ERR_DB_RANGE);
    return null;
  }
  return dbs[id];
}

function del(c: CommandContext, argv: Buffer[]): void {
  const db = c.db;
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (db.delete(argv[i])) n++;
  c.addInt(n);
}

function exists(c: CommandContext, argv: Buffer[]): void {
  const db = c.db;
  let n = 0;
  // Repeated keys count each time, as in Redis.
  for (let i = 1; i < argv.length; i++) if (db.lookupRead(argv[i], LOOKUP_NOTOUCH) >= 0) n++;
  c.addInt(n);
}

function touch(c: CommandContext, argv: Buffer[]): void {
  const db = c.db;
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (db.lookupRead(argv[i]) >= 0) n++;
  c.addInt(n);
}

function type(c: CommandContext, argv: Buffer[]): void {
  const h = c.db.lookupRead(argv[1], LOOKUP_NOTOUCH);
  c.addStatus(h < 0 ? 'none' : typeName(c.db.type(h)));
}

function keys(c: CommandContext, argv: Buffer[]): void {
  const pat = argv[1];
  const all = pat.length === 1 && pat[0] === 0x2a;
  const db = c.db;
  const now = db.now();
  const out: Buffer[] = [];
  // Expired keys are skipped but, as in Redis, not deleted here.
  db.forEachEntry((h) => {
    const k = db.key(h);
    if (!all && !matchBytes(pat, k)) return;
    const at = db.expireAt(h);
    if (at !== 0 && at <= now) return;
    out.push(k);
  });
  c.addArrayLen(out.length);
  for (let i = 0; i < out.length; i++) c.addBulk(out[i]);
}

const ULONG_MAX = (1n << 64n) - 1n;

/**
 * SCAN's cursor as Redis parses it (strtoul on a C string): optional sign,
 * decimal digits, no leading space, nothing after; "" is 0; a negative
 * value wraps. Null when invalid. Cursors beyond 2^53 lose precision, which
 * is harmless: any cursor past the table's end starts from the top.
 */
function parseCursor(b: Buffer): number | null {
  const nul = b.indexOf(0);
  const n = nul < 0 ? b.length : nul;
  if (n === 0) return 0;
  const first = b[0];
  if (first === 0x20 || (first >= 0x09 && first <= 0x0d)) return null;
  let i = 0;
  let neg = false;
  if (first === 0x2b || first === 0x2d) {
    neg = first === 0x2d;
    i = 1;
  }
  if (i === n) return null; // a lone sign: nothing converted
  let v = 0;
  let big: bigint | null = null;
  for (; i < n; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return null;
    if (big === null) {
      v = v * 10 + d;
      if (v > 1e15) big = BigInt(v);
    } else {
      big = big * 10n + BigInt(d);
      if (big > ULONG_MAX) return null; // ERANGE
    }
  }
  if (big === null) return neg && v !== 0 ? Number(ULONG_MAX + 1n - BigInt(v)) : v;
  return Number(neg ? (ULONG_MAX + 1n - big) & ULONG_MAX : big);
}

function scan(c: CommandContext, argv: Buffer[]): void {
  const cursor = parseCursor(argv[1]);
  if (cursor === null) return c.addError('ERR invalid cursor');
  let count = 10;
  let pattern: Buffer | null = null;
  let typeFilter: Buffer | null = null;
  for (let i = 2; i < argv.length;) {
    const left = argv.length - i;
    if (argIs(argv[i], 'count') && left >= 2) {
      const v = parseInt64(argv[i + 1]);
      if (v === null) return c.addError(ERR_NOT_INTEGER);
      if (v < 1) return c.addError(ERR_SYNTAX);
      count = v;
      i += 2;
    } else if (argIs(argv[i], 'match') && left >= 2) {
      const p = argv[i + 1];
      pattern = p.length === 1 && p[0] === 0x2a ? null : p;
      i += 2;
    } else if (argIs(argv[i], 'type') && left >= 2) {
      typeFilter = argv[i + 1];
      i += 2;
    } else {
      return c.addError(ERR_SYNTAX);
    }
  }
  const db = c.db;
  // Collect first (expired keys included, copies since the filters below may
  // write the table), then filter in Redis's order: pattern, type, expiry.
  const found: Buffer[] = [];
  const next = db.scanRaw(cursor, count, (h) => {
    found.push(Buffer.from(db.key(h)));
    return true;
  });
  const out: Buffer[] = [];
  for (const k of found) {
    if (pattern !== null && !matchBytes(pattern, k)) continue;
    if (typeFilter !== null) {
      // Redis looks the key up to learn its type: an expired one is deleted
      // here and reads as "none" (so TYPE none returns it).
      const h = db.lookupRead(k, LOOKUP_NOTOUCH);
      if (!argIs(typeFilter, h < 0 ? 'none' : typeName(db.type(h)))) continue;
    }
    if (db.expireIfDue(k)) continue;
    out.push(k);
  }
  c.addArrayLen(2);
  c.addBulkString(String(next));
  c.addArrayLen(out.length);
  for (let i = 0; i < out.length; i++) c.addBulk(out[i]);
}

function randomkey(c: CommandContext): void {
  const k = c.db.randomKey();
  if (k === null) c.addNull();
  else c.addBulk(k);
}

function renameGeneric(c: CommandContext, argv: Buffer[], nx: boolean): void {
  const db = c.db;
  const src = argv[1];
  const dst = argv[2];
  const h = db.lookupWrite(src);
  if (h < 0) return c.addError(ERR_NO_SUCH_KEY);
  if (src.equals(dst)) return nx ? c.addZero() : c.addOk();
  if (db.lookupWrite(dst) >= 0) {
    if (nx) return c.addZero();
    // Deleting another entry leaves h valid (see key-index.ts on handles).
    db.delete(dst);
  }
  // The entry keeps its value and TTL under the new name; dst's TTL goes with dst.
  db.rename(h, dst);
  if (nx) c.addOne();
  else c.addOk();
}

function rename(c: CommandContext, argv: Buffer[]): void {
  renameGeneric(c, argv, false);
}

function renamenx(c: CommandContext, argv: Buffer[]): void {
  renameGeneric(c, argv, true);
}

function copy(c: CommandContext, argv: Buffer[]): void {
  const src = c.db;
  let dst = src;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    if (argIs(argv[j], 'replace')) {
      replace = true;
    } else if (argIs(argv[j], 'db') && argv.length - j - 1 >= 1) {
      const id = int32OrReply(c, argv[j + 1]);
      if (id === null) return;
      const d = dbOrReply(c, id);
      if (d === null) return;
      dst = d;
      j++;
    } else {
      return c.addError(ERR_SYNTAX);
    }
  }
  if (c.server.cluster !== null && (src.id !== 0 || dst.id !== 0)) return c.addError('ERR Copying to another database is not allowed in cluster mode');
  const key = argv[1];
  const newKey = argv[2];
  if (src === dst && key.equals(newKey)) return c.addError(ERR_SAME_OBJECT);
  const h = src.lookupRead(key);
  if (h < 0) return c.addZero();
  const vtype = src.type(h);
  const expireAt = src.expireAtExact(h);
  // A copy of the bytes: deleting newKey below may reuse the memory of a view.
  const value = Buffer.from(src.value(h));
  if (dst.lookupWrite(newKey) >= 0) {
    if (!replace) return c.addZero();
    dst.delete(newKey);
  }
  dst.add(newKey, vtype, value, expireAt);
  c.addOne();
}

function move(c: CommandContext, argv: Buffer[]): void {
  // A cluster has database 0 only (Redis's texts, here and in COPY and SWAPDB).
  if (c.server.cluster !== null) return c.addError('ERR MOVE is not allowed in cluster mode');
  const src = c.db;
  const id = int32OrReply(c, argv[2]);
  if (id === null) return;
  const dst = dbOrReply(c, id);
  if (dst === null) return;
  if (dst === src) return c.addError(ERR_SAME_OBJECT);
  const key = argv[1];
  const h = src.lookupWrite(key);
  if (h < 0) return c.addZero();
  if (dst.lookupWrite(key) >= 0) return c.addZero();
  // Another db's table: inserting there leaves h valid. The TTL travels with the key.
  dst.add(key, src.type(h), src.value(h), src.expireAtExact(h));
  src.removeEntry(h);
  c.addOne();
}

function dbsize(c: CommandContext): void {
  c.addInt(c.db.size);
}

/** FLUSHDB/FLUSHALL take one optional ASYNC or SYNC; both free memory at once here. */
function flushArgsOk(c: CommandContext, argv: Buffer[]): boolean {
  if (argv.length === 1) return true;
  if (argv.length === 2 && (argIs(argv[1], 'sync') || argIs(argv[1], 'async'))) return true;
  c.addError(ERR_SYNTAX);
  return false;
}

function flushdb(c: CommandContext, argv: Buffer[]): void {
  if (!flushArgsOk(c, argv)) return;
  c.db.flush();
  c.addOk();
}

function flushall(c: CommandContext, argv: Buffer[]): void {
  if (!flushArgsOk(c, argv)) return;
  // As Redis, a background save in progress is stopped first (its dump would be of data just thrown away).
  c.server.persistence.abortBackgroundSave();
  c.server.store.flushAll();
  // As Redis: with save rules, the empty dataset is saved at once.
  if (c.server.persistence.hasSaveRules) c.server.persistence.save();
  c.addOk();
}

function swapdb(c: CommandContext, argv: Buffer[]): void {
  if (c.server.cluster !== null) return c.addError('ERR SWAPDB is not allowed in cluster mode');
  const id1 = int32OrReply(c, argv[1], 'ERR invalid first DB index');
  if (id1 === null) return;
  const id2 = int32OrReply(c, argv[2], 'ERR invalid second DB index');
  if (id2 === null) return;
  const dbs = c.server.store.dbs;
  if (id1 < 0 || id1 >= dbs.length || id2 < 0 || id2 >= dbs.length) return c.addError(ERR_DB_RANGE);
  c.server.store.swapDbs(dbs[id1], dbs[id2]);
  c.addOk();
}

const group = 'generic';
const acl = ACL_KEYSPACE;
const multiShard = ['request_policy:multi_shard', 'response_policy:agg_sum'];
const flushTips = ['request_policy:all_shards', 'response_policy:all_succeeded'];
// RENAME, RENAMENX and COPY have two key specs, as in Redis: the source and
// the destination are used differently.
export const keyCommands: CommandDef<Handler>[] = [
  {
    name: 'del', arity: -2, flags: CMD_WRITE, acl, keySpecs: [keysFrom(1, KS_RM | KS_DELETE)], tips: multiShard, handler: del,
    docs: { summary: 'Removes keys; returns how many existed.', since: '1.0.0', group, complexity: 'O(N) for N keys; O(M) more for a key holding a collection of M elements', syntax: 'key [key ...]' },
  },
  {
    name: 'unlink', arity: -2, flags: CMD_WRITE | CMD_FAST, acl, keySpecs: [keysFrom(1, KS_RM | KS_DELETE)], tips: multiShard, handler: del,
    docs: { summary: 'Removes keys like DEL, leaving the reclaiming of large values to the background.', since: '4.0.0', group, complexity: 'O(1) per key removed; reclaiming memory is O(N) in the size of the value, done asynchronously', syntax: 'key [key ...]' },
  },
  {
    name: 'exists', arity: -2, flags: CMD_READONLY | CMD_FAST, acl, keySpecs: [keysFrom(1, KS_RO)], tips: multiShard, handler: exists,
    docs: { summary: 'Counts how many of the given keys exist; a key named twice counts twice.', since: '1.0.0', group, complexity: 'O(N) for N keys', syntax: 'key [key ...]' },
  },
  {
    name: 'type', arity: 2, flags: CMD_READONLY | CMD_FAST, acl, keySpecs: [keyAt(1, KS_RO)], handler: type,
    docs: { summary: 'Returns the name of the type of value a key holds, or none.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'keys', arity: 2, flags: CMD_READONLY, acl: ACL_KEYSPACE | ACL_DANGEROUS, tips: ['request_policy:all_shards', 'nondeterministic_output_order'], handler: keys,
    docs: { summary: 'Lists every key whose name matches a glob pattern.', since: '1.0.0', group, complexity: 'O(N) for N keys in the database, with bounded key and pattern lengths', syntax: 'pattern' },
  },
  {
    name: 'scan', arity: -2, flags: CMD_READONLY, acl, tips: ['nondeterministic_output', 'request_policy:special'], handler: scan,
    docs: { summary: 'Walks the keyspace a page at a time from a cursor, optionally filtering by pattern and type.', since: '2.8.0', group, complexity: 'O(1) per call; O(N) for a full iteration over N keys', syntax: 'cursor [MATCH pattern] [COUNT count] [TYPE type]' },
  },
  {
    name: 'randomkey', arity: 1, flags: CMD_READONLY, acl, tips: ['request_policy:all_shards', 'nondeterministic_output'], handler: randomkey,
    docs: { summary: 'Returns the name of a key picked at random.', since: '1.0.0', group, complexity: 'O(1)' },
  },
  {
    name: 'rename', arity: 3, flags: CMD_WRITE, acl, handler: rename,
    keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_DELETE), keyAt(2, KS_OW | KS_UPDATE)],
    docs: { summary: 'Gives a key a new name, replacing any key already under that name.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key newkey' },
  },
  {
    name: 'renamenx', arity: 3, flags: CMD_WRITE | CMD_FAST, acl, handler: renamenx,
    keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_DELETE), keyAt(2, KS_OW | KS_INSERT)],
    docs: { summary: 'Gives a key a new name only when no key has that name yet.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key newkey' },
  },
  {
    name: 'copy', arity: -3, flags: CMD_WRITE | CMD_DENYOOM, acl, handler: copy,
    keySpecs: [keyAt(1, KS_RO | KS_ACCESS), keyAt(2, KS_OW | KS_UPDATE)],
    docs: { summary: 'Duplicates the value of a key under another name, possibly in another database.', since: '6.2.0', group, complexity: 'O(1) for strings; O(N) for a collection of N nested items', syntax: 'source destination [DB destination-db] [REPLACE]' },
  },
  {
    name: 'move', arity: 3, flags: CMD_WRITE | CMD_FAST, acl, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_UPDATE)], handler: move,
    docs: { summary: 'Moves a key into another database of the server.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key db' },
  },
  {
    name: 'touch', arity: -2, flags: CMD_READONLY | CMD_FAST, acl, keySpecs: [keysFrom(1, KS_RO)], tips: multiShard, handler: touch,
    docs: { summary: 'Updates the last access time of keys; returns how many exist.', since: '3.2.1', group, complexity: 'O(N) for N keys', syntax: 'key [key ...]' },
  },
  {
    name: 'dbsize', arity: 1, flags: CMD_READONLY | CMD_FAST, acl, tips: ['request_policy:all_shards', 'response_policy:agg_sum'], handler: dbsize,
    docs: { summary: 'Returns the number of keys in the selected database.', since: '1.0.0', group: 'server', complexity: 'O(1)' },
  },
  {
    name: 'flushdb', arity: -1, flags: CMD_WRITE, acl: ACL_KEYSPACE | ACL_DANGEROUS, tips: flushTips, handler: flushdb,
    docs: { summary: 'Deletes every key of the selected database.', since: '1.0.0', group: 'server', complexity: 'O(N) for N keys in the database', syntax: '[ASYNC | SYNC]' },
  },
  {
    name: 'flushall', arity: -1, flags: CMD_WRITE, acl: ACL_KEYSPACE | ACL_DANGEROUS, tips: flushTips, handler: flushall,
    docs: { summary: 'Deletes every key of every database.', since: '1.0.0', group: 'server', complexity: 'O(N) for N keys in all databases', syntax: '[ASYNC | SYNC]' },
  },
  {
    name: 'swapdb', arity: 3, flags: CMD_WRITE | CMD_FAST, acl: ACL_KEYSPACE | ACL_DANGEROUS, handler: swapdb,
    docs: { summary: 'Exchanges the contents of two databases; connections see the other contents at once.', since: '4.0.0', group: 'server', complexity: 'O(N) for N clients watching or blocked on keys of the two databases', syntax: 'index1 index2' },
  },
];
