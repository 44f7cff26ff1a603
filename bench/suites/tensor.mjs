// The tensor cache against what engines do with Redis today, on fresh
// servers in turn:
// - reads: KV.SLICE of 1 MiB (one layer of 256 tokens; or every layer of 8
//   tokens) from a 32 MiB tensor in the shape of Llama-3-8B, against Redis's
//   GETRANGE of 1 MiB from a 32 MiB string, with redis-benchmark (4 clients);
//   iperf3 over loopback (4 streams, pinned the same way) is the ceiling;
// - writes: KV.APPEND of 16-token blocks (2 MiB) to sequences of 256 tokens,
//   against Redis's APPEND of the same bytes, 4 clients; and a whole 32 MiB
//   chunk with KV.PUT against SET;
// - prefix lookup over a 1,024-chunk prompt: KV.PREFIX (one round trip)
//   against one EXISTS per chunk in order (LMCache's redis:// way, on both
//   servers) and against 1,024 pipelined EXISTS;
// - time to first token of the toy transformer (src/examples/transformer),
//   cold prefill against a prefix loaded from kvslab, by prompt length.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runBenchmark } from '../lib/redis-benchmark.mjs';
import { pinArgs, ROOT } from '../lib/machine.mjs';
import { freePort, isKvslab } from '../lib/servers.mjs';
import { RespConn, encode } from '../lib/resp.mjs';

const MiB = 1024 * 1024;
const GB = 1e9;
// Llama-3-8B: 32 layers, 8 KV heads of 128, float16: a row is 2 KiB, a token 128 KiB (K and V).
const SHAPE = ['DTYPE', 'float16', 'LAYERS', '32', 'HEADS', '8', 'HEADDIM', '128'];
const TOKEN_BYTES = 2 * 32 * 8 * 128 * 2;
const CHUNK_TOKENS = 256;
const BLOCK_TOKENS = 16;
const CLIENTS = 4;
const PREFIX_CHUNKS = 1024;

