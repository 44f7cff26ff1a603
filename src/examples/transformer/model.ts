// A small decoder-only transformer with seeded random weights: byte-level
// tokens, pre-norm layers (RMSNorm, causal multi-head attention with rotary
// positions, SiLU MLP), an output head. It predicts nothing useful; it is
// here to produce real attention K/V and to show that K/V read back from
// kvslab give the very same logits as K/V computed on the spot.
//
// All arithmetic is IEEE float32: every product and sum is rounded with
// Math.fround (exact in a double, then rounded once), and every path runs
// the same operations in the same order for a given position. A token's
// step through a layer is two calls, qkv() then finish(); between them the
// caller records the new K/V row and hands finish() the rows of tokens
// 0..pos, from wherever it keeps them: a local KvCache (prefill) or a
// KV.SLICE of a kvslab key (decodeStep).

import { createHash } from 'node:crypto';
import { asFloat32, type KvTensorClient, type Shape } from '../../client/kv.js';

export interface ModelConfig {
  vocab: number;
  layers: number;
  heads: number;
  headdim: number;
  /** Width of the MLP. */
  hidden: number;
  seed: number;
  ropeBase: number;
}

// Small enough that a cold 4096-token prompt takes seconds, not minutes, in plain JS.
export const DEFAULT_CONFIG: ModelConfig = { vocab: 256, layers: 2, heads: 2, headdim: 16, hidden: 128, seed: 20240601, ropeBase: 10000 };

const f = Math.fround;
const EPS = f(1e-5);

/** mulberry32: a small seeded PRNG giving floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(rand: () => number, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

function nearOne(rand: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 1 + (rand() * 2 - 1) * 0.1;
  return a;
}

/** out[r] = sum_c w[r][c] * x[c], w row-major rows x cols. */
function matvec(w: Float32Array, rows: number, cols: number, x: Float32Array, out: Float32Array): void {
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let acc = 0;
    for (let c = 0; c < cols; c++) acc = f(acc + f(w[o + c] * x[c]));
    out[r] = acc;
  }
}

function rmsnorm(x: Float32Array, g: Float32Array, out: Float32Array): void {
  const n = x.length;
  let ss = 0;
  for (let i = 0; i < n; i++) ss = f(ss + f(x[i] * x[i]));
  const inv = f(1 / f(Math.sqrt(f(f(ss / n) + EPS))));
  for (let i = 0; i < n; i++) out[i] = f(f(x[i] * inv) * g[i]);
}

interface Layer {
  attnNorm: Float32Array;
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
  wo: Float32Array;
  mlpNorm: Float32Array;
  w1: Float32Array;
  w2: Float32Array;
}

/** Per-sequence working state: the residual stream and the current token's q, k, v. */
export interface State {
  x: Float32Array;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

export class Transformer {
  readonly cfg: ModelConfig;
  /** Model width, heads * headdim: also the floats of one K (or V) row. */
  readonly d: number;
  private readonly embedding: Float32Array;
  private readonly blocks: Layer[] = [];
  private readonly finalNorm: Float32Array;
  private readonly head: Float32Array;
  // Scratch of the synchronous parts (one finish() at a time).
  private readonly h: Float32Array;
  private readonly att: Float32Array;
  private readonly proj: Float32Array;
  private readonly mlp: Float32Array;
  private scores = new Float32Array(256);
  // Rotary tables: cos and sin of position p, pair i at p * headdim/2 + i.
  private cos = new Float32Array(0);
  private sin = new Float32Array(0);
  private ropeLen = 0;
  private hash = '';

