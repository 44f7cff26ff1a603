// LMCache's two remote backends against kvslab, replayed command for command:
//
// - the `redis://` connector: a token sequence is cut into 256-token chunks,
//   each chunk's key is `model@world_size@worker_id@<chained sha256>@dtype`,
//   and a chunk is two keys, `<key>kv_bytes` (the tensor bytes) and
//   `<key>metadata` (a small packed struct), each written with SET ... EX.
//   A prefix lookup is one EXISTS <key>metadata per chunk until the first 0;
//   a read is GET metadata then GET kv_bytes, and metadata whose data was
//   evicted is DELeted. The same replay runs against Redis and the two
//   transcripts must be equal.
// - the `resp://` native connector: one key per chunk of ~4 MB, sixteen
//   connections in parallel rather than pipelining, and every reply checked
//   byte for byte (`+OK`, `:0`/`:1`, `$<len>` with the bytes, `$-1`), read
//   here off raw sockets.

import net from 'node:net';
import { createCipheriv, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startKvslab, startRedis, RunningServer } from '../helpers/servers.js';
import { encodeCommand } from '../helpers/raw-client.js';

const KiB = 1024;
const MiB = 1024 * 1024;
const CHUNK_TOKENS = 256;
const MODEL = 'llama3-8b';
const DTYPE = 'bfloat16';
const TTL = 600;

/** `len` pseudo-random bytes determined by `seed` (AES-CTR keystream): the same on every run. */
function seeded(seed: string, len: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(len));
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Token ids of a sequence of `chunks` full chunks. */
function tokens(seed: string, chunks: number): Int32Array {
  const raw = seeded(`tokens:${seed}`, chunks * CHUNK_TOKENS * 4);
  const t = new Int32Array(chunks * CHUNK_TOKENS);
  for (let i = 0; i < t.length; i++) t[i] = raw.readUInt32LE(i * 4) % 128_256;
  return t;
}

/** The chunk keys of a token sequence: each chunk's hash is chained over all chunks before it. */
function chunkKeys(t: Int32Array, worker = 0): string[] {
  const keys: string[] = [];
  let prev = Buffer.alloc(32);
  for (let off = 0; off + CHUNK_TOKENS <= t.length; off += CHUNK_TOKENS) {
    const chunk = Buffer.from(t.buffer, t.byteOffset + off * 4, CHUNK_TOKENS * 4);
    prev = createHash('sha256').update(prev).update(chunk).digest();
    keys.push(`${MODEL}@1@${worker}@${prev.toString('hex')}@${DTYPE}`);
  }
  return keys;
}

/** A metadata struct of packed little-endian int32s (format, dtype, shape...): 28 to 64 bytes. */
function metadata(i: number, dataLen: number): Buffer {
  const ints = [1, 7, 2, 32, CHUNK_TOKENS, 8, 128, dataLen, i, 0, 0xd0a, -1, 0, 1, 2, 3];
  const n = 7 + (i * 3) % 10; // 7..16 ints
  const b = Buffer.alloc(n * 4);
  for (let k = 0; k < n; k++) b.writeInt32LE(ints[k], k * 4);
  return b;
}

// ---------------------------------------------------------------------------
// redis:// connector

/** kv_bytes sizes of the stored chunks, in order: 1 B up to 64 MB, across kvslab's 64 KiB inline limit. */
const SIZES = [1, 4 * KiB, 64 * KiB, 64 * KiB + 1, MiB, 4_000_000, 32 * MiB, 64_000_000];
const EVICTED = 5; // the chunk whose data is "evicted"

interface Chunk { key: string; data: Buffer; meta: Buffer }

const seq = tokens('main', SIZES.length);
const chunks: Chunk[] = chunkKeys(seq).map((key, i) => {
  const data = seeded(`kv:${i}`, SIZES[i]);
  return { key, data, meta: metadata(i, data.length) };
});

/** Records each command and a summary of its reply, for comparing kvslab's run with Redis's. */
class Connector {
  readonly transcript: string[] = [];
  constructor(readonly r: Redis) {}

  private log(cmd: string, reply: unknown): void {
    const shown = Buffer.isBuffer(reply) ? `<${reply.length} bytes sha256:${sha(reply).slice(0, 16)}>` : JSON.stringify(reply);
    this.transcript.push(`${cmd} -> ${shown}`);
  }

  async put(c: Chunk, ttl = TTL): Promise<void> {
    const a = await this.r.set(`${c.key}kv_bytes`, c.data, 'EX', ttl);
    this.log(`SET ${c.key}kv_bytes <${c.data.length}> EX ${ttl}`, a);
    const b = await this.r.set(`${c.key}metadata`, c.meta, 'EX', ttl);
    this.log(`SET ${c.key}metadata <${c.meta.length}> EX ${ttl}`, b);
    expect([a, b]).toEqual(['OK', 'OK']);
  }

