// A prompt's prefix lookup over a cluster: how long it takes to find how
// many of a 1,024-chunk prompt's chunks are cached, when the chunks' keys
// hash all over the slots.
//
//   kvslab   KV.PREFIX: on one node, one command; on a 3-node cluster, the
//            TypeScript client (src/client/kv.ts) on an ioredis Cluster,
//            one KV.PREFIX to each node at once with its own keys.
//   Redis    LMCache's walk, one EXISTS per chunk until the first miss (its
//            redis:// and redis-cluster:// connectors), on one node and
//            through an ioredis Cluster on a 3-node Redis Cluster; the same
//            walk on the kvslab cluster beside it.
//
// Every chunk is cached (the walk's worst case, and the common one for a
// prompt seen before); the median of 50 lookups, each checked to find 1,024.

import { Cluster, Redis } from 'ioredis';
import { makeCluster } from '../lib/cluster.mjs';
import { startServer } from '../lib/servers.mjs';
import { KvTensorClient } from '../../dist/client/kv.js';

const CHUNKS = 1024;
const LOOKUPS = 50;
const SHAPE = { dtype: 'float16', layers: 2, heads: 1, headdim: 8, kv: 2 };
const key = (i) => `llama3@1@0@chunk${i}@bfloat16`;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** The median ms of `lookup()`, which must find every chunk. */
async function timed(lookup) {
  const ms = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const t = performance.now();
    const n = await lookup();
    ms.push(performance.now() - t);
    if (n !== CHUNKS) throw new Error(`a lookup found ${n} of ${CHUNKS} chunks`);
  }
  return median(ms);
}

/** LMCache's walk: EXISTS per chunk, in order, until the first 0. */
async function existsWalk(r, keys) {
  let n = 0;
  for (const k of keys) {
    if ((await r.exists(k)) === 0) break;
    n++;
  }
  return n;
}

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function suite(ctx) {
  ctx.settings = { chunks: CHUNKS, lookups: `median of ${LOOKUPS}`, nodes: 3, client: 'ioredis (Cluster for the cluster)' };
  const f = {
    one: ctx.figure('prefix-one-node', { label: `prefix lookup of ${CHUNKS} chunks, one node (kvslab: KV.PREFIX; Redis: EXISTS per chunk)`, unit: 'ms', better: 'lower' }),
    three: ctx.figure('prefix-cluster', { label: `the same over a 3-node cluster (kvslab: one KV.PREFIX per node at once; Redis: EXISTS per chunk)`, unit: 'ms', better: 'lower' }),
    walk: ctx.figure('prefix-cluster-exists-walk', { label: 'EXISTS per chunk over the kvslab cluster (LMCache\'s walk, for reference)', unit: 'ms', better: 'lower', servers: ['kvslab'] }),
  };
  const keys = Array.from({ length: CHUNKS }, (_, i) => key(i));
  const data = Buffer.alloc(2 * 2 * 8 * 2, 7);
  await ctx.eachRound(async (srv) => {
    const kvslab = srv.id === 'kvslab';
    await ctx.measure(srv, [f.one], async () => {
      const r = new Redis({ port: srv.port, lazyConnect: false });
      try {
        const kv = new KvTensorClient(r);
        for (const k of keys) await (kvslab ? kv.put(k, data, SHAPE) : r.set(k, data));
        return [await timed(() => (kvslab ? kv.prefix(keys) : existsWalk(r, keys)))];
      } finally {
        r.disconnect();
      }
    });
    const cl = await makeCluster(srv.id);
    try {
      await ctx.measure(srv, [f.three, f.walk], async () => {
        const c = new Cluster([{ host: '127.0.0.1', port: cl.nodes[0].port }]);
        try {
          await c.call('PING');
          const kv = new KvTensorClient(c);
          for (const k of keys) await (kvslab ? kv.put(k, data, SHAPE) : c.set(k, data));
          const three = await timed(() => (kvslab ? kv.prefix(keys) : existsWalk(c, keys)));
          return [three, kvslab ? await timed(() => existsWalk(c, keys)) : null];
        } finally {
          c.disconnect();
        }
      });
    } finally {
      await cl.stop();
    }
  }, { figures: Object.values(f) });
}

export default {
  name: 'cluster-prefix',
  description: 'A 1,024-chunk prompt\'s prefix lookup: kvslab\'s KV.PREFIX (one per node at once on a 3-node cluster) against LMCache\'s EXISTS-per-chunk walk on Redis and a Redis Cluster',
  servers: ['kvslab', 'redis'],
  run: suite,
};
