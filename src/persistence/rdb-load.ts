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
import { moduleTypeName } from './module-type.js';
import {
  OP_AUX, OP_EOF, OP_EXPIRETIME, OP_EXPIRETIME_MS, OP_FREQ, OP_FUNCTION, OP_FUNCTION2, OP_IDLE, OP_MODULE_AUX,
  MODULE_OP_EOF, MODULE_OP_STRING, MODULE_OP_UINT, OP_RESIZEDB, OP_SELECTDB, RDB_TYPE_MODULE_2, RDB_TYPE_STRING, rdbTypeName,
} from './rdb-format.js';
import { FileSource, RdbError, RdbReader, type KeyBatch, type Span } from './rdb-reader.js';
import { checkTensor, TENSOR_FORMAT, TENSOR_MODULE_ID } from './tensor-codec.js';
import { FileChecksum, fileCrc64 } from './file-checksum.js';

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
  /** The CRC may be worked out by a thread on another core (file-checksum.ts); step() then waits for it at the end (see pending). */
  checksumThread?: boolean;
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

const EMPTY = Buffer.alloc(0);
/** Keys looked ahead at a time: enough cache misses in flight together, few enough to stay in cache until used. */
const LOOK_AHEAD = 32;
/** A key without an expiry record. A constant: the literal -1n makes a BigInt each time it is evaluated. */
const NO_EXPIRY = -1n;

/** The first key of a type kvslab does not hold, and how many there were. */
interface Unknown { count: number; key: string; type: string; db: number; offset: number }

function printable(key: Span): string {
  const n = key.end - key.start;
  const s = key.buf.toString('latin1', key.start, key.start + Math.min(n, 128));
  return n > 128 ? `${s}...` : s;
}

/** Loads `path` into `host.store` at once. Throws RdbError or LoadError (what was loaded before it stays). */
export function loadRdbFile(path: string, host: LoadHost, opts: LoadOptions): LoadStats {
  const load = new RdbLoad(path, host, opts);
  try {
    for (;;) {
      const stats = load.step(Infinity);
      if (stats !== null) return stats;
    }
  } finally {
    load.close();
  }
}

/**
 * A load that can go a slice at a time (start-up serves -LOADING between
 * slices, as Redis processes events every couple of megabytes): step() reads
 * records until it has read about `bytes` more of the file, stopping only
 * between records, and returns the statistics once the trailer is read.
 */
export class RdbLoad {
  private readonly src: FileSource;
  private readonly r: RdbReader;
  /** The CRC from another thread, when one works it out; and once the trailer is read, its offset and the CRC it holds. */
  private sideCrc: FileChecksum | null = null;
  private trailerAt = -1;
  private storedCrc = 0n;
  readonly stats: LoadStats;
  private readonly evictedBefore: number;
  private readonly now: bigint;
  private unknown: Unknown | null = null;
  private db: Db;
  // Per key: what the records before its type byte said.
  private expireAt = NO_EXPIRY;
  private idle = -1;
  private freq = -1;
  /** Keys looked ahead at (see lookAhead), and how many of them are still to come. */
  private readonly batch: KeyBatch = { buf: EMPTY, starts: new Uint32Array(LOOK_AHEAD), ends: new Uint32Array(LOOK_AHEAD), count: 0 };
  private ahead = 0;
  /** The current key, as a span of the reader's memory. */
  private readonly k: Span = { buf: EMPTY, start: 0, end: 0 };

  constructor(path: string, private readonly host: LoadHost, private readonly opts: LoadOptions) {
    this.src = new FileSource(path);
    this.r = new RdbReader(this.src);
    try {
      this.stats = { version: this.r.header(), loaded: 0, expired: 0, skipped: 0, evicted: 0, aux: new Map() };
    } catch (e) {
      this.r.close();
      throw e;
    }
    // Files before version 5 have no CRC; with rdbchecksum no it is not computed at all (as in Redis).
    if (opts.checksum && opts.checksumThread && this.stats.version >= 5) {
      this.sideCrc = FileChecksum.start(path, this.src.fd, this.src.size - 8);
      if (this.sideCrc !== null) host.log('verbose', 'The dump\'s CRC-64 is worked out by a second thread, alongside the load');
    }
    if (!opts.checksum || this.sideCrc !== null) this.r.leaveChecksum();
    const store = host.store;
    this.evictedBefore = store.stats.evictedKeys;
    this.now = BigInt(store.now());
    this.db = store.dbs[0];
  }

