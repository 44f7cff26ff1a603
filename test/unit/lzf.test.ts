// LZF (src/persistence/lzf.ts): round trips of random, repetitive and
// incompressible data; the compressed stream checked item by item by a
// decoder written here from the format; lzfCompress giving up (0) when the
// output does not fit; lzfDecompress refusing bad back references, cut
// items and wrong lengths. (That Redis's liblzf reads what lzfCompress
// writes is checked in test/differential/rdb.test.ts: Redis loads
// kvslab dumps and RESTOREs its DUMP payloads.)

import { describe, expect, it } from 'vitest';
import { LzfError, lzfCompress, lzfDecompress, newTable } from '../../src/persistence/lzf.js';
import { rng, randomBytes } from '../helpers/random.js';

/** Compresses into a buffer of `room` bytes (default: as large as the input plus slack); null when it did not fit. */
function compress(src: Buffer, room = src.length + 64, table?: Int32Array): Buffer | null {
  const dst = Buffer.alloc(room);
  const n = lzfCompress(src, 0, src.length, dst, 0, room, table);
  return n === 0 ? null : dst.subarray(0, n);
}

function decompress(c: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  lzfDecompress(c, 0, c.length, out, 0, len);
  return out;
}

/** An independent decoder that also checks the items are well formed (literal runs <= 32, offsets <= 8 KiB). */
function strictDecode(c: Buffer): Buffer {
  const out: number[] = [];
  let i = 0;
  while (i < c.length) {
    const ctrl = c[i++];
    if (ctrl < 32) {
      const n = ctrl + 1;
      if (i + n > c.length) throw new Error('literal past end');
      for (let k = 0; k < n; k++) out.push(c[i++]);
    } else {
      let n = ctrl >> 5;
      if (n === 7) n += c[i++];
      n += 2;
      const off = ((ctrl & 31) << 8) + c[i++] + 1;
      if (off > 8192 || off > out.length) throw new Error(`bad offset ${off}`);
      const from = out.length - off;
      for (let k = 0; k < n; k++) out.push(out[from + k]);
    }
  }
  return Buffer.from(out);
}

function roundTrip(src: Buffer): Buffer | null {
  const c = compress(src);
  if (c === null) return null;
  expect(strictDecode(c).equals(src)).toBe(true);
  expect(decompress(c, src.length).equals(src)).toBe(true);
  return c;
}

describe('lzfCompress / lzfDecompress round trips', () => {
  it('repetitive data compresses well and comes back', () => {
    const a = Buffer.alloc(100000, 'a');
    const c = roundTrip(a)!;
    expect(c.length).toBeLessThan(100000 / 80);
    const pattern = Buffer.from('abcabcabdabcabcabd'.repeat(1000));
    expect(roundTrip(pattern)!.length).toBeLessThan(pattern.length / 10);
    const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(300));
    expect(roundTrip(text)!.length).toBeLessThan(text.length / 10);
  });

  it('runs and short patterns that repeat to the end, or break off near it (one compare covers the rest)', () => {
    const r = rng(7);
    for (const n of [17, 18, 33, 34, 35, 200, 264, 265, 266, 267, 4096, 8192, 8193, 70000]) {
      for (const period of [1, 2, 3, 7, 100, 263, 264, 300]) {
        const unit = randomBytes(period, n * 31 + period, 256);
        const src = Buffer.alloc(n);
        for (let i = 0; i < n; i++) src[i] = unit[i % period];
        const c = roundTrip(src)!;
        if (n >= 4096) expect(c.length).toBeLessThan(period + 8 + n / 80);
        // The same with one byte changed at the end, in the middle, just past a first long match.
        for (const at of [n - 1, n - 3, n >> 1, Math.min(n - 1, period + 17), Math.floor(r() * n)]) {
          const broken = Buffer.from(src);
          broken[at] ^= 0x5a;
          roundTrip(broken);
        }
      }
    }
  });

  it('random data of a small alphabet, at many sizes', () => {
    for (const n of [1, 2, 3, 4, 5, 31, 32, 33, 64, 100, 1000, 8191, 8192, 8193, 20000, 70000]) {
      const src = randomBytes(n, n, 4);
      const c = compress(src, n + 64 + (n >> 4));
      expect(c, `size ${n}`).not.toBeNull();
      expect(strictDecode(c!).equals(src), `size ${n}`).toBe(true);
      expect(decompress(c!, n).equals(src)).toBe(true);
    }
  });

  it('incompressible (random) data: fits with room for the literal run bytes, and not in its own size', () => {
    for (const n of [21, 100, 1000, 65536]) {
      const src = randomBytes(n, 100 + n);
      // One control byte per 32 literals, rounded up.
      const c = compress(src, n + Math.ceil(n / 32) + 1);
      expect(c).not.toBeNull();
      expect(decompress(c!, n).equals(src)).toBe(true);
      expect(compress(src, n)).toBeNull();
    }
  });

  it('matches at the longest distance (8 KiB) and of the longest length (264)', () => {
    const block = randomBytes(8192, 7);
    const src = Buffer.concat([block, block]);
    const c = roundTrip(src)!;
    expect(c.length).toBeLessThan(8192 + 8192 / 4);
    const long = Buffer.concat([Buffer.from('xy'), Buffer.alloc(5000, 'z'), Buffer.from('xy')]);
    roundTrip(long);
  });

  it('a reused table (stale entries from other inputs) still gives correct output', () => {
    const table = newTable();
    for (let seed = 0; seed < 30; seed++) {
      const src = randomBytes(500 + seed * 97, seed, 3 + (seed % 5));
      const c = compress(src, src.length + 64, table)!;
      expect(strictDecode(c).equals(src)).toBe(true);
    }
  });

  it('compresses a region of a larger buffer into a region of another', () => {
    const src = Buffer.concat([randomBytes(100, 9), Buffer.alloc(1000, 'q'), randomBytes(100, 10)]);
    const dst = Buffer.alloc(2000, 0xee);
    const n = lzfCompress(src, 100, 1100, dst, 50, 2000);
    expect(n).toBeGreaterThan(0);
    expect(dst[49]).toBe(0xee);
    expect(dst[50 + n]).toBe(0xee);
    const out = Buffer.alloc(1010, 0xdd);
    lzfDecompress(dst, 50, 50 + n, out, 5, 1000);
    expect(out.subarray(5, 1005).equals(Buffer.alloc(1000, 'q'))).toBe(true);
    expect(out[4]).toBe(0xdd);
    expect(out[1005]).toBe(0xdd);
  });
});