  constructor(cfg: ModelConfig = DEFAULT_CONFIG) {
    if (cfg.headdim % 2 !== 0) throw new Error('headdim must be even (rotary pairs)');
    this.cfg = cfg;
    const d = (this.d = cfg.heads * cfg.headdim);
    const rand = prng(cfg.seed);
    this.embedding = uniform(rand, cfg.vocab * d, 1);
    const sd = 1 / Math.sqrt(d);
    const sh = 1 / Math.sqrt(cfg.hidden);
    for (let l = 0; l < cfg.layers; l++) {
      this.blocks.push({
        attnNorm: nearOne(rand, d),
        wq: uniform(rand, d * d, sd),
        wk: uniform(rand, d * d, sd),
        wv: uniform(rand, d * d, sd),
        wo: uniform(rand, d * d, sd),
        mlpNorm: nearOne(rand, d),
        w1: uniform(rand, cfg.hidden * d, sd),
        w2: uniform(rand, d * cfg.hidden, sh),
      });
    }
    this.finalNorm = nearOne(rand, d);
    this.head = uniform(rand, cfg.vocab * d, sd);
    this.h = new Float32Array(d);
    this.att = new Float32Array(d);
    this.proj = new Float32Array(d);
    this.mlp = new Float32Array(cfg.hidden);
  }

  /** The kvslab tensor shape of this model's K/V cache. */
  shape(): Shape {
    return { dtype: 'float32', layers: this.cfg.layers, heads: this.cfg.heads, headdim: this.cfg.headdim, kv: 2 };
  }

  /** Identifies the weights (for cache keys): a hash of the config and of every weight. */
  fingerprint(): string {
    if (this.hash === '') {
      const h = createHash('sha256').update(JSON.stringify(this.cfg));
      const all = [this.embedding, ...this.blocks.flatMap((b) => [b.attnNorm, b.wq, b.wk, b.wv, b.wo, b.mlpNorm, b.w1, b.w2]), this.finalNorm, this.head];
      for (const w of all) h.update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
      this.hash = h.digest('hex');
    }
    return this.hash;
  }

  newState(): State {
    return { x: new Float32Array(this.d), q: new Float32Array(this.d), k: new Float32Array(this.d), v: new Float32Array(this.d) };
  }

  /** Sets the residual stream to the embedding of `token`. */
  embed(token: number, s: State): void {
    if (!(token >= 0 && token < this.cfg.vocab)) throw new RangeError(`token ${token} is outside the vocabulary`);
    s.x.set(this.embedding.subarray(token * this.d, (token + 1) * this.d));
  }

  /** First half of layer l for the token at `pos`: s.q, s.k, s.v (q and k rotated). */
  qkv(l: number, s: State, pos: number): void {
    const b = this.blocks[l];
    const d = this.d;
    rmsnorm(s.x, b.attnNorm, this.h);
    matvec(b.wq, d, d, this.h, s.q);
    matvec(b.wk, d, d, this.h, s.k);
    matvec(b.wv, d, d, this.h, s.v);
    this.rotate(s.q, pos);
    this.rotate(s.k, pos);
  }

  /**
   * Second half of layer l: attention of s.q over the K/V rows of tokens
   * 0..n-1 (row t at t*d of `keys` and `values`), output projection, MLP,
   * both residuals into s.x.
   */
  finish(l: number, s: State, keys: Float32Array, values: Float32Array, n: number): void {
    const b = this.blocks[l];
    const { heads, headdim, hidden } = this.cfg;
    const d = this.d;
    if (keys.length < n * d || values.length < n * d) throw new RangeError(`attention over ${n} tokens needs ${n * d} floats of K and V`);
    if (this.scores.length < n) this.scores = new Float32Array(Math.max(n, this.scores.length * 2));
    const sc = this.scores;
    const scale = f(1 / Math.sqrt(headdim));
    const att = this.att;
    const q = s.q;
    for (let hd = 0; hd < heads; hd++) {
      const o = hd * headdim;
      let max = -Infinity;
      for (let j = 0, r = o; j < n; j++, r += d) {
        let dot = 0;
        for (let i = 0; i < headdim; i++) dot = f(dot + f(q[o + i] * keys[r + i]));
        dot = f(dot * scale);
        sc[j] = dot;
        if (dot > max) max = dot;
      }
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const p = f(Math.exp(f(sc[j] - max)));
        sc[j] = p;
        sum = f(sum + p);
      }
      att.fill(0, o, o + headdim);
      for (let j = 0, r = o; j < n; j++, r += d) {
        const p = sc[j];
        for (let i = 0; i < headdim; i++) att[o + i] = f(att[o + i] + f(p * values[r + i]));
      }
      for (let i = 0; i < headdim; i++) att[o + i] = f(att[o + i] / sum);
    }
    matvec(b.wo, d, d, att, this.proj);
    for (let i = 0; i < d; i++) s.x[i] = f(s.x[i] + this.proj[i]);
    rmsnorm(s.x, b.mlpNorm, this.h);
    matvec(b.w1, hidden, d, this.h, this.mlp);
    for (let i = 0; i < hidden; i++) {
      const a = this.mlp[i];
      this.mlp[i] = f(a / f(1 + f(Math.exp(-a)))); // SiLU
    }
    matvec(b.w2, d, hidden, this.mlp, this.proj);
    for (let i = 0; i < d; i++) s.x[i] = f(s.x[i] + this.proj[i]);
  }

