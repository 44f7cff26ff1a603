// Differential testing: the same commands go to kvslab and to a real Redis 7,
// and their replies must match. Time-dependent replies are compared with a
// tolerance instead of exactly.

import { expect } from 'vitest';
import { RawClient, Reply, show } from './raw-client.js';
import { RunningServer, startKvslab, startRedis } from './servers.js';

export type Argv = (string | Buffer)[];

export interface Pair {
  kvslab: RunningServer;
  redis: RunningServer;
  /** One connection to each server (same connection state on both sides). */
  k: RawClient;
  r: RawClient;
  /** Sends argv to both; asserts equal replies; returns kvslab's reply. */
  same(argv: Argv, opts?: CompareOptions): Promise<Reply>;
  /** Sends each command of a sequence to both and compares every reply. */
  sequence(cmds: Argv[], opts?: CompareOptions): Promise<void>;
  /** Both replies, without asserting. */
  both(argv: Argv): Promise<[Reply, Reply]>;
  /** Both pair connections back to db 0 with empty servers (between fuzz runs). */
  reset(): Promise<void>;
  /** New connections to both servers. */
  connect(): Promise<[RawClient, RawClient]>;
  stop(): Promise<void>;
}

export interface CompareOptions {
  /** Integers may differ by this much (TTL in s, PTTL in ms...). */
  tolerance?: number;
}

/** Commands whose integer replies depend on the clock. */
const TIMED = new Set(['ttl', 'pttl', 'expiretime', 'pexpiretime', 'object', 'time']);

/** How far integer replies of a command may differ between the servers: TTLs and times move with the clock. */
export function clockTolerance(name: string): number {
  return TIMED.has(name) ? (name.startsWith('p') ? 1500 : 2) : 0;
}

/** Structural equality, integers within `tolerance` (RESP types must match). */
export function repliesEqual(a: Reply, b: Reply, tolerance = 0): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= tolerance;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  const list = (x: Reply[], y: Reply[]) => x.length === y.length && x.every((v, i) => repliesEqual(v, y[i], tolerance));
  if (Array.isArray(a) && Array.isArray(b)) return list(a, b);
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Buffer.isBuffer(a) && !Buffer.isBuffer(b) && !Array.isArray(a) && !Array.isArray(b)) {
    if ('map' in a && 'map' in b) return list(a.map.flat(), b.map.flat());
    if ('set' in a && 'set' in b) return list(a.set, b.set);
    if ('push' in a && 'push' in b) return list(a.push, b.push);
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return a === b;
}

export function describeArgv(argv: Argv): string {
  return argv.map((a) => JSON.stringify(typeof a === 'string' ? a : a.toString('latin1'))).join(' ');
}

/**
 * Sends argv on a kvslab connection and a Redis connection and asserts the
 * replies match: the same bytes, or with a clock involved the same values
 * within a tolerance. Returns kvslab's reply.
 */
export async function compareOn(k: RawClient, r: RawClient, argv: Argv, opts: CompareOptions = {}): Promise<Reply> {
  const [kr, rr] = await Promise.all([k.call(...argv), r.call(...argv)]);
  const name = String(argv[0]).toLowerCase();
  const tol = opts.tolerance ?? clockTolerance(name);
  // Without tolerance the bytes must be identical: this also catches a
  // status reply sent as a bulk string, or a RESP3 type sent as RESP2.
  const same = tol === 0 ? k.lastRaw.equals(r.lastRaw) : repliesEqual(kr, rr, tol);
  if (!same) {
    if (repliesEqual(kr, rr, tol)) {
      expect({ cmd: describeArgv(argv), raw: k.lastRaw.toString('latin1') })
        .toEqual({ cmd: describeArgv(argv), raw: r.lastRaw.toString('latin1') });
    }
    expect({ cmd: describeArgv(argv), reply: show(kr) }).toEqual({ cmd: describeArgv(argv), reply: show(rr) });
  }
  return kr;
}

/** compareOn for each command of a sequence, on connections of the test's own. */
export async function sameOn(k: RawClient, r: RawClient, cmds: Argv[], opts: CompareOptions = {}): Promise<void> {
  for (const argv of cmds) await compareOn(k, r, argv, opts);
}

export async function startPair(kvslabArgs: string[] = [], redisArgs: string[] = []): Promise<Pair> {
  const [kvslab, redis] = await Promise.all([startKvslab(kvslabArgs), startRedis(redisArgs)]);
  const k = await RawClient.connect(kvslab.port);
  const r = await RawClient.connect(redis.port);
  const pair: Pair = {
    kvslab, redis, k, r,
    async both(argv) {
      return Promise.all([pair.k.call(...argv), pair.r.call(...argv)]);
    },
    async same(argv, opts = {}) {
      return compareOn(pair.k, pair.r, argv, opts);
    },
    async sequence(cmds, opts) {
      for (const c of cmds) await pair.same(c, opts);
    },
    async reset() {
      for (const c of [pair.k, pair.r]) {
        await c.call('SELECT', '0');
        await c.call('FLUSHALL');
      }
    },
    async connect() {
      return Promise.all([RawClient.connect(kvslab.port), RawClient.connect(redis.port)]);
    },
    async stop() {
      k.close();
      r.close();
      await Promise.all([kvslab.stop(), redis.stop()]);
    },
  };
  return pair;
}
