// Latency while the keyspace grows: 10,000,000 keys "g:00000000".. with 16 B
// values are bulk loaded (pipelined SET, lib/load.mjs) into a fresh server
// while a second connection sends PING one at a time (lib/probe.mjs, in a
// worker thread) and records every round trip. Growing hash tables, rehashing
// and garbage collection show up as the probe's tail latency and as gaps in
// the loader's stream of replies.

import { loadKeys } from '../lib/load.mjs';
import { startProbe, quantile } from '../lib/probe.mjs';
import { info, infoNumber } from '../lib/info.mjs';
import { procMemory } from '../lib/servers.mjs';

const MiB = 1024 * 1024;

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function run(ctx) {
  const count = ctx.quick ? 1_000_000 : 10_000_000;
  const valueSize = 16;
  const pauseMs = 1;
  ctx.settings = {
    keys: count, keyFormat: 'g:%08d', valueSize, probe: `PING, one at a time, ${pauseMs} ms pause after each reply, from a worker thread`,
    maxGap: 'longest time between two reads of the loader that brought replies',
  };
  const n = count.toLocaleString('en-US');
  const f = {
    seconds: ctx.figure('load-seconds', { label: `load ${n} keys × 16 B (pipelined SET)`, unit: 's', better: 'lower', params: { metric: 'seconds' } }),
    rate: ctx.figure('load-rate', { label: 'load rate', unit: 'keys/s', better: 'higher', params: { metric: 'rate' } }),
    gap: ctx.figure('max-gap', { label: 'longest gap between replies to the loader', unit: 'ms', better: 'lower', params: { metric: 'gap' } }),
    max: ctx.figure('probe-max', { label: 'PING during the load, max latency', unit: 'ms', better: 'lower', params: { metric: 'max' } }),
    p999: ctx.figure('probe-p999', { label: 'PING during the load, p99.9 latency', unit: 'ms', better: 'lower', params: { metric: 'p99.9' } }),
    p99: ctx.figure('probe-p99', { label: 'PING during the load, p99 latency', unit: 'ms', better: 'lower', params: { metric: 'p99' } }),
    p50: ctx.figure('probe-p50', { label: 'PING during the load, p50 latency', unit: 'ms', better: 'lower', params: { metric: 'p50' } }),
    probes: ctx.figure('probes', { label: 'PINGs answered during the load', unit: 'count', better: 'higher', params: { metric: 'probes' }, noRatio: true }),
    rss: ctx.figure('rss', { label: 'RSS after the load', unit: 'MiB', better: 'lower', params: { metric: 'rss' } }),
    used: ctx.figure('used-memory', { label: 'used_memory (INFO) after the load', unit: 'MiB', better: 'lower', params: { metric: 'used_memory' } }),
    heap: ctx.figure('used-memory-js-heap', { label: 'used_memory_js_heap (INFO) after the load', unit: 'MiB', better: 'lower', params: { metric: 'used_memory_js_heap' }, servers: ['kvslab'] }),
  };

  await ctx.eachRound(async (srv) => {
    await ctx.measure(srv, Object.values(f), async () => {
      const probe = await startProbe(srv.port, { pauseMs });
      /** @type {import('../lib/load.mjs').LoadResult} */
      let load;
      /** @type {Float64Array} */
      let lat = new Float64Array(0);
      try {
        load = await loadKeys(srv.port, { count, prefix: 'g:', width: 8, valueSize, timeoutMs: (count / 20_000 + 120) * 1000 });
      } finally {
        lat = await probe.stop();
      }
      lat.sort();
      const memory = await info(srv.port, 'memory');
      const mib = (v) => (v === null ? null : v / MiB);
      return [
        load.seconds, count / load.seconds, load.maxGapMs,
        lat.length ? lat[lat.length - 1] : null, quantile(lat, 0.999), quantile(lat, 0.99), quantile(lat, 0.5), lat.length,
        procMemory(srv.pid).rss / MiB, mib(infoNumber(memory, 'used_memory')), mib(infoNumber(memory, 'used_memory_js_heap')),
      ];
    });
  }, { figures: Object.values(f) });
}

export default {
  name: 'growth',
  description: 'latency of PING (one at a time) while 10,000,000 keys with 16 B values are bulk loaded into a fresh server: max, p99.9, p99; load time; longest gap between the loader\'s replies',
  servers: ['kvslab', 'redis'],
  run,
};
