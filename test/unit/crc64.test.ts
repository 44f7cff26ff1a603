// CRC-64/Jones (src/persistence/crc64.ts) against the test vector of
// protocols.md and a bit-at-a-time reference written here from the
// definition (reflected polynomial, initial 0, no final xor): on random data
// at every alignment and length, and fed in chunks of every size.

import { describe, expect, it } from 'vitest';
import { Crc64, crc64 } from '../../src/persistence/crc64.js';
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

  it('the 8-byte slicing path equals the bit-at-a-time reference on random data of every length 0..300', () => {
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

  it('a megabyte: slicing equals the reference', () => {
    const data = randomBytes(1 << 20, 5);
    // The reference is slow in BigInt: check 64 KiB of it, then the chunked composition of the rest.
    expect(crc64(data, 0, 65536)).toBe(reference(data.subarray(0, 65536)));
    const c = new Crc64().update(data, 0, 65536);
    expect(c.update(data, 65536).digest()).toBe(crc64(data));
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
