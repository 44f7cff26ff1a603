// Memory cost per key: a fresh server of each kind (kvslab, Redis, memcached)
// is loaded with 1,000,000 keys "key:0000000".. (64 B values, then 1 KiB
// values on fresh servers), and its resident set (VmRSS in
// /proc/<pid>/status) is read before and after. memcached gets the same keys
// and values through its text protocol, with -m 4096 so that it evicts none.

import { loadInto } from '../lib/load.mjs';
import { procMemory } from '../lib/servers.mjs';

const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function run(ctx) {
  const count = ctx.quick ? 200_000 : 1_000_000;
  const settleMs = 1000;
  const memcachedMiB = 4096;
  ctx.settings = {
    keys: count, keyFormat: 'key:%07d', valueSizes: [64, 1024], settleMs, rss: 'VmRSS after load minus VmRSS before, 1 s after the last reply',
    memcached: `-m ${memcachedMiB}, loaded with pipelined "set <key> 0 0 <n>"`,
  };

  for (const size of [64, 1024]) {
    const sizeLabel = size === 64 ? '64 B' : '1 KiB';
    const params = { size };
    const f = {
      idle: ctx.figure(`idle-rss-${size}`, { label: `RSS of the empty server (${sizeLabel} run)`, unit: 'MiB', better: 'lower', params: { ...params, metric: 'idle' } }),
      growth: ctx.figure(`rss-growth-${size}`, { label: `RSS growth, ${count.toLocaleString('en-US')} keys × ${sizeLabel}`, unit: 'MiB', better: 'lower', params: { ...params, metric: 'growth' } }),
      perKey: ctx.figure(`bytes-per-key-${size}`, { label: `memory per key, ${sizeLabel} values`, unit: 'bytes', better: 'lower', params: { ...params, metric: 'perKey' } }),
      overhead: ctx.figure(`overhead-per-key-${size}`, { label: `overhead per key beyond key+value bytes, ${sizeLabel}`, unit: 'bytes', better: 'lower', params: { ...params, metric: 'overhead' } }),
      peak: ctx.figure(`peak-rss-${size}`, { label: `peak RSS (VmHWM), ${sizeLabel}`, unit: 'MiB', better: 'lower', params: { ...params, metric: 'peak' } }),
      rate: ctx.figure(`load-${size}`, { label: `load rate (pipelined SET), ${sizeLabel}`, unit: 'keys/s', better: 'higher', params: { ...params, metric: 'rate' } }),
    };
    const keyBytes = 'key:'.length + 7;
    await ctx.eachRound(async (srv) => {
      await sleep(300);
      const before = procMemory(srv.pid);
      await ctx.measure(srv, [f.idle, f.growth, f.perKey, f.overhead, f.peak, f.rate], async () => {
        const { seconds } = await loadInto(srv, { count, prefix: 'key:', width: 7, valueSize: size });
        await sleep(settleMs);
        const after = procMemory(srv.pid);
        const growth = after.rss - before.rss;
        return [before.rss / MiB, growth / MiB, growth / count, growth / count - keyBytes - size, after.hwm / MiB, count / seconds];
      });
    }, { figures: Object.values(f), tag: sizeLabel, args: { memcached: ['-m', String(memcachedMiB)] } });
  }
}

export default {
  name: 'memory',
  description: 'RSS growth after loading 1,000,000 keys with 64 B values, then 1 KiB values, on fresh servers; bytes per key',
  servers: ['kvslab', 'redis', 'memcached'],
  run,
};