describe('lzfCompress gives up when the output does not fit', () => {
  it('returns 0 for every output size below what it needs, and succeeds at it', () => {
    const src = Buffer.from('hello hello hello hello hello world world world world'.repeat(3));
    const full = compress(src)!;
    for (let room = 0; room < full.length; room++) expect(lzfCompress(src, 0, src.length, Buffer.alloc(room), 0, room), `room ${room}`).toBe(0);
    // Exactly its own size is enough (no room reserved for a literal run that never comes).
    expect(compress(src, full.length)!.equals(full)).toBe(true);
  });

  it('on random inputs, the exact compressed size fits and one byte less does not', () => {
    const r = rng(11);
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + Math.floor(r() * 200);
      const src = randomBytes(n, 1000 + trial, 1 + (trial % 6));
      const full = compress(src, 2 * n + 64)!;
      expect(compress(src, full.length)?.equals(full), `trial ${trial}`).toBe(true);
      expect(compress(src, full.length - 1), `trial ${trial}`).toBeNull();
    }
  });

  it('never writes past dstEnd', () => {
    for (const n of [10, 50, 500]) {
      const src = randomBytes(n, n);
      for (let room = 0; room < n + 10; room++) {
        const dst = Buffer.alloc(room + 8, 0x5a);
        lzfCompress(src, 0, n, dst, 0, room);
        expect(dst.subarray(room).every((b) => b === 0x5a), `n ${n} room ${room}`).toBe(true);
      }
    }
  });

  it('returns 0 for no input (nothing to store)', () => {
    expect(lzfCompress(Buffer.alloc(0), 0, 0, Buffer.alloc(10), 0, 10)).toBe(0);
  });
});

describe('lzfDecompress refuses bad streams', () => {
  const bad = (c: number[], len: number) => () => lzfDecompress(Buffer.from(c), 0, c.length, Buffer.alloc(len + 16), 0, len);

  it('a back reference before the start of the output', () => {
    expect(bad([0x20, 0x00], 3)).toThrow(LzfError);
    expect(bad([0x20, 0x00], 3)).toThrow(/before the start/);
    // One literal, then a reference 2 back.
    expect(bad([0x00, 0x41, 0x20, 0x01], 4)).toThrow(/before the start/);
    // The largest offset (8192) after 100 bytes.
    expect(bad([0x1f, ...Buffer.alloc(32, 1), 0x3f, 0xff], 40)).toThrow(/before the start/);
  });

  it('items cut at the end of the input', () => {
    expect(bad([0x05, 1, 2, 3], 6)).toThrow(/past the end/); // literal run of 6 with 3 bytes
    expect(bad([0x00, 0x41, 0x20], 4)).toThrow(/cut/); // reference without its offset byte
    expect(bad([0x00, 0x41, 0xe0], 20)).toThrow(/cut/); // long reference without its length byte
    expect(bad([0x00, 0x41, 0xe0, 0x05], 20)).toThrow(/cut/); // long reference without its offset byte
  });

  it('output longer or shorter than declared', () => {
    expect(bad([0x02, 1, 2, 3], 2)).toThrow(/longer than its declared length/);
    expect(bad([0x00, 0x41, 0x40, 0x00], 3)).toThrow(/longer than its declared length/); // 1 + 4 bytes
    expect(bad([0x02, 1, 2, 3], 5)).toThrow(/decompressed to 3 bytes, 5 declared/);
    expect(bad([], 1)).toThrow(/decompressed to 0 bytes, 1 declared/);
    expect(() => lzfDecompress(Buffer.alloc(0), 0, 0, Buffer.alloc(0), 0, 0)).not.toThrow();
  });

  it('every truncation of a valid stream throws LzfError (never something else), or is a shorter valid prefix', () => {
    const src = Buffer.from('abcdefabcdefabcdef-xyz-abcdefabcdef'.repeat(20));
    const c = compress(src)!;
    for (let cut = 0; cut < c.length; cut++) {
      expect(() => lzfDecompress(c, 0, cut, Buffer.alloc(src.length), 0, src.length)).toThrow(LzfError);
    }
  });

  it('random garbage: only LzfError, never a write outside the output region', () => {
    const r = rng(42);
    for (let trial = 0; trial < 3000; trial++) {
      const c = randomBytes(1 + Math.floor(r() * 40), trial);
      const len = Math.floor(r() * 100);
      const out = Buffer.alloc(len + 20, 0x77);
      try {
        lzfDecompress(c, 0, c.length, out, 10, len);
      } catch (e) {
        expect(e).toBeInstanceOf(LzfError);
      }
      expect(out.subarray(0, 10).every((b) => b === 0x77)).toBe(true);
      expect(out.subarray(10 + len).every((b) => b === 0x77)).toBe(true);
    }
  });
});
