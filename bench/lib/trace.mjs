// Synthetic cache traces: Zipf-distributed key popularity over a fixed key
// population, drawn from a seeded PRNG so that every run (and every server)
// replays exactly the same requests. Key names and value sizes are fixed per
// key; which key is popular is shuffled by the seed, so a key's rank and its
// name are unrelated.

/**
 * xoshiro128** seeded through splitmix32: 32-bit state words, so it runs on
 * plain JS numbers, and the same seed gives the same stream everywhere.
 */
export class Rng {
  /** @param {number} seed */
  constructor(seed) {
    let x = seed >>> 0;
    const splitmix32 = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([splitmix32(), splitmix32(), splitmix32(), splitmix32()]);
  }

  /** Next 32 random bits as an unsigned integer. */
  next() {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  float() {
    return ((this.next() >>> 5) * 67108864 + (this.next() >>> 6)) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  below(n) {
    return Math.floor(this.float() * n);
  }
}

/** @param {number} x @param {number} k */
function rotl(x, k) {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * A 32-bit integer hash (xorshift-multiply rounds), for per-key properties
 * that must not depend on the order keys are drawn in.
 * @param {number} x
 */
export function mix32(x) {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Zipf(alpha) over ranks 0..n-1 (rank r has weight 1/(r+1)^alpha), sampled
 * by inverse CDF: a uniform draw, then a binary search over the cumulative
 * weights.
 */
export class Zipf {
  /** @param {number} n @param {number} alpha */
  constructor(n, alpha) {
    this.n = n;
    this.alpha = alpha;
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 0; r < n; r++) {
      sum += 1 / (r + 1) ** alpha;
      this.cdf[r] = sum;
    }
    this.total = sum;
  }

  /** @param {Rng} rng @returns {number} a rank, 0 the most popular */
  sample(rng) {
    const u = rng.float() * this.total;
    const cdf = this.cdf;
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
}

/**
 * A key population: n keys named <prefix><id>, each with a fixed value size
 * uniform in [minSize, maxSize] (a hash of the id and the seed), and a
 * seeded permutation from popularity rank to id.
 */
export class KeySet {
  /**
   * @param {{ n: number, prefix: string, minSize: number, maxSize: number, seed: number, zipf: Zipf }} o
   *   `zipf` over the same n, shared between key sets that have the same popularity.
   */
  constructor({ n, prefix, minSize, maxSize, seed, zipf }) {
    if (zipf.n !== n) throw new Error('the Zipf distribution must be over the key set');
    this.n = n;
    this.prefix = prefix;
    this.zipf = zipf;
    this.minSize = minSize;
    this.maxSize = maxSize;
    // Every key name in one buffer: the replay copies bytes, it builds no strings.
    const digits = String(n - 1).length;
    this.names = Buffer.allocUnsafe(n * (prefix.length + digits));
    this.nameStart = new Uint32Array(n + 1);
    let o = 0;
    for (let id = 0; id < n; id++) {
      this.nameStart[id] = o;
      o += this.names.write(`${prefix}${id}`, o, 'latin1');
    }
    this.nameStart[n] = o;
    this.sizes = new Uint16Array(n);
    const span = maxSize - minSize + 1;
    for (let id = 0; id < n; id++) this.sizes[id] = minSize + (mix32((id ^ Math.imul(seed, 0x9e3779b1)) >>> 0) % span);
    // Fisher-Yates from the seed: rank -> id.
    this.idOfRank = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.idOfRank[i] = i;
    const rng = new Rng(seed ^ 0x5bd1e995);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      const t = this.idOfRank[i];
      this.idOfRank[i] = this.idOfRank[j];
      this.idOfRank[j] = t;
    }
  }

  /** Mean value size over all keys, in bytes. */
  meanSize() {
    let sum = 0;
    for (let id = 0; id < this.n; id++) sum += this.sizes[id];
    return sum / this.n;
  }
}

/**
 * A stream of requests: `count` key ids drawn from `keys`' Zipf popularity
 * with its own seeded generator, so the same (keys, seed) always gives the
 * same sequence whatever was replayed before it.
 */
export class Stream {
  /** @param {KeySet} keys @param {number} seed */
  constructor(keys, seed) {
    this.keys = keys;
    this.rng = new Rng(seed);
  }

  /** @returns {number} the id of the next requested key */
  next() {
    return this.keys.idOfRank[this.keys.zipf.sample(this.rng)];
  }
}
