// A warm restart of the tensor cache, with the toy transformer
// (src/examples/transformer) as the engine. Per round, kvslab starts with
// save rules in a scratch --dir of its own; for each prompt length a seeded
// prompt is prefilled cold (timed), its 16-token chunks stored (KV.PUT NX),
// and the warm prefill (KV.PIN + KV.MSLICE, only the tail computed) timed.
// Then SIGTERM (kvslab saves the dump on the way out, as Redis does with
// save rules), a new kvslab on the same dir loads it, the chunk keys are
// counted back, and a fresh model of the same seed times the warm prefill of
// the same prompts again: the same chunk keys, so the same hits. Every warm
// prefill must reuse every full chunk and give the cold run's logits bit for
// bit, or the round fails. Each side of the restart starts with one warm
// prefill of the shortest prompt kept out of the medians (and reported on
// its own), so that neither side alone pays for the first KV.PIN and
// KV.MSLICE of a process. A warm prefill's time is also split: loading the
// prefix (KV.PIN, KV.MSLICE, the copy into the model's cache), the part a
// restarted server could change, against computing the tail, which runs in
// this process only. Also: the dump's size, the final save and the load as
// kvslab logs them, and SIGTERM to exit.

import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { live } from '../lib/context.mjs';
import { median } from '../lib/format.mjs';
import { ROOT } from '../lib/machine.mjs';
import { startServer } from '../lib/servers.mjs';

const MiB = 1024 * 1024;
/** Save rules, so that SIGTERM saves before exiting (without them kvslab, as Redis, exits without a save). */
const SAVE_RULES = ['--save', '3600 1'];
/** The save and load lines are notices; the harness starts kvslab at warning. */
const EXTRA = ['--loglevel', 'notice', ...SAVE_RULES];

/** The built example (its TTFT helpers, the model) and the KV client; the suite has nothing to measure without them. */
async function example() {
  const file = (...p) => join(ROOT, 'dist', ...p);
  const files = [file('examples', 'transformer', 'demo.js'), file('examples', 'transformer', 'model.js'), file('client', 'kv.js')];
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`the transformer example is not built (npx tsc -p tsconfig.json): no ${missing.map((f) => f.slice(ROOT.length + 1)).join(', ')}`);
  const [demo, model, kv] = await Promise.all(files.map((f) => import(pathToFileURL(f).href)));
  return { ...demo, Transformer: model.Transformer, sameBits: model.sameBits, KvTensorClient: kv.KvTensorClient };
}

