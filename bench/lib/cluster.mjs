// A three-node cluster of one server kind for the cluster suites: kvslab
// nodes (each in a directory of its own for its nodes.conf) made one cluster
// by bin/kvslab-cluster create, Redis nodes by redis-cli --cluster create;
// every node on the server core as startServer pins it.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { RespConn } from './resp.mjs';
import { startServer } from './servers.mjs';
import { ROOT } from './machine.mjs';

const run = promisify(execFile);

/** The options that make a node of kind `id` a cluster node; kvslab's directories go in `dirs`. */
export function clusterArgs(id, dirs) {
  if (id !== 'kvslab') return ['--cluster-enabled', 'yes'];
  const d = mkdtempSync(join(tmpdir(), 'kvslab-bench-cluster-'));
  dirs.push(d);
  return ['--cluster-enabled', 'yes', '--dir', d];
}

/**
 * Three nodes of kind `id`, one cluster, once every node says cluster_state:ok.
 * @param {string} id
 * @returns {Promise<{ nodes: import('./servers.mjs').RunningServer[], ids: string[], stop: () => Promise<void> }>}
 */
export async function makeCluster(id, count = 3) {
  const dirs = [];
  const nodes = [];
  for (let i = 0; i < count; i++) nodes.push(await startServer(id, { args: clusterArgs(id, dirs) }));
  const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
  if (id === 'kvslab') await run(join(ROOT, 'bin', 'kvslab-cluster'), ['create', ...addrs]);
  else await run('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-yes']);
  const ids = [];
  for (const n of nodes) {
    const c = await RespConn.connect(n.port);
    // Redis's gossip takes a moment to agree.
    for (let i = 0; i < 200 && !String(await c.call('CLUSTER', 'INFO')).includes('cluster_state:ok'); i++) await new Promise((r) => setTimeout(r, 50));
    ids.push(String(await c.call('CLUSTER', 'MYID')));
    c.close();
  }
  return {
    nodes, ids,
    async stop() {
      for (const n of nodes) await n.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** GETs and SETs, `depth` in flight, on 10,000 keys, through ioredis's Cluster client; ops counted per window. */
export function clusterLoad(port, depth = 32) {
  const c = new Cluster([{ host: '127.0.0.1', port }], { redisOptions: { maxRetriesPerRequest: 20 } });
  c.on('error', () => {});
  let stopped = false;
  let ops = 0;
  const errors = [];
  const worker = async (w) => {
    for (let i = w; !stopped; i += depth) {
      const k = `load:${i % 10_000}`;
      try {
        if (i & 1) await c.set(k, 'v');
        else await c.get(k);
        ops++;
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }
  };
  const running = Promise.all(Array.from({ length: depth }, (_, w) => worker(w)));
  return {
    /** Ops/s over the next `ms`. */
    async rate(ms) {
      const o0 = ops;
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, ms));
      return (ops - o0) / ((performance.now() - t0) / 1000);
    },
    snapshot: () => ({ ops, t: performance.now() }),
    async stop() {
      stopped = true;
      await running;
      c.disconnect();
      return errors;
    },
  };
}

