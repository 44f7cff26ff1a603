// An open-addressing hash index from key bytes to entries, so a lookup needs
// no string made from the key (a JS Map would need one per request). Keys are
// not copied here: `keyOf(entry)` gives the bytes to compare with. Linear
// probing with backward-shift deletion: no tombstones, probes stay short.

const MIN_CAPACITY = 16;

/** FNV-1a over the bytes; good enough spread for linear probing with a power-of-two table. */
export function hashBytes(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  // Final mix so low bits (the bucket) depend on every byte.
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  // Short keys: a JS loop beats the call into Buffer.equals.
  if (n > 32) return Buffer.compare(a, b) === 0;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class HashIndex<T> {
  private vals: (T | undefined)[];
  private hashes: Uint32Array;
  private mask: number;
  size = 0;

  constructor(private readonly keyOf: (v: T) => Uint8Array, capacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.vals = new Array<T | undefined>(cap);
    this.hashes = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  /** Slot holding `key`, or -1. */
  private slotOf(key: Uint8Array, h: number): number {
    const vals = this.vals;
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = vals[i];
      if (v === undefined) return -1;
      if (hashes[i] === h && sameBytes(this.keyOf(v), key)) return i;
    }
  }

  get(key: Uint8Array): T | undefined {
    const i = this.slotOf(key, hashBytes(key));
    return i < 0 ? undefined : this.vals[i];
  }

  /** Inserts or replaces the entry for `key`. */
  set(key: Uint8Array, v: T): void {
    const h = hashBytes(key);
    const found = this.slotOf(key, h);
    if (found >= 0) {
      this.vals[found] = v;
      return;
    }
    // Keep the load factor at or under 3/4.
    if ((this.size + 1) * 4 > this.vals.length * 3) this.resize(this.vals.length * 2);
    this.place(h, v);
    this.size++;
  }

  private place(h: number, v: T): void {
    const mask = this.mask;
    let i = h & mask;
    while (this.vals[i] !== undefined) i = (i + 1) & mask;
    this.vals[i] = v;
    this.hashes[i] = h;
  }

  delete(key: Uint8Array): boolean {
    let i = this.slotOf(key, hashBytes(key));
    if (i < 0) return false;
    const vals = this.vals;
    const hashes = this.hashes;
    const mask = this.mask;
    // Backward shift: move later members of the probe run into the gap.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (vals[j] === undefined) break;
      const home = hashes[j] & mask;
      // Move j to i unless its home lies cyclically in (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!inRange) {
        vals[i] = vals[j];
        hashes[i] = hashes[j];
        i = j;
      }
    }
    vals[i] = undefined;
    this.size--;
    if (this.vals.length > MIN_CAPACITY && this.size * 8 < this.vals.length) this.resize(this.vals.length / 2);
    return true;
  }

  clear(): void {
    this.vals = new Array<T | undefined>(MIN_CAPACITY);
    this.hashes = new Uint32Array(MIN_CAPACITY);
    this.mask = MIN_CAPACITY - 1;
    this.size = 0;
  }

  private resize(cap: number): void {
    const oldVals = this.vals;
    const oldHashes = this.hashes;
    this.vals = new Array<T | undefined>(cap);
    this.hashes = new Uint32Array(cap);
    this.mask = cap - 1;
    for (let i = 0; i < oldVals.length; i++) {
      const v = oldVals[i];
      if (v !== undefined) this.place(oldHashes[i], v);
    }
  }
}
