// Eviction quality: the hit ratio a read-through cache gets from each server
// at a given maxmemory and maxmemory-policy, on a Zipf(0.99) trace over 1M
// keys with values of 64..4096 bytes (bench/lib/trace.mjs, replayed by
// bench/lib/replay.mjs). Each (server, maxmemory, policy) gets a fresh server:
// warm-up requests first, then the measured ones.
//
// A second trace shifts the value sizes halfway (64..512 B, then new keys of
// 1..4 KiB): a store that keeps memory parked in small-item slabs after the
// shift does worse than a fresh server replaying only the second phase.
//
// Hit ratios do not depend on timing, so one round is the default.

import { KeySet, Stream, Zipf } from '../lib/trace.mjs';
import { replay } from '../lib/replay.mjs';
import { info, infoNumber } from '../lib/info.mjs';
import { procMemory, watchRss } from '../lib/servers.mjs';

const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Policies Redis has too; any other name is taken to be kvslab's own (its Redis cell is '–'). */
const REDIS_POLICIES = new Set(['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'noeviction']);
/** Run by default; append kvslab's new policies here (e.g. allkeys-s3fifo). */
const DEFAULT_POLICIES = ['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'allkeys-sieve', 'allkeys-s3fifo'];
const DEFAULT_MAXMEMORY_MB = [64, 128, 256];
/** --quick divides the key population, the maxmemory sizes and the request counts by this. */
const QUICK_SCALE = 8;

/** @param {string} policy @returns {Array<'kvslab'|'redis'>} */
const serversFor = (policy) => (REDIS_POLICIES.has(policy) ? ['kvslab', 'redis'] : ['kvslab']);

/** @param {string} list @param {string} what */
function parseList(list, what) {
  const items = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new Error(`--${what} needs a comma-separated list`);
  return items;
}

/** "64mb" or "64" → 64 (MB, as Redis counts them: MiB). */
function parseMb(s) {
  const m = /^(\d+)(mb)?$/i.exec(s);
  if (!m || Number(m[1]) < 1) throw new Error(`--maxmemory takes sizes in mb, e.g. 64mb,128mb; got '${s}'`);
  return Number(m[1]);
}

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function run(ctx) {
  const scale = ctx.quick ? QUICK_SCALE : 1;
  const policies = ctx.options.policies ? parseList(ctx.options.policies, 'policies') : DEFAULT_POLICIES;
  const sizesMb = ctx.options.maxmemory
    ? parseList(ctx.options.maxmemory, 'maxmemory').map(parseMb)
    : DEFAULT_MAXMEMORY_MB.map((mb) => mb / scale);
  const n = 1_000_000 / scale;
  const alpha = 0.99;
  // About 12 minutes for the full matrix and the shift at 70-150k requests/s (kvslab-Redis).
  const warmup = 1_000_000 / scale;
  const measured = Math.round(1_500_000 / scale);
  const phase1 = 1_500_000 / scale;
  const phase2 = 1_500_000 / scale;
  const phase2Measured = Math.round(phase2 / 3);
  const shiftMb = sizesMb[0];
  // LRU against every policy Redis does not have: the shift is about kvslab's own.
  const shiftPolicies = policies.filter((p) => p === 'allkeys-lru' || !REDIS_POLICIES.has(p));
  const batch = 64;
  const seed = 20261201;
  ctx.settings = {
    keys: n, zipfAlpha: alpha, valueSizes: '64..4096 B, uniform per key', keyFormat: 'ev:<id>',
    maxmemoryMB: sizesMb, policies, warmupRequests: warmup, measuredRequests: measured, batch, seed,
    shiftKeys: 'ev1:<id> 64..512 B, then ev2:<id> 1024..4096 B', shiftPhaseRequests: `${phase1}+${phase2}`,
    shiftMeasured: `last ${phase2Measured} of phase 2`, shiftMaxmemoryMB: shiftMb, shiftPolicies,
    hitRatio: 'GET hits / GETs of the measured requests (a repeat, in the same pipelined batch, of a key that just missed counts as a hit)',
  };

  const t0 = Date.now();
  const zipf = new Zipf(n, alpha);
  const keys = new KeySet({ n, prefix: 'ev:', minSize: 64, maxSize: 4096, seed, zipf });
  const small = new KeySet({ n, prefix: 'ev1:', minSize: 64, maxSize: 512, seed: seed + 1, zipf });
  const large = new KeySet({ n, prefix: 'ev2:', minSize: 1024, maxSize: 4096, seed: seed + 2, zipf });
  ctx.log(`[eviction] trace: ${n.toLocaleString('en-US')} keys, mean value ${Math.round(keys.meanSize())} B, built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  /** Each request count at 20k requests/s at least, plus a minute. */
  const timeoutFor = (requests) => (requests / 20_000 + 60) * 1000;

  // Declared metric first, so the table reads as one block per metric.
  const METRICS = [
    { id: 'hit', label: 'hit ratio', unit: '%', better: 'higher' },
    { id: 'rps', label: 'replay requests/s', unit: 'req/s', better: 'higher' },
    { id: 'set-errors', label: 'SETs refused (-OOM...)', unit: 'count', better: 'lower' },
    { id: 'keys', label: 'keys held at the end', unit: 'count', better: 'higher' },
    { id: 'evicted', label: 'evicted_keys at the end', unit: 'count', better: 'lower' },
    { id: 'used', label: 'used_memory at the end', unit: 'MiB', better: 'lower' },
    { id: 'maxmemory', label: 'maxmemory (INFO)', unit: 'MiB', better: 'lower', noRatio: true },
    { id: 'rss-growth', label: 'max RSS minus idle RSS', unit: 'MiB', better: 'lower' },
    { id: 'rss-max', label: 'max RSS during the run', unit: 'MiB', better: 'lower' },
    { id: 'rss-idle', label: 'RSS of the idle server', unit: 'MiB', better: 'lower' },
  ];
  const cellKey = (metric, mb, policy) => `${metric}-${mb}mb-${policy}`;
  for (const m of METRICS) {
    for (const mb of sizesMb) {
      for (const policy of policies) {
        ctx.figure(cellKey(m.id, mb, policy), {
          label: `${m.label}, ${mb}mb, ${policy}`, unit: m.unit, better: /** @type {'higher'|'lower'} */ (m.better),
          params: { metric: m.id, maxmemoryMB: mb, policy }, servers: serversFor(policy), noRatio: m.noRatio,
        });
      }
    }
  }
  const shiftKey = (what, policy) => `shift-${what}-${policy}`;
  for (const policy of shiftPolicies) {
    const servers = serversFor(policy);
    ctx.figure(shiftKey('after', policy), { label: `size shift, ${shiftMb}mb, ${policy}: hit ratio after the shift`, unit: '%', better: 'higher', params: { metric: 'shift-after', policy }, servers });
    ctx.figure(shiftKey('fresh', policy), { label: `size shift, ${shiftMb}mb, ${policy}: same window on a fresh server`, unit: '%', better: 'higher', params: { metric: 'shift-fresh', policy }, servers });
    ctx.figure(shiftKey('diff', policy), { label: `size shift, ${shiftMb}mb, ${policy}: after minus fresh`, unit: 'points', better: 'higher', params: { metric: 'shift-diff', policy }, servers, noRatio: true });
  }

  /**
   * Replays `segments` on srv, sampling its RSS; INFO at the end.
   * @param {import('../lib/servers.mjs').RunningServer} srv
   * @param {import('../lib/replay.mjs').Segment[]} segments
   * @param {string} what  for the log
   */
  const replayOn = async (srv, segments, what) => {
    const rss = watchRss(srv.pid, 200);
    let rssMax = 0;
    /** @type {import('../lib/replay.mjs').ReplayResult} */
    let res;
    try {
      res = await replay(srv.port, segments, { batch, timeoutMs: timeoutFor(segments.reduce((a, s) => a + s.count, 0)) });
    } finally {
      rssMax = rss.stop();
    }
    if (res.setErrors || res.getErrors) {
      ctx.log(`[eviction] ${srv.label} ${what}: ${res.setErrors} SETs and ${res.getErrors} GETs answered with an error, first: ${res.firstError}`);
    }
    const [stats, memory, keyspace] = [await info(srv.port, 'stats'), await info(srv.port, 'memory'), await info(srv.port, 'keyspace')];
    // "db0:keys=123,expires=0,avg_ttl=0"; no line at all when the keyspace is empty.
    const held = Number(/(?:^|,)keys=(\d+)/.exec(keyspace.db0 ?? '')?.[1] ?? 0);
    return { res, rssMax, stats, memory, held };
  };

  for (const mb of sizesMb) {
    for (const policy of policies) {
      const keysHere = METRICS.map((m) => cellKey(m.id, mb, policy));
      await ctx.eachRound(async (srv) => {
        await sleep(300);
        const idle = procMemory(srv.pid).rss;
        await ctx.measure(srv, keysHere, async () => {
          const stream = new Stream(keys, seed + 100);
          const { res, rssMax, stats, memory, held } = await replayOn(srv, [
            { stream, count: warmup, measure: false },
            { stream, count: measured, measure: true },
          ], `${mb}mb ${policy}`);
          const mib = (v) => (v === null ? null : v / MiB);
          return [
            (res.measuredHits / res.measuredGets) * 100,
            res.measuredGets / res.measuredSeconds,
            res.setErrors,
            held,
            infoNumber(stats, 'evicted_keys'),
            mib(infoNumber(memory, 'used_memory')),
            mib(infoNumber(memory, 'maxmemory')),
            (rssMax - idle) / MiB,
            rssMax / MiB,
            idle / MiB,
          ];
        });
      }, {
        servers: serversFor(policy), extra: ['--maxmemory', `${mb}mb`, '--maxmemory-policy', policy], figures: keysHere, tag: `${mb}mb ${policy}`,
      });
    }
  }

  // Size shift: the same phase-2 requests on a server that saw phase 1 and on a fresh one.
  const phase2Stream = () => new Stream(large, seed + 202);
  const phase2Segments = (stream) => [
    { stream, count: phase2 - phase2Measured, measure: false },
    { stream, count: phase2Measured, measure: true },
  ];
  for (const policy of shiftPolicies) {
    const extra = ['--maxmemory', `${shiftMb}mb`, '--maxmemory-policy', policy];
    /** hit ratio per server per round, of each of the two runs */
    const seen = { after: new Map(), fresh: new Map() };
    for (const kind of /** @type {const} */ (['after', 'fresh'])) {
      const key = shiftKey(kind, policy);
      await ctx.eachRound(async (srv, round) => {
        await ctx.measure(srv, [key], async () => {
          const segments = kind === 'after'
            ? [{ stream: new Stream(small, seed + 201), count: phase1, measure: false }, ...phase2Segments(phase2Stream())]
            : phase2Segments(phase2Stream());
          const { res } = await replayOn(srv, segments, `size shift ${kind} ${policy}`);
          const hit = (res.measuredHits / res.measuredGets) * 100;
          seen[kind].set(`${srv.id}/${round}`, hit);
          return [hit];
        });
      }, { servers: serversFor(policy), extra, figures: [key], tag: `shift ${kind} ${policy}` });
    }
    const diff = shiftKey('diff', policy);
    for (const id of ctx.servers) {
      if (!ctx.runsOn(diff, id)) continue;
      for (let round = 1; round <= ctx.rounds; round++) {
        const a = seen.after.get(`${id}/${round}`);
        const f = seen.fresh.get(`${id}/${round}`);
        if (a !== undefined && f !== undefined) ctx.sample(diff, id, a - f);
        else ctx.error(diff, id, `no ${a === undefined ? 'after-shift' : 'fresh'} hit ratio in round ${round}`);
      }
    }
  }
}

export default {
  name: 'eviction',
  description: 'hit ratio of a read-through cache on a Zipf(0.99) trace over 1M keys (64..4096 B values) at maxmemory 64/128/256 MB per eviction policy, and after a shift of value sizes',
  servers: ['kvslab', 'redis'],
  defaultRounds: 1,
  options: {
    policies: 'LIST  maxmemory policies to run (default allkeys-lru,allkeys-lfu,allkeys-random,allkeys-sieve; names Redis lacks run on kvslab only)',
    maxmemory: 'LIST  maxmemory sizes in mb (default 64mb,128mb,256mb; --quick 8mb,16mb,32mb)',
  },
  run,
};
