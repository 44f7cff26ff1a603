// Protocol fuzzer: a few hundred thousand random and mutated RESP frames
// (seeded; FUZZ_SEED=n replays a run) over thousands of short loopback
// connections, while a checker client keeps writing and reading its own
// keys. What must hold: the server stays up and answers PING, logs no
// internal error, never gives the checker a wrong value, lets every
// connection go, and its memory comes back near where it started.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKvslab, RunningServer } from '../helpers/servers.js';
import { RawClient, show } from '../helpers/raw-client.js';
import { frame, makeRng, Rng } from './frames.js';
import { rssMb, sleep, startChecker, until } from './support.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20260601);
/** Frames to send, and the time allowed for them (whichever ends first). */
const FRAMES = 300_000;
const BUDGET_MS = 25_000;
/** Connections open at a time. */
const WORKERS = 8;

let srv: RunningServer;
beforeAll(async () => { srv = await startKvslab(); });
afterAll(async () => { await srv.stop(); });

interface Stats {
  connections: number;
  frames: number;
  bytesSent: number;
  bytesReceived: number;
  /** Connections the server closed with a protocol error. */
  protocolErrors: number;
  /** Still open 5 s after we closed our side. */
  lingering: number;
}

/** One short connection: a batch of frames, delivered whole, in pieces, or cut off by a reset. */
async function fuzzConnection(port: number, r: Rng, stats: Stats, framesLeft: number): Promise<void> {
  const badness = r.pick([0, 0.002, 0.01, 0.05, 0.2, 0.6, 1]);
  const n = Math.min(framesLeft, 20 + r.int(300));
  const frames: Buffer[] = [];
  for (let i = 0; i < n; i++) frames.push(frame(r, badness));
  const data = Buffer.concat(frames);
  const mode = r.pick(['whole', 'whole', 'pieces', 'reset']);
  stats.connections++;
  stats.frames += n;
  stats.bytesSent += data.length;

  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  let closed = false;
  let ended = false;
  let tail = '';
  s.on('data', (d: Buffer) => {
    stats.bytesReceived += d.length;
    tail = (tail + d.toString('latin1', Math.max(0, d.length - 200))).slice(-200);
  });
  s.on('error', () => {});
  const closedP = new Promise<void>((res) => s.on('close', () => {
    closed = true;
    if (tail.includes('-ERR Protocol error')) stats.protocolErrors++;
    res();
  }));
  await new Promise<void>((res) => { s.once('connect', res); s.once('error', res); });
  if (closed) return;
  if (mode === 'pieces') {
    // Cut at random points, each piece its own write: frames split across reads.
    let at = 0;
    while (at < data.length && !closed) {
      const len = 1 + r.int(Math.min(data.length - at, r.pick([3, 50, 2000, 70_000])));
      s.write(data.subarray(at, at + len));
      at += len;
      await new Promise((res) => setImmediate(res));
    }
  } else {
    s.write(data);
  }
  if (mode === 'reset') {
    await new Promise((res) => setImmediate(res));
    s.destroy();
    return;
  }
  ended = true;
  s.end();
  const timer = setTimeout(() => { if (ended && !closed) { stats.lingering++; s.destroy(); } }, 5000);
  await closedP;
  clearTimeout(timer);
}

describe('protocol fuzzer', () => {
  it(`survives ${FRAMES} random and mutated frames (seed ${SEED})`, async () => {
    const pid = srv.proc.pid as number;
    // Baseline: the server as started, before any load.
    const admin = await RawClient.connect(srv.port);
    expect(show(await admin.call('PING'))).toBe('PONG');
    await sleep(500);
    const baseline = rssMb(pid);

    const checker = startChecker(srv.port, SEED + 2);
    const stats: Stats = { connections: 0, frames: 0, bytesSent: 0, bytesReceived: 0, protocolErrors: 0, lingering: 0 };
    const start = Date.now();
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 250);
    await Promise.all(Array.from({ length: WORKERS }, async (_, w) => {
      const r = makeRng(SEED * 31 + w);
      while (stats.frames < FRAMES && Date.now() - start < BUDGET_MS) {
        await fuzzConnection(srv.port, r, stats, FRAMES - stats.frames);
      }
    }));
    clearInterval(sampler);
    const elapsed = Date.now() - start;
    await checker.stop();

    // Still alive and serving.
    expect(srv.proc.exitCode).toBeNull();
    expect(srv.proc.signalCode).toBeNull();
    const after = await RawClient.connect(srv.port);
    expect(show(await after.call('PING'))).toBe('PONG');

    const bugs = srv.output().split('\n').filter((l) => /BUG:|[Uu]ncaught|TypeError|RangeError/.test(l));
    console.log(`fuzz seed=${SEED}: ${stats.frames} frames, ${stats.connections} connections, ${(stats.bytesSent / 1e6).toFixed(1)} MB sent, `
      + `${(stats.bytesReceived / 1e6).toFixed(1)} MB received, ${stats.protocolErrors} closed with a protocol error, `
      + `${stats.lingering} left open after our FIN, in ${elapsed} ms; checker ${checker.ops} ops; RSS baseline ${baseline.toFixed(0)} MB, peak ${peak.toFixed(0)} MB`);
    for (const b of bugs.slice(0, 10)) console.log(`server: ${b}`);

    expect(stats.frames).toBeGreaterThanOrEqual(Math.min(FRAMES, 100_000));
    expect(checker.wrong).toEqual([]);
    expect(checker.errors).toEqual([]);
    expect(checker.ops).toBeGreaterThan(50);
    expect(bugs).toEqual([]);

    // Every fuzz connection is gone from the server.
    const clients = async () => Number(/connected_clients:(\d+)/.exec(show(await after.call('INFO', 'clients')) as string)?.[1]);
    await until(async () => (await clients()) <= 2, 10_000);
    expect(await clients()).toBeLessThanOrEqual(2);

    // Memory comes back: the fuzzer's keys dropped, unused memory given back.
    await after.call('FLUSHALL');
    await after.call('MEMORY', 'PURGE');
    await until(() => rssMb(pid) < baseline + 64, 5000);
    const end = rssMb(pid);
    console.log(`RSS after FLUSHALL + MEMORY PURGE: ${end.toFixed(0)} MB (baseline ${baseline.toFixed(0)} MB)`);
    expect(end).toBeLessThan(baseline + 64);
    admin.close();
    after.close();
  });
});