  /** The logits of the next token after the last layer (a new array). */
  logits(s: State): Float32Array {
    const out = new Float32Array(this.cfg.vocab);
    rmsnorm(s.x, this.finalNorm, this.h);
    matvec(this.head, this.cfg.vocab, this.d, this.h, out);
    return out;
  }

  /** Rotates each head's pairs (2i, 2i+1) of `v` by pos * base^(-2i/headdim). */
  private rotate(v: Float32Array, pos: number): void {
    const { heads, headdim } = this.cfg;
    const half = headdim / 2;
    if (pos >= this.ropeLen) this.growRope(pos + 1);
    const t = pos * half;
    for (let hd = 0; hd < heads; hd++) {
      const o = hd * headdim;
      for (let i = 0; i < half; i++) {
        const c = this.cos[t + i];
        const sn = this.sin[t + i];
        const a = v[o + 2 * i];
        const b = v[o + 2 * i + 1];
        v[o + 2 * i] = f(f(a * c) - f(b * sn));
        v[o + 2 * i + 1] = f(f(a * sn) + f(b * c));
      }
    }
  }

  private growRope(need: number): void {
    const half = this.cfg.headdim / 2;
    const len = Math.max(need, this.ropeLen * 2, 64);
    const cos = new Float32Array(len * half);
    const sin = new Float32Array(len * half);
    cos.set(this.cos);
    sin.set(this.sin);
    for (let p = this.ropeLen; p < len; p++) {
      for (let i = 0; i < half; i++) {
        const angle = p * Math.pow(this.cfg.ropeBase, (-2 * i) / this.cfg.headdim);
        cos[p * half + i] = Math.cos(angle);
        sin[p * half + i] = Math.sin(angle);
      }
    }
    this.cos = cos;
    this.sin = sin;
    this.ropeLen = len;
  }
}

/** Index of the largest logit (the first of equals): greedy decoding. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** Whether two float arrays hold the same bytes (bit-identical, NaN payloads and -0 included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * A local K/V cache: per layer, K rows and V rows of `d` floats, token after
 * token (the layout a one-layer KV.SLICE returns, K then V).
 */
export class KvCache {
  readonly k: Float32Array[] = [];
  readonly v: Float32Array[] = [];
  /** Tokens held in every layer. */
  length = 0;
  private capacity: number;

  constructor(readonly model: Transformer, capacity = 64) {
    this.capacity = Math.max(1, capacity);
    for (let l = 0; l < model.cfg.layers; l++) {
      this.k.push(new Float32Array(this.capacity * model.d));
      this.v.push(new Float32Array(this.capacity * model.d));
    }
  }

  /** Records the K and V rows of token `pos` at layer `l`. */
  write(l: number, pos: number, k: Float32Array, v: Float32Array): void {
    this.reserve(pos + 1);
    this.k[l].set(k, pos * this.model.d);
    this.v[l].set(v, pos * this.model.d);
  }

  /** Tokens [start, end) in the KV.PUT / KV.SLICE layout [kv][layer][token][row]. */
  chunk(start: number, end: number): Float32Array {
    const d = this.model.d;
    const layers = this.model.cfg.layers;
    const n = end - start;
    const out = new Float32Array(2 * layers * n * d);
    for (let l = 0; l < layers; l++) {
      out.set(this.k[l].subarray(start * d, end * d), l * n * d);
      out.set(this.v[l].subarray(start * d, end * d), (layers + l) * n * d);
    }
    return out;
  }