  /** Bytes of the file read so far, and its size (loading_loaded_bytes, loading_total_bytes). */
  get offset(): number { return this.r.offset; }
  get size(): number { return this.r.offset + this.r.remaining; }

  /** While the records are read and the CRC thread still works: what settles when it is done (await it before the next step). */
  get pending(): Promise<void> | null {
    return this.trailerAt >= 0 && this.sideCrc !== null && this.sideCrc.result === null ? this.sideCrc.done : null;
  }

  close(): void {
    this.sideCrc?.close();
    this.r.close();
  }

  /** Reads records for about `bytes` of the file; the statistics when the load is complete, else null. */
  step(bytes: number): LoadStats | null {
    if (this.trailerAt >= 0) return this.checked();
    const r = this.r;
    const until = r.offset + bytes;
    while (r.offset < until) {
      if (this.ahead === 0) this.lookAhead();
      if (this.record()) return this.sideCrc === null ? this.finish() : this.checked();
    }
    return null;
  }

  /**
   * The trailer against the CRC thread's result: null while it works. If the
   * thread failed, or the trailer is not the file's last 8 bytes (what the
   * thread was given), the CRC is worked out here.
   */
  private checked(): LoadStats | null {
    let crc = this.sideCrc!.result;
    if (crc === null) return null;
    if (crc instanceof Error || this.trailerAt !== this.src.size - 8) {
      if (crc instanceof Error) this.host.log('warning', `The checksum thread failed (${crc.message}): checking the dump here`);
      crc = fileCrc64(this.src.fd, this.trailerAt);
    }
    this.r.checkCrc(this.storedCrc, crc, this.trailerAt);
    return this.finish();
  }

  /**
   * The keys of the next records, when they are in the window, have their
   * buckets read into the cache at once (Db.prefetch): the lookups that
   * follow then find them there, instead of each waiting for memory.
   */
  private lookAhead(): void {
    const b = this.r.peekKeys(this.batch);
    if (b.count > 0) this.db.prefetch(b.buf, b.starts, b.ends, b.count);
    this.ahead = b.count;
  }

  /** One record; true at EOF (the trailer read). */
  private record(): boolean {
    const { r, host, opts, stats } = this;
    const store = host.store;
    const at = r.offset;
    const op = r.byte();
    switch (op) {
      case OP_EXPIRETIME_MS:
        this.expireAt = r.int64LE();
        return false;
      case OP_EXPIRETIME:
        this.expireAt = BigInt(r.uint32LE() | 0) * 1000n;
        return false;
      case OP_IDLE:
        this.idle = r.length();
        return false;
      case OP_FREQ:
        this.freq = r.byte();
        return false;
      case OP_SELECTDB: {
        const id = r.length();
        if (id >= store.dbs.length) {
          throw new LoadError(`FATAL: Data file was created with a Redis server configured to handle more than ${store.dbs.length} databases (db ${id} at offset ${at}); raise 'databases'`);
        }
        this.db = store.dbs[id];
        return false;
      }
      case OP_RESIZEDB: {
        // A hint only (a corrupt one must not allocate the machine away): capped by what the file can hold.
        const size = r.length();
        r.length();
        this.db.expand(Math.min(size, r.remaining));
        return false;
      }
      case OP_AUX: {
        const name = r.stringCopy().toString('latin1');
        stats.aux.set(name, r.string().toString('latin1'));
        return false;
      }
      case OP_MODULE_AUX: {
        // Module-wide data (not a key's): kvslab's own module writes none, another's cannot be used.
        const { name } = moduleTypeName(r.length64());
        r.moduleFields(true);
        host.log('warning', `The dump holds AUX data of module '${name}' (offset ${at}), which kvslab does not have: left out`);
        return false;
      }
      case OP_FUNCTION:
      case OP_FUNCTION2:
        r.skipString();
        this.unknown = unknownKind(this.unknown, 'function library', this.db.id, at, '(function library)');
        return false;
      case OP_EOF:
        this.trailerAt = r.offset;
        this.storedCrc = r.trailer(opts.checksum);
        return true;
      default:
        this.key(op, at);
        return false;
    }
  }

