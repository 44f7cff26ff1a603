// Loading an RDB file into the store (at start-up, DEBUG RELOAD): Redis's records in order,
// each key with its expiry and access hint, strings and kvslab tensors into
// their databases. A key already expired is dropped; a type kvslab does not
// hold (lists, hashes, sets, sorted sets, streams, other modules' data)
// stops the load unless rdb-load-skip-unknown-types says to leave it out;
// under maxmemory the load evicts as the policy allows, and stops when it
// cannot (noeviction). Any failure is an RdbError or a LoadError: at
// start-up the server does not start then, so a dump is loaded whole or not
// at all. A key the store holds already is an error, unless `replace` says
// the dump's wins (DEBUG RELOAD MERGE).

import type { Store } from '../store/store.js';
import type { Db } from '../store/db.js';
import { KeyTooLongError, OutOfMemoryError } from '../store/errors.js';
import { ValueType } from '../store/types.js';
import { copyBytes } from '../util/bytes.js';
import { moduleTypeName } from './module-type.js';
import {
  OP_AUX, OP_EOF, OP_EXPIRETIME, OP_EXPIRETIME_MS, OP_FREQ, OP_FUNCTION, OP_FUNCTION2, OP_IDLE, OP_MODULE_AUX,
  OP_RESIZEDB, OP_SELECTDB, RDB_TYPE_MODULE_2, RDB_TYPE_STRING, rdbTypeName,
} from './rdb-format.js';
import { FileSource, RdbError, RdbReader } from './rdb-reader.js';
import { TENSOR_MODULE_ID, tensorFromFields } from './tensor-codec.js';

/** A dump that reads well but cannot be loaded here (types, memory, databases). */
export class LoadError extends Error {}

/** What loading needs of the server. */
export interface LoadHost {
  readonly store: Store;
  log(level: string, msg: string): void;
  /** Frees memory down to maxmemory as the policy allows; false when it cannot. */
  makeRoom(): boolean;
  usedMemory(): number;
}

export interface LoadOptions {
  /** rdbchecksum: check the trailer's CRC-64. */
  checksum: boolean;
  /** rdb-load-skip-unknown-types */
  skipUnknownTypes: boolean;
  /** maxmemory and maxmemory-policy, for the message when the dump does not fit. */
  maxmemory: number;
  policy: string;
  /** A key already in its database is replaced by the dump's (Redis's RDBFLAGS_ALLOW_DUP); else an RdbError. */
  replace?: boolean;
}

export interface LoadStats {
  version: number;
  loaded: number;
  expired: number;
  /** Keys of types kvslab does not hold, left out (rdb-load-skip-unknown-types). */
  skipped: number;
  evicted: number;
  /** The AUX fields (redis-ver, ctime, used-mem, ...). */
  aux: Map<string, string>;
}

/** The first key of a type kvslab does not hold, and how many there were. */
interface Unknown { count: number; key: string; type: string; db: number; offset: number }

function printable(key: Buffer): string {
  const s = key.toString('latin1', 0, Math.min(key.length, 128));
  return key.length > 128 ? `${s}...` : s;
}

/** Loads `path` into `host.store`. Throws RdbError or LoadError (what was loaded before it stays). */
export function loadRdbFile(path: string, host: LoadHost, opts: LoadOptions): LoadStats {
  const r = new RdbReader(new FileSource(path));
  try {
    return load(r, host, opts);
  } finally {
    r.close();
  }
}

