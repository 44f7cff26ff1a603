// src/client/kv.ts against a real kvslab: every KvTensorClient method, the
// [kv][layer][token][row] layout of payloads and slices, typed arrays
// (Float32Array, Uint16Array for half floats) round-tripping bit for bit,
// and the no-copy / copy-when-unaligned rules of toBuffer() and asFloat32().

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asFloat32, asInt8, asUint16, asUint8, dtypeBytes, KvTensorClient, rowBytes, toBuffer, tokensBytes, type Shape,
} from '../../src/client/kv.js';
import { startKvslab, type RunningServer } from '../helpers/servers.js';

let srv: RunningServer;
let kv: KvTensorClient;
beforeAll(async () => {
  srv = await startKvslab();
  kv = new KvTensorClient(srv.client());
});
afterAll(async () => { await srv.stop(); });

const F32: Shape = { dtype: 'float32', layers: 3, heads: 2, headdim: 4 };
const F16: Shape = { dtype: 'float16', layers: 2, heads: 3, headdim: 2 };

/** Seeded random 32-bit words: every bit pattern is fair game, NaN payloads and denormals included. */
function words(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x;
  }
  return out;
}

/** A Float32Array of `tokens` tokens of `shape`, random bits (plus a few special values up front). */
function f32Payload(shape: Shape, tokens: number, seed: number): Float32Array {
  const w = words(tokensBytes(shape, tokens) / 4, seed);
  const special = [0x7fc00001, 0xffbfffff, 0x80000000, 0x00000001, 0x7f800000, 0xff800000, 0x7f7fffff];
  for (let i = 0; i < special.length && i < w.length; i++) w[i] = special[i];
  return new Float32Array(w.buffer);
}

function u16Payload(shape: Shape, tokens: number, seed: number): Uint16Array {
  const w = words(Math.ceil(tokensBytes(shape, tokens) / 4), seed);
  return new Uint16Array(w.buffer, 0, tokensBytes(shape, tokens) / 2);
}

/** The bytes of any view, for exact comparison (never through JS numbers, which may canonicalise NaNs). */
const bytes = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/**
 * Expected slice of tokens [start, end) of layers [from, to) out of a full
 * payload of `tokens` tokens laid out [kv][layer][token][row].
 */
function expectedSlice(shape: Shape, full: Buffer, tokens: number, from: number, to: number, start: number, end: number): Buffer {
  const row = rowBytes(shape);
  const parts: Buffer[] = [];
  for (let k = 0; k < (shape.kv ?? 2); k++) {
    for (let l = from; l < to; l++) {
      const base = ((k * shape.layers + l) * tokens) * row;
      parts.push(full.subarray(base + start * row, base + end * row));
    }
  }
  return Buffer.concat(parts);
}

describe('helpers', () => {
  it('sizes: dtypeBytes, rowBytes, tokensBytes', () => {
    expect(['float32', 'float16', 'bfloat16', 'float8_e4m3', 'float8_e5m2', 'int8', 'uint8'].map((d) => dtypeBytes(d as Shape['dtype']))).toEqual([4, 2, 2, 1, 1, 1, 1]);
    expect(rowBytes(F32)).toBe(2 * 4 * 4);
    expect(tokensBytes(F32, 5)).toBe(2 * 3 * 5 * 32);
    expect(tokensBytes(F32, 5, 1)).toBe(2 * 1 * 5 * 32);
    expect(tokensBytes({ ...F16, kv: 1 }, 7)).toBe(1 * 2 * 7 * 3 * 2 * 2);
  });

  it('toBuffer views the same memory, subarrays included', () => {
    const f = new Float32Array(16);
    const sub = f.subarray(3, 9);
    const b = toBuffer(sub);
    expect(b.buffer).toBe(f.buffer);
    expect(b.byteOffset).toBe(12);
    expect(b.length).toBe(24);
    b.writeFloatLE(1.5, 0);
    expect(f[3]).toBe(1.5);
    const buf = Buffer.from([1, 2, 3]);
    expect(toBuffer(buf)).toBe(buf);
  });

  it('asFloat32/asUint16 view aligned Buffers and copy unaligned ones', () => {
    const backing = Buffer.alloc(64);
    const aligned = backing.subarray(8, 40);
    const f = asFloat32(aligned);
    expect(f.buffer).toBe(backing.buffer);
    expect(f.byteOffset).toBe(backing.byteOffset + 8);
    expect(f.length).toBe(8);
    const unaligned = backing.subarray(9, 41);
    unaligned.writeFloatLE(-2.25, 4);
    const g = asFloat32(unaligned);
    expect(g.buffer).not.toBe(backing.buffer);
    expect(g.length).toBe(8);
    expect(g[1]).toBe(-2.25);
    expect(bytes(g).equals(unaligned)).toBe(true);
    const h = asUint16(backing.subarray(3, 11));
    expect(h.length).toBe(4);
    expect(bytes(h).equals(backing.subarray(3, 11))).toBe(true);
    expect(asUint8(backing).buffer).toBe(backing.buffer);
    expect(asInt8(backing.subarray(1)).byteOffset).toBe(backing.byteOffset + 1);
    expect(() => asFloat32(backing.subarray(0, 6))).toThrow(RangeError);
  });
});

