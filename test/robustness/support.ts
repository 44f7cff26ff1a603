// What the robustness tests share: the server's resident memory, waiting
// for a condition, and the checker: a well-behaved client that keeps writing
// and reading its own keys while others misbehave, and counts every answer
// that is not what it stored.

import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { makeRng } from './frames.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

/** The soft limit on open files of this process (the server inherits the same). */
export function openFileLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

export async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

/** Value sizes around the store's boundaries: empty, slab chunks, the 16 KiB view and 64 KiB large-block thresholds, megabytes. */
const SIZES = [0, 1, 100, 1000, 16_383, 16_384, 65_535, 65_536, 65_537, 300_000, 1_500_000];

export interface Checker {
  ops: number;
  wrong: string[];
  errors: string[];
  stop(): Promise<void>;
}

/** Starts a client that SETs then GETs its own keys ("chk:*") and compares, until stopped. */
export function startChecker(port: number, seed: number): Checker {
  const rng = makeRng(seed);
  const pool = rng.bytes(2 * 1024 * 1024);
  const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  r.on('error', () => {});
  const expected = new Map<string, Buffer>();
  let running = true;
  const state: Checker = {
    ops: 0,
    wrong: [],
    errors: [],
    async stop() {
      running = false;
      await loop;
      r.disconnect();
    },
  };
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const key = `chk:${rng.int(32)}`;
      try {
        const want = expected.get(key);
        if (want !== undefined && rng.chance(0.4)) {
          const got = await r.getBuffer(key);
          if (got === null || !got.equals(want)) state.wrong.push(`${key}: stored ${want.length} bytes, read ${got?.length ?? 'nil'}`);
        } else {
          const size = rng.pick(SIZES);
          const at = rng.int(pool.length - size);
          const v = Buffer.from(pool.subarray(at, at + size));
          // Each value unique: the key and a counter at its start.
          if (size >= 24) v.write(`${key}#${n}#`.padEnd(24, '.'), 0, 'latin1');
          const ok = await r.set(key, v);
          if (ok !== 'OK') state.wrong.push(`${key}: SET answered ${ok}`);
          expected.set(key, v);
          const got = await r.getBuffer(key);
          if (got === null || !got.equals(v)) state.wrong.push(`${key}: wrote ${v.length} bytes, read ${got?.length ?? 'nil'}`);
        }
        state.ops++;
      } catch (e) {
        state.errors.push(String(e));
        await sleep(100);
      }
    }
  })();
  return state;
}
