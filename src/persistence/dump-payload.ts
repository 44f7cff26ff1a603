// DUMP payloads (Redis's format: the value as in an RDB file, the 2-byte RDB
// version, the CRC-64 of both): written for DUMP, read for RESTORE. A string
// moves between kvslab and Redis either way; a tensor between kvslab servers
// (Redis refuses it as it refuses any module's value it has no module for).

import type { Db } from '../store/db.js';
import { ValueType } from '../store/types.js';
import { RDB_TYPE_MODULE_2, RDB_TYPE_STRING, rdbTypeName } from './rdb-format.js';
import { BufferSource, RdbError, RdbReader, verifyDumpPayload } from './rdb-reader.js';
import { writeValue } from './rdb-save.js';
import { MemorySink, RdbWriter } from './rdb-writer.js';
import { TENSOR_MODULE_ID, tensorFromFields } from './tensor-codec.js';

/**
 * Payload after payload with one writer: its buffer and LZF table (a quarter
 * of a MiB, filled for each new writer) are made once, not per key, for
 * what sends many (MIGRATE, a slot migration).
 */
export class DumpWriter {
  private readonly sink = new MemorySink();
  private readonly w: RdbWriter;

  constructor(compression: boolean) {
    this.w = new RdbWriter(this.sink, { compression, checksum: true, bufferSize: WRITER_BYTES });
  }

  /** DUMP: the value of entry `h`, in a buffer of its own. */
  payload(db: Db, h: number): Buffer {
    this.w.reset();
    writeValue(this.w, db.type(h), db.valueSpan(h));
    this.w.dumpTrailer();
    return this.sink.take();
  }
}

/** The writer's gathering buffer: most values fit; a bigger one goes to the sink as it is. */
const WRITER_BYTES = 64 * 1024;

/** DUMP: the value of entry `h` (one payload: DumpWriter for many). */
export function dumpPayload(db: Db, h: number, compression: boolean): Buffer {
  return new DumpWriter(compression).payload(db, h);
}

/** RESTORE's reading of a payload: the value, or why not (Redis's two errors, and types kvslab does not hold). */
export type RestoredValue =
  | { type: ValueType; value: Buffer }
  | { error: 'checksum' | 'format'; detail?: string };

export function readDumpPayload(p: Buffer): RestoredValue {
  if (!verifyDumpPayload(p)) return { error: 'checksum' };
  // The default window: a big value is read once into a buffer of its own, not copied out of the window.
  const r = new RdbReader(new BufferSource(p, 0, p.length - 10));
  try {
    const type = r.byte();
    if (type === RDB_TYPE_STRING) return { type: ValueType.String, value: r.stringCopy() };
    if (type === RDB_TYPE_MODULE_2 && r.length64() === TENSOR_MODULE_ID) {
      return { type: ValueType.KvTensor, value: tensorFromFields(r.moduleFields()) };
    }
    const name = rdbTypeName(type);
    return { error: 'format', detail: name === null || name === 'module' ? undefined : `a ${name} value; kvslab holds strings and KV tensors` };
  } catch (e) {
    // A payload whose checksum is right but whose value is not: an RdbError, or a tensor that does not check out.
    return { error: 'format', detail: e instanceof RdbError ? undefined : (e as Error).message };
  }
}
