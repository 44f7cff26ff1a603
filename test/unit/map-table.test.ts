// The Map-backed KeyTable: handles, slot reuse, TTL bookkeeping, exact int64
// expiry, and the two properties the rest of the server relies on: SCAN
// returns every entry present for the whole scan even while entries come and
// go (and the table compacts), and random sampling stays fast after mass deletes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MapKeyTable } from '../../src/store/map-table.js';

const STRING = 0;
const k = (s: string | number) => Buffer.from(String(s));

function fill(t: MapKeyTable, n: number, prefix = 'k'): void {
  for (let i = 0; i < n; i++) t.insert(k(`${prefix}${i}`), STRING, k(`v${i}`), 0, 1);
}

/** A full scan from cursor 0; returns the keys visited (with repeats). */
function fullScan(t: MapKeyTable, between: () => void = () => {}): string[] {
  const seen: string[] = [];
  let cursor = 0;
  do {
    cursor = t.scan(cursor, (h) => seen.push(t.key(h).toString()));
    between();
  } while (cursor !== 0);
  return seen;
}

describe('MapKeyTable basics', () => {
  it('stores binary keys and values, copying the bytes', () => {
    const t = new MapKeyTable();
    const key = Buffer.from([0, 0xff, 0x0d, 0x0a]);
    const val = Buffer.from([1, 2, 3]);
    const h = t.insert(key, STRING, val, 0, 1000);
    val[0] = 9;
    key[0] = 9;
    expect(t.find(Buffer.from([0, 0xff, 0x0d, 0x0a]))).toBe(h);
    expect(t.value(h)).toEqual(Buffer.from([1, 2, 3]));
    expect(t.find(key)).toBe(-1);
    expect(t.size).toBe(1);
    expect(t.accessTime(h)).toBe(1000);
  });

  it('reuses freed slots and keeps other handles stable across removals', () => {
    const t = new MapKeyTable();
    fill(t, 10);
    const h3 = t.find(k('k3'));
    const h7 = t.find(k('k7'));
    t.remove(h3);
    expect(t.find(k('k7'))).toBe(h7);
    expect(t.key(h7).toString()).toBe('k7');
    const hn = t.insert(k('new'), STRING, k('x'), 0, 1);
    expect(hn).toBe(h3);
    expect(t.slotCount).toBe(10);
    // Removing the top trims the array.
    t.remove(t.find(k('k9')));
    expect(t.slotCount).toBe(9);
  });

  it('replace keeps expiry; rename keeps value, expiry and slot', () => {
    const t = new MapKeyTable();
    const h = t.insert(k('a'), STRING, k('1'), 5000, 1);
    const h2 = t.replace(h, STRING, k('22'), 2);
    expect(t.expireAt(h2)).toBe(5000);
    expect(t.value(h2).toString()).toBe('22');
    const h3 = t.rename(h2, k('b'));
    expect(t.find(k('a'))).toBe(-1);
    expect(t.find(k('b'))).toBe(h3);
    expect(t.value(h3).toString()).toBe('22');
    expect(t.expireAt(h3)).toBe(5000);
    expect(t.volatileSize).toBe(1);
  });

  it('accounts bytes and returns to zero', () => {
    const t = new MapKeyTable();
    fill(t, 100);
    expect(t.usedBytes).toBeGreaterThan(100 * 4);
    const h = t.find(k('k1'));
    const before = t.usedBytes;
    t.rename(h, k('longer-name'));
    expect(t.usedBytes).toBe(before + 'longer-name'.length - 2);
    for (let i = 0; i < 100; i++) t.remove(t.find(k(i === 1 ? 'longer-name' : `k${i}`)));
    expect(t.usedBytes).toBe(0);
    expect(t.size).toBe(0);
    expect(t.slotCount).toBe(0);
  });

  it('clear empties everything', () => {
    const t = new MapKeyTable();
    fill(t, 50);
    t.setExpireAt(t.find(k('k1')), 99);
    t.clear();
    expect([t.size, t.volatileSize, t.usedBytes, t.slotCount]).toEqual([0, 0, 0, 0]);
    expect(t.find(k('k1'))).toBe(-1);
    expect(t.randomEntry()).toBe(-1);
    expect(fullScan(t)).toEqual([]);
  });
});