  /** How many leading chunks are stored: EXISTS per chunk, stopping at the first 0. Returns every reply. */
  async lookup(keys: string[]): Promise<number[]> {
    const replies: number[] = [];
    for (const k of keys) {
      const n = await this.r.exists(`${k}metadata`);
      this.log(`EXISTS ${k}metadata`, n);
      replies.push(n);
      if (n === 0) break;
    }
    return replies;
  }

  /** GET metadata, then GET kv_bytes; metadata left without its data is deleted. */
  async get(key: string): Promise<{ meta: Buffer; data: Buffer } | null> {
    const meta = await this.r.getBuffer(`${key}metadata`);
    this.log(`GET ${key}metadata`, meta);
    if (meta === null) return null;
    const data = await this.r.getBuffer(`${key}kv_bytes`);
    this.log(`GET ${key}kv_bytes`, data);
    if (data === null) {
      const n = await this.r.del(`${key}metadata`);
      this.log(`DEL ${key}metadata`, n);
      expect(n).toBe(1);
      return null;
    }
    return { meta, data };
  }

  async del(key: string): Promise<number> {
    const n = await this.r.del(key);
    this.log(`DEL ${key}`, n);
    return n;
  }
}

function expectBytes(got: Buffer | undefined, want: Buffer, what: string): void {
  expect(got, what).toBeDefined();
  // Compare without printing megabytes on failure.
  expect({ what, len: got!.length, sha: sha(got!) }).toEqual({ what, len: want.length, sha: sha(want) });
  expect(got!.equals(want), what).toBe(true);
}

/** The whole connector scenario on one server; asserts as it goes and returns the transcript. */
async function replayRedisConnector(srv: RunningServer): Promise<string[]> {
  const r = srv.client();
  const lm = new Connector(r);
  const keys = chunks.map((c) => c.key);

  // Store every chunk: two SET ... EX per chunk.
  for (const c of chunks) await lm.put(c);
  expect(await r.dbsize()).toBe(2 * chunks.length);

  // Both keys of every chunk carry the TTL.
  for (const c of chunks) {
    for (const suffix of ['kv_bytes', 'metadata']) {
      const ttl = await r.ttl(`${c.key}${suffix}`);
      expect(ttl, `TTL ${c.key}${suffix}`).toBeGreaterThan(TTL - 30);
      expect(ttl, `TTL ${c.key}${suffix}`).toBeLessThanOrEqual(TTL);
      const pttl = await r.pttl(`${c.key}${suffix}`);
      expect(pttl).toBeGreaterThan((TTL - 30) * 1000);
      expect(pttl).toBeLessThanOrEqual(TTL * 1000);
    }
  }

  // Prefix lookup of the stored sequence: every chunk hits.
  expect(await lm.lookup(keys)).toEqual(SIZES.map(() => 1));
  // A longer sequence (two more chunks): the walk stops at the first missing chunk and asks no further.
  const longer = new Int32Array(seq.length + 2 * CHUNK_TOKENS);
  longer.set(seq);
  longer.set(tokens('tail', 2), seq.length);
  const longerKeys = chunkKeys(longer);
  expect(longerKeys.slice(0, keys.length)).toEqual(keys);
  expect(await lm.lookup(longerKeys)).toEqual([...SIZES.map(() => 1), 0]);
  // A sequence that differs in one token of chunk 3: chunks 0-2 hit, and the chained hash misses from 3 on.
  const diverged = Int32Array.from(seq);
  diverged[3 * CHUNK_TOKENS + 17] ^= 1;
  const divergedKeys = chunkKeys(diverged);
  expect(divergedKeys.slice(0, 3)).toEqual(keys.slice(0, 3));
  expect(await lm.lookup(divergedKeys)).toEqual([1, 1, 1, 0]);
  // The same chunks for another worker are other keys.
  expect(await lm.lookup(chunkKeys(seq, 1))).toEqual([0]);

  // Read every chunk back: metadata then data, byte for byte.
  for (const c of chunks) {
    const got = await lm.get(c.key);
    expect(got, c.key).not.toBeNull();
    expectBytes(got!.meta, c.meta, `${c.key}metadata`);
    expectBytes(got!.data, c.data, `${c.key}kv_bytes (${c.data.length} B)`);
  }

  // Eviction of one chunk's data: its metadata survives, so the lookup still counts it...
  const ev = chunks[EVICTED];
  expect(await lm.del(`${ev.key}kv_bytes`)).toBe(1);
  expect(await lm.lookup(keys)).toEqual(SIZES.map(() => 1));
  // ...the read finds the data gone and deletes the orphan metadata...
  expect(await lm.get(ev.key)).toBeNull();
  expect(lm.transcript.slice(-3)).toEqual([
    expect.stringMatching(/^GET .*metadata -> <\d+ bytes/),
    expect.stringMatching(/^GET .*kv_bytes -> null$/),
    expect.stringMatching(/^DEL .*metadata -> 1$/),
  ]);
  expect(await r.exists(`${ev.key}metadata`, `${ev.key}kv_bytes`)).toBe(0);
  // ...after which the lookup stops at that chunk; the chunks behind it are still whole.
  expect(await lm.lookup(keys)).toEqual([...chunks.slice(0, EVICTED).map(() => 1), 0]);
  expect(await lm.get(ev.key)).toBeNull();
  for (const c of chunks.slice(EVICTED + 1)) {
    const got = await lm.get(c.key);
    expectBytes(got?.data, c.data, `${c.key}kv_bytes after the eviction`);
  }
  // Re-storing the evicted chunk makes the whole prefix hit again.
  await lm.put(ev);
  expect(await lm.lookup(keys)).toEqual(SIZES.map(() => 1));
  expectBytes((await lm.get(ev.key))?.data, ev.data, 're-stored chunk');
  expect(await r.dbsize()).toBe(2 * chunks.length);

  // A chunk stored with a 1 s TTL is gone after it: the lookup misses it and the read finds nothing.
  const short = chunkKeys(tokens('short', 1))[0];
  await lm.put({ key: short, data: seeded('short', 4 * KiB), meta: metadata(0, 4 * KiB) }, 1);
  expect(await lm.lookup([short])).toEqual([1]);
  await new Promise((res) => setTimeout(res, 1300));
  expect(await lm.lookup([short])).toEqual([0]);
  expect(await lm.get(short)).toBeNull();
  expect(await r.exists(`${short}kv_bytes`)).toBe(0);

  return lm.transcript;
}

