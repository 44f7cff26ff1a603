// The toy transformer (model.ts) against a running kvslab:
//
//   node dist/examples/transformer/demo.js [--port 6379] [--host 127.0.0.1] [--tokens 16] [--ttft 1024]
//
// 1. Generation: N tokens (greedy) two ways, a cold forward over the whole
//    sequence for every token, and incremental decoding whose K/V live in
//    kvslab (KV.APPEND each layer's new row, KV.SLICE the layer back). The
//    logits must be bit-identical.
// 2. Prefix cache: prompt A's K/V cut into chunks stored with KV.PUT under
//    chained-hash keys (each key hashes the previous key and the chunk's
//    token ids, as vLLM and LMCache do); prompt B, which shares a prefix with
//    A, finds its cached chunks with one KV.PIN, loads them with one
//    KV.MSLICE and computes only the rest. Its logits must be bit-identical
//    to a cold run of B.
// 3. Time to first token, cold against warm (measureTtft, also for benchmarks;
//    coldTtft and warmTtft time one side alone, as across a restart).
//
// Exits non-zero on any mismatch. ioredis (a dev dependency) is loaded only
// when this file is run, not when its functions are imported.

import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';
import { asFloat32, KvTensorClient, tokensBytes } from '../../client/kv.js';
import { argmax, coldForward, decodeStep, KvCache, prefill, prng, sameBits, Transformer } from './model.js';

/** Tokens per prefix-cache chunk (vLLM's default block size). */
export const CHUNK = 16;
/** How long a warm prefill leases the chunks it found (KV.PIN), so they are not evicted before KV.MSLICE. */
const LEASE_MS = 10_000;
const KEY_PREFIX = 'kvslab:example:';

/** Byte-level tokens of a text. */
export function encode(text: string): number[] {
  return [...Buffer.from(text, 'utf8')];
}

/** `n` seeded random tokens. */
export function randomTokens(n: number, seed: number, vocab = 256): number[] {
  const rand = prng(seed);
  return Array.from({ length: n }, () => Math.floor(rand() * vocab));
}

// ---------------------------------------------------------------------------
// 1. Generation, cold and incremental

export interface GenerationResult {
  prompt: number[];
  coldTokens: number[];
  incTokens: number[];
  /** Whether the logits of every generated token were bit-identical. */
  identical: boolean;
  coldMs: number;
  incMs: number;
  /** Round trips of the incremental path (one per layer per token: APPEND and SLICE pipelined). */
  roundTrips: number;
  /** KV.LEN of the sequence key at the end. */
  storedTokens: number;
}

/**
 * Generates `n` tokens after `prompt` greedily, (a) cold: a full forward over
 * the sequence so far for each token, no cache; (b) incremental: each token
 * (prompt included) through decodeStep, its K/V appended to and read from
 * kvslab key `key` (deleted first; left in place for inspection).
 */
export async function generateBothWays(kv: KvTensorClient, model: Transformer, prompt: number[], n: number, key = `${KEY_PREFIX}seq:${process.pid}`): Promise<GenerationResult> {
  let t = performance.now();
  const coldTokens: number[] = [];
  const coldLogits: Float32Array[] = [];
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const { logits } = coldForward(model, seq);
    coldLogits.push(logits);
    coldTokens.push(argmax(logits));
    seq.push(argmax(logits));
  }
  const coldMs = performance.now() - t;

  await kv.redis.del(key);
  t = performance.now();
  const incTokens: number[] = [];
  let identical = true;
  let roundTrips = 0;
  let logits: Float32Array = new Float32Array(0);
  let pos = 0;
  for (const token of prompt) {
    logits = await decodeStep(model, kv, key, token, pos++);
    roundTrips += model.cfg.layers;
  }
  for (let i = 0; i < n; i++) {
    identical &&= sameBits(logits, coldLogits[i]);
    incTokens.push(argmax(logits));
    if (i + 1 < n) {
      logits = await decodeStep(model, kv, key, argmax(logits), pos++);
      roundTrips += model.cfg.layers;
    }
  }
  const incMs = performance.now() - t;
  const storedTokens = await kv.len(key);
  return { prompt, coldTokens, incTokens, identical: identical && coldTokens.join() === incTokens.join(), coldMs, incMs, roundTrips, storedTokens };
}

