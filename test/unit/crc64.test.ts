// CRC-64/Jones (src/persistence/crc64.ts) against the test vector of
// protocols.md and a bit-at-a-time reference written here from the
// definition (reflected polynomial, initial 0, no final xor): on random data
// at every alignment and length, and fed in chunks of every size. Both paths:
// the JS one (updateJs, and update below its threshold) and the WebAssembly
// kernel (update from ~100 bytes on), across its 64 KiB chunks; the fallback
// without WebAssembly; and the trailer of an RDB the writer made.

import { closeSync, fstatSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Crc64, crc64 } from '../../src/persistence/crc64.js';
import { CHUNK, crc64Module } from '../../src/persistence/crc64-wasm.js';
import { fileCrc64, pathCrc64 } from '../../src/persistence/file-checksum.js';
import { MemorySink, RdbWriter } from '../../src/persistence/rdb-writer.js';
import { rng, randomBytes } from '../helpers/random.js';

/** The reflected form of 0xad93d23594c935a9. */
const POLY_REFLECTED = (() => {
  let p = 0xad93d23594c935a9n;
  let r = 0n;
  for (let i = 0; i < 64; i++) {
    r = (r << 1n) | (p & 1n);
    p >>= 1n;
  }
  return r;
})();

/** Bit at a time, in BigInt: slow and obviously right. */
function reference(buf: Uint8Array, crc = 0n): bigint {
  for (const byte of buf) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ POLY_REFLECTED : crc >> 1n;
  }
  return crc;
}

/** The reference CRC of every prefix of `buf`: out[n] is that of buf[0, n). One pass. */
function referencePrefixes(buf: Uint8Array): bigint[] {
  const out = [0n];
  let crc = 0n;
  for (const byte of buf) {
    crc = reference(Uint8Array.of(byte), crc);
    out.push(crc);
  }
  return out;
}

