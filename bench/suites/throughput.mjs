// redis-benchmark's classic load: 50 clients, random keys, GET and SET at
// pipeline 1 and 16 with 64 B and 4 KiB values, plus MSET/MGET of 10 keys and
// INCR. Before each value size's tests the whole key range is loaded with
// values of that size, so every GET hits and returns a value of that size.
// 64 B tests use 1M keys (-r 1000000), 4 KiB tests 100k.
//
// The ceiling server (bare Node.js, no store) runs the SET rows and GET 64 B:
// what Node itself can do. It answers every GET with the same 64 B value, so
// GET 4 KiB and the multi-key and INCR rows mean nothing there and are not run.

import { loadKeys } from '../lib/load.mjs';

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function run(ctx) {
  const keyspace = ctx.quick ? 100_000 : 1_000_000;
  // 4 KiB values over a tenth of the range: loading 1M × 4 KiB (4 GiB) before
  // the GETs took kvslab 60-100 s per round, more than the rest of the suite.
  const bigKeyspace = keyspace / 10;
  const seconds = ctx.quick ? 0.8 : 2;
  const clients = 50;
  ctx.settings = { clients, keyspace, keyspace4KiB: bigKeyspace, secondsPerTest: seconds, keyFormat: 'key:%012d (as redis-benchmark -r names them)' };
  const v64 = 'v'.repeat(64);
  const tenKeys = (withValues) => Array.from({ length: 10 }, () => (withValues ? ['key:__rand_int__', v64] : ['key:__rand_int__'])).flat();

  /** @typedef {import('../lib/servers.mjs').ServerId} ServerId */
  /** @type {ServerId[]} */
  const stored = ['kvslab', 'redis'];
  /** @type {Array<{ key: string, label: string, params: Record<string, string|number>, tests?: string, command?: string[], size?: number, pipeline?: number, servers?: ServerId[] }>} */
  const small = [];
  for (const op of ['SET', 'GET']) {
    for (const pipeline of [1, 16]) {
      small.push({ key: `${op.toLowerCase()}-64-p${pipeline}`, label: `${op} 64 B, pipeline ${pipeline}`,
        params: { op, size: 64, pipeline }, tests: op.toLowerCase(), size: 64, pipeline });
    }
  }
  small.push({ key: 'mset10-64-p1', label: 'MSET 10 keys × 64 B, pipeline 1', params: { op: 'MSET ×10', size: 64, pipeline: 1 }, command: ['MSET', ...tenKeys(true)], servers: stored });
  small.push({ key: 'mget10-64-p1', label: 'MGET 10 keys × 64 B, pipeline 1', params: { op: 'MGET ×10', size: 64, pipeline: 1 }, command: ['MGET', ...tenKeys(false)], servers: stored });
  small.push({ key: 'incr-p1', label: 'INCR, pipeline 1', params: { op: 'INCR', size: 0, pipeline: 1 }, tests: 'incr', servers: stored });
  /** @type {typeof small} */
  const large = [];
  for (const op of ['SET', 'GET']) {
    for (const pipeline of [1, 16]) {
      large.push({ key: `${op.toLowerCase()}-4096-p${pipeline}`, label: `${op} 4 KiB, pipeline ${pipeline}`,
        params: { op, size: 4096, pipeline }, tests: op.toLowerCase(), size: 4096, pipeline, ...(op === 'GET' ? { servers: stored } : {}) });
    }
  }
  const rangeOf = (size) => (size === 64 ? keyspace : bigKeyspace);
  const loadFigure = (size) => ctx.figure(`load-${size}`, {
    label: `load ${rangeOf(size).toLocaleString('en-US')} keys × ${size === 64 ? '64 B' : '4 KiB'} (pipelined SET)`,
    unit: 'keys/s', better: 'higher', params: { op: 'load', size },
  });
  /** @type {Array<[number, typeof small]>} */
  const groups = [[64, small], [4096, large]];
  // Declare everything up front so a server that fails to start shows in every cell.
  const figureKeys = [];
  for (const [size, tests] of groups) {
    figureKeys.push(loadFigure(size));
    for (const t of tests) figureKeys.push(...ctx.benchmarkFigures(t));
  }

  await ctx.eachRound(async (srv) => {
    for (const [size, tests] of groups) {
      await ctx.measure(srv, [loadFigure(size)], async () => {
        const count = rangeOf(size);
        const { seconds: s } = await loadKeys(srv.port, { count, prefix: 'key:', width: 12, valueSize: size });
        return [count / s];
      });
      for (const t of tests) {
        await ctx.benchmark(srv, { ...t, clients, keyspace: rangeOf(size), seconds });
      }
    }
  }, { figures: figureKeys });
}

export default {
  name: 'throughput',
  description: 'redis-benchmark, 50 clients, random keys over 1M (4 KiB values: 100k): GET/SET at pipeline 1 and 16 with 64 B and 4 KiB values, MSET/MGET of 10 keys, INCR',
  servers: ['kvslab', 'redis', 'ceiling'],
  run,
};
