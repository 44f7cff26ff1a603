// CRC-64/Jones, the checksum of RDB files and DUMP payloads (Redis's crc64.c):
// polynomial 0xad93d23594c935a9, reflected in and out, initial value 0, no
// final xor. Eight bytes at a time (slicing-by-8), the 64-bit value kept as
// two 32-bit halves so that no BigInt is made per byte. Test vector: the
// CRC of "123456789" is 0xe9c6d914c4b8d9ca.

/** The reflected polynomial (0xad93d23594c935a9 reversed). */
const POLY_HI = 0x95ac9329;
const POLY_LO = 0xac4bc9b5;

/**
 * Eight tables of 256 entries, each as high and low halves: T[k][i] at
 * k * 256 + i. Signed, so that the loop stays in int32 arithmetic (with
 * Uint32Array and >>> 0 at each step it ran ~20% slower).
 */
const T_HI = new Int32Array(8 * 256);
const T_LO = new Int32Array(8 * 256);

for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let j = 0; j < 8; j++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | (hi << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  T_HI[i] = hi;
  T_LO[i] = lo;
}
for (let k = 1; k < 8; k++) {
  for (let i = 0; i < 256; i++) {
    const ph = T_HI[(k - 1) * 256 + i];
    const pl = T_LO[(k - 1) * 256 + i];
    // T[k][i] = T[k-1][i] >> 8 ^ T[0][T[k-1][i] & 0xff]
    const b = pl & 0xff;
    T_HI[k * 256 + i] = (ph >>> 8) ^ T_HI[b];
    T_LO[k * 256 + i] = ((pl >>> 8) | (ph << 24)) ^ T_LO[b];
  }
}

/** Bytes to warm update up with (see the end of the file). */
const WARM_UP_BYTES = new Uint8Array(64);

/** A running CRC-64 over bytes fed in order. */
export class Crc64 {
  // The halves as int32, read as unsigned only when the CRC is given out.
  private hi = 0;
  private lo = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let hi = this.hi;
    let lo = this.lo;
    let i = start;
    // The odd bytes first, then 8 at a time to the end.
    for (const head = start + ((end - start) & 7); i < head; i++) {
      const idx = (lo ^ buf[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ T_LO[idx];
      hi = (hi >>> 8) ^ T_HI[idx];
    }
    for (; i < end; i += 8) {
      const l = lo ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
      const h = hi ^ (buf[i + 4] | (buf[i + 5] << 8) | (buf[i + 6] << 16) | (buf[i + 7] << 24));
      const a = 7 * 256 + (l & 0xff);
      const b = 6 * 256 + ((l >>> 8) & 0xff);
      const c = 5 * 256 + ((l >>> 16) & 0xff);
      const d = 4 * 256 + (l >>> 24);
      const e = 3 * 256 + (h & 0xff);
      const f = 2 * 256 + ((h >>> 8) & 0xff);
      const g = 256 + ((h >>> 16) & 0xff);
      const k = h >>> 24;
      hi = T_HI[a] ^ T_HI[b] ^ T_HI[c] ^ T_HI[d] ^ T_HI[e] ^ T_HI[f] ^ T_HI[g] ^ T_HI[k];
      lo = T_LO[a] ^ T_LO[b] ^ T_LO[c] ^ T_LO[d] ^ T_LO[e] ^ T_LO[f] ^ T_LO[g] ^ T_LO[k];
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  digest(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }

  /** Writes the CRC as 8 bytes little-endian at `out[at]` (as RDB and DUMP store it). */
  writeLE(out: Buffer, at: number): void {
    out.writeInt32LE(this.lo, at);
    out.writeInt32LE(this.hi, at + 4);
  }

  /** Whether the CRC equals the 8 little-endian bytes at `buf[at]`. */
  equalsLE(buf: Buffer, at: number): boolean {
    return buf.readInt32LE(at) === this.lo && buf.readInt32LE(at + 4) === this.hi;
  }
}

export function crc64(buf: Uint8Array, start = 0, end = buf.length): bigint {
  return new Crc64().update(buf, start, end).digest();
}

// The test vector, checked, then update run over a few short inputs: the
// tables are right, and every path of update has type feedback before a
// first long update is compiled while it runs (on-stack replacement).
// Without it such code met the field stores after its loop with none, and
// bailed out at the end of every later call (--trace-deopt), leaving the CRC
// at about 2/3 of its speed in one start-up out of two.
if (crc64(Buffer.from('123456789', 'latin1')) !== 0xe9c6d914c4b8d9can) throw new Error('crc64: wrong tables');
for (let i = 0; i < 16; i++) new Crc64().update(WARM_UP_BYTES);