  /** A key: type byte (read), key, value. */
  private key(type: number, at: number): void {
    const { r, stats, db } = this;
    const name = rdbTypeName(type);
    if (name === null) return r.fail(`Unknown RDB encoding type ${type}`, at);
    if (this.ahead > 0) this.ahead--;
    // The key stays a span of the reader's memory while its value is read (no Buffer per key).
    const k = r.stringSpan(this.k);
    r.hold(k);
    const valueAt = r.offset;
    const exp = this.expireAt;
    const keyIdle = this.idle;
    const keyFreq = this.freq;
    this.expireAt = NO_EXPIRY;
    this.idle = this.freq = -1;
    const expireAt = exp === NO_EXPIRY ? 0n : exp;

    let h: number;
    if (type === RDB_TYPE_STRING) {
      if (exp !== NO_EXPIRY && exp < this.now) {
        r.skipString();
        stats.expired++;
        return r.hold(null);
      }
      h = this.string(k, expireAt, at);
    } else if (type === RDB_TYPE_MODULE_2) {
      const id = r.length64();
      if (id !== TENSOR_MODULE_ID) {
        r.moduleFields(true);
        this.unknown = unknownKind(this.unknown, `value of module type '${moduleTypeName(id).name}'`, db.id, at, k);
        return r.hold(null);
      }
      if (exp !== NO_EXPIRY && exp < this.now) {
        r.moduleFields(true);
        stats.expired++;
        return r.hold(null);
      }
      h = this.tensor(k, expireAt, valueAt);
    } else {
      r.skipValue(type);
      this.unknown = unknownKind(this.unknown, name, db.id, at, k);
      return r.hold(null);
    }
    r.hold(null);
    if (keyIdle >= 0 || keyFreq >= 0) db.restoreAccess(h, keyIdle, keyFreq);
    // Each key is written as by a command of its own: its handle is not held past it (else none could be evicted).
    this.host.store.unpinAll();
    stats.loaded++;
  }

  /** A string value for key `k`: the entry made at its length, then the value read (decompressed) straight into it. */
  private string(k: Span, expireAt: bigint, at: number): number {
    const r = this.r;
    const len = r.stringLength();
    const h = this.insert(k, ValueType.String, len, expireAt);
    if (h < 0) {
      // The key is there: the value is read whole first, as Redis does, before the old entry may go.
      const value = Buffer.allocUnsafe(len);
      r.stringInto(value, 0);
      return this.duplicate(k, ValueType.String, value, expireAt, at);
    }
    const s = this.db.writable(h);
    try {
      r.stringInto(s.buf, s.start);
    } catch (e) {
      // A value that does not read leaves no entry behind.
      this.db.removeEntry(h);
      throw e;
    }
    return h;
  }

  /**
   * A kvslab tensor for key `k` (its module id read): the format field, then
   * the tensor's string read straight into an entry made at its length and
   * checked there (a 32 MiB tensor is copied once, from the file), then the
   * module's EOF. A tensor that does not check out leaves no entry behind.
   */
  private tensor(k: Span, expireAt: bigint, at: number): number {
    const r = this.r;
    const bad = (why: string): never => { throw new RdbError(`kvslab-kv value: ${why} (key '${printable(k)}')`, at); };
    if (r.length() !== MODULE_OP_UINT || r.length64() !== BigInt(TENSOR_FORMAT)) bad(`expected format ${TENSOR_FORMAT}`);
    if (r.length() !== MODULE_OP_STRING) bad('expected the tensor as a string');
    const len = r.stringLength();
    const read = (dst: Buffer, start: number): void => {
      r.stringInto(dst, start);
      try {
        checkTensor(dst.subarray(start, start + len));
      } catch (e) {
        bad((e as Error).message.replace(/^kvslab-kv value: /, ''));
      }
      if (r.length() !== MODULE_OP_EOF) bad('more fields than a format and a string');
    };
    const h = this.insert(k, ValueType.KvTensor, len, expireAt);
    if (h < 0) {
      const value = Buffer.allocUnsafe(len);
      read(value, 0);
      return this.duplicate(k, ValueType.KvTensor, value, expireAt, at);
    }
    const s = this.db.writable(h);
    try {
      read(s.buf, s.start);
    } catch (e) {
      this.db.removeEntry(h);
      throw e;
    }
    return h;
  }