  /** Loads `tokens` tokens in the [kv][layer][token][row] layout to positions at.. (a KV.MSLICE part). */
  load(data: Float32Array, tokens: number, at: number): void {
    const d = this.model.d;
    const layers = this.model.cfg.layers;
    if (data.length !== 2 * layers * tokens * d) throw new RangeError(`expected ${2 * layers * tokens * d} floats, got ${data.length}`);
    this.reserve(at + tokens);
    for (let l = 0; l < layers; l++) {
      this.k[l].set(data.subarray(l * tokens * d, (l + 1) * tokens * d), at * d);
      this.v[l].set(data.subarray((layers + l) * tokens * d, (layers + l + 1) * tokens * d), at * d);
    }
  }

  private reserve(tokens: number): void {
    if (tokens <= this.capacity) return;
    const cap = Math.max(tokens, this.capacity * 2);
    const d = this.model.d;
    for (let l = 0; l < this.k.length; l++) {
      const k = new Float32Array(cap * d);
      k.set(this.k[l]);
      this.k[l] = k;
      const v = new Float32Array(cap * d);
      v.set(this.v[l]);
      this.v[l] = v;
    }
    this.capacity = cap;
  }
}

/**
 * Runs tokens[from..] through the model with `cache` holding the K/V of
 * tokens [0, from) (nothing for a cold run); fills the cache and returns the
 * logits after the last token.
 */
export function prefill(model: Transformer, tokens: ArrayLike<number>, cache: KvCache, from = 0): Float32Array {
  if (tokens.length === 0 || from >= tokens.length) throw new RangeError('nothing to compute');
  if (cache.length < from) throw new RangeError(`the cache holds ${cache.length} tokens, not ${from}`);
  const s = model.newState();
  for (let pos = from; pos < tokens.length; pos++) {
    model.embed(tokens[pos], s);
    for (let l = 0; l < model.cfg.layers; l++) {
      model.qkv(l, s, pos);
      cache.write(l, pos, s.k, s.v);
      model.finish(l, s, cache.k[l], cache.v[l], pos + 1);
    }
  }
  cache.length = tokens.length;
  return model.logits(s);
}

/** A cold forward: every token of `tokens` computed from scratch. Returns the last logits and the K/V it made. */
export function coldForward(model: Transformer, tokens: ArrayLike<number>): { logits: Float32Array; cache: KvCache } {
  const cache = new KvCache(model, tokens.length);
  return { logits: prefill(model, tokens, cache, 0), cache };
}

/**
 * One incremental step with the K/V cache in kvslab under `key`: for each
 * layer, the new token's K and V are appended (KV.APPEND key .. LAYER l AT
 * pos CREATE shape) and the layer's K/V of tokens 0..pos are read back
 * (KV.SLICE key 0 pos+1 LAYER l) for the attention, the two commands
 * pipelined: one round trip per layer. Returns the logits after the token.
 */
export async function decodeStep(model: Transformer, kv: KvTensorClient, key: string, token: number, pos: number): Promise<Float32Array> {
  const s = model.newState();
  const d = model.d;
  const shape = model.shape();
  const row = new Float32Array(2 * d);
  model.embed(token, s);
  for (let l = 0; l < model.cfg.layers; l++) {
    model.qkv(l, s, pos);
    row.set(s.k, 0);
    row.set(s.v, d);
    const [, slice] = await Promise.all([
      kv.append(key, row, { layer: l, at: pos, create: shape }),
      kv.slice(key, 0, pos + 1, { layer: l }),
    ]);
    if (slice === null || slice.length !== 2 * (pos + 1) * d * 4) {
      throw new Error(`KV.SLICE ${key} 0 ${pos + 1} LAYER ${l}: expected ${2 * (pos + 1) * d * 4} bytes, got ${slice === null ? 'nil' : slice.length}`);
    }
    const kvRows = asFloat32(slice);
    model.finish(l, s, kvRows.subarray(0, (pos + 1) * d), kvRows.subarray((pos + 1) * d), pos + 1);
  }
  return model.logits(s);
}
