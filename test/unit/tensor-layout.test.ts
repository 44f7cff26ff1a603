// How a tensor key lies in its value bytes (src/tensor/layout.ts) and the
// element types (src/tensor/dtype.ts), checked in-process against hand
// computations of the layout described at the top of layout.ts: a 24-byte
// fixed header, one u32 token count per layer, the META blob, zeros to an
// 8-byte boundary, then kv * layers streams of `capacity` rows each.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DTYPES, DTYPE_SIZE, dtypeCode, dtypeName } from '../../src/tensor/dtype.js';
import {
  type Shape, MAX_HEADDIM, MAX_HEADS, MAX_LAYERS, VERSION, headerBytes, layerLength, minLength, moveStreams,
  readTensor, rowAt, rowBytes, sameShape, setCapacity, setLayerLength, valueBytes, writeHeader,
} from '../../src/tensor/layout.js';

const F32 = 0;
const F16 = 1;
const BF16 = 2;
const U8 = 6;

/** float16, K and V, 3 layers of 4 heads of 8: rows of 4 * 8 * 2 = 64 bytes. */
const SHAPE: Shape = { dtype: F16, kv: 2, layers: 3, heads: 4, headdim: 8 };

describe('dtype', () => {
  it('codes are positions in DTYPES, with their element sizes', () => {
    expect(DTYPES).toEqual(['float32', 'float16', 'bfloat16', 'float8_e4m3', 'float8_e5m2', 'int8', 'uint8']);
    expect(DTYPE_SIZE).toEqual([4, 2, 2, 1, 1, 1, 1]);
    expect(DTYPES.map((n) => dtypeCode(n))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect([0, 1, 2, 3, 4, 5, 6].map(dtypeName)).toEqual([...DTYPES]);
  });

  it('names match in any case; anything else is -1', () => {
    expect(dtypeCode('FLOAT16')).toBe(1);
    expect(dtypeCode('BFloat16')).toBe(2);
    expect(dtypeCode('Float8_E4M3')).toBe(3);
    // Not the torch-prefixed name, not other types, not abbreviations.
    expect(['torch.float16', 'float64', 'fp16', 'half', '', 'float16 ', 'int4'].map(dtypeCode)).toEqual([-1, -1, -1, -1, -1, -1, -1]);
  });
});

describe('sizes', () => {
  it('rowBytes is heads * headdim * element size, for every dtype', () => {
    expect(rowBytes(SHAPE)).toBe(64);
    expect(DTYPES.map((_, d) => rowBytes({ ...SHAPE, dtype: d }))).toEqual([128, 64, 64, 32, 32, 32, 32]);
    expect(rowBytes({ dtype: F32, kv: 1, layers: 1, heads: MAX_HEADS, headdim: MAX_HEADDIM })).toBe(1024 * 16384 * 4);
  });

  it('headerBytes: 24 + 4 per layer + META, rounded up to 8, for META lengths 0..9', () => {
    const table: [number, number[]][] = [
      [1, [32, 32, 32, 32, 32, 40, 40, 40, 40, 40]], // 28 + meta
      [2, [32, 40, 40, 40, 40, 40, 40, 40, 40, 48]], // 32 + meta
      [3, [40, 40, 40, 40, 40, 48, 48, 48, 48, 48]], // 36 + meta
      [5, [48, 48, 48, 48, 48, 56, 56, 56, 56, 56]], // 44 + meta
      [32, [152, 160, 160, 160, 160, 160, 160, 160, 160, 168]], // 152 + meta
      [MAX_LAYERS, [4120, 4128, 4128, 4128, 4128, 4128, 4128, 4128, 4128, 4136]], // 4120 + meta
    ];
    for (const [layers, want] of table) {
      expect({ layers, sizes: want.map((_, meta) => headerBytes(layers, meta)) }).toEqual({ layers, sizes: want });
    }
  });

  it('valueBytes: header, then kv * layers * capacity rows', () => {
    // 3 layers, META of 5: header 48; 2 * 3 * 10 rows of 64.
    expect(valueBytes(SHAPE, 5, 10)).toBe(48 + 2 * 3 * 10 * 64);
    expect(valueBytes(SHAPE, 0, 0)).toBe(40);
    // MLA: one stream per layer.
    expect(valueBytes({ ...SHAPE, kv: 1 }, 4, 16)).toBe(40 + 3 * 16 * 64);
    expect(valueBytes({ dtype: U8, kv: 2, layers: 1, heads: 1, headdim: 1 }, 0, 7)).toBe(32 + 14);
  });
});

describe('header', () => {
  it('writeHeader lays out every field little-endian at the offset, zeroing lengths and padding only', () => {
    const off = 16;
    const shape: Shape = { dtype: BF16, kv: 2, layers: 3, heads: 260, headdim: 0x10203 };
    const meta = Buffer.from('hello', 'latin1');
    const buf = Buffer.alloc(off + 80, 0xaa);
    writeHeader(buf, off, shape, 0x01020304, meta);
    const want = Buffer.from([
      VERSION, BF16, 2, 0,
      3, 0, 0, 0, // layers
      4, 1, 0, 0, // heads 260
      3, 2, 1, 0, // headdim 0x10203
      4, 3, 2, 1, // capacity
      5, 0, 0, 0, // META length
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // three empty layers
      0x68, 0x65, 0x6c, 0x6c, 0x6f, // "hello" at 36
      0, 0, 0, 0, 0, 0, 0, // zeros from 41 up to 48
    ]);
    expect([...buf.subarray(off, off + 48)]).toEqual([...want]);
    // Bytes before the value and after the header are not touched.
    expect(buf.subarray(0, off).every((b) => b === 0xaa)).toBe(true);
    expect(buf.subarray(off + 48).every((b) => b === 0xaa)).toBe(true);
  });

  it('readTensor gives back every field written, with metaAt and dataAt relative to the value', () => {
    const off = 40;
    const shape: Shape = { dtype: F32, kv: 1, layers: 5, heads: MAX_HEADS, headdim: MAX_HEADDIM };
    const buf = Buffer.alloc(off + 64, 0xff);
    writeHeader(buf, off, shape, 123456, Buffer.from('meta!!!', 'latin1'));
    expect(readTensor(buf, off)).toEqual({
      dtype: F32, kv: 1, layers: 5, heads: 1024, headdim: 16384,
      capacity: 123456, metaLen: 7, row: 1024 * 16384 * 4,
      metaAt: 24 + 20, dataAt: 56,
    });
    expect(buf.toString('latin1', off + 44, off + 51)).toBe('meta!!!');
  });

  it('a header without META: metaLen 0, data right after the (padded) layer counts', () => {
    const buf = Buffer.alloc(64, 0xff);
    writeHeader(buf, 0, SHAPE, 4, null);
    const t = readTensor(buf, 0);
    expect([t.metaLen, t.metaAt, t.dataAt]).toEqual([0, 36, 40]);
    expect([...buf.subarray(36, 40)]).toEqual([0, 0, 0, 0]);
  });

  it('layer lengths: setLayerLength writes a u32 at 24 + 4 * layer; minLength is the shortest of a range', () => {
    const off = 8;
    const buf = Buffer.alloc(off + 48, 0);
    writeHeader(buf, off, SHAPE, 100, null);
    setLayerLength(buf, off, 0, 5);
    setLayerLength(buf, off, 1, 3);
    setLayerLength(buf, off, 2, 0x01000007);
    expect([...buf.subarray(off + 24, off + 36)]).toEqual([5, 0, 0, 0, 3, 0, 0, 0, 7, 0, 0, 1]);
    expect([0, 1, 2].map((l) => layerLength(buf, off, l))).toEqual([5, 3, 0x01000007]);
    expect(minLength(buf, off, 0, 3)).toBe(3);
    expect(minLength(buf, off, 0, 1)).toBe(5);
    expect(minLength(buf, off, 2, 3)).toBe(0x01000007);
    // An empty range has no tokens in common.
    expect(minLength(buf, off, 1, 1)).toBe(0);
    expect(minLength(buf, off, 0, 0)).toBe(0);
  });

  it('setCapacity changes the capacity field alone', () => {
    const buf = Buffer.alloc(48);
    writeHeader(buf, 0, SHAPE, 10, Buffer.from('abcde'));
    const before = readTensor(buf, 0);
    setCapacity(buf, 0, 0xdeadbeef);
    expect(readTensor(buf, 0)).toEqual({ ...before, capacity: 0xdeadbeef });
  });

  it('sameShape compares dtype, kv, layers, heads and headdim only', () => {
    expect(sameShape(SHAPE, { ...SHAPE })).toBe(true);
    const buf = Buffer.alloc(64);
    writeHeader(buf, 0, SHAPE, 99, Buffer.from('xyz'));
    // A decoded tensor (capacity, META, offsets and all) has the shape it was written with.
    expect(sameShape(readTensor(buf, 0), SHAPE)).toBe(true);
    for (const k of ['dtype', 'kv', 'layers', 'heads', 'headdim'] as const) {
      expect({ field: k, same: sameShape(SHAPE, { ...SHAPE, [k]: SHAPE[k] + 1 }) }).toEqual({ field: k, same: false });
    }
  });
});

describe('rows', () => {
  it('rowAt: stream s = kv_index * layers + layer, each stream `capacity` rows long', () => {
    const buf = Buffer.alloc(48);
    writeHeader(buf, 0, SHAPE, 10, Buffer.from('12345'));
    const t = readTensor(buf, 0);
    // dataAt 48, rows of 64, 10 rows per stream.
    expect(rowAt(t, 0, 0)).toBe(48);
    expect(rowAt(t, 0, 9)).toBe(48 + 9 * 64);
    // K of layer 1: stream 1.
    expect(rowAt(t, 1, 0)).toBe(48 + 10 * 64);
    // V (kv_index 1) of layer 2, token 7: stream 1 * 3 + 2 = 5, row 5 * 10 + 7 = 57.
    expect(rowAt(t, 1 * 3 + 2, 7)).toBe(48 + 57 * 64);
    expect(rowAt(t, 1 * 3 + 2, 7)).toBe(3696);
    // The last row ends the value.
    expect(rowAt(t, 5, 9) + t.row).toBe(valueBytes(t, t.metaLen, t.capacity));
  });
});

/** The byte at index i of row `token` of stream `st` (distinct per stream, token and position). */
function pattern(st: number, token: number, i: number): number {
  return (st * 71 + token * 13 + i * 3 + 1) & 0xff;
}

/**
 * A tensor at `off` in a buffer big enough for `room` tokens, with layer `l`
 * holding lengths[l] tokens, each committed row filled with its pattern and
 * every other byte of the streams 0xee.
 */
function filledTensor(shape: Shape, lengths: number[], cap: number, room: number, off: number): Buffer {
  const buf = Buffer.alloc(off + valueBytes(shape, 3, Math.max(cap, room)) + 16, 0xee);
  writeHeader(buf, off, shape, cap, Buffer.from('m:x', 'latin1'));
  lengths.forEach((n, l) => setLayerLength(buf, off, l, n));
  const t = readTensor(buf, off);
  for (let st = 0; st < shape.kv * shape.layers; st++) {
    for (let tok = 0; tok < lengths[st % shape.layers]; tok++) {
      const at = off + rowAt(t, st, tok);
      for (let i = 0; i < t.row; i++) buf[at + i] = pattern(st, tok, i);
    }
  }
  return buf;
}

/** Every committed row that is not where its pattern says, as "stream/token", or [] when all are intact. */
function brokenRows(buf: Buffer, off: number, lengths: number[]): string[] {
  const t = readTensor(buf, off);
  const bad: string[] = [];
  for (let st = 0; st < t.kv * t.layers; st++) {
    for (let tok = 0; tok < lengths[st % t.layers]; tok++) {
      const at = off + rowAt(t, st, tok);
      for (let i = 0; i < t.row; i++) {
        if (buf[at + i] !== pattern(st, tok, i)) {
          bad.push(`${st}/${tok}`);
          break;
        }
      }
    }
  }
  return bad;
}

describe('moveStreams', () => {
  const shape: Shape = { dtype: U8, kv: 2, layers: 3, heads: 2, headdim: 5 }; // rows of 10 bytes
  const lengths = [4, 1, 3];

  function move(cap: number, newCap: number, lens = lengths, off = 24): { buf: Buffer; off: number } {
    const buf = filledTensor(shape, lens, cap, newCap, off);
    const header = Buffer.from(buf.subarray(off, off + readTensor(buf, off).dataAt));
    moveStreams(buf, off, readTensor(buf, off), newCap);
    // The header is unchanged but for the capacity.
    const t = readTensor(buf, off);
    expect(t.capacity).toBe(newCap);
    setCapacity(header, 0, newCap);
    expect(buf.subarray(off, off + t.dataAt).equals(header)).toBe(true);
    return { buf, off };
  }

  it('growing by one token (overlapping moves): every committed row is at its new place', () => {
    const { buf, off } = move(4, 5);
    expect(brokenRows(buf, off, lengths)).toEqual([]);
  });

  it('growing far (no overlap), at offset 0 and inside a buffer', () => {
    for (const off of [0, 24, 1001]) {
      const { buf } = move(4, 40, lengths, off);
      expect({ off, broken: brokenRows(buf, off, lengths) }).toEqual({ off, broken: [] });
    }
  });

  it('shrinking to the longest layer, and shrinking a little: every committed row is at its new place', () => {
    for (const [cap, newCap] of [[16, 4], [16, 15], [5, 4]]) {
      const { buf, off } = move(cap, newCap);
      expect({ cap, newCap, broken: brokenRows(buf, off, lengths) }).toEqual({ cap, newCap, broken: [] });
    }
  });

  it('the moved value needs only valueBytes of the larger capacity; bytes after it are untouched', () => {
    const off = 8;
    const buf = filledTensor(shape, lengths, 4, 9, off);
    const end = off + valueBytes(shape, 3, 9);
    buf.fill(0x5a, end);
    moveStreams(buf, off, readTensor(buf, off), 9);
    expect(buf.subarray(end).every((b) => b === 0x5a)).toBe(true);
    expect(brokenRows(buf, off, lengths)).toEqual([]);
  });

  it('random shapes, lengths and capacities, growing and shrinking, keep every committed row', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 12 }),
      fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
      fc.integer({ min: 0, max: 64 }),
      (kv, layers, heads, capA, capB, seeds, off) => {
        const s: Shape = { dtype: F16, kv, layers, heads, headdim: 3 };
        const min = Math.min(capA, capB);
        const lens = seeds.slice(0, layers).map((x) => x % (min + 1));
        const buf = filledTensor(s, lens, capA, capB, off);
        moveStreams(buf, off, readTensor(buf, off), capB);
        expect(readTensor(buf, off).capacity).toBe(capB);
        expect(brokenRows(buf, off, lens)).toEqual([]);
      },
    ), { numRuns: 300 });
  });
});
