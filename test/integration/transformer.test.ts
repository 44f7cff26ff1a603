// The transformer example (src/examples/transformer) against a real kvslab:
// incremental decoding with K/V appended to and sliced from kvslab gives
// logits bit-identical to cold forwards; a prompt sharing a prefix with a
// cached one loads the cached chunks (KV.PIN + KV.MSLICE), computes only the
// rest, and matches a cold run bit for bit. Negative controls show that the
// comparison would catch one flipped bit in the cached K/V.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvTensorClient, asFloat32, toBuffer, tokensBytes } from '../../src/client/kv.js';
import {
  CHUNK, chunkKeys, encode, generateBothWays, measureTtft, prefixScenario, randomTokens, storePrefix, warmPrefill,
} from '../../src/examples/transformer/demo.js';
import { coldForward, decodeStep, DEFAULT_CONFIG, sameBits, Transformer } from '../../src/examples/transformer/model.js';
import { startKvslab, type RunningServer } from '../helpers/servers.js';

let srv: RunningServer;
let kv: KvTensorClient;
beforeAll(async () => {
  srv = await startKvslab();
  kv = new KvTensorClient(srv.client());
});
afterAll(async () => { await srv.stop(); });

const model = new Transformer();
// A second shape: more layers and heads, narrower heads.
const wide = new Transformer({ ...DEFAULT_CONFIG, layers: 4, heads: 4, headdim: 8, seed: 7 });

describe('model', () => {
  it('is deterministic: same seed, same weights and logits; another seed differs', () => {
    const tokens = encode('determinism');
    const a = coldForward(model, tokens).logits;
    const b = coldForward(new Transformer(), tokens).logits;
    expect(sameBits(a, b)).toBe(true);
    expect(new Transformer().fingerprint()).toBe(model.fingerprint());
    const other = new Transformer({ ...DEFAULT_CONFIG, seed: DEFAULT_CONFIG.seed + 1 });
    expect(other.fingerprint()).not.toBe(model.fingerprint());
    expect(sameBits(a, coldForward(other, tokens).logits)).toBe(false);
  });

  it('sameBits compares bits, not values', () => {
    expect(sameBits(new Float32Array([0]), new Float32Array([-0]))).toBe(false);
    expect(sameBits(new Float32Array([NaN]), new Float32Array([NaN]))).toBe(true);
    expect(sameBits(new Float32Array([1, 2]), new Float32Array([1]))).toBe(false);
  });
});

describe('incremental decoding through kvslab', () => {
  for (const [name, m] of [['default', model], ['4 layers x 4 heads', wide]] as const) {
    it(`${name}: logits bit-identical to cold forwards, K/V in kvslab equal to the cold K/V`, async () => {
      const prompt = encode('The cache remembers what attention saw. ');
      const n = 10;
      const key = `seq:${name}`;
      const g = await generateBothWays(kv, m, prompt, n, key);
      expect(g.identical).toBe(true);
      expect(g.incTokens).toEqual(g.coldTokens);
      expect(g.storedTokens).toBe(prompt.length + n - 1);
      expect(g.roundTrips).toBe((prompt.length + n - 1) * m.cfg.layers);
      // The stored tensor is the model's K/V cache, as a cold forward computes it.
      const info = (await kv.info(key))!;
      expect(info).toMatchObject({ dtype: 'float32', layers: m.cfg.layers, heads: m.cfg.heads, headdim: m.cfg.headdim, kv: 2, length: g.storedTokens });
      const seq = [...prompt, ...g.incTokens.slice(0, n - 1)];
      const cold = coldForward(m, seq);
      const stored = (await kv.slice(key, 0, seq.length))!;
      expect(stored.equals(toBuffer(cold.cache.chunk(0, seq.length)))).toBe(true);
    });
  }

  it('one flipped bit in the stored K changes the logits (the comparison is not vacuous)', async () => {
    const prompt = encode('negative control');
    const key = 'seq:flip';
    await generateBothWays(kv, model, prompt, 1, key);
    const len = await kv.len(key);
    const good = coldForward(model, [...prompt, 65]).logits;
    // (A flip of the lowest bit can vanish in rounding; the top mantissa bit cannot.)
    // Rewrite the tensor with the top mantissa bit of layer 0's K of token 0 flipped, then step on.
    const all = Buffer.from((await kv.slice(key, 0, len))!);
    all[2] ^= 0x40;
    await kv.put(key, all, model.shape());
    const bad = await decodeStep(model, kv, key, 65, len);
    expect(sameBits(good, bad)).toBe(false);
  });
});