// ---------------------------------------------------------------------------
// 2. Prefix cache

/**
 * The keys of the full `chunk`-token chunks of `tokens`: key i hashes key i-1
 * (the model's fingerprint for the first) and the token ids of chunk i, so a
 * key stands for the whole prefix up to the end of its chunk.
 */
export function chunkKeys(model: Transformer, tokens: ArrayLike<number>, chunk = CHUNK): string[] {
  const keys: string[] = [];
  let prev = createHash('sha256').update(model.fingerprint()).digest();
  const ids = Buffer.alloc(4 * chunk);
  for (let c = 0; (c + 1) * chunk <= tokens.length; c++) {
    for (let i = 0; i < chunk; i++) ids.writeUInt32LE(tokens[c * chunk + i], 4 * i);
    prev = createHash('sha256').update(prev).update(ids).digest();
    keys.push(`${KEY_PREFIX}prefix:${prev.toString('hex', 0, 20)}`);
  }
  return keys;
}

/**
 * Stores the full chunks of `tokens` whose K/V `cache` holds, one KV.PUT ...
 * NX each (a chunk already cached is left alone), all pipelined. Returns the
 * number of chunks newly stored and all the keys.
 */
export async function storePrefix(kv: KvTensorClient, model: Transformer, tokens: ArrayLike<number>, cache: KvCache, chunk = CHUNK): Promise<{ stored: number; keys: string[] }> {
  const keys = chunkKeys(model, tokens, chunk);
  const shape = model.shape();
  const replies = await Promise.all(keys.map((k, i) => kv.put(k, cache.chunk(i * chunk, (i + 1) * chunk), shape, { nx: true })));
  return { stored: replies.filter((r) => r !== null).length, keys };
}

export interface WarmResult {
  logits: Float32Array;
  /** K/V of every token of the prompt: loaded, then computed. */
  cache: KvCache;
  /** Chunks KV.PIN found in a row from the first. */
  hits: number;
  reusedTokens: number;
  computedTokens: number;
  /** Round trips to kvslab: KV.PIN, and KV.MSLICE when something was found. */
  roundTrips: number;
  loadMs: number;
  computeMs: number;
}

/**
 * A prefill that reuses cached chunks: the chunk keys of `tokens` (all but
 * the last token, which must be computed for its logits), one KV.PIN to
 * count and lease the cached ones, one KV.MSLICE to load them, then the
 * remaining tokens computed on top.
 */
export async function warmPrefill(kv: KvTensorClient, model: Transformer, tokens: ArrayLike<number>, chunk = CHUNK): Promise<WarmResult> {
  const t0 = performance.now();
  const keys = chunkKeys(model, Array.prototype.slice.call(tokens, 0, tokens.length - 1), chunk);
  let roundTrips = 1;
  let hits = await kv.pin(LEASE_MS, keys);
  const cache = new KvCache(model, tokens.length);
  if (hits > 0) {
    const parts = await kv.mslice(keys.slice(0, hits), 0, chunk);
    roundTrips++;
    const bytes = tokensBytes(model.shape(), chunk);
    hits = 0;
    // A part that is not a whole chunk (cannot happen with these keys, but a cache must not trust its contents) ends the prefix.
    for (const p of parts) {
      if (p.length !== bytes) break;
      cache.load(asFloat32(p), chunk, hits * chunk);
      hits++;
    }
    cache.length = hits * chunk;
  }
  const t1 = performance.now();
  const logits = prefill(model, tokens, cache, hits * chunk);
  const t2 = performance.now();
  return { logits, cache, hits, reusedTokens: hits * chunk, computedTokens: tokens.length - hits * chunk, roundTrips, loadMs: t1 - t0, computeMs: t2 - t1 };
}

