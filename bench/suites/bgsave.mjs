// BGSAVE while serving, side by side with Redis (whose child is forked onto
// the server's core, as the bench pins servers to one core). A fresh server
// of each kind gets N keys "key:0000000".. with 64 B values, then:
//
//   1. latency: a probe sends PING one at a time (lib/probe.mjs, 1 ms pause)
//      from BGSAVE until INFO says the save is over; p50, p99, max of those
//      round trips, the save's duration as the client saw it.
//   2. throughput: redis-benchmark SET then GET at pipeline 16 over the N keys,
//      first with no save, then with BGSAVE started again whenever the last one
//      ends, so that a save runs for the whole run; the ratio of the two is
//      each server's own.
//   3. memory under writes: across the SET run with saves, the highest RSS of
//      the server (Redis: plus its child, read as rdb_last_cow_size, the bytes
//      its pages copied) above the RSS before it, and rdb_last_cow_size (for
//      kvslab the old values written ahead of the walk).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInto } from '../lib/load.mjs';
import { RespConn } from '../lib/resp.mjs';
import { info, infoNumber } from '../lib/info.mjs';
import { startProbe, quantile } from '../lib/probe.mjs';
import { runBenchmark } from '../lib/redis-benchmark.mjs';
import { procMemory, watchRss } from '../lib/servers.mjs';

const MiB = 1024 * 1024;

async function inProgress(port) {
  return infoNumber(await info(port, 'persistence'), 'rdb_bgsave_in_progress') === 1;
}

async function waitSaveEnd(port) {
  while (await inProgress(port)) await new Promise((r) => setTimeout(r, 10));
}

/** Keeps a BGSAVE running until stop(); returns how many were started. */
function keepSaving(port) {
  let stopped = false;
  let started = 0;
  const loop = (async () => {
    const c = await RespConn.connect(port);
    try {
      while (!stopped) {
        if (!(await inProgress(port))) {
          const r = String(await c.call('BGSAVE'));
          if (r === 'Background saving started') started++;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      c.close();
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await waitSaveEnd(port);
      return started;
    },
  };
}

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function run(ctx) {
  const count = Number(ctx.options.keys ?? (ctx.quick ? 200_000 : 1_000_000));
  const requests = ctx.quick ? 1_000_000 : 4_000_000;
  const n = count.toLocaleString('en-US');
  ctx.settings = {
    keys: count, keyFormat: 'key:%07d', valueSize: 64, probe: 'PING one at a time, 1 ms pause, from a worker thread, from BGSAVE to its end',
    throughput: `redis-benchmark -P 16 -c 50 -n ${requests} -r ${count} -d 64, SET then GET, without and with a BGSAVE always running`,
  };
  const f = {
    saveSeconds: ctx.figure('bgsave-seconds', { label: `BGSAVE of ${n} keys × 64 B, idle server (start to end, as the client sees it)`, unit: 's', better: 'lower' }),
    p50: ctx.figure('ping-p50', { label: 'PING during BGSAVE, p50', unit: 'ms', better: 'lower' }),
    p99: ctx.figure('ping-p99', { label: 'PING during BGSAVE, p99', unit: 'ms', better: 'lower' }),
    max: ctx.figure('ping-max', { label: 'PING during BGSAVE, max', unit: 'ms', better: 'lower' }),
    setBase: ctx.figure('set-rps', { label: 'SET P16, no save', unit: 'req/s', better: 'higher' }),
    setSave: ctx.figure('set-rps-bgsave', { label: 'SET P16, BGSAVE running', unit: 'req/s', better: 'higher' }),
    setShare: ctx.figure('set-share', { label: 'SET P16 with BGSAVE / without (the server\'s own)', unit: 'x', better: 'higher' }),
    getBase: ctx.figure('get-rps', { label: 'GET P16, no save', unit: 'req/s', better: 'higher' }),
    getSave: ctx.figure('get-rps-bgsave', { label: 'GET P16, BGSAVE running', unit: 'req/s', better: 'higher' }),
    getShare: ctx.figure('get-share', { label: 'GET P16 with BGSAVE / without (the server\'s own)', unit: 'x', better: 'higher' }),
    rssGrowth: ctx.figure('rss-growth', { label: 'server RSS growth during SET with saves', unit: 'MiB', better: 'lower' }),
    cow: ctx.figure('cow', { label: 'rdb_last_cow_size after SET with saves', unit: 'MiB', better: 'lower' }),
    saves: ctx.figure('saves', { label: 'BGSAVEs during the SET + GET runs', unit: 'count', better: 'higher', noRatio: true }),
  };
  const dirs = Object.fromEntries(['kvslab', 'kvslab-base', 'redis'].map((id) => [id, mkdtempSync(join(tmpdir(), `kvslab-bench-bgsave-${id}-`))]));
  try {
    await ctx.eachRound(async (srv) => {
      await ctx.measure(srv, Object.values(f), async () => {
        await loadInto(srv, { count, prefix: 'key:', width: 7, valueSize: 64 });
        const c = await RespConn.connect(srv.port);
        // 1. Latency during one BGSAVE of an idle server.
        const probe = await startProbe(srv.port, { pauseMs: 1 });
        let lat;
        const t0 = performance.now();
        try {
          const r = String(await c.call('BGSAVE'));
          if (r !== 'Background saving started') throw new Error(`BGSAVE: ${r}`);
          await waitSaveEnd(srv.port);
        } finally {
          lat = await probe.stop();
        }
        const saveSeconds = (performance.now() - t0) / 1000;
        lat.sort();
        // 2. Throughput without and with saves; 3. memory while SET runs with saves.
        const bench = (tests) => runBenchmark(srv.port, { tests, requests, pipeline: 16, keyspace: count, size: 64, timeoutMs: 600_000 });
        const setBase = (await bench('set')).rps;
        const getBase = (await bench('get')).rps;
        const rss0 = procMemory(srv.pid).rss;
        const rss = watchRss(srv.pid, 20);
        let saver = keepSaving(srv.port);
        const setSave = (await bench('set')).rps;
        let saves = await saver.stop();
        const rssPeak = rss.stop();
        const cow = infoNumber(await info(srv.port, 'persistence'), 'rdb_last_cow_size');
        saver = keepSaving(srv.port);
        const getSave = (await bench('get')).rps;
        saves += await saver.stop();
        c.close();
        return [
          saveSeconds, quantile(lat, 0.5), quantile(lat, 0.99), lat[lat.length - 1],
          setBase, setSave, setSave / setBase, getBase, getSave, getSave / getBase,
          Math.max(0, rssPeak - rss0) / MiB, cow / MiB, saves,
        ];
      });
    }, { figures: Object.values(f), args: { kvslab: ['--dir', dirs.kvslab], 'kvslab-base': ['--dir', dirs['kvslab-base']], redis: ['--dir', dirs.redis] } });
  } finally {
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  }
}

export default {
  name: 'bgsave',
  description: 'BGSAVE while serving: PING latency during a BGSAVE of 1,000,000 keys × 64 B (--keys N for more), SET/GET P16 throughput with a BGSAVE always running against none, RSS growth and copy-on-write bytes under writes',
  servers: ['kvslab', 'redis'],
  options: { keys: 'N  keys to load (default 1,000,000; 200,000 with --quick)' },
  run,
};
