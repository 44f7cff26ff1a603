// Property test of the KV.* commands against a model, through a real server:
// random sequences of whole and per-layer appends (with and without AT),
// truncations, renames and slices of random ranges, on tensors small enough to
// live in a chunk and big enough to need a large block, checked after every
// step against plain arrays of rows.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { startKvslab, RunningServer } from '../helpers/servers.js';

let srv: RunningServer;
let r: Redis;
beforeAll(async () => {
  srv = await startKvslab();
  r = srv.client();
});
afterAll(async () => {
  await srv.stop();
});

type Op =
  | { kind: 'append'; tokens: number; at: boolean }
  | { kind: 'appendLayer'; layer: number; tokens: number; at: boolean }
  | { kind: 'truncate'; length: number }
  | { kind: 'rename' }
  | { kind: 'slice'; start: number; end: number; layers: [number, number] | null };

/** The model: rows[kv][layer] = list of rows. */
class Model {
  rows: Buffer[][][];
  private next = 0;
  constructor(readonly kv: number, readonly layers: number, readonly rowBytes: number) {
    this.rows = Array.from({ length: kv }, () => Array.from({ length: layers }, () => []));
  }
  /** A fresh row with distinct bytes. */
  row(): Buffer {
    const b = Buffer.alloc(this.rowBytes);
    const id = this.next++;
    for (let i = 0; i < b.length; i++) b[i] = (id * 37 + i * 11) & 0xff;
    return b;
  }
  len(l: number): number { return this.rows[0][l].length; }
  committed(from = 0, to = this.layers): number {
    let m = Infinity;
    for (let l = from; l < to; l++) m = Math.min(m, this.len(l));
    return m;
  }
  slice(start: number, end: number, from: number, to: number): Buffer {
    const parts: Buffer[] = [];
    for (let k = 0; k < this.kv; k++) for (let l = from; l < to; l++) parts.push(...this.rows[k][l].slice(start, end));
    return Buffer.concat(parts);
  }
}

function opArb(layers: number): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), tokens: fc.integer({ min: 1, max: 40 }), at: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('appendLayer' as const), layer: fc.integer({ min: 0, max: layers - 1 }), tokens: fc.integer({ min: 1, max: 30 }), at: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), length: fc.integer({ min: 0, max: 120 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('rename' as const) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('slice' as const), start: fc.integer({ min: -150, max: 150 }), end: fc.integer({ min: -150, max: 200 }),
        layers: fc.option(fc.integer({ min: 0, max: layers - 1 }).chain((a) => fc.integer({ min: a + 1, max: layers }).map((b) => [a, b] as [number, number])), { nil: null }),
      }),
    },
  );
}

/** Resolves a slice range as the server does: negatives from the end, end clamped, empty when inverted. */
function resolve(start: number, end: number, len: number): [number, number] {
  if (start < 0) start = Math.max(0, len + start);
  if (end < 0) end = Math.max(0, len + end);
  end = Math.min(end, len);
  return [Math.min(start, end), end];
}

async function runOps(kv: number, layers: number, heads: number, headdim: number, ops: Op[]): Promise<void> {
  const m = new Model(kv, layers, heads * headdim * 2);
  let key = 'prop:a';
  await r.del('prop:a', 'prop:b');
  await r.call('KV.CREATE', key, 'DTYPE', 'float16', 'LAYERS', String(layers), 'HEADS', String(heads), 'HEADDIM', String(headdim), 'KV', String(kv));
  for (const op of ops) {
    if (op.kind === 'append') {
      const fresh = Array.from({ length: kv }, () => Array.from({ length: layers }, () => Array.from({ length: op.tokens }, () => m.row())));
      const payload = Buffer.concat(fresh.flat(2));
      const agree = m.committed() === Math.max(...Array.from({ length: layers }, (_, l) => m.len(l)));
      const args: string[] = op.at ? ['AT', String(m.len(0))] : [];
      if (!agree) {
        await expect(r.call('KV.APPEND', key, payload, ...args)).rejects.toThrow(/append by LAYER/);
        continue;
      }
      for (let k = 0; k < kv; k++) for (let l = 0; l < layers; l++) m.rows[k][l].push(...fresh[k][l]);
      expect(await r.call('KV.APPEND', key, payload, ...args)).toBe(m.committed());
    } else if (op.kind === 'appendLayer') {
      const fresh = Array.from({ length: kv }, () => Array.from({ length: op.tokens }, () => m.row()));
      const at = op.at ? ['AT', String(m.len(op.layer))] : [];
      for (let k = 0; k < kv; k++) m.rows[k][op.layer].push(...fresh[k]);
      expect(await r.call('KV.APPEND', key, Buffer.concat(fresh.flat()), 'LAYER', String(op.layer), ...at)).toBe(m.committed());
    } else if (op.kind === 'truncate') {
      for (let k = 0; k < kv; k++) for (let l = 0; l < layers; l++) m.rows[k][l].length = Math.min(m.rows[k][l].length, op.length);
      expect(await r.call('KV.TRUNCATE', key, String(op.length))).toBe(m.committed());
    } else if (op.kind === 'rename') {
      const to = key === 'prop:a' ? 'prop:b' : 'prop:a';
      await r.rename(key, to);
      key = to;
    } else {
      const [from, to] = op.layers ?? [0, layers];
      const [s, e] = resolve(op.start, op.end, m.committed(from, to));
      const args = op.layers ? ['LAYERS', String(from), String(to)] : [];
      const got = await r.callBuffer('KV.SLICE', key, String(op.start), String(op.end), ...args) as Buffer;
      expect(got.equals(m.slice(s, e, from, to))).toBe(true);
    }
  }
  // Finally every layer, whole.
  for (let l = 0; l < layers; l++) {
    const got = await r.callBuffer('KV.SLICE', key, '0', String(m.len(l)), 'LAYER', String(l)) as Buffer;
    expect(got.equals(m.slice(0, m.len(l), l, l + 1))).toBe(true);
  }
}

describe('KV.* against a model', () => {
  it('small tensors (inline in a chunk)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }).chain((layers) => fc.tuple(fc.constant(layers), fc.array(opArb(layers), { maxLength: 30 }))),
      async (kv, heads, [layers, ops]) => runOps(kv, layers, heads, 2, ops),
    ), { numRuns: 60, seed: 7 });
  }, 60_000);

  it('tensors in large blocks', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 3, max: 6 }).chain((layers) => fc.tuple(fc.constant(layers), fc.array(opArb(layers), { maxLength: 25 }))),
      async ([layers, ops]) => runOps(2, layers, 8, 64, ops),
    ), { numRuns: 25, seed: 11 });
  }, 120_000);
});
