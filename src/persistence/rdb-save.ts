// A dataset as an RDB file (SAVE, and the shutdown save). The file is written
// to a temporary name in the same directory, fsynced and renamed over the old
// one, so that a crash in the middle leaves the previous dump as it was.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Db } from '../store/db.js';
import type { Store } from '../store/store.js';
import { ValueType, type ByteSpan } from '../store/types.js';
import { RDB_TYPE_MODULE_2, RDB_TYPE_STRING } from './rdb-format.js';
import { RdbWriter, type ByteSink } from './rdb-writer.js';
import { writeTensor } from './tensor-codec.js';
import { syncDir } from '../util/durable-file.js';

export interface SaveOptions {
  /** rdbcompression */
  compression: boolean;
  /** rdbchecksum */
  checksum: boolean;
  /** Leave tensors out: a dump that Redis without kvslab's module can load. */
  skipTensors: boolean;
  /** Access hints Redis writes before each key: IDLE under an LRU policy, FREQ under an LFU one. */
  hints: 'lru' | 'lfu' | null;
  /** The AUX fields besides redis-ver, redis-bits, ctime: used-mem and kvslab-ver. */
  usedMemory: number;
  redisVersion: string;
  kvslabVersion: string;
}

export interface SaveStats {
  keys: number;
  tensorsSkipped: number;
  bytes: number;
}

/** The header and the AUX fields Redis 7.0 writes, plus kvslab's own. */
export function writeHead(w: RdbWriter, opts: SaveOptions): void {
  w.header();
  w.aux('redis-ver', opts.redisVersion);
  w.aux('redis-bits', 64);
  w.aux('ctime', Math.floor(Date.now() / 1000));
  w.aux('used-mem', opts.usedMemory);
  w.aux('aof-base', 0);
  w.aux('kvslab-ver', opts.kvslabVersion);
}

/** Writes every live key of every database, in Redis's order of records. */
export function writeRdb(store: Store, sink: ByteSink, opts: SaveOptions): SaveStats {
  const w = new RdbWriter(sink, opts);
  const stats: SaveStats = { keys: 0, tensorsSkipped: 0, bytes: 0 };
  writeHead(w, opts);
  const now = store.now();
  const span: ByteSpan = { buf: Buffer.alloc(0), start: 0, end: 0, block: null };
  for (const db of store.dbs) {
    if (db.size === 0) continue;
    w.selectDb(db.id);
    w.resizeDb(db.size, db.volatileSize);
    db.forEachEntry((h) => {
      const kept = writeEntry(w, db, h, now, opts, span);
      if (kept) stats.keys++;
      else if (kept === null) stats.tensorsSkipped++;
    });
  }
  w.end();
  stats.bytes = w.written;
  return stats;
}

/**
 * One key's records (expiry, access hint, type, key, value), as of `now`:
 * true when written, false when it had expired (a loader would drop it),
 * null when it is a tensor that opts leave out. The value is read into `span`.
 */
export function writeEntry(w: RdbWriter, db: Db, h: number, now: number, opts: SaveOptions, span: ByteSpan): boolean | null {
  const type = writeEntryHead(w, db, h, now, opts, span);
  if (type === false || type === null) return type;
  writeValueBody(w, type, db.valueSpanInto(h, span));
  return true;
}

/**
 * writeEntry up to the value: the expiry, the access hint, the type byte and
 * the key. Returns the value's type, or false / null as writeEntry.
 */
export function writeEntryHead(w: RdbWriter, db: Db, h: number, now: number, opts: SaveOptions, span: ByteSpan): ValueType | false | null {
  const at = db.expireAt(h);
  if (at !== 0 && at <= now) return false;
  const type = db.type(h);
  if (opts.skipTensors && type === ValueType.KvTensor) return null;
  if (at !== 0) w.expireAt(db.expireAtExact(h));
  if (opts.hints === 'lru') w.idle(Math.floor(db.idleMs(h) / 1000));
  else if (opts.hints === 'lfu') w.freq(db.lfuCounter(h));
  const key = db.keyInto(h, span);
  w.keyHeader(type === ValueType.KvTensor ? RDB_TYPE_MODULE_2 : RDB_TYPE_STRING, key.buf, key.start, key.end);
  return type;
}

/** The type byte and the value (DUMP's payload: no key). */
export function writeValue(w: RdbWriter, type: ValueType, span: ByteSpan): void {
  w.byte(type === ValueType.KvTensor ? RDB_TYPE_MODULE_2 : RDB_TYPE_STRING);
  writeValueBody(w, type, span);
}

/** A value's body, as its type is written (after writeEntryHead). */
export function writeValueBody(w: RdbWriter, type: ValueType, span: ByteSpan): void {
  if (type === ValueType.KvTensor) writeTensor(w, span.buf, span.start);
  else w.string(span.buf, span.start, span.end);
}

/** A file written through fs.writeSync. */
export class FileSink implements ByteSink {
  constructor(private readonly fd: number) {}

  write(buf: Uint8Array, start: number, end: number): void {
    let at = start;
    while (at < end) at += writeSync(this.fd, buf, at, end - at);
  }
}

/**
 * SAVE: the dataset into `path` through a temporary file in its directory
 * (Redis's temp-<pid>.rdb), fsynced, then renamed over `path`. On an error
 * the temporary file is removed and the old dump stays; the error is thrown.
 * The directory is synced after the rename.
 */
export function saveRdbFile(store: Store, path: string, opts: SaveOptions): SaveStats {
  const tmp = tempPath(path);
  const fd = openSync(tmp, 'w', 0o644);
  let closed = false;
  try {
    const stats = writeRdb(store, new FileSink(fd), opts);
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(tmp, path);
    syncDir(dirname(path));
    return stats;
  } catch (e) {
    if (!closed) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
}

/** Where a save writes before the rename: Redis's temp-<pid>.rdb, in the dump's directory. */
export function tempPath(path: string): string {
  return join(dirname(path), `temp-${process.pid}.rdb`);
}