let kvslab: RunningServer;
let redis: RunningServer;
beforeAll(async () => {
  [kvslab, redis] = await Promise.all([startKvslab(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([kvslab?.stop(), redis?.stop()]);
});

describe('LMCache redis:// connector', () => {
  let kvslabTranscript: string[] = [];

  it('stores 1 B to 64 MB chunks with SET EX, walks prefixes with EXISTS, cleans orphan metadata', async () => {
    kvslabTranscript = await replayRedisConnector(kvslab);
    expect(kvslabTranscript.length).toBeGreaterThan(50);
  }, 40_000);

  it('Redis answers the same sequence with the same replies', async () => {
    expect(kvslabTranscript.length).toBeGreaterThan(0);
    const redisTranscript = await replayRedisConnector(redis);
    expect(kvslabTranscript).toEqual(redisTranscript);
  }, 40_000);
});

// ---------------------------------------------------------------------------
// resp:// native connector

const CRLF = Buffer.from('\r\n');

/**
 * One raw connection that sends a command at a time and hands back the exact
 * bytes of its reply (a simple string, error, integer or bulk string), read
 * linearly whatever its size.
 */
class ExactConn {
  private chunks: Buffer[] = [];
  private total = 0;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.total += d.length;
      this.wake?.();
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      this.wake?.();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static open(port: number): Promise<ExactConn> {
    return new Promise((res, rej) => {
      const s = net.connect(port, '127.0.0.1', () => res(new ExactConn(s)));
      s.once('error', rej);
    });
  }

  /** Length of the reply at the head of the input, once its first line is in. */
  private replyLength(): number | null {
    if (this.total === 0) return null;
    if (this.chunks.length > 1 && this.chunks[0].indexOf(CRLF) < 0) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0];
    const nl = first.indexOf(CRLF);
    if (nl < 0) return null;
    const type = String.fromCharCode(first[0]);
    if (type === '$') {
      const n = Number(first.toString('latin1', 1, nl));
      return n < 0 ? nl + 2 : nl + 2 + n + 2;
    }
    if (type === '+' || type === '-' || type === ':') return nl + 2;
    throw new Error(`unexpected reply: ${JSON.stringify(first.toString('latin1', 0, Math.min(first.length, 80)))}`);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.total);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.total -= n;
    return all.subarray(0, n);
  }

  /** Sends one command; resolves with the exact bytes of its reply. */
  async request(argv: (string | Buffer)[]): Promise<Buffer> {
    this.socket.write(encodeCommand(argv));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (this.failure) throw this.failure;
      const n = this.replyLength();
      if (n !== null && this.total >= n) return this.take(n);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete reply to ${String(argv[0])} (have ${this.total} bytes)`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.wake = () => { clearTimeout(t); res(); };
      });
      this.wake = null;
    }
  }

  /** Bytes received beyond the replies taken (there must be none). */
  get pending(): number {
    return this.total;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Fails unless `got` is exactly `want` (given as parts, so multi-MB replies are not copied). */
function expectExact(got: Buffer, want: (string | Buffer)[], what: string): void {
  const parts = want.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p));
  const len = parts.reduce((n, p) => n + p.length, 0);
  let ok = got.length === len;
  let pos = 0;
  for (const p of parts) {
    if (!ok) break;
    ok = got.subarray(pos, pos + p.length).equals(p);
    pos += p.length;
  }
  if (!ok) {
    // Show the length and the first bytes of each, not megabytes.
    const show = (b: Buffer, n: number) => `${n} bytes: ${JSON.stringify(b.toString('latin1', 0, Math.min(b.length, 60)))}`;
    expect(show(got, got.length), what).toBe(show(Buffer.concat(parts), len));
    expect.unreachable(`${what}: reply differs from the expected bytes past its first 60`);
  }
}

const CONNS = 16;
const RESP_SIZES = [4_000_000, 4 * MiB];

async function openConns(port: number): Promise<ExactConn[]> {
  return Promise.all(Array.from({ length: CONNS }, () => ExactConn.open(port)));
}

/** Every connection on its own keys: SET, EXISTS, GET, then EXISTS and GET of a chunk never stored. */
async function ownKeys(port: number, tag: string): Promise<number> {
  const conns = await openConns(port);
  let replies = 0;
  try {
    await Promise.all(conns.map(async (c, w) => {
      const keys = chunkKeys(tokens(`resp:${tag}:${w}`, RESP_SIZES.length + 1), w);
      for (let i = 0; i < RESP_SIZES.length; i++) {
        const value = seeded(`resp:${tag}:${w}:${i}`, RESP_SIZES[i]);
        expectExact(await c.request(['SET', keys[i], value]), ['+OK\r\n'], `SET (conn ${w})`);
        expectExact(await c.request(['EXISTS', keys[i]]), [':1\r\n'], `EXISTS hit (conn ${w})`);
        expectExact(await c.request(['GET', keys[i]]), [`$${value.length}\r\n`, value, '\r\n'], `GET hit (conn ${w}, ${value.length} B)`);
        replies += 3;
      }
      const missing = keys[RESP_SIZES.length];
      expectExact(await c.request(['EXISTS', missing]), [':0\r\n'], `EXISTS miss (conn ${w})`);
      expectExact(await c.request(['GET', missing]), ['$-1\r\n'], `GET miss (conn ${w})`);
      replies += 2;
      expect(c.pending, `stray bytes on conn ${w}`).toBe(0);
    }));
  } finally {
    for (const c of conns) c.close();
  }
  return replies;
}

/** All connections write one chunk each, then every connection reads every other connection's chunk. */
async function crossRead(port: number, tag: string): Promise<number> {
  const conns = await openConns(port);
  const keys = chunkKeys(tokens(`cross:${tag}`, CONNS));
  const values = keys.map((_, i) => seeded(`cross:${tag}:${i}`, 4 * MiB - 7 * i));
  let replies = 0;
  try {
    await Promise.all(conns.map(async (c, w) => {
      expectExact(await c.request(['SET', keys[w], values[w]]), ['+OK\r\n'], `SET (conn ${w})`);
      replies++;
    }));
    await Promise.all(conns.map(async (c, w) => {
      for (let k = 1; k < CONNS; k++) {
        const o = (w + k) % CONNS;
        expectExact(await c.request(['EXISTS', keys[o]]), [':1\r\n'], `EXISTS of conn ${o}'s key (conn ${w})`);
        expectExact(await c.request(['GET', keys[o]]), [`$${values[o].length}\r\n`, values[o], '\r\n'], `GET of conn ${o}'s key (conn ${w})`);
        replies += 2;
      }
      expect(c.pending, `stray bytes on conn ${w}`).toBe(0);
    }));
  } finally {
    for (const c of conns) c.close();
  }
  return replies;
}

describe('LMCache resp:// native connector', () => {
  it('16 parallel connections: SET/EXISTS/GET of 4 MB chunks and misses, every reply byte-exact', async () => {
    expect(await ownKeys(kvslab.port, 'kvslab')).toBe(CONNS * (3 * RESP_SIZES.length + 2));
  }, 40_000);

  it('16 connections write, then each reads the other 15 connections\' chunks byte-exact', async () => {
    expect(await crossRead(kvslab.port, 'kvslab')).toBe(CONNS + CONNS * (CONNS - 1) * 2);
    // What the connections wrote is all there, and the server still answers a fresh connection.
    const r = kvslab.client();
    expect(await r.exists(...chunkKeys(tokens('cross:kvslab', CONNS)))).toBe(CONNS);
  }, 40_000);

  it('Redis gives the same bytes for the per-connection sequence (the expectations are Redis\'s)', async () => {
    expect(await ownKeys(redis.port, 'redis')).toBe(CONNS * (3 * RESP_SIZES.length + 2));
  }, 40_000);
});