export interface PrefixResult {
  /** Chunks of prompt A newly stored. */
  stored: number;
  /** The warm run of prompt B. */
  warm: WarmResult;
  /** Its logits against those of a cold run of B. */
  identical: boolean;
  coldMs: number;
  warmMs: number;
}

/** Prompt A cold, its chunks stored; prompt B warm (reusing A's shared prefix) and cold, compared. */
export async function prefixScenario(kv: KvTensorClient, model: Transformer, promptA: number[], promptB: number[], chunk = CHUNK): Promise<PrefixResult> {
  const a = coldForward(model, promptA);
  const { stored } = await storePrefix(kv, model, promptA, a.cache, chunk);
  let t = performance.now();
  const warm = await warmPrefill(kv, model, promptB, chunk);
  const warmMs = performance.now() - t;
  t = performance.now();
  const cold = coldForward(model, promptB);
  const coldMs = performance.now() - t;
  return { stored, warm, identical: sameBits(warm.logits, cold.logits), coldMs, warmMs };
}

// ---------------------------------------------------------------------------
// 3. Time to first token

export interface TtftResult {
  promptLen: number;
  coldMs: number;
  warmMs: number;
  reusedTokens: number;
  computedTokens: number;
  /** Whether warm and cold logits were bit-identical. */
  identical: boolean;
}

/** Cold time to first token: a full prefill of `tokens`, up to the argmax of its logits. */
export function coldTtft(model: Transformer, tokens: ArrayLike<number>): { ms: number; logits: Float32Array; cache: KvCache } {
  const t = performance.now();
  const cold = coldForward(model, tokens);
  argmax(cold.logits);
  return { ms: performance.now() - t, ...cold };
}

/**
 * Warm time to first token for `tokens` whose chunks are already in kvslab
 * (stored by this process or, before a restart, by another): warmPrefill, up
 * to the argmax of its logits.
 */
export async function warmTtft(kv: KvTensorClient, model: Transformer, tokens: ArrayLike<number>, chunk = CHUNK): Promise<{ ms: number; warm: WarmResult }> {
  const t = performance.now();
  const warm = await warmPrefill(kv, model, tokens, chunk);
  argmax(warm.logits);
  return { ms: performance.now() - t, warm };
}

/**
 * Time to first token for a seeded random prompt of `promptLen` tokens: cold
 * (every token computed) against warm (the prompt's chunks, stored after the
 * cold run and not timed, loaded from kvslab; only the tail computed).
 * `client` is a KvTensorClient or a plain ioredis connection.
 */
export async function measureTtft(client: KvTensorClient | Redis | Cluster, promptLen: number, opts: { model?: Transformer; chunk?: number; seed?: number } = {}): Promise<TtftResult> {
  const kv = client instanceof KvTensorClient ? client : new KvTensorClient(client);
  const model = opts.model ?? new Transformer();
  const chunk = opts.chunk ?? CHUNK;
  const tokens = randomTokens(promptLen, opts.seed ?? promptLen);
  const cold = coldTtft(model, tokens);
  await storePrefix(kv, model, tokens, cold.cache, chunk);
  const { ms: warmMs, warm } = await warmTtft(kv, model, tokens, chunk);
  return { promptLen, coldMs: cold.ms, warmMs, reusedTokens: warm.reusedTokens, computedTokens: warm.computedTokens, identical: sameBits(cold.logits, warm.logits) };
}

// ---------------------------------------------------------------------------