describe('crc64', () => {
  it('the test vector: "123456789" is 0xe9c6d914c4b8d9ca', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
    expect(reference(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
  });

  it('is 0 for no bytes, and the reflected polynomial check value for one 0x80 byte', () => {
    expect(crc64(Buffer.alloc(0))).toBe(0n);
    expect(new Crc64().digest()).toBe(0n);
    // 0x80 shifted through 8 steps: only the last step carries, so the CRC is the reflected polynomial.
    expect(crc64(Buffer.from([0x80]))).toBe(POLY_REFLECTED);
  });

  it('update equals the bit-at-a-time reference on random data of every length 0..300', () => {
    const data = randomBytes(300, 1);
    for (let n = 0; n <= 300; n++) expect(crc64(data, 0, n), `length ${n}`).toBe(reference(data.subarray(0, n)));
  });

  it('at every start alignment, and on bytes with the high bits set (sign of the 32-bit halves)', () => {
    const data = randomBytes(200, 2);
    for (let start = 0; start < 16; start++) {
      expect(crc64(data, start, 200 - start)).toBe(reference(data.subarray(start, 200 - start)));
    }
    const ff = Buffer.alloc(77, 0xff);
    expect(crc64(ff)).toBe(reference(ff));
    const alt = Buffer.alloc(64);
    for (let i = 0; i < 64; i++) alt[i] = i % 2 ? 0x80 : 0x7f;
    expect(crc64(alt)).toBe(reference(alt));
  });

  it('updates in chunks of any size equal one update', () => {
    const data = randomBytes(5000, 3);
    const whole = crc64(data);
    expect(whole).toBe(reference(data));
    for (const chunk of [1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4999]) {
      const c = new Crc64();
      for (let i = 0; i < data.length; i += chunk) c.update(data, i, Math.min(data.length, i + chunk));
      expect(c.digest(), `chunk ${chunk}`).toBe(whole);
    }
    // Random chunk boundaries.
    const r = rng(4);
    for (let trial = 0; trial < 50; trial++) {
      const c = new Crc64();
      let i = 0;
      while (i < data.length) {
        const j = Math.min(data.length, i + Math.floor(r() * 40));
        c.update(data, i, j);
        i = j;
      }
      expect(c.digest()).toBe(whole);
    }
  });

  it('a megabyte: update equals the reference', () => {
    const data = randomBytes(1 << 20, 5);
    // The reference is slow in BigInt: check 64 KiB of it, then the chunked composition of the rest.
    expect(crc64(data, 0, 65536)).toBe(reference(data.subarray(0, 65536)));
    const c = new Crc64().update(data, 0, 65536);
    expect(c.update(data, 65536).digest()).toBe(crc64(data));
  });

  it('the JS path alone equals the reference at every length 0..300 and unaligned starts', () => {
    const data = randomBytes(320, 6);
    for (const start of [0, 1, 3, 7, 13]) {
      const ref = referencePrefixes(data.subarray(start, start + 301));
      for (let n = 0; n <= 300; n++) expect(new Crc64().updateJs(data, start, start + n).digest(), `start ${start} length ${n}`).toBe(ref[n]);
    }
  });

  it('update (the WebAssembly kernel from ~100 bytes) equals the reference at every length 0..300, unaligned starts, after a non-zero CRC', () => {
    const data = randomBytes(340, 7);
    for (const start of [0, 1, 2, 5, 8, 11, 15, 16, 17, 31]) {
      const ref = referencePrefixes(data.subarray(start, start + 301));
      for (let n = 0; n <= 300; n++) expect(crc64(data, start, start + n), `start ${start} length ${n}`).toBe(ref[n]);
    }
    // Continuing a CRC: 5 bytes through the JS path, then 300 through the kernel.
    const c = new Crc64().update(data, 0, 5).update(data, 5, 305);
    expect(c.digest()).toBe(reference(data.subarray(0, 305)));
  });

  it('the kernel across its chunk boundaries equals the reference, and big inputs equal the JS path', () => {
    const data = randomBytes(3 * CHUNK + 100, 8);
    // Ends just before, at and after the first chunk boundary, from unaligned starts.
    const start = 3;
    const ref = referencePrefixes(data.subarray(start, start + CHUNK + 40));
    for (let n = CHUNK - 20; n <= CHUNK + 39; n++) expect(crc64(data, start, start + n), `length ${n}`).toBe(ref[n]);
    for (const [s, e] of [[0, 3 * CHUNK + 100], [1, 2 * CHUNK], [7, 3 * CHUNK + 1], [CHUNK - 1, 2 * CHUNK + 17]]) {
      expect(crc64(data, s, e), `[${s}, ${e})`).toBe(new Crc64().updateJs(data, s, e).digest());
    }
    const big = randomBytes(8 << 20, 9);
    expect(crc64(big, 5)).toBe(new Crc64().updateJs(big, 5).digest());
  });

  it('random lengths and offsets, and updates of mixed sizes (both paths in one CRC), equal the JS path', () => {
    const data = randomBytes(300_000, 10);
    const r = rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const len = Math.floor(r() ** 3 * 200_000);
      const s = Math.floor(r() * (data.length - len));
      expect(crc64(data, s, s + len), `[${s}, ${s + len})`).toBe(new Crc64().updateJs(data, s, s + len).digest());
    }
    const whole = new Crc64().updateJs(data).digest();
    for (let trial = 0; trial < 10; trial++) {
      const c = new Crc64();
      let i = 0;
      while (i < data.length) {
        const j = Math.min(data.length, i + Math.floor(r() ** 2 * 3 * CHUNK));
        c.update(data, i, j);
        i = j;
      }
      expect(c.digest()).toBe(whole);
    }
  });

  it('the emitted module is valid WebAssembly', () => {
    expect(WebAssembly.validate(crc64Module())).toBe(true);
  });

  it('without WebAssembly, update falls back to the JS path', async () => {
    vi.resetModules();
    vi.stubGlobal('WebAssembly', undefined);
    try {
      const fresh = await import('../../src/persistence/crc64.js');
      const data = randomBytes(CHUNK + 1000, 12);
      expect(fresh.crc64(data, 1)).toBe(new Crc64().updateJs(data, 1).digest());
      expect(fresh.crc64(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });

  it('the trailer of an RDB the writer made is the CRC of the bytes before it', () => {
    const sink = new MemorySink();
    const w = new RdbWriter(sink, { compression: false, checksum: true });
    // Short strings through the writer's buffer, long ones written direct: both update the CRC.
    for (let i = 0; i < 50; i++) w.string(randomBytes(1 + ((i * 37) % 400), 100 + i));
    w.string(randomBytes(3 * CHUNK + 5, 13));
    w.string(Buffer.from('end'));
    w.end();
    const file = sink.take();
    const body = file.subarray(0, file.length - 8);
    expect(file.readBigUInt64LE(file.length - 8)).toBe(new Crc64().updateJs(body).digest());
    // And wholly against the reference, on a file small enough for it.
    const small = new MemorySink();
    const ws = new RdbWriter(small, { compression: true, checksum: true });
    for (let i = 0; i < 20; i++) ws.string(randomBytes(50 + i * 40, 200 + i));
    ws.end();
    const f = small.take();
    expect(f.readBigUInt64LE(f.length - 8)).toBe(reference(f.subarray(0, f.length - 8)));
  });

  it('writeLE writes the digest little-endian; equalsLE compares it', () => {
    const c = new Crc64().update(Buffer.from('123456789'));
    const out = Buffer.alloc(10, 0xaa);
    c.writeLE(out, 1);
    expect(out.readBigUInt64LE(1)).toBe(0xe9c6d914c4b8d9can);
    expect(out[0]).toBe(0xaa);
    expect(out[9]).toBe(0xaa);
    expect(c.equalsLE(out, 1)).toBe(true);
    out[5] ^= 1;
    expect(c.equalsLE(out, 1)).toBe(false);
  });
});

describe('the CRC of a file (what the checksum thread works out)', () => {
  it('fileCrc64 reads the file in chunks and gets the CRC of its first `end` bytes; pathCrc64 refuses a file that is not the one named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-crc-'));
    const path = join(dir, 'f');
    // Over two of its 1 MiB chunks, ending off a chunk's edge.
    const bytes = randomBytes(2 * 1024 * 1024 + 333, 9);
    writeFileSync(path, bytes);
    const fd = openSync(path, 'r');
    try {
      expect(fileCrc64(fd, bytes.length - 8)).toBe(crc64(bytes, 0, bytes.length - 8));
      expect(fileCrc64(fd, 0)).toBe(0n);
      expect(() => fileCrc64(fd, bytes.length + 1)).toThrow(/ends at offset/);
      const { dev, ino, size } = fstatSync(fd);
      expect(pathCrc64(path, 100, { dev, ino, size })).toBe(crc64(bytes, 0, 100));
      // Replaced under the same name: another inode.
      writeFileSync(join(dir, 'g'), bytes);
      renameSync(join(dir, 'g'), path);
      expect(() => pathCrc64(path, 100, { dev, ino, size })).toThrow(/not the file being loaded/);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true });
    }
  });
});