describe('KvTensorClient', () => {
  it('create, info, meta, NX, EX/PX', async () => {
    expect(await kv.create('c:1', F32, { meta: 'hello' })).toBe(true);
    const info = await kv.info('c:1');
    expect(info).toEqual({
      dtype: 'float32', layers: 3, kv: 2, heads: 2, headdim: 4, length: 0, layerLengths: [0, 0, 0],
      bytesPerToken: tokensBytes(F32, 1), bytes: 0, capacity: 0, metaBytes: 5, ttl: -1,
    });
    expect((await kv.meta('c:1'))!.toString()).toBe('hello');
    expect(await kv.create('c:1', F16, { nx: true })).toBe(false);
    expect((await kv.info('c:1'))!.dtype).toBe('float32');
    expect(await kv.create('c:2', { ...F16, kv: 1 }, { ex: 100, meta: Buffer.from([0, 255, 0]) })).toBe(true);
    const i2 = (await kv.info('c:2'))!;
    expect(i2.kv).toBe(1);
    expect(i2.dtype).toBe('float16');
    expect(i2.ttl).toBeGreaterThan(90);
    expect(await kv.meta('c:2')).toEqual(Buffer.from([0, 255, 0]));
    expect(await kv.create('c:3', F32, { px: 50_000 })).toBe(true);
    expect((await kv.info('c:3'))!.ttl).toBeGreaterThan(40);
    expect(await kv.meta('c:3')).toEqual(Buffer.alloc(0));
    expect(await kv.info('c:missing')).toBeNull();
    expect(await kv.meta('c:missing')).toBeNull();
  });

  it('put then slice round-trips a Float32Array bit for bit, in the [kv][layer][token][row] layout', async () => {
    const tokens = 7;
    const data = f32Payload(F32, tokens, 1);
    expect(await kv.put('p:f32', data, F32)).toBe(tokens);
    expect(await kv.len('p:f32')).toBe(tokens);
    const all = (await kv.slice('p:f32', 0, tokens))!;
    expect(all.equals(bytes(data))).toBe(true);
    expect(bytes(asFloat32(all)).equals(bytes(data))).toBe(true);
    const full = bytes(data);
    // One layer, a layer range, negative and clamped positions.
    expect((await kv.slice('p:f32', 2, 5, { layer: 1 }))!.equals(expectedSlice(F32, full, tokens, 1, 2, 2, 5))).toBe(true);
    expect((await kv.slice('p:f32', 1, 4, { layers: [1, 3] }))!.equals(expectedSlice(F32, full, tokens, 1, 3, 1, 4))).toBe(true);
    expect((await kv.slice('p:f32', -3, -1))!.equals(expectedSlice(F32, full, tokens, 0, 3, 4, 6))).toBe(true);
    expect((await kv.slice('p:f32', 5, 100, { layer: 2 }))!.equals(expectedSlice(F32, full, tokens, 2, 3, 5, 7))).toBe(true);
    expect((await kv.slice('p:f32', 4, 2))!.length).toBe(0);
    expect(await kv.slice('p:missing', 0, 1)).toBeNull();
    await expect(kv.slice('p:f32', 0, 1, { layer: 3 })).rejects.toThrow(/out of range/);
  });

  it('put sends only the bytes of a subarray view', async () => {
    const data = f32Payload(F32, 4, 2);
    const padded = new Float32Array(data.length + 3);
    padded.set(data, 3);
    expect(await kv.put('p:view', padded.subarray(3), F32)).toBe(4);
    expect((await kv.slice('p:view', 0, 4))!.equals(bytes(data))).toBe(true);
  });

  it('put round-trips a Uint16Array of half floats bit for bit; NX; bad sizes', async () => {
    const data = u16Payload(F16, 5, 3);
    expect(await kv.put('p:f16', data, F16, { meta: 'half' })).toBe(5);
    const back = (await kv.slice('p:f16', 0, 5))!;
    expect(bytes(asUint16(back)).equals(bytes(data))).toBe(true);
    expect(Array.from(asUint16(back))).toEqual(Array.from(data));
    expect((await kv.info('p:f16'))!.bytes).toBe(tokensBytes(F16, 5));
    expect(await kv.put('p:f16', u16Payload(F16, 2, 4), F16, { nx: true })).toBeNull();
    expect(await kv.len('p:f16')).toBe(5);
    await expect(kv.put('p:bad', new Uint8Array(tokensBytes(F16, 1) + 1), F16)).rejects.toThrow(/not a whole number of tokens/);
    // An empty payload is a tensor of 0 tokens.
    expect(await kv.put('p:empty', new Float32Array(0), F32)).toBe(0);
  });

  it('append: every layer, one layer, AT, CREATE, committed length', async () => {
    const row = rowBytes(F32) / 4;
    const a = f32Payload(F32, 3, 5);
    expect(await kv.append('a:1', a, { create: F32 })).toBe(3);
    await expect(kv.append('a:none', a)).rejects.toThrow(/no such key/);
    await expect(kv.append('a:1', a, { at: 2 })).rejects.toThrow('position mismatch, length is 3');
    const b = f32Payload(F32, 2, 6);
    expect(await kv.append('a:1', b, { at: 3 })).toBe(5);
    // Layer by layer: the committed length moves when the last layer catches up.
    const perLayer = [0, 1, 2].map((l) => f32Payload({ ...F32, layers: 1 }, 1, 10 + l));
    expect(await kv.append('a:1', perLayer[0], { layer: 0, at: 5 })).toBe(5);
    expect(await kv.append('a:1', perLayer[1], { layer: 1, at: 5 })).toBe(5);
    expect((await kv.info('a:1'))!.layerLengths).toEqual([6, 6, 5]);
    await expect(kv.append('a:1', perLayer[2], { layer: 2, at: 6 })).rejects.toThrow('position mismatch, length is 5');
    expect(await kv.append('a:1', perLayer[2], { layer: 2, at: 5, create: F32 })).toBe(6);
    // The whole, as one slice: K of layers 0..2 (a, b, the per-layer row), then V.
    const got = asFloat32((await kv.slice('a:1', 0, 6))!);
    for (let k = 0; k < 2; k++) {
      for (let l = 0; l < 3; l++) {
        const out = bytes(got.subarray((k * 3 + l) * 6 * row, (k * 3 + l + 1) * 6 * row));
        const want = Buffer.concat([
          bytes(a.subarray((k * 3 + l) * 3 * row, (k * 3 + l + 1) * 3 * row)),
          bytes(b.subarray((k * 3 + l) * 2 * row, (k * 3 + l + 1) * 2 * row)),
          bytes(perLayer[l].subarray(k * row, (k + 1) * row)),
        ]);
        expect(out.equals(want), `kv ${k} layer ${l}`).toBe(true);
      }
    }
    await expect(kv.append('a:1', perLayer[0], { layer: 0, create: F16 })).rejects.toThrow(/shape mismatch/);
    // A new key from a one-layer append.
    expect(await kv.append('a:2', perLayer[1], { layer: 1, at: 0, create: F32 })).toBe(0);
    expect((await kv.info('a:2'))!.layerLengths).toEqual([0, 1, 0]);
  });

  it('mslice stops at the first missing key', async () => {
    const x = f32Payload(F32, 4, 20);
    const y = f32Payload(F32, 2, 21);
    await kv.put('m:x', x, F32);
    await kv.put('m:y', y, F32);
    const r = await kv.mslice(['m:x', 'm:y', 'm:gone', 'm:x'], 1, 3);
    expect(r.length).toBe(2);
    expect(r[0].equals(expectedSlice(F32, bytes(x), 4, 0, 3, 1, 3))).toBe(true);
    expect(r[1].equals(expectedSlice(F32, bytes(y), 2, 0, 3, 1, 2))).toBe(true);
    expect(await kv.mslice(['m:gone', 'm:x'], 0, 1)).toEqual([]);
    expect(await kv.mslice([], 0, 1)).toEqual([]);
  });

  it('prefix and pin count existing keys in a row from the first', async () => {
    for (const k of ['q:0', 'q:1', 'q:3']) await kv.create(k, F32);
    expect(await kv.prefix(['q:0', 'q:1', 'q:2', 'q:3'])).toBe(2);
    expect(await kv.prefix(['q:2', 'q:0'])).toBe(0);
    expect(await kv.prefix([])).toBe(0);
    expect(await kv.pin(5000, ['q:0', 'q:1', 'q:2', 'q:3'])).toBe(2);
    expect(await kv.pin(5000, ['q:3', 'q:0'])).toBe(2);
    expect(await kv.pin(5000, ['q:9'])).toBe(0);
    await expect(kv.pin(0, ['q:0'])).rejects.toThrow(/milliseconds/);
  });

  it('truncate keeps the first tokens; len of a missing key is 0', async () => {
    const data = f32Payload(F32, 40, 30);
    await kv.put('t:1', data, F32);
    expect(await kv.truncate('t:1', 50)).toBe(40);
    expect(await kv.truncate('t:1', 3)).toBe(3);
    expect(await kv.len('t:1')).toBe(3);
    expect((await kv.slice('t:1', 0, 100))!.equals(expectedSlice(F32, bytes(data), 40, 0, 3, 0, 3))).toBe(true);
    // Appending after a truncate continues at the new length.
    const more = f32Payload(F32, 1, 31);
    expect(await kv.append('t:1', more, { at: 3 })).toBe(4);
    expect((await kv.slice('t:1', 3, 4))!.equals(bytes(more))).toBe(true);
    expect(await kv.truncate('t:missing', 1)).toBe(0);
    expect(await kv.len('t:missing')).toBe(0);
  });

  it('a key of another type is refused', async () => {
    await kv.redis.set('s:plain', 'x');
    await expect(kv.len('s:plain')).rejects.toThrow(/WRONGTYPE/);
    await expect(kv.slice('s:plain', 0, 1)).rejects.toThrow(/WRONGTYPE/);
  });
});

