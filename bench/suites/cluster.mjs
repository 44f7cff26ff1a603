// Cluster mode side by side: three kvslab nodes (made one cluster by
// bin/kvslab-cluster create) against a three-node Redis Cluster (redis-cli
// --cluster create), every node of both on the server core, the load on the
// client core, as in the other suites.
//
//   1. redis-benchmark --cluster SET and GET, 64 B, at pipeline 1 and 16; and
//      one node of the same kind alone (no cluster mode) at pipeline 16, for
//      the overhead of the cluster against a single node.
//   2. A reshard of 1,000 slots (0-999) holding 1,000,000 keys (1,000 per
//      slot, by hash tag, 64 B values) from the first master to the second,
//      with kvslab-cluster reshard and redis-cli --cluster reshard, while an
//      ioredis Cluster client keeps 32 GETs and SETs in flight on another
//      10,000 keys: seconds to move, the load's throughput during the move
//      against before it, the errors the client saw (its library follows
//      MOVED, ASK and TRYAGAIN), and keys lost (every node's DBSIZE summed).

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RespConn, encode } from '../lib/resp.mjs';
import { runBenchmark } from '../lib/redis-benchmark.mjs';
import { ROOT } from '../lib/machine.mjs';
import { clusterLoad, makeCluster } from '../lib/cluster.mjs';
import { keyHashSlot } from '../../dist/cluster/keyslot.js';

const run = promisify(execFile);
const MOVE_SLOTS = 1000;

/** A short hash tag for each slot below `n`: keys "{tag}:j" land in that slot. */
function tagsFor(n) {
  const tags = new Array(n);
  let found = 0;
  for (let i = 0; found < n; i++) {
    const t = `s${i}`;
    const s = keyHashSlot(Buffer.from(t));
    if (s < n && tags[s] === undefined) {
      tags[s] = t;
      found++;
    }
  }
  return tags;
}

/** 1,000 keys in each of slots 0..999, straight to their owner (the first master), pipelined. */
async function loadSlots(port, tags, perSlot) {
  const c = await RespConn.connect(port);
  const value = Buffer.alloc(64, 'x');
  try {
    for (const tag of tags) {
      const parts = [];
      for (let j = 0; j < perSlot; j++) parts.push(encode(['SET', `{${tag}}:${j}`, value]));
      await c.send(Buffer.concat(parts), perSlot);
    }
  } finally {
    c.close();
  }
}

async function totalKeys(nodes) {
  let n = 0;
  for (const node of nodes) {
    const c = await RespConn.connect(node.port);
    n += Number(await c.call('DBSIZE'));
    c.close();
  }
  return n;
}

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function suite(ctx) {
  const requests = ctx.quick ? 200_000 : 2_000_000;
  const perSlot = ctx.quick ? 100 : 1000;
  const n = (MOVE_SLOTS * perSlot).toLocaleString('en-US');
  ctx.settings = {
    nodes: 3, throughput: `redis-benchmark --cluster -c 50 -n ${requests} -r 1000000 -d 64 -t set,get at -P 1 and -P 16`,
    reshard: `${MOVE_SLOTS} slots (0-${MOVE_SLOTS - 1}) holding ${n} keys × 64 B, first master to second, under an ioredis Cluster load (32 in flight)`,
  };
  const bench = (port, tests, pipeline, cluster) => runBenchmark(port, { tests, requests, pipeline, keyspace: 1_000_000, size: 64, cluster, timeoutMs: 600_000 });
  const f = {
    set1: ctx.figure('set-p1', { label: 'SET P1, 3-node cluster', unit: 'req/s', better: 'higher' }),
    get1: ctx.figure('get-p1', { label: 'GET P1, 3-node cluster', unit: 'req/s', better: 'higher' }),
    set16: ctx.figure('set-p16', { label: 'SET P16, 3-node cluster', unit: 'req/s', better: 'higher' }),
    get16: ctx.figure('get-p16', { label: 'GET P16, 3-node cluster', unit: 'req/s', better: 'higher' }),
    single16: ctx.figure('set-p16-single', { label: 'SET P16, one node without cluster mode', unit: 'req/s', better: 'higher' }),
    share: ctx.figure('set-p16-cluster-share', { label: 'SET P16, 3-node cluster / one node (same core)', unit: 'x', better: 'higher' }),
    moveSeconds: ctx.figure('reshard-seconds', { label: `reshard of ${MOVE_SLOTS} slots holding ${n} keys`, unit: 's', better: 'lower' }),
    moveLoad: ctx.figure('reshard-load-share', { label: 'client ops/s during the reshard / before it', unit: 'x', better: 'higher' }),
    moveErrors: ctx.figure('reshard-client-errors', { label: 'errors the client saw during the reshard', unit: 'count', better: 'lower', noRatio: true }),
    moveLost: ctx.figure('reshard-keys-lost', { label: 'keys lost by the reshard', unit: 'count', better: 'lower', noRatio: true }),
  };
  const tags = tagsFor(MOVE_SLOTS);
  await ctx.eachRound(async (srv) => {
    let single = null;
    await ctx.measure(srv, [f.single16], async () => [single = (await bench(srv.port, 'set', 16, false)).rps]);
    await srv.stop();
    const cl = await makeCluster(srv.id);
    const first = cl.nodes[0];
    try {
      await ctx.measure(first, [f.set1, f.get1, f.set16, f.get16, f.share], async () => {
        const set1 = (await bench(first.port, 'set', 1, true)).rps;
        const get1 = (await bench(first.port, 'get', 1, true)).rps;
        const set16 = (await bench(first.port, 'set', 16, true)).rps;
        const get16 = (await bench(first.port, 'get', 16, true)).rps;
        return [set1, get1, set16, get16, single ? set16 / single : null];
      });
      await ctx.measure(first, [f.moveSeconds, f.moveLoad, f.moveErrors, f.moveLost], async () => {
        await loadSlots(first.port, tags, perSlot);
        const load = clusterLoad(first.port);
        const before = await load.rate(2000);
        const keys0 = await totalKeys(cl.nodes);
        const s0 = load.snapshot();
        const t0 = performance.now();
        if (srv.id === 'kvslab') {
          await run(join(ROOT, 'bin', 'kvslab-cluster'), ['reshard', `127.0.0.1:${first.port}`, '--from', cl.ids[0], '--to', cl.ids[1], '--slots', String(MOVE_SLOTS)], { maxBuffer: 64 << 20 });
        } else {
          await run('redis-cli', ['--cluster', 'reshard', `127.0.0.1:${first.port}`, '--cluster-from', cl.ids[0], '--cluster-to', cl.ids[1],
            '--cluster-slots', String(MOVE_SLOTS), '--cluster-yes'], { maxBuffer: 256 << 20 });
        }
        const seconds = (performance.now() - t0) / 1000;
        const s1 = load.snapshot();
        const errors = await load.stop();
        // The load's SETs add keys of their own (load:*): counted before and after alike once they all exist.
        const keys1 = await totalKeys(cl.nodes);
        const during = (s1.ops - s0.ops) / ((s1.t - s0.t) / 1000);
        return [seconds, during / before, errors.length, Math.max(0, keys0 - keys1)];
      });
    } finally {
      await cl.stop();
    }
  }, { figures: Object.values(f) });
}

export default {
  name: 'cluster',
  description: 'Three kvslab nodes against a three-node Redis Cluster: redis-benchmark --cluster SET/GET at P1 and P16 (and one node alone), a reshard of 1,000 slots holding 1,000,000 keys under an ioredis Cluster load',
  servers: ['kvslab', 'redis'],
  run: suite,
};
