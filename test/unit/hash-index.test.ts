// The byte-keyed hash index against a Map model: random inserts, replaces and
// deletes (with the backward-shift deletion and both resize directions), and
// binary keys that differ only in one byte or in length.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashIndex } from '../../src/store/hash-index.js';

interface E { key: Buffer; v: number }

const keyArb = fc.oneof(
  fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a)),
  fc.integer({ min: 0, max: 300 }).map((i) => Buffer.from(`key:${i}`)),
  fc.integer({ min: 0, max: 40 }).map((i) => Buffer.alloc(33 + i, i)), // longer than the JS compare path
);

describe('HashIndex', () => {
  it('behaves like a Map keyed by bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('set', 'del', 'get'), keyArb, fc.integer()), { maxLength: 600 }), (ops) => {
        const idx = new HashIndex<E>((e) => e.key);
        const model = new Map<string, E>();
        for (const [op, key, v] of ops) {
          const k = key.toString('latin1');
          if (op === 'set') {
            const e = { key: Buffer.from(key), v };
            idx.set(e.key, e);
            model.set(k, e);
          } else if (op === 'del') {
            expect(idx.delete(key)).toBe(model.delete(k));
          } else {
            expect(idx.get(key)).toBe(model.get(k));
          }
          expect(idx.size).toBe(model.size);
        }
        for (const [k, e] of model) expect(idx.get(Buffer.from(k, 'latin1'))).toBe(e);
      }),
      { numRuns: 300 },
    );
  });

  it('grows and shrinks through many keys without losing any', () => {
    const idx = new HashIndex<E>((e) => e.key);
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const e = { key: Buffer.from(`k${i}`), v: i };
      idx.set(e.key, e);
    }
    expect(idx.size).toBe(n);
    for (let i = 0; i < n; i += 2) expect(idx.delete(Buffer.from(`k${i}`))).toBe(true);
    for (let i = 0; i < n; i++) expect(idx.get(Buffer.from(`k${i}`))?.v).toBe(i % 2 ? i : undefined);
    for (let i = 1; i < n; i += 2) idx.delete(Buffer.from(`k${i}`));
    expect(idx.size).toBe(0);
    expect(idx.get(Buffer.from('k1'))).toBeUndefined();
  });
});
