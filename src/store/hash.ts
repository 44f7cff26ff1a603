// The key hash of the index: MurmurHash3 (x86, 32-bit) over a byte range,
// with a seed drawn at start-up so that nobody can choose keys that all land
// in one bucket of a running server.

/** Hash of b[start, start + len). */
export function hashBytes(b: Uint8Array, start: number, len: number, seed: number): number {
  let h = seed | 0;
  const end4 = start + (len & ~3);
  let i = start;
  for (; i < end4; i += 4) {
    let k = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest !== 0) {
    let k = b[i];
    if (rest >= 2) k |= b[i + 1] << 8;
    if (rest === 3) k |= b[i + 2] << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A random 32-bit seed. */
export function randomSeed(): number {
  return (Math.random() * 0x100000000) >>> 0;
}
