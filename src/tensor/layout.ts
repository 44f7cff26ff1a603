// How a tensor key lies in its value bytes. The store sees one value (inline
// in a chunk when small, in a large block otherwise) and knows nothing of
// this layout; the KV.* commands read and write it through these functions.
//
//   0      version (1)
//   1      dtype code (dtype.ts)
//   2      kv: 2 (K and V) or 1 (one latent per token, MLA)
//   3      unused (0)
//   4-7    layers         8-11   heads        12-15  headdim
//   16-19  capacity: tokens each stream has room for (doubles as appends need it)
//   20-23  length of the META blob
//   24-    one 32-bit token count per layer (K and V of a layer always agree)
//   then   the META blob, then zeros up to an 8-byte boundary
//   then   kv * layers streams of `capacity` rows each, stream s = kv_index * layers + layer;
//          a row is one token of one layer of K (or V): heads * headdim elements
//
// Streams are contiguous, so a slice of any token range of any layer range
// is kv * layers runs of bytes that the reply path sends as views. Growing
// the capacity moves the streams apart (kv.ts does it from the last one back).

import { DTYPE_SIZE } from './dtype.js';

export const VERSION = 1;
const FIXED = 24;
export const MAX_LAYERS = 1024;
export const MAX_HEADS = 1024;
export const MAX_HEADDIM = 16384;

export interface Shape {
  dtype: number;
  kv: number;
  layers: number;
  heads: number;
  headdim: number;
}

/** A decoded header, with the offsets the commands need. */
export interface Tensor extends Shape {
  capacity: number;
  metaLen: number;
  /** Bytes of one row (one token of one stream). */
  row: number;
  /** Offset of the META blob, and of the first stream, from the value's start. */
  metaAt: number;
  dataAt: number;
}

export function rowBytes(s: Shape): number {
  return s.heads * s.headdim * DTYPE_SIZE[s.dtype];
}

/** Bytes before the first stream. */
export function headerBytes(layers: number, metaLen: number): number {
  return (FIXED + 4 * layers + metaLen + 7) & ~7;
}

/** Total value bytes of a tensor with this shape, META and capacity. */
export function valueBytes(s: Shape, metaLen: number, capacity: number): number {
  return headerBytes(s.layers, metaLen) + s.kv * s.layers * capacity * rowBytes(s);
}

/** Writes a fresh header (every layer empty) at `off`. */
export function writeHeader(buf: Buffer, off: number, s: Shape, capacity: number, meta: Buffer | null): void {
  const metaLen = meta === null ? 0 : meta.length;
  buf[off] = VERSION;
  buf[off + 1] = s.dtype;
  buf[off + 2] = s.kv;
  buf[off + 3] = 0;
  buf.writeUInt32LE(s.layers, off + 4);
  buf.writeUInt32LE(s.heads, off + 8);
  buf.writeUInt32LE(s.headdim, off + 12);
  buf.writeUInt32LE(capacity, off + 16);
  buf.writeUInt32LE(metaLen, off + 20);
  const metaAt = off + FIXED + 4 * s.layers;
  buf.fill(0, off + FIXED, metaAt);
  if (meta !== null) meta.copy(buf, metaAt);
  buf.fill(0, metaAt + metaLen, off + headerBytes(s.layers, metaLen));
}

/** Decodes the header at `off`. */
export function readTensor(buf: Buffer, off: number): Tensor {
  const layers = buf.readUInt32LE(off + 4);
  const metaLen = buf.readUInt32LE(off + 20);
  const t: Tensor = {
    dtype: buf[off + 1],
    kv: buf[off + 2],
    layers,
    heads: buf.readUInt32LE(off + 8),
    headdim: buf.readUInt32LE(off + 12),
    capacity: buf.readUInt32LE(off + 16),
    metaLen,
    row: 0,
    metaAt: FIXED + 4 * layers,
    dataAt: headerBytes(layers, metaLen),
  };
  t.row = rowBytes(t);
  return t;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.dtype === b.dtype && a.kv === b.kv && a.layers === b.layers && a.heads === b.heads && a.headdim === b.headdim;
}

export function layerLength(buf: Buffer, off: number, layer: number): number {
  return buf.readUInt32LE(off + FIXED + 4 * layer);
}

export function setLayerLength(buf: Buffer, off: number, layer: number, len: number): void {
  buf.writeUInt32LE(len, off + FIXED + 4 * layer);
}

export function setCapacity(buf: Buffer, off: number, capacity: number): void {
  buf.writeUInt32LE(capacity, off + 16);
}

/** The shortest length among layers [from, to): tokens present in all of them. */
export function minLength(buf: Buffer, off: number, from: number, to: number): number {
  let min = 0xffffffff;
  for (let l = from; l < to; l++) {
    const n = buf.readUInt32LE(off + FIXED + 4 * l);
    if (n < min) min = n;
  }
  return to > from ? min : 0;
}

/** Offset (from the value's start) of row `token` of stream `s`. */
export function rowAt(t: Tensor, stream: number, token: number): number {
  return t.dataAt + (stream * t.capacity + token) * t.row;
}

/**
 * Moves the streams of the tensor at `off` in place to a capacity of `cap`
 * tokens (each stream's used rows only) and records it. Growing, streams move
 * to higher offsets, so the last goes first; shrinking, the first: either way
 * none is overwritten before it has moved. The value must be big enough for
 * the larger of the two capacities.
 */
export function moveStreams(buf: Buffer, off: number, t: Tensor, cap: number): void {
  const streams = t.kv * t.layers;
  const from = (st: number) => off + t.dataAt + st * t.capacity * t.row;
  const move = (st: number) => {
    const at = from(st);
    buf.copyWithin(off + t.dataAt + st * cap * t.row, at, at + layerLength(buf, off, st % t.layers) * t.row);
  };
  if (cap > t.capacity) for (let st = streams - 1; st > 0; st--) move(st);
  else for (let st = 1; st < streams; st++) move(st);
  setCapacity(buf, off, cap);
}
