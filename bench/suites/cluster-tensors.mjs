// The tensor cache over a cluster. First, a prompt's prefix lookup: how
// long it takes to find how many of a 1,024-chunk prompt's chunks are
// cached, when the chunks' keys hash all over the slots.
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
//
// Then (kvslab alone: Redis has no tensors) one slot holding 1 GiB of KV
// tensors (32 sequences of 256 tokens, Llama-3-8B's shape, 32 MiB each, one
// hash tag) moved by kvslab-cluster reshard from one master to another while
// an ioredis Cluster client keeps 32 GETs and SETs in flight: the seconds and
// GB/s, the client's ops/s during the move against before, the errors it
// saw, and every tensor checked on the target after.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { clusterLoad, makeCluster } from '../lib/cluster.mjs';
import { ROOT } from '../lib/machine.mjs';
import { KvTensorClient } from '../../dist/client/kv.js';
import { keyHashSlot } from '../../dist/cluster/keyslot.js';

const run = promisify(execFile);
const BIG_SHAPE = { dtype: 'float16', layers: 32, heads: 8, headdim: 128, kv: 2 };
/** Bytes per token of that shape: K and V, 32 layers, 8 heads x 128 x 2 bytes. */
const BIG_TOKEN = 2 * 32 * 8 * 128 * 2;
const BIG_TOKENS = 256;
const GB = 1e9;

/** A hash tag whose slot is 0: the lowest slot, the first reshard --slots 1 moves. */
function tagOfSlot0() {
  for (let i = 0; ; i++) if (keyHashSlot(Buffer.from(`t${i}`)) === 0) return `t${i}`;
}

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
    move: ctx.figure('tensor-slot-move-seconds', { label: `reshard of one slot holding ${ctx.quick ? '256 MiB' : '1 GiB'} of KV tensors`, unit: 's', better: 'lower', servers: ['kvslab'] }),
    rate: ctx.figure('tensor-slot-move-rate', { label: 'the same, as a rate', unit: 'GB/s', better: 'higher', servers: ['kvslab'] }),
    moveLoad: ctx.figure('tensor-slot-move-load-share', { label: 'client ops/s during that move / before it', unit: 'x', better: 'higher', servers: ['kvslab'] }),
    moveErrors: ctx.figure('tensor-slot-move-client-errors', { label: 'errors the client saw during that move', unit: 'count', better: 'lower', noRatio: true, servers: ['kvslab'] }),
  };
  const sequences = ctx.quick ? 8 : 32;
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
      await ctx.measure(srv, [f.move, f.rate, f.moveLoad, f.moveErrors], async () => {
        const c = new Cluster([{ host: '127.0.0.1', port: cl.nodes[0].port }]);
        try {
          await c.call('PING');
          const kv = new KvTensorClient(c);
          const tag = tagOfSlot0();
          const seq = Buffer.alloc(BIG_TOKENS * BIG_TOKEN);
          for (let i = 0; i < seq.length; i += 4) seq.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);
          for (let i = 0; i < sequences; i++) await kv.put(`{${tag}}:seq:${i}`, seq, BIG_SHAPE);
          const load = clusterLoad(cl.nodes[0].port);
          const before = await load.rate(2000);
          const s0 = load.snapshot();
          const t0 = performance.now();
          await run(join(ROOT, 'bin', 'kvslab-cluster'), ['reshard', `127.0.0.1:${cl.nodes[0].port}`, '--from', cl.ids[0], '--to', cl.ids[1], '--slots', '1']);
          const seconds = (performance.now() - t0) / 1000;
          const s1 = load.snapshot();
          const errors = await load.stop();
          const target = new Redis({ port: cl.nodes[1].port });
          try {
            for (let i = 0; i < sequences; i++) {
              const got = await target.callBuffer('KV.SLICE', `{${tag}}:seq:${i}`, 0, BIG_TOKENS);
              if (!Buffer.isBuffer(got) || got.length !== seq.length) throw new Error(`sequence ${i} did not arrive whole`);
            }
          } finally {
            target.disconnect();
          }
          return [seconds, (sequences * seq.length) / seconds / GB, (s1.ops - s0.ops) / ((s1.t - s0.t) / 1000) / before, errors.length];
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
  name: 'cluster-tensors',
  description: 'The tensor cache over a cluster: a 1,024-chunk prompt\'s prefix lookup (kvslab\'s KV.PREFIX, one per node at once on a 3-node cluster, against LMCache\'s EXISTS-per-chunk walk on Redis and a Redis Cluster), and a reshard of one slot holding 1 GiB of KV tensors (kvslab)',
  servers: ['kvslab', 'redis'],
  run: suite,
};
