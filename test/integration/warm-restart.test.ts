// A warm restart of the tensor cache: the transformer example caches prompts
// in a real kvslab with save rules, kvslab gets SIGTERM (it saves the dump on
// the way out) and starts again on the same dir; an engine restarted with it
// (a new model of the same seed, the same prompts) finds every cached chunk,
// loads them, and gets logits and K/V bit-identical to a cold run. No
// timings here: the warm-restart bench suite measures them.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KvTensorClient } from '../../src/client/kv.js';
import { CHUNK, chunkKeys, randomTokens, storePrefix, warmPrefill } from '../../src/examples/transformer/demo.js';
import { coldForward, DEFAULT_CONFIG, sameBits, Transformer } from '../../src/examples/transformer/model.js';
import { freePort, logged, startKvslabOn, type RunningServer } from '../helpers/servers.js';

let running: RunningServer[] = [];
let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
  // Only once the servers are gone: a stopping server may still write its dump.
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

async function start(port: number, dir: string): Promise<RunningServer> {
  const s = await startKvslabOn(port, ['--dir', dir, '--save', '3600 1']);
  running.push(s);
  return s;
}

function exited(s: RunningServer): Promise<number | null> {
  if (s.proc.exitCode !== null) return Promise.resolve(s.proc.exitCode);
  return new Promise((r) => s.proc.once('exit', (code) => r(code)));
}

describe('warm restart of the prefix cache', () => {
  it('after SIGTERM and a start on the dump, a warm prefill reuses every stored chunk and matches a cold run bit for bit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-warm-'));
    dirs.push(dir);
    const port = await freePort();
    // Lengths with a partial last chunk, so every stored chunk is one the warm prefill asks for
    // (it looks up the chunks of all tokens but the last).
    const lengths = [300, 5 * CHUNK + 7];
    const seed = (n: number) => 1000 + n;

    const a = await start(port, dir);
    const kvA = new KvTensorClient(a.client());
    const model = new Transformer();
    const stored: number[] = [];
    const chunksBefore: Buffer[][] = [];
    for (const n of lengths) {
      const tokens = randomTokens(n, seed(n));
      const cold = coldForward(model, tokens);
      const s = await storePrefix(kvA, model, tokens, cold.cache);
      expect(s.stored).toBe(Math.floor(n / CHUNK));
      stored.push(s.stored);
      chunksBefore.push(await kvA.mslice(s.keys, 0, CHUNK));
      const w = await warmPrefill(kvA, model, tokens);
      expect(w.reusedTokens).toBe(s.stored * CHUNK);
      expect(sameBits(w.logits, cold.logits)).toBe(true);
    }
    const keys = await kvA.redis.dbsize();
    expect(keys).toBe(stored.reduce((x, y) => x + y, 0));

    // Gone before the signal: a client left open would reconnect to the stopped server and log errors.
    kvA.redis.disconnect();
    a.proc.kill('SIGTERM');
    expect(await exited(a)).toBe(0);
    expect(a.output()).toContain('Saving the final RDB snapshot before exiting.');
    expect(a.output()).toContain(`DB saved on disk (${keys} keys,`);

    const b = await start(port, dir);
    expect(await logged(b, 'DB loaded from disk')).toContain('DB loaded from disk');
    const kvB = new KvTensorClient(b.client());
    expect(await kvB.redis.dbsize()).toBe(keys);
    // What an engine restarted next to kvslab has: a new model of the same seed, the same prompts.
    const again = new Transformer();
    expect(again.fingerprint()).toBe(model.fingerprint());
    for (const [i, n] of lengths.entries()) {
      const tokens = randomTokens(n, seed(n));
      const ks = chunkKeys(again, tokens);
      expect(await kvB.prefix(ks)).toBe(stored[i]);
      // Each chunk's bytes as they were before the restart.
      const chunks = await kvB.mslice(ks, 0, CHUNK);
      expect(chunks.length).toBe(stored[i]);
      chunks.forEach((c, j) => expect(c.equals(chunksBefore[i][j])).toBe(true));
      const w = await warmPrefill(kvB, again, tokens);
      expect(w.hits).toBe(stored[i]);
      expect(w.reusedTokens).toBe(stored[i] * CHUNK);
      expect(w.computedTokens).toBe(n - stored[i] * CHUNK);
      const cold = coldForward(again, tokens);
      expect(sameBits(w.logits, cold.logits)).toBe(true);
      expect(sameBits(w.cache.chunk(0, n), cold.cache.chunk(0, n))).toBe(true);
    }
    // The keys hash the model's weights: another seed finds nothing of this dump.
    const other = new Transformer({ ...DEFAULT_CONFIG, seed: DEFAULT_CONFIG.seed + 1 });
    expect(await kvB.prefix(chunkKeys(other, randomTokens(lengths[0], seed(lengths[0]))))).toBe(0);
  });
});