describe('prefix cache', () => {
  const A = encode('System: you are a terse assistant who answers from the manual only.\nUser: how do I start kvslab?');
  const B = encode('System: you are a terse assistant who answers from the manual only.\nUser: what does KV.PIN do?');

  it('a prompt sharing a prefix reuses the cached chunks and matches a cold run bit for bit', async () => {
    let shared = 0;
    while (A[shared] === B[shared]) shared++;
    const keysB = chunkKeys(model, B);
    expect(await kv.prefix(keysB)).toBe(0);
    const p = await prefixScenario(kv, model, A, B);
    expect(p.stored).toBe(Math.floor(A.length / CHUNK));
    expect(p.identical).toBe(true);
    const cached = Math.floor(shared / CHUNK);
    expect(cached).toBeGreaterThan(0);
    expect(await kv.prefix(keysB)).toBe(cached);
    expect(p.warm.hits).toBe(cached);
    expect(p.warm.reusedTokens).toBe(cached * CHUNK);
    expect(p.warm.computedTokens).toBe(B.length - cached * CHUNK);
    expect(p.warm.computedTokens).toBeLessThan(B.length);
    expect(p.warm.roundTrips).toBe(2);
    // Not only the logits: every K/V element, loaded or computed, is the cold run's.
    expect(sameBits(p.warm.cache.chunk(0, B.length), coldForward(model, B).cache.chunk(0, B.length))).toBe(true);
    // The same prompt again: chunks are content-addressed, so nothing new is stored.
    expect((await storePrefix(kv, model, A, coldForward(model, A).cache)).stored).toBe(0);
  });

  it('a prompt extending a cached one, the same prompt, an unrelated prompt', async () => {
    const base = randomTokens(5 * CHUNK, 99);
    await storePrefix(kv, model, base, coldForward(model, base).cache);
    // Extends it: every chunk reused.
    const longer = [...base, ...randomTokens(CHUNK + 3, 100)];
    let w = await warmPrefill(kv, model, longer);
    expect(w.reusedTokens).toBe(5 * CHUNK);
    expect(sameBits(w.logits, coldForward(model, longer).logits)).toBe(true);
    // Exactly the cached prompt: the last token is still computed, for its logits.
    w = await warmPrefill(kv, model, base);
    expect(w.reusedTokens).toBe(4 * CHUNK);
    expect(w.computedTokens).toBe(CHUNK);
    expect(sameBits(w.logits, coldForward(model, base).logits)).toBe(true);
    // Nothing in common: one round trip, everything computed.
    const other = randomTokens(3 * CHUNK, 101);
    w = await warmPrefill(kv, model, other);
    expect(w.hits).toBe(0);
    expect(w.roundTrips).toBe(1);
    expect(w.computedTokens).toBe(other.length);
    expect(sameBits(w.logits, coldForward(model, other).logits)).toBe(true);
    // Another model never sees these chunks (the keys hash its weights).
    expect(await kv.prefix(chunkKeys(wide, base))).toBe(0);
  });

  it('a chunk with one flipped bit gives different logits (the comparison is not vacuous)', async () => {
    const tokens = randomTokens(3 * CHUNK + 5, 123);
    const cold = coldForward(model, tokens);
    const keys = chunkKeys(model, tokens);
    await storePrefix(kv, model, tokens, cold.cache);
    const chunk1 = Buffer.from((await kv.slice(keys[1], 0, CHUNK))!);
    expect(chunk1.length).toBe(tokensBytes(model.shape(), CHUNK));
    // Flip the top mantissa bit of a V element of the last layer (a lowest-bit flip can vanish in rounding).
    const f = asFloat32(chunk1);
    const at = f.length - 1;
    const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
    u[at] ^= 1 << 22;
    await kv.put(keys[1], f, model.shape());
    const w = await warmPrefill(kv, model, tokens);
    expect(w.reusedTokens).toBe(3 * CHUNK);
    expect(sameBits(w.logits, cold.logits)).toBe(false);
  });

  it('measureTtft: warm reuses the prompt and is bit-identical', async () => {
    const r = await measureTtft(kv, 300, { model });
    expect(r.identical).toBe(true);
    expect(r.reusedTokens).toBe(Math.floor(299 / CHUNK) * CHUNK);
    expect(r.computedTokens).toBe(300 - r.reusedTokens);
    expect(r.coldMs).toBeGreaterThan(0);
    expect(r.warmMs).toBeGreaterThan(0);
    const again = await measureTtft(kv.redis, 64, { model, chunk: 32, seed: 5 }); // a plain ioredis client too
    expect(again.identical).toBe(true);
    expect(again.reusedTokens).toBe(32);
  });
});