describe('KvTensorClient.pin under memory pressure', () => {
  let small: RunningServer;
  beforeAll(async () => { small = await startKvslab(['--maxmemory', '3mb', '--maxmemory-policy', 'allkeys-lru']); });
  afterAll(async () => { await small.stop(); });

  it('pinned chunks survive an eviction storm that takes the others', async () => {
    const c = new KvTensorClient(small.client());
    const shape: Shape = { dtype: 'float32', layers: 2, heads: 2, headdim: 16 };
    const keys = Array.from({ length: 20 }, (_, i) => `chunk:${i}`);
    for (const k of keys) expect(await c.put(k, f32Payload(shape, 16, 40), shape)).toBe(16);
    expect(await c.pin(60_000, keys.slice(0, 4))).toBe(4);
    // 6 MB of strings through a 3 MB budget.
    const p = c.redis.pipeline();
    for (let i = 0; i < 3000; i++) p.set(`filler:${i}`, Buffer.alloc(2000, 1));
    await p.exec();
    const stats = await c.redis.info('stats');
    expect(Number(/evicted_keys:(\d+)/.exec(stats)![1])).toBeGreaterThan(0);
    expect(await c.prefix(keys)).toBeGreaterThanOrEqual(4);
    expect((await c.mslice(keys.slice(0, 4), 0, 16)).map((b) => b.equals(bytes(f32Payload(shape, 16, 40))))).toEqual([true, true, true, true]);
    // Most of the unpinned chunks went.
    let left = 0;
    for (const k of keys.slice(4)) left += await c.prefix([k]);
    expect(left).toBeLessThan(16);
  });
});
