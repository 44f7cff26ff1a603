// RDB snapshots side by side with Redis, for two datasets: 1,000,000 keys
// "key:0000000".. with 64 B values, and 100,000 keys with 4 KiB values (the
// bench's values are 'x' bytes: compressible, as in redis-benchmark). For
// each, a fresh server of each kind is loaded, SAVE is timed from the client
// (a blocking save on both), the dump's size read from disk (then, with
// rdbcompression no, once more: the size without LZF), and a second server
// of the same kind started on the first dump: the load time is what each
// logs ("DB loaded from disk: N seconds"), and its DBSIZE must be the keys
// that were saved. kvslab alone: 2 GiB of Llama-3-8B-shaped tensors (32
// layers, 8 KV heads, head dim 128, fp16, K and V: 128 KiB per token) saved
// and loaded at start, as GB/s of dump; the load twice: pinned to the server
// core, and free to use both (a server alone on its machine at start, where
// the dump's CRC-64 goes to a second thread: src/persistence/file-checksum.ts).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInto } from '../lib/load.mjs';
import { RespConn, encode } from '../lib/resp.mjs';
import { startServer } from '../lib/servers.mjs';
import { pinArgs } from '../lib/machine.mjs';

const MiB = 1024 * 1024;
const GB = 1e9;

const SHAPE = ['DTYPE', 'float16', 'LAYERS', '32', 'HEADS', '8', 'HEADDIM', '128', 'KV', '2'];
const TOKEN_BYTES = 2 * 32 * 8 * 128 * 2;
const SEQ_TOKENS = 256;

/** The load time a server logs once it has read its dump (its pipe may lag a moment behind). */
async function loadSeconds(loader) {
  let line = null;
  for (let i = 0; i < 500 && !(line = /DB loaded from disk: ([\d.]+) seconds/.exec(loader.output())); i++) await new Promise((r) => setTimeout(r, 20));
  if (!line) throw new Error(`no load line in the log: ${loader.output().slice(-300)}`);
  return Number(line[1]);
}

/** Starts a server of kind `id` on the dump in `dir`: the seconds it logs for the load, once DBSIZE says all `count` keys came. */
async function loadedOnStart(id, dir, count, bothCores = false) {
  const loader = await startServer(id, { extra: ['--dir', dir, '--loglevel', 'notice'], bothCores });
  try {
    const seconds = await loadSeconds(loader);
    const l = await RespConn.connect(loader.port);
    const keys = Number(await l.call('DBSIZE'));
    l.close();
    if (keys !== count) throw new Error(`loaded ${keys} keys of ${count}`);
    return seconds;
  } finally {
    await loader.stop();
  }
}

// What this machine itself does with as many bytes as the tensor dump, on the
// server's core, in the same round: a dump lands in page-cache pages the
// guest has to fault in, and a load fills memory freshly mapped. On this VM
// both cost far more than the copy (fresh pages: about 0.6-2 GB/s, from one
// run to the next; touched ones: 20+ GB/s), so the tensor rates are reported
// beside these ceilings. Write: a new file written 8 MiB at a time from one
// buffer, then fsync, as a SAVE does. Fill: fresh 32 MiB buffers (the size
// of one tensor here) each written once, as a load reads into them.
const CEILING_PROBE = `
const fs = require('node:fs');
const [file, total] = [process.argv[1], Number(process.argv[2])];
const chunk = Buffer.alloc(8 << 20, 7);
let t = process.hrtime.bigint();
const fd = fs.openSync(file, 'w');
for (let n = 0; n < total; n += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, total - n));
fs.fsyncSync(fd); fs.closeSync(fd);
const write = Number(process.hrtime.bigint() - t) / 1e9;
fs.unlinkSync(file);
t = process.hrtime.bigint();
const keep = [];
for (let n = 0; n < total; n += 32 << 20) { const b = Buffer.allocUnsafeSlow(32 << 20); b.fill(n & 0xff); keep.push(b); }
const fill = Number(process.hrtime.bigint() - t) / 1e9;
console.log(JSON.stringify({ write: total / write / 1e9, fill: total / fill / 1e9 }));
`;

function machineCeilings(dir, bytes) {
  const cmd = [...pinArgs('server'), process.execPath, '-e', CEILING_PROBE, join(dir, 'ceiling-probe.bin'), String(bytes)];
  const out = execFileSync(cmd[0], cmd.slice(1), { env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '1048576' }, encoding: 'utf8' });
  return JSON.parse(out);
}

async function timedSave(c) {
  const started = performance.now();
  const reply = await c.call('SAVE');
  if (String(reply) !== 'OK') throw new Error(`SAVE: ${String(reply)}`);
  return (performance.now() - started) / 1000;
}