/** Seeded bytes, so both servers store the same thing. @param {number} n */
function bytes(n, seed = 1) {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

/** Loopback TCP throughput with iperf3 (server on the server core, client on the client core), GB/s; null without iperf3. */
async function loopbackCeiling(seconds) {
  try {
    execFileSync('iperf3', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const port = await freePort();
  const [file, ...argv] = [...pinArgs('server'), 'iperf3', '-s', '-1', '-p', String(port)];
  const server = spawn(file, argv, { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  try {
    const [cfile, ...cargv] = [...pinArgs('client'), 'iperf3', '-c', '127.0.0.1', '-p', String(port), '-t', String(seconds), '-P', String(CLIENTS), '-J'];
    const out = JSON.parse(execFileSync(cfile, cargv, { encoding: 'utf8', timeout: (seconds + 20) * 1000 }));
    return out.end.sum_received.bits_per_second / 8 / GB;
  } finally {
    server.kill();
  }
}

/** GB/s of a read command answering `replyBytes`, with redis-benchmark, about `seconds` long. */
async function readRate(port, command, replyBytes, seconds) {
  const warm = await runBenchmark(port, { clients: CLIENTS, requests: 500, command, timeoutMs: 120_000 });
  const requests = Math.max(1000, Math.round(warm.rps * seconds));
  const row = await runBenchmark(port, { clients: CLIENTS, requests, command, timeoutMs: (seconds * 10 + 60) * 1000 });
  return row.rps * replyBytes / GB;
}

/**
 * Bytes/s of `clients` connections each appending `blocks` blocks (one
 * pre-encoded frame each) to a fresh key and then deleting it, over and over
 * for about `seconds`. Only the appends' bytes count; the DELs are in the time.
 */
async function appendRate(port, frameFor, block, blocks, seconds) {
  const conns = await Promise.all(Array.from({ length: CLIENTS }, () => RespConn.connect(port)));
  let appended = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(conns.map(async (c, ci) => {
    for (let seq = 0; performance.now() < deadline; seq++) {
      const key = `seq:${ci}:${seq}`;
      const frame = frameFor(key);
      for (let i = 0; i < blocks; i++) {
        await c.send(frame, 1);
        appended += block;
      }
      await c.call('DEL', key);
    }
  }));
  const s = (performance.now() - started) / 1000;
  for (const c of conns) c.close();
  return appended / s / GB;
}

/** Median of a few timings of `fn` in ms, after as many untimed runs (warm-up). */
async function timeMs(fn, times) {
  for (let i = 0; i < times; i++) await fn();
  const xs = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}

/** The toy model's TTFT helper, when the example is built. */
async function ttftModule() {
  const file = join(ROOT, 'dist', 'examples', 'transformer', 'demo.js');
  if (!existsSync(file)) return null;
  const mod = await import(pathToFileURL(file).href);
  return typeof mod.measureTtft === 'function' ? mod : null;
}

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function run(ctx) {
  const seconds = ctx.quick ? 1 : 3;
  const lengths = ctx.quick ? [256, 1024] : [256, 512, 1024, 2048, 4096];
  ctx.settings = {
    shape: 'Llama-3-8B: 32 layers, KV 2, 8 heads x 128, float16 (128 KiB per token)', clients: CLIENTS, secondsPerTest: seconds,
    chunkTokens: CHUNK_TOKENS, blockTokens: BLOCK_TOKENS, prefixChunks: PREFIX_CHUNKS,
    roundTrips: `EXISTS per chunk: ${PREFIX_CHUNKS}; pipelined EXISTS: 1 (${PREFIX_CHUNKS} commands); KV.PREFIX: 1`,
  };
  const both = /** @type {const} */ (['kvslab', 'redis']);
  const f = {
    ceiling: ctx.figure('loopback', { label: `loopback TCP ceiling (iperf3, ${CLIENTS} streams), measured in this server's turn`, unit: 'GB/s', better: 'higher', params: { metric: 'ceiling' }, noRatio: true }),
    sliceLayer: ctx.figure('slice-layer', { label: '1 MiB reads: KV.SLICE of one layer × 256 tokens (Redis: GETRANGE 1 MiB)', unit: 'GB/s', better: 'higher', params: { metric: 'read', op: 'one layer' } }),
    sliceAll: ctx.figure('slice-all', { label: '1 MiB reads: KV.SLICE of 32 layers × 8 tokens (Redis: GETRANGE 1 MiB)', unit: 'GB/s', better: 'higher', params: { metric: 'read', op: 'all layers' } }),
    append: ctx.figure('append', { label: 'KV.APPEND of 16-token blocks, 2 MiB each (Redis: APPEND)', unit: 'GB/s', better: 'higher', params: { metric: 'write', op: 'append' } }),
    put: ctx.figure('put', { label: 'KV.PUT of a 256-token chunk, 32 MiB (Redis: SET)', unit: 'GB/s', better: 'higher', params: { metric: 'write', op: 'put' } }),
    exists: ctx.figure('prefix-exists', { label: `prefix of ${PREFIX_CHUNKS} chunks: EXISTS per chunk in order (LMCache)`, unit: 'ms', better: 'lower', params: { metric: 'prefix', op: 'EXISTS per chunk' } }),
    pipelined: ctx.figure('prefix-pipelined', { label: `prefix of ${PREFIX_CHUNKS} chunks: ${PREFIX_CHUNKS} pipelined EXISTS`, unit: 'ms', better: 'lower', params: { metric: 'prefix', op: 'pipelined EXISTS' } }),
    kvprefix: ctx.figure('prefix-kvprefix', { label: `prefix of ${PREFIX_CHUNKS} chunks: one KV.PREFIX`, unit: 'ms', better: 'lower', params: { metric: 'prefix', op: 'KV.PREFIX' }, servers: ['kvslab'] }),
  };
  const ttft = await ttftModule();
  const ttftFigures = [];
  if (ttft) {
    for (const n of lengths) {
      for (const mode of ['cold', 'warm']) {
        ttftFigures.push(ctx.figure(`ttft-${mode}-${n}`, {
          label: `toy model, time to first token, ${n}-token prompt, ${mode === 'cold' ? 'cold prefill' : 'prefix from kvslab'}`,
          unit: 'ms', better: 'lower', params: { metric: 'ttft', mode, tokens: n }, servers: ['kvslab'],
        }));
      }
    }
  }

  const chunk = bytes(CHUNK_TOKENS * TOKEN_BYTES);
  const block = chunk.subarray(0, BLOCK_TOKENS * TOKEN_BYTES);
  const small = bytes(1024, 7);

  await ctx.eachRound(async (srv) => {
    const kv = isKvslab(srv.id);
    const c = await RespConn.connect(srv.port);
    try {
      if (kv) await c.call('KV.PUT', 'chunk', chunk, ...SHAPE);
      else await c.call('SET', 'chunk', chunk);

      await ctx.measure(srv, [f.ceiling], async () => [await loopbackCeiling(seconds)]);
      await ctx.measure(srv, [f.sliceLayer], async () => [await readRate(srv.port,
        kv ? ['KV.SLICE', 'chunk', '0', String(CHUNK_TOKENS), 'LAYER', '5'] : ['GETRANGE', 'chunk', '0', String(MiB - 1)], MiB, seconds)]);
      await ctx.measure(srv, [f.sliceAll], async () => [await readRate(srv.port,
        kv ? ['KV.SLICE', 'chunk', '0', '8'] : ['GETRANGE', 'chunk', String(8 * MiB), String(9 * MiB - 1)], MiB, seconds)]);

      await ctx.measure(srv, [f.append], async () => {
        const frameFor = kv
          ? (key) => encode(['KV.APPEND', key, block, 'CREATE', ...SHAPE])
          : (key) => encode(['APPEND', key, block]);
        return [await appendRate(srv.port, frameFor, block.length, CHUNK_TOKENS / BLOCK_TOKENS, seconds)];
      });
      await ctx.measure(srv, [f.put], async () => {
        const frame = kv ? encode(['KV.PUT', 'put', chunk, ...SHAPE]) : encode(['SET', 'put', chunk]);
        let n = 0;
        const t = performance.now();
        while (performance.now() - t < seconds * 1000) {
          await c.send(frame, 1);
          n++;
        }
        return [n * chunk.length / ((performance.now() - t) / 1000) / GB];
      });
      await c.call('DEL', 'put');

      // 1,024 chunk keys, all present: the walk goes to the end.
      const keys = Array.from({ length: PREFIX_CHUNKS }, (_, i) => `llama@1@0@${i.toString(16).padStart(16, '0')}@bfloat16`);
      const load = Buffer.concat(keys.map((k) => (kv
        ? encode(['KV.PUT', k, small, 'DTYPE', 'uint8', 'LAYERS', '1', 'HEADS', '1', 'HEADDIM', '512'])
        : encode(['SET', k, small]))));
      await c.send(load, PREFIX_CHUNKS);
      const existsFrames = keys.map((k) => encode(['EXISTS', k]));
      const pipelined = Buffer.concat(existsFrames);
      const prefixFrame = encode(['KV.PREFIX', ...keys]);
      const times = ctx.quick ? 5 : 15;
      await ctx.measure(srv, [f.exists], async () => [await timeMs(async () => {
        for (const fr of existsFrames) if ((await c.send(fr, 1))[0] !== 1) break;
      }, times)]);
      await ctx.measure(srv, [f.pipelined], async () => [await timeMs(async () => {
        const r = await c.send(pipelined, PREFIX_CHUNKS);
        let n = 0;
        while (n < r.length && r[n] === 1) n++;
        if (n !== PREFIX_CHUNKS) throw new Error(`prefix ${n}`);
      }, times)]);
      await ctx.measure(srv, [f.kvprefix], async () => [await timeMs(async () => {
        const [n] = await c.send(prefixFrame, 1);
        if (n !== PREFIX_CHUNKS) throw new Error(`KV.PREFIX said ${n}`);
      }, times)]);

      if (ttft && kv) {
        await ctx.measure(srv, ttftFigures, async () => {
          const { Redis } = await import('ioredis');
          const client = new Redis({ port: srv.port, host: '127.0.0.1' });
          try {
            const out = [];
            for (const n of lengths) {
              const r = await ttft.measureTtft(client, n);
              out.push(r.coldMs, r.warmMs);
            }
            return out;
          } finally {
            client.disconnect();
          }
        });
      }
    } finally {
      c.close();
    }
  }, { figures: [...Object.values(f), ...ttftFigures] });
}

export default {
  name: 'tensor',
  description: 'the KV tensor cache: GB/s of 1 MiB KV.SLICE reads against Redis GETRANGE (and the loopback ceiling), of KV.APPEND/KV.PUT against APPEND/SET in the shape of Llama-3-8B; prefix lookup over 1,024 chunks; time to first token of the toy model, cold and warm',
  servers: ['kvslab', 'redis'],
  run,
};