describe('MapKeyTable expiry bookkeeping', () => {
  it('tracks keys with a TTL densely', () => {
    const t = new MapKeyTable();
    fill(t, 20);
    for (let i = 0; i < 20; i += 2) t.setExpireAt(t.find(k(`k${i}`)), 1000 + i);
    expect(t.volatileSize).toBe(10);
    t.setExpireAt(t.find(k('k0')), 0);
    t.remove(t.find(k('k2')));
    t.remove(t.find(k('k3')));
    expect(t.volatileSize).toBe(8);
    const names = new Set<string>();
    for (let i = 0; i < t.volatileSize; i++) names.add(t.key(t.volatileAt(i)).toString());
    expect([...names].sort()).toEqual(['k10', 'k12', 'k14', 'k16', 'k18', 'k4', 'k6', 'k8']);
    for (let i = 0; i < 50; i++) expect(t.expireAt(t.randomVolatile())).toBeGreaterThan(0);
  });

  it('keeps int64 expiry times exactly', () => {
    const t = new MapKeyTable();
    const h = t.insert(k('a'), STRING, k('1'), 0, 1);
    t.setExpireAtExact(h, 9223372036854775807n);
    expect(t.expireAtExact(h)).toBe(9223372036854775807n);
    expect(t.expireAt(h)).toBe(9223372036854775807);
    t.setExpireAtExact(h, 1700000000123n);
    expect(t.expireAtExact(h)).toBe(1700000000123n);
    expect(t.expireAt(h)).toBe(1700000000123);
    t.setExpireAt(h, 0);
    expect(t.expireAtExact(h)).toBe(0n);
    expect(t.volatileSize).toBe(0);
  });
});

describe('MapKeyTable sampling after mass deletes', () => {
  it('randomEntry stays fast and correct when the survivors sit at the top', () => {
    const t = new MapKeyTable();
    const n = 100_000;
    fill(t, n);
    // Keep only the last 10 slots' keys: the array is all holes below them.
    for (let i = 0; i < n - 10; i++) t.remove(t.find(k(`k${i}`)));
    expect(t.size).toBe(10);
    const start = performance.now();
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(t.key(t.randomEntry()).toString());
    expect(performance.now() - start).toBeLessThan(2000);
    expect(seen.size).toBe(10);
    for (const s of seen) expect(Number(s.slice(1))).toBeGreaterThanOrEqual(n - 10);
    // Compaction moved the survivors down.
    expect(t.slotCount).toBeLessThanOrEqual(2 * 64);
  });

  it('compactStep shrinks the slot array a bounded amount at a time', () => {
    const t = new MapKeyTable();
    fill(t, 10_000);
    for (let i = 0; i < 9_900; i++) t.remove(t.find(k(`k${i}`)));
    expect(t.slotCount).toBe(10_000);
    expect(t.compactStep(10)).toBe(true);
    expect(t.slotCount).toBe(9_990);
    while (t.compactStep(1000));
    expect(t.slotCount).toBeLessThanOrEqual(200);
    // Every survivor is still found under its key, with its value.
    for (let i = 9_900; i < 10_000; i++) expect(t.value(t.find(k(`k${i}`))).toString()).toBe(`v${i}`);
  });
});

describe('MapKeyTable SCAN guarantee', () => {
  it('visits every entry exactly once when nothing changes', () => {
    const t = new MapKeyTable();
    fill(t, 1000);
    const seen = fullScan(t);
    expect(seen.length).toBe(1000);
    expect(new Set(seen).size).toBe(1000);
  });

  it('visits every entry present for the whole scan while others come and go', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.tuple(fc.constantFrom('add', 'del', 'massdel'), fc.nat()), { maxLength: 400 }),
        (stableCount, churnCount, ops) => {
          const t = new MapKeyTable();
          // Interleave stable and churning keys so holes appear everywhere.
          for (let i = 0; i < Math.max(stableCount, churnCount); i++) {
            if (i < stableCount) t.insert(k(`s${i}`), STRING, k('v'), 0, 1);
            if (i < churnCount) t.insert(k(`c${i}`), STRING, k('v'), 0, 1);
          }
          const churn = new Set<string>();
          for (let i = 0; i < churnCount; i++) churn.add(`c${i}`);
          let next = churnCount;
          let op = 0;
          const seen = fullScan(t, () => {
            // Between steps, a few changes to non-stable keys.
            for (let j = 0; j < 3 && op < ops.length; j++, op++) {
              const [kind, n] = ops[op];
              if (kind === 'add') {
                const name = `c${next++}`;
                t.insert(k(name), STRING, k('v'), 0, 1);
                churn.add(name);
              } else if (churn.size > 0) {
                const names = [...churn];
                const victims = kind === 'massdel' ? names.slice(0, Math.ceil(names.length * 0.8)) : [names[n % names.length]];
                for (const name of victims) {
                  t.remove(t.find(k(name)));
                  churn.delete(name);
                }
                // Sampling compacts the table mid-scan.
                t.randomEntry();
              }
            }
          });
          const seenSet = new Set(seen);
          for (let i = 0; i < stableCount; i++) if (!seenSet.has(`s${i}`)) return false;
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });
});