const PROMPT = 'kvslab keeps attention keys and values by token position, ';
const PROMPT_A = 'System: you are a helpful assistant. Answer briefly and cite the manual.\nUser: how do I start kvslab?';
const PROMPT_B = 'System: you are a helpful assistant. Answer briefly and cite the manual.\nUser: what does KV.PIN do?';

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a whole number`);
  return v;
}

function textOption(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i < 0 || i + 1 >= args.length ? fallback : args[i + 1];
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: node dist/examples/transformer/demo.js [--port 6379] [--host 127.0.0.1] [--tokens 16] [--ttft 1024 (0: skip)]');
    return 0;
  }
  const port = option(args, 'port', 6379);
  const host = textOption(args, 'host', '127.0.0.1');
  const n = option(args, 'tokens', 16);
  const ttftLen = option(args, 'ttft', 1024);
  const { Redis } = await import('ioredis');
  const redis = new Redis({ port, host, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
  let lastError = '';
  redis.on('error', (e: Error) => { lastError = e.message; });
  try {
    await redis.connect();
  } catch (e) {
    throw new Error(`cannot reach kvslab at ${host}:${port}: ${lastError || (e instanceof Error ? e.message : String(e))}`);
  }
  const kv = new KvTensorClient(redis);
  const model = new Transformer();
  const c = model.cfg;
  let ok = true;
  try {
    console.log(`model: ${c.layers} layers, ${c.heads} heads x ${c.headdim}, MLP ${c.hidden}, vocab ${c.vocab}, float32; ` +
      `K/V ${tokensBytes(model.shape(), 1)} bytes per token; kvslab at ${host}:${port}`);

    const seqKey = `${KEY_PREFIX}seq:${process.pid}`;
    const g = await generateBothWays(kv, model, encode(PROMPT), n, seqKey);
    await redis.del(seqKey);
    console.log(`\n1. generation: ${g.prompt.length}-token prompt, ${n} tokens greedy`);
    console.log(`   cold (full forward per token): ${ms(g.coldMs)}  tokens ${g.coldTokens.join(' ')}`);
    console.log(`   incremental (K/V in kvslab):   ${ms(g.incMs)}  tokens ${g.incTokens.join(' ')}`);
    console.log(`   ${g.roundTrips} round trips (KV.APPEND + KV.SLICE pipelined per layer), ${g.storedTokens} tokens stored`);
    console.log(`   logits ${g.identical ? 'bit-identical' : 'DIFFER'}`);
    ok &&= g.identical && g.storedTokens === g.prompt.length + n - 1;

    const a = encode(PROMPT_A);
    const b = encode(PROMPT_B);
    let shared = 0;
    while (shared < a.length && shared < b.length && a[shared] === b[shared]) shared++;
    const p = await prefixScenario(kv, model, a, b);
    console.log(`\n2. prefix cache: prompt A ${a.length} tokens, prompt B ${b.length} tokens, ${shared} shared, chunks of ${CHUNK}`);
    console.log(`   A: ${p.stored} chunks stored with KV.PUT NX`);
    console.log(`   B: ${p.warm.hits} chunks cached (KV.PIN), ${p.warm.reusedTokens} tokens reused (KV.MSLICE), ` +
      `${p.warm.computedTokens} computed, ${p.warm.roundTrips} round trips`);
    console.log(`   B warm ${ms(p.warmMs)} (load ${ms(p.warm.loadMs)}, compute ${ms(p.warm.computeMs)}), cold ${ms(p.coldMs)}; logits ${p.identical ? 'bit-identical' : 'DIFFER'}`);
    ok &&= p.identical && p.warm.reusedTokens > 0;

    if (ttftLen > 0) {
      const r = await measureTtft(kv, ttftLen, { model });
      console.log(`\n3. time to first token, ${ttftLen}-token prompt: cold ${ms(r.coldMs)}, warm ${ms(r.warmMs)} ` +
        `(${r.reusedTokens} tokens from kvslab, ${r.computedTokens} computed); logits ${r.identical ? 'bit-identical' : 'DIFFER'}`);
      ok &&= r.identical;
    }
  } finally {
    redis.disconnect();
  }
  console.log(ok ? '\nOK' : '\nMISMATCH');
  return ok ? 0 : 1;
}

const invoked = process.argv[1] !== undefined && (() => {
  try {
    return realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();

if (invoked) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 2;
  });
}