function load(r: RdbReader, host: LoadHost, opts: LoadOptions): LoadStats {
  const store = host.store;
  const stats: LoadStats = { version: r.header(), loaded: 0, expired: 0, skipped: 0, evicted: 0, aux: new Map() };
  const evictedBefore = store.stats.evictedKeys;
  const now = BigInt(store.now());
  let unknown: Unknown | null = null;
  let db: Db = store.dbs[0];
  // Per key: what the records before its type byte said.
  let expireAt = -1n;
  let idle = -1;
  let freq = -1;
  let keyBuf = Buffer.allocUnsafeSlow(256);

  for (;;) {
    const at = r.offset;
    const op = r.byte();
    switch (op) {
      case OP_EXPIRETIME_MS:
        expireAt = r.int64LE();
        continue;
      case OP_EXPIRETIME:
        expireAt = BigInt(r.uint32LE() | 0) * 1000n;
        continue;
      case OP_IDLE:
        idle = r.length();
        continue;
      case OP_FREQ:
        freq = r.byte();
        continue;
      case OP_SELECTDB: {
        const id = r.length();
        if (id >= store.dbs.length) {
          throw new LoadError(`FATAL: Data file was created with a Redis server configured to handle more than ${store.dbs.length} databases (db ${id} at offset ${at}); raise 'databases'`);
        }
        db = store.dbs[id];
        continue;
      }
      case OP_RESIZEDB: {
        // A hint only (a corrupt one must not allocate the machine away): capped by what the file can hold.
        const size = r.length();
        r.length();
        db.expand(Math.min(size, r.remaining));
        continue;
      }
      case OP_AUX: {
        const name = r.stringCopy().toString('latin1');
        stats.aux.set(name, r.string().toString('latin1'));
        continue;
      }
      case OP_MODULE_AUX: {
        // Module-wide data (not a key's): kvslab's own module writes none, another's cannot be used.
        const { name } = moduleTypeName(r.length64());
        r.moduleFields(true);
        host.log('warning', `The dump holds AUX data of module '${name}' (offset ${at}), which kvslab does not have: left out`);
        continue;
      }
      case OP_FUNCTION:
      case OP_FUNCTION2: {
        r.skipString();
        const u = unknownKind(unknown, 'function library', db.id, at, Buffer.from('(function library)'));
        unknown = u;
        continue;
      }
      case OP_EOF:
        r.trailer(opts.checksum);
        stats.evicted = store.stats.evictedKeys - evictedBefore;
        if (unknown !== null && !opts.skipUnknownTypes) {
          throw new LoadError(
            `The dump holds ${unknown.count} keys of types kvslab does not have (the first: '${unknown.key}', ${/^[aeiou]/.test(unknown.type) ? 'an' : 'a'} ${unknown.type}, in db ${unknown.db} at offset ${unknown.offset}); `
            + 'kvslab holds strings and KV tensors. Set rdb-load-skip-unknown-types yes to load the rest without them',
          );
        }
        if (unknown !== null) stats.skipped = unknown.count;
        return stats;
      default:
        break;
    }

    // A key: type byte, key, value.
    const type = op;
    const name = rdbTypeName(type);
    if (name === null) r.fail(`Unknown RDB encoding type ${type}`, at);
    const key = r.string();
    if (key.length > keyBuf.length) keyBuf = Buffer.allocUnsafeSlow(Math.max(key.length, keyBuf.length * 2));
    copyBytes(key, 0, key.length, keyBuf, 0);
    const k = keyBuf.subarray(0, key.length);
    const valueAt = r.offset;
    const exp = expireAt;
    const keyIdle = idle;
    const keyFreq = freq;
    expireAt = -1n;
    idle = freq = -1;

    let vtype: ValueType;
    let value: Buffer;
    if (type === RDB_TYPE_STRING) {
      if (exp !== -1n && exp < now) {
        r.skipString();
        stats.expired++;
        continue;
      }
      vtype = ValueType.String;
      value = r.string();
    } else if (type === RDB_TYPE_MODULE_2) {
      const id = r.length64();
      if (id !== TENSOR_MODULE_ID) {
        r.moduleFields(true);
        unknown = unknownKind(unknown, `value of module type '${moduleTypeName(id).name}'`, db.id, at, k);
        continue;
      }
      const fields = r.moduleFields();
      if (exp !== -1n && exp < now) {
        stats.expired++;
        continue;
      }
      try {
        value = tensorFromFields(fields);
      } catch (e) {
        throw new RdbError(`${(e as Error).message} (key '${printable(k)}')`, valueAt);
      }
      vtype = ValueType.KvTensor;
    } else {
      r.skipValue(type);
      unknown = unknownKind(unknown, name, db.id, at, k);
      continue;
    }

    const old = db.find(k);
    if (old >= 0) {
      if (opts.replace !== true) throw new RdbError(`RDB has duplicated key '${printable(k)}' in DB ${db.id}`, at);
      // As Redis: the old entry is deleted, then the dump's added with its own expiry and access data.
      db.removeEntry(old);
    }
    const h = insert(host, opts, db, k, vtype, value, exp === -1n ? 0n : exp, stats);
    if (keyIdle >= 0 || keyFreq >= 0) db.restoreAccess(h, keyIdle, keyFreq);
    // Each key is written as by a command of its own: its handle is not held past it (else none could be evicted).
    store.unpinAll();
    stats.loaded++;
  }
}

/** Counts a key of a type kvslab does not hold, remembering the first. */
function unknownKind(u: Unknown | null, type: string, db: number, offset: number, key: Buffer): Unknown {
  if (u !== null) {
    u.count++;
    return u;
  }
  return { count: 1, key: printable(key), type, db, offset };
}

/** One key into its database, after making room for it; a LoadError when there is none. Returns its handle. */
function insert(host: LoadHost, opts: LoadOptions, db: Db, key: Buffer, type: ValueType, value: Buffer, expireAt: bigint, stats: LoadStats): number {
  const full = (): never => {
    throw new LoadError(
      `The dump does not fit maxmemory ${opts.maxmemory} bytes under maxmemory-policy ${opts.policy}: ${stats.loaded} keys loaded `
      + `(used_memory ${host.usedMemory()} bytes) when key '${printable(key)}' of ${value.length} bytes came. `
      + 'Raise maxmemory, or choose a policy that evicts to load what fits',
    );
  };
  if (!host.makeRoom()) full();
  for (;;) {
    try {
      return db.add(key, type, value, expireAt);
    } catch (e) {
      if (e instanceof KeyTooLongError) {
        throw new LoadError(`key '${printable(key)}' in db ${db.id} is ${key.length} bytes: ${e.message.replace(/^ERR /, '')}`);
      }
      if (!(e instanceof OutOfMemoryError)) throw e;
      // The item did not fit even within the budget: evict more, as the policy allows.
      if (!host.store.evictOne()) full();
    }
  }
}