/** @param {import('../lib/context.mjs').BenchContext} ctx */
async function run(ctx) {
  const datasets = [
    { id: '64b', count: ctx.quick ? 200_000 : 1_000_000, size: 64, width: 7 },
    { id: '4k', count: ctx.quick ? 20_000 : 100_000, size: 4096, width: 6 },
  ];
  const tensorBytes = ctx.quick ? 256 * MiB : 2048 * MiB;
  ctx.settings = {
    datasets: datasets.map((d) => `${d.count} keys × ${d.size} B ('x' values)`), save: 'SAVE, timed at the client',
    load: 'the "DB loaded from disk" line of a server started on the dump', tensors: `${tensorBytes / MiB} MiB of KV tensors, ${SEQ_TOKENS} tokens each, Llama-3-8B shape (kvslab only)`,
  };
  // One scratch directory per server kind and dataset: a server starts on whatever dump its directory holds.
  const scratch = [];
  const dirsFor = () => {
    const dirs = Object.fromEntries(['kvslab', 'kvslab-base', 'redis'].map((id) => [id, mkdtempSync(join(tmpdir(), `kvslab-bench-rdb-${id}-`))]));
    scratch.push(...Object.values(dirs));
    const args = { kvslab: ['--dir', dirs.kvslab], 'kvslab-base': ['--dir', dirs['kvslab-base']], redis: ['--dir', dirs.redis] };
    return { dirs, args };
  };
  try {
    for (const d of datasets) {
      const what = `${d.count.toLocaleString('en-US')} keys × ${d.size >= 1024 ? `${d.size / 1024} KiB` : `${d.size} B`}`;
      const f = {
        save: ctx.figure(`save-seconds-${d.id}`, { label: `SAVE of ${what}`, unit: 's', better: 'lower', params: { dataset: d.id } }),
        dump: ctx.figure(`dump-mib-${d.id}`, { label: `dump of ${what}, LZF on`, unit: 'MiB', better: 'lower', params: { dataset: d.id } }),
        raw: ctx.figure(`dump-raw-mib-${d.id}`, { label: `dump of ${what}, LZF off (rdbcompression no)`, unit: 'MiB', better: 'lower', params: { dataset: d.id } }),
        load: ctx.figure(`load-seconds-${d.id}`, { label: `load of ${what} at start (the server's log line)`, unit: 's', better: 'lower', params: { dataset: d.id } }),
        loadRate: ctx.figure(`load-rate-${d.id}`, { label: `load rate, ${what}`, unit: 'keys/s', better: 'higher', params: { dataset: d.id } }),
      };
      const { dirs, args } = dirsFor();
      await ctx.eachRound(async (srv) => {
        const dir = dirs[srv.id];
        await ctx.measure(srv, Object.values(f), async () => {
          await loadInto(srv, { count: d.count, prefix: 'key:', width: d.width, valueSize: d.size });
          const c = await RespConn.connect(srv.port);
          await c.call('CONFIG', 'SET', 'rdbcompression', 'no');
          await timedSave(c);
          const rawBytes = statSync(join(dir, 'dump.rdb')).size;
          await c.call('CONFIG', 'SET', 'rdbcompression', 'yes');
          const saveSeconds = await timedSave(c);
          c.close();
          const bytes = statSync(join(dir, 'dump.rdb')).size;
          const seconds = await loadedOnStart(srv.id, dir, d.count);
          return [saveSeconds, bytes / MiB, rawBytes / MiB, seconds, d.count / seconds];
        });
      }, { figures: Object.values(f), args, tag: d.id });
    }

    const t = {
      save: ctx.figure('tensor-save-rate', { label: `SAVE of ${tensorBytes / MiB} MiB of KV tensors`, unit: 'GB/s', better: 'higher', servers: ['kvslab'], params: { dataset: 'tensors' } }),
      load: ctx.figure('tensor-load-rate', { label: `load at start of ${tensorBytes / MiB} MiB of KV tensors`, unit: 'GB/s', better: 'higher', servers: ['kvslab'], params: { dataset: 'tensors' } }),
      load2: ctx.figure('tensor-load-rate-2cores', { label: `the same, the server not pinned: the CRC on the other core`, unit: 'GB/s', better: 'higher', servers: ['kvslab'], params: { dataset: 'tensors' } }),
      write: ctx.figure('machine-file-write-rate', { label: `this machine: ${tensorBytes / MiB} MiB written to a new file and fsynced (the ceiling of a SAVE)`, unit: 'GB/s', better: 'higher', servers: ['kvslab'], params: { dataset: 'tensors' } }),
      fill: ctx.figure('machine-fresh-fill-rate', { label: `this machine: ${tensorBytes / MiB} MiB of fresh memory written once (the ceiling of a load)`, unit: 'GB/s', better: 'higher', servers: ['kvslab'], params: { dataset: 'tensors' } }),
    };
    const { dirs, args } = dirsFor();
    await ctx.eachRound(async (srv) => {
      const dir = dirs[srv.id];
      await ctx.measure(srv, Object.values(t), async () => {
        const c = await RespConn.connect(srv.port);
        const seq = Buffer.alloc(SEQ_TOKENS * TOKEN_BYTES);
        for (let i = 0; i < seq.length; i += 4) seq.writeUInt32LE((Math.imul(i, 2654435761) >>> 0), i);
        const count = Math.floor(tensorBytes / seq.length);
        for (let i = 0; i < count; i++) await c.send(encode(['KV.PUT', `seq:${i}`, seq, ...SHAPE]), 1);
        const saveSeconds = await timedSave(c);
        c.close();
        const bytes = statSync(join(dir, 'dump.rdb')).size;
        const seconds = await loadedOnStart(srv.id, dir, count);
        const seconds2 = await loadedOnStart(srv.id, dir, count, true);
        const ceiling = machineCeilings(dir, bytes);
        return [bytes / saveSeconds / GB, bytes / seconds / GB, bytes / seconds2 / GB, ceiling.write, ceiling.fill];
      });
    }, { figures: Object.values(t), args, servers: ['kvslab'], tag: 'tensors' });
  } finally {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  }
}

export default {
  name: 'persistence',
  description: 'SAVE time, dump size (LZF on and off) and load-at-start time of 1,000,000 keys × 64 B and 100,000 × 4 KiB (RDB version 10 on both); KV tensors saved and loaded, GB/s (kvslab)',
  servers: ['kvslab', 'redis'],
  run,
};
