// RDB snapshots side by side with Redis: a fresh server of each kind is
// loaded with 1,000,000 keys "key:0000000".. with 64 B values, then SAVE is
// timed from the client (a blocking save on both: Redis's SAVE, kvslab's
// SAVE), the dump's size read from disk, and a second server of the same kind
// started on that dump: the load time is what each logs ("DB loaded from
// disk: N seconds"), and its DBSIZE must be the keys that were saved.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInto } from '../lib/load.mjs';
import { RespConn } from '../lib/resp.mjs';
import { startServer } from '../lib/servers.mjs';

const MiB = 1024 * 1024;

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function run(ctx) {
  const count = ctx.quick ? 200_000 : 1_000_000;
  const size = 64;
  ctx.settings = { keys: count, keyFormat: 'key:%07d', valueSize: size, save: 'SAVE, timed at the client', load: 'the "DB loaded from disk" line of a server started on the dump' };
  // One scratch directory per server kind: the servers of a round run one after the other.
  const dirs = Object.fromEntries(['kvslab', 'kvslab-base', 'redis'].map((id) => [id, mkdtempSync(join(tmpdir(), `kvslab-bench-rdb-${id}-`))]));
  const f = {
    save: ctx.figure('save-seconds', { label: `SAVE of ${count.toLocaleString('en-US')} keys × 64 B`, unit: 's', better: 'lower' }),
    dump: ctx.figure('dump-mib', { label: 'dump file size', unit: 'MiB', better: 'lower' }),
    load: ctx.figure('load-seconds', { label: 'load at start (the server\'s own log line)', unit: 's', better: 'lower' }),
    saveRate: ctx.figure('save-rate', { label: 'SAVE rate', unit: 'keys/s', better: 'higher' }),
    loadRate: ctx.figure('load-rate', { label: 'load rate', unit: 'keys/s', better: 'higher' }),
  };
  try {
    await ctx.eachRound(async (srv) => {
      const dir = dirs[srv.id];
      await ctx.measure(srv, [f.save, f.dump, f.load, f.saveRate, f.loadRate], async () => {
        await loadInto(srv, { count, prefix: 'key:', width: 7, valueSize: size });
        const c = await RespConn.connect(srv.port);
        const started = performance.now();
        const reply = await c.call('SAVE');
        const saveSeconds = (performance.now() - started) / 1000;
        c.close();
        if (String(reply) !== 'OK') throw new Error(`SAVE: ${String(reply)}`);
        const bytes = statSync(join(dir, 'dump.rdb')).size;
        const loader = await startServer(srv.id, { extra: ['--dir', dir, '--loglevel', 'notice'] });
        try {
          // The line is logged before the server answers; its pipe may lag a moment behind.
          let line = null;
          for (let i = 0; i < 50 && !(line = /DB loaded from disk: ([\d.]+) seconds/.exec(loader.output())); i++) await new Promise((r) => setTimeout(r, 20));
          if (!line) throw new Error(`no load line in the log: ${loader.output().slice(-300)}`);
          const l = await RespConn.connect(loader.port);
          const keys = Number(await l.call('DBSIZE'));
          l.close();
          if (keys !== count) throw new Error(`loaded ${keys} keys of ${count}`);
          const loadSeconds = Number(line[1]);
          return [saveSeconds, bytes / MiB, loadSeconds, count / saveSeconds, count / loadSeconds];
        } finally {
          await loader.stop();
        }
      });
    }, { figures: Object.values(f), args: { kvslab: ['--dir', dirs.kvslab], 'kvslab-base': ['--dir', dirs['kvslab-base']], redis: ['--dir', dirs.redis] } });
  } finally {
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  }
}

export default {
  name: 'persistence',
  description: 'SAVE time, dump size and load-at-start time of 1,000,000 keys × 64 B (RDB version 10 on both)',
  servers: ['kvslab', 'redis'],
  run,
};
