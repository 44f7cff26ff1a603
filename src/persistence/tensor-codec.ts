// KV tensors in an RDB file or DUMP payload: a module value (MODULE_2) of the
// type "kvslab-kv", so that redis-check-rdb steps over it and stock Redis
// refuses it by name ("no matching module"), as it refuses any module's data.
// Its fields: an unsigned format version (1), then the tensor as one string:
// the header of tensor/layout.ts with the capacity cut to the longest layer,
// and each stream's rows up to it (rows a shorter layer has not written yet
// are zeros, so a dump holds no stale memory). Written raw, not LZF: K/V
// floats hardly compress and a 32 MiB chunk would pay for trying.

import { moduleTypeId } from './module-type.js';
import { MODULE_OP_STRING } from './rdb-format.js';
import type { RdbWriter } from './rdb-writer.js';
import { DTYPES } from '../tensor/dtype.js';
import {
  headerBytes, layerLength, MAX_HEADDIM, MAX_HEADS, MAX_LAYERS, readTensor, rowAt, setCapacity, valueBytes, VERSION,
} from '../tensor/layout.js';

export const TENSOR_MODULE_NAME = 'kvslab-kv';
export const TENSOR_ENCVER = 1;
export const TENSOR_MODULE_ID = moduleTypeId(TENSOR_MODULE_NAME, TENSOR_ENCVER);
/** The format field before the tensor's string (a loader checks it). */
export const TENSOR_FORMAT = 1;
const FORMAT = TENSOR_FORMAT;
const ZEROS = Buffer.alloc(64 * 1024);

/** Receives a run of bytes, buf[start, end). */
export type PartWriter = (buf: Uint8Array, start: number, end: number) => void;

/**
 * The tensor value buf[start, ...) as a dump holds it: `total` bytes, given
 * to `write` in order by `parts`. The same tensor gives the same bytes
 * whatever its capacity or the rows past each layer's length held (DEBUG
 * DIGEST digests this form, so that a digest survives a save and load).
 */
export function tensorDumpForm(buf: Buffer, start: number): { total: number; parts(write: PartWriter): void } {
  const t = readTensor(buf, start);
  let cap = 0;
  for (let l = 0; l < t.layers; l++) cap = Math.max(cap, layerLength(buf, start, l));
  return {
    total: valueBytes(t, t.metaLen, cap),
    parts(write) {
      const header = Buffer.from(buf.subarray(start, start + t.dataAt));
      setCapacity(header, 0, cap);
      write(header, 0, header.length);
      for (let st = 0; st < t.kv * t.layers; st++) {
        const rows = layerLength(buf, start, st % t.layers);
        const at = start + rowAt(t, st, 0);
        write(buf, at, at + rows * t.row);
        for (let pad = (cap - rows) * t.row; pad > 0; pad -= ZEROS.length) write(ZEROS, 0, Math.min(pad, ZEROS.length));
      }
    },
  };
}

/** Writes the tensor value buf[start, ...) as a module value (after the key header). */
export function writeTensor(w: RdbWriter, buf: Buffer, start: number): void {
  const form = tensorDumpForm(buf, start);
  writeTensorHead(w);
  w.stringParts(form.total, form.parts);
  w.moduleEnd();
}

/** The module value's fields before the tensor's string (its length and bytes, then moduleEnd(), follow). */
export function writeTensorHead(w: RdbWriter): void {
  w.moduleStart(TENSOR_MODULE_ID);
  w.moduleUint(FORMAT);
  w.length(MODULE_OP_STRING);
}

/**
 * The tensor value in a module value's fields, checked so that a dump can
 * never put a tensor the KV.* commands would misread into the store. Throws
 * an Error with the reason.
 */
export function tensorFromFields(fields: readonly { op: string; value: unknown }[]): Buffer {
  if (fields.length !== 2 || fields[0].op !== 'uint' || fields[1].op !== 'string') throw new Error('kvslab-kv value: expected a format number and a string');
  if (fields[0].value !== BigInt(FORMAT)) throw new Error(`kvslab-kv value: format ${String(fields[0].value)} is not ${FORMAT}`);
  const v = fields[1].value as Buffer;
  checkTensor(v);
  return v;
}

/** Throws when `v` is not a well-formed tensor value (tensor/layout.ts). */
export function checkTensor(v: Buffer): void {
  const bad = (why: string): never => { throw new Error(`kvslab-kv value: ${why}`); };
  if (v.length < 24) bad('shorter than its header');
  if (v[0] !== VERSION) bad(`layout version ${v[0]}`);
  const t = readTensor(v, 0);
  if (t.dtype >= DTYPES.length) bad(`dtype code ${t.dtype}`);
  if (t.kv !== 1 && t.kv !== 2) bad(`kv ${t.kv}`);
  if (t.layers < 1 || t.layers > MAX_LAYERS) bad(`${t.layers} layers`);
  if (t.heads < 1 || t.heads > MAX_HEADS) bad(`${t.heads} heads`);
  if (t.headdim < 1 || t.headdim > MAX_HEADDIM) bad(`headdim ${t.headdim}`);
  if (headerBytes(t.layers, t.metaLen) > v.length) bad('META longer than the value');
  for (let l = 0; l < t.layers; l++) if (layerLength(v, 0, l) > t.capacity) bad(`layer ${l} holds more tokens than the capacity`);
  if (valueBytes(t, t.metaLen, t.capacity) !== v.length) bad(`${v.length} bytes, the shape needs ${valueBytes(t, t.metaLen, t.capacity)}`);
}