/** A log line of a server, waited for a moment: its pipe may lag behind the process. */
async function logLine(srv, re) {
  for (let i = 0; i < 100; i++) {
    const m = re.exec(srv.output());
    if (m) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${re.source} in the log: ${srv.output().slice(-300)}`);
}

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function run(ctx) {
  const ex = await example();
  const lengths = ctx.quick ? [256, 1024] : [1024, 2048, 4096];
  // A few warm prefills per prompt, their median: one is a couple of ms, so one sample is mostly noise.
  const reps = ctx.quick ? 5 : 20;
  const cfg = new ex.Transformer().cfg;
  ctx.settings = {
    model: `toy transformer: ${cfg.layers} layers, ${cfg.heads} heads x ${cfg.headdim}, float32, seed ${cfg.seed}`,
    promptTokens: lengths, chunkTokens: ex.CHUNK, warmPrefillsPerPrompt: reps, save: SAVE_RULES.join(' '),
    restart: 'SIGTERM (the final save), then a new kvslab on the same --dir',
    warmUp: `one warm prefill of the ${lengths[0]}-token prompt at the start of each side, not in the medians`,
  };
  const f = { cold: {}, before: {}, after: {}, ratio: {}, loadBefore: {}, loadAfter: {} };
  for (const n of lengths) {
    const params = (run) => ({ metric: 'ttft', run, tokens: n });
    f.cold[n] = ctx.figure(`cold-${n}`, { label: `${n}-token prompt: time to first token, cold prefill`, unit: 'ms', better: 'lower', params: params('cold') });
    f.before[n] = ctx.figure(`warm-before-${n}`, { label: `${n}-token prompt: time to first token, prefix from kvslab, before the restart`, unit: 'ms', better: 'lower', params: params('warm-before') });
    f.after[n] = ctx.figure(`warm-after-${n}`, { label: `${n}-token prompt: time to first token, prefix from kvslab, after the restart`, unit: 'ms', better: 'lower', params: params('warm-after') });
    f.ratio[n] = ctx.figure(`ratio-${n}`, { label: `${n}-token prompt: warm after the restart / warm before`, unit: '×', better: 'lower', params: { metric: 'ratio', tokens: n } });
    f.loadBefore[n] = ctx.figure(`load-before-${n}`, { label: `${n}-token prompt: loading the prefix (KV.PIN + KV.MSLICE), before the restart`, unit: 'ms', better: 'lower', params: { metric: 'load', run: 'warm-before', tokens: n } });
    f.loadAfter[n] = ctx.figure(`load-after-${n}`, { label: `${n}-token prompt: loading the prefix (KV.PIN + KV.MSLICE), after the restart`, unit: 'ms', better: 'lower', params: { metric: 'load', run: 'warm-after', tokens: n } });
  }
  const first = {
    before: ctx.figure('first-before', { label: `first warm prefill of a side (${lengths[0]}-token prompt, not in the medians), before the restart`, unit: 'ms', better: 'lower', params: { metric: 'first', run: 'warm-before' } }),
    after: ctx.figure('first-after', { label: `first warm prefill of a side (${lengths[0]}-token prompt, not in the medians), after the restart`, unit: 'ms', better: 'lower', params: { metric: 'first', run: 'warm-after' } }),
  };
  const r = {
    keys: ctx.figure('keys', { label: 'chunk keys cached, all back after the restart', unit: 'count', better: 'higher', params: { metric: 'keys' } }),
    dump: ctx.figure('dump-mib', { label: 'dump file size', unit: 'MiB', better: 'lower', params: { metric: 'dump' } }),
    save: ctx.figure('save-ms', { label: 'final save on SIGTERM (the server\'s "DB saved on disk" line)', unit: 'ms', better: 'lower', params: { metric: 'save' } }),
    exit: ctx.figure('sigterm-ms', { label: 'SIGTERM to exit, the final save included', unit: 'ms', better: 'lower', params: { metric: 'exit' } }),
    load: ctx.figure('load-ms', { label: 'load at start (the server\'s "DB loaded from disk" line)', unit: 'ms', better: 'lower', params: { metric: 'load' } }),
  };
  const coldKeys = [...lengths.flatMap((n) => [f.cold[n], f.before[n], f.loadBefore[n]]), first.before];
  const afterKeys = [...lengths.flatMap((n) => [f.after[n], f.ratio[n], f.loadAfter[n]]), first.after, ...Object.values(r)];

  const { Redis } = await import('ioredis');
  const connect = (port) => new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  /**
   * Medians of `reps` warm prefills of `tokens` (ms to first token, and of it the
   * prefix's load), each checked: every full chunk of the prompt reused (all
   * but the last token's), logits bit-identical to the cold run's.
   */
  const warmMs = async (kv, model, tokens, coldLogits, times = reps) => {
    const want = Math.floor((tokens.length - 1) / ex.CHUNK) * ex.CHUNK;
    const xs = [];
    const loads = [];
    for (let i = 0; i < times; i++) {
      const { ms, warm } = await ex.warmTtft(kv, model, tokens);
      if (warm.reusedTokens !== want) throw new Error(`${tokens.length}-token prompt: ${warm.reusedTokens} tokens reused of ${want}`);
      if (!ex.sameBits(warm.logits, coldLogits)) throw new Error(`${tokens.length}-token prompt: warm logits differ from the cold run's`);
      xs.push(ms);
      loads.push(warm.loadMs);
    }
    return { ms: median(xs), loadMs: median(loads) };
  };
  /**
   * One side of the restart, the same on both: the first warm prefill on its own,
   * then the medians per prompt. Returns [first ms, [ms, load ms] per prompt].
   */
  const warmSide = async (kv, model, logits) => {
    const prompts = lengths.map((n) => ex.randomTokens(n, n));
    const { ms: firstMs } = await warmMs(kv, model, prompts[0], logits[0], 1);
    const medians = [];
    for (const [i, tokens] of prompts.entries()) medians.push(await warmMs(kv, model, tokens, logits[i]));
    return { firstMs, medians };
  };

  // One scratch directory per server kind; each round's dump is removed at its end, so the next round starts empty.
  const dirs = Object.fromEntries(['kvslab', 'kvslab-base'].map((id) => [id, mkdtempSync(join(tmpdir(), `kvslab-bench-warm-${id}-`))]));
  try {
    await ctx.eachRound(async (srv) => {
      const dir = dirs[srv.id];
      try {
        /** @type {{ logits: Float32Array[], before: number[], keys: number } | null} */
        let cached = null;
        await ctx.measure(srv, coldKeys, async () => {
          const client = connect(srv.port);
          try {
            const keys0 = await client.dbsize();
            if (keys0 !== 0) throw new Error(`a fresh server holds ${keys0} keys`);
            const kv = new ex.KvTensorClient(client);
            const model = new ex.Transformer();
            const logits = [];
            const coldMs = [];
            for (const n of lengths) {
              const cold = ex.coldTtft(model, ex.randomTokens(n, n));
              await ex.storePrefix(kv, model, ex.randomTokens(n, n), cold.cache);
              logits.push(cold.logits);
              coldMs.push(cold.ms);
            }
            const { firstMs, medians } = await warmSide(kv, model, logits);
            cached = { logits, before: medians.map((m) => m.ms), keys: await client.dbsize() };
            return [...medians.flatMap((m, i) => [coldMs[i], m.ms, m.loadMs]), firstMs];
          } finally {
            client.disconnect();
          }
        });
        if (!cached) throw new Error('nothing cached before the restart');
        const { logits, before, keys } = cached;

        const t = performance.now();
        await srv.stop();
        const exitMs = performance.now() - t;
        const next = await startServer(srv.id, { extra: EXTRA, args: ['--dir', dir] });
        live.add(next);
        try {
          await ctx.measure(next, afterKeys, async () => {
            const saved = await logLine(srv, /DB saved on disk \((\d+) keys, \d+ bytes, (\d+) ms\)/);
            if (Number(saved[1]) !== keys) throw new Error(`saved ${saved[1]} keys of ${keys}`);
            const loaded = await logLine(next, /DB loaded from disk: ([\d.]+) seconds/);
            const dumpMiB = statSync(join(dir, 'dump.rdb')).size / MiB;
            const client = connect(next.port);
            try {
              const back = await client.dbsize();
              if (back !== keys) throw new Error(`${back} keys after the restart of ${keys}`);
              // What an engine restarted next to kvslab has: a model of the same seed, the same prompts.
              const kv = new ex.KvTensorClient(client);
              const model = new ex.Transformer();
              const { firstMs, medians } = await warmSide(kv, model, logits);
              return [...medians.flatMap((m, i) => [m.ms, m.ms / before[i], m.loadMs]), firstMs,
                keys, dumpMiB, Number(saved[2]), exitMs, Number(loaded[1]) * 1000];
            } finally {
              client.disconnect();
            }
          });
        } finally {
          await next.stop();
          live.delete(next);
        }
      } finally {
        rmSync(join(dir, 'dump.rdb'), { force: true });
      }
    }, { figures: [...coldKeys, ...afterKeys], extra: EXTRA, args: { kvslab: ['--dir', dirs.kvslab], 'kvslab-base': ['--dir', dirs['kvslab-base']] } });
  } finally {
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  }
}

export default {
  name: 'warm-restart',
  description: 'a warm restart of the tensor cache: time to first token of the toy transformer, cold and from the prefix cache before and after kvslab restarts (SIGTERM with save rules, then a start on the dump), the dump size, the final save and the load',
  servers: ['kvslab'],
  run,
};
