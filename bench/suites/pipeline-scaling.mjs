// How requests/s grows with pipeline depth: GET and SET of 64 B values over a
// pre-loaded random key range (so GETs hit), 50 clients, depths 1 to 256.
// The ceiling server (bare Node.js, no store) shows how far Node itself goes;
// loading keys into it is a stream of +OK.

import { loadKeys } from '../lib/load.mjs';

const DEPTHS = [1, 4, 16, 64, 256];

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function run(ctx) {
  const keyspace = ctx.quick ? 100_000 : 1_000_000;
  const seconds = ctx.quick ? 0.8 : 2;
  const clients = 50;
  const size = 64;
  ctx.settings = { clients, keyspace, valueSize: size, depths: DEPTHS, secondsPerTest: seconds };

  const tests = [];
  for (const op of ['GET', 'SET']) {
    for (const pipeline of DEPTHS) {
      tests.push({ key: `${op.toLowerCase()}-p${pipeline}`, label: `${op} 64 B, pipeline ${pipeline}`,
        params: { op, pipeline, size }, tests: op.toLowerCase(), pipeline, size, latencies: false });
    }
  }
  const figureKeys = tests.map((t) => ctx.benchmarkFigures(t)[0]);

  await ctx.eachRound(async (srv) => {
    await loadKeys(srv.port, { count: keyspace, prefix: 'key:', width: 12, valueSize: size });
    for (const t of tests) await ctx.benchmark(srv, { ...t, clients, keyspace, seconds });
  }, { figures: figureKeys });
}

export default {
  name: 'pipeline-scaling',
  description: 'requests/s of GET and SET (64 B, 50 clients, random keys) at pipeline depth 1, 4, 16, 64, 256',
  servers: ['kvslab', 'redis', 'ceiling'],
  run,
};