  /**
   * Key `k` is in the database already: an error, unless the dump's replaces
   * it (or it was expired). Returns the new entry's handle.
   */
  private duplicate(k: Span, type: ValueType, value: Buffer, expireAt: bigint, at: number): number {
    const db = this.db;
    const old = db.find(k.buf.subarray(k.start, k.end));
    if (old >= 0) {
      if (this.opts.replace !== true) throw new RdbError(`RDB has duplicated key '${printable(k)}' in DB ${db.id}`, at);
      // As Redis: the old entry is deleted, then the dump's added with its own expiry and access data.
      db.removeEntry(old);
    }
    const h = this.insert(k, type, value, expireAt);
    if (h < 0) throw new Error(`load: key '${printable(k)}' still in DB ${db.id} after its removal`);
    return h;
  }

  /**
   * Key `k` into the database unless it is there (-1), after making room for
   * it; a LoadError when there is none. `value` is its bytes or its length
   * (the caller writes it). Returns the handle.
   */
  private insert(k: Span, type: ValueType, value: Buffer | number, expireAt: bigint): number {
    const { host, db } = this;
    if (!host.makeRoom()) this.full(k, value);
    for (;;) {
      try {
        return db.addAbsent(k.buf, k.start, k.end, type, value, expireAt);
      } catch (e) {
        if (e instanceof KeyTooLongError) {
          throw new LoadError(`key '${printable(k)}' in db ${db.id} is ${k.end - k.start} bytes: ${e.message.replace(/^ERR /, '')}`);
        }
        if (!(e instanceof OutOfMemoryError)) throw e;
        // The item did not fit even within the budget: evict more, as the policy allows.
        if (!host.store.evictOne()) this.full(k, value);
      }
    }
  }

  /** The dump does not fit maxmemory: what was loaded, and the key that did not fit. */
  private full(k: Span, value: Buffer | number): never {
    const { host, opts, stats } = this;
    throw new LoadError(
      `The dump does not fit maxmemory ${opts.maxmemory} bytes under maxmemory-policy ${opts.policy}: ${stats.loaded} keys loaded `
      + `(used_memory ${host.usedMemory()} bytes) when key '${printable(k)}' of ${typeof value === 'number' ? value : value.length} bytes came. `
      + 'Raise maxmemory, or choose a policy that evicts to load what fits',
    );
  }

  /** After the trailer: keys of unknown types stop the load unless they may be left out. */
  private finish(): LoadStats {
    const { stats, unknown } = this;
    stats.evicted = this.host.store.stats.evictedKeys - this.evictedBefore;
    if (unknown !== null && !this.opts.skipUnknownTypes) {
      throw new LoadError(
        `The dump holds ${unknown.count} keys of types kvslab does not have (the first: '${unknown.key}', ${/^[aeiou]/.test(unknown.type) ? 'an' : 'a'} ${unknown.type}, in db ${unknown.db} at offset ${unknown.offset}); `
        + 'kvslab holds strings and KV tensors. Set rdb-load-skip-unknown-types yes to load the rest without them',
      );
    }
    if (unknown !== null) stats.skipped = unknown.count;
    return stats;
  }
}

/** Counts a key of a type kvslab does not hold, remembering the first. */
function unknownKind(u: Unknown | null, type: string, db: number, offset: number, key: Span | string): Unknown {
  if (u !== null) {
    u.count++;
    return u;
  }
  return { count: 1, key: typeof key === 'string' ? key : printable(key), type, db, offset };
}
