// A database's index over the keyspace (src/store/key-index.ts): the chained
// hash table in typed arrays, its incremental rehash (inserts, lookups and the
// cron each move buckets), the reverse-binary SCAN cursor that must return
// every key present for a whole scan while the table grows and shrinks
// between steps, random picks, and keys of every shape (binary, empty, long).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keyspace } from '../../src/store/keyspace.js';
import { KeyIndex } from '../../src/store/key-index.js';
import { createPolicy } from '../../src/store/eviction/registry.js';

const KB = 1024;

function makeTable(pageSize = 64 * KB): { ks: Keyspace; t: KeyIndex; now: number } {
  const now = Date.now();
  const ks = new Keyspace(pageSize, 1.25, { mayGrow: () => true, evicting: () => {}, now: () => now });
  const t = new KeyIndex(ks, 0);
  ks.tables.push(t);
  ks.setPolicy(createPolicy('noeviction', ks, { samples: 5 }));
  return { ks, t, now };
}

const kb = (s: string) => Buffer.from(s, 'latin1');

function insert(ks: Keyspace, t: KeyIndex, key: string, value = 'v', expireAt = 0): number {
  const h = t.insert(kb(key), 0, kb(value), expireAt, Date.now());
  ks.pins.unpinAll();
  return h;
}

function remove(ks: Keyspace, t: KeyIndex, key: string): void {
  const h = t.find(kb(key));
  expect(h).toBeGreaterThan(0);
  t.remove(h);
  ks.pins.unpinAll();
}

/** Keys visited by one scan step, read at once (the visitor must not write). */
function scanStep(t: KeyIndex, cursor: number, live: Set<string>, seen: Set<string>): number {
  return t.scan(cursor, (h) => {
    const k = t.key(h).toString('latin1');
    if (!live.has(k)) throw new Error(`SCAN visited ${JSON.stringify(k)}, which is not in the table`);
    seen.add(k);
  });
}

/** Chain lengths of every bucket, by SCAN (one bucket per step when no rehash runs). */
function chainLengths(t: KeyIndex): number[] {
  expect(t.rehashing).toBe(false);
  const out: number[] = [];
  let cursor = 0;
  do {
    let n = 0;
    cursor = t.scan(cursor, () => { n++; });
    out.push(n);
  } while (cursor !== 0);
  expect(out.length).toBe(t.buckets);
  return out;
}

describe('growth', () => {
  it('a bulk insert of 100k keys with no lookups keeps the table at one key per bucket (inserts advance the rehash)', () => {
    const { ks, t } = makeTable();
    const value = kb('x');
    let maxLoad = 0;
    let rehashes = 0;
    let wasRehashing = false;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      t.insert(kb('key:' + i), 0, value, 0, 0);
      if (i % 64 === 0) ks.pins.unpinAll();
      // While growing, the new array is twice the old: two thirds of all buckets.
      const newest = t.rehashing ? (t.buckets * 2) / 3 : t.buckets;
      maxLoad = Math.max(maxLoad, t.size / newest);
      if (t.rehashing && !wasRehashing) rehashes++;
      wasRehashing = t.rehashing;
    }
    ks.pins.unpinAll();
    expect(t.size).toBe(n);
    expect(maxLoad).toBeLessThanOrEqual(1);
    expect(rehashes).toBeGreaterThanOrEqual(14); // 4 -> 131072 buckets
    // The running rehash ends within as many more inserts as the old array has buckets.
    let more = 0;
    while (t.rehashing) {
      t.insert(kb('more:' + more++), 0, value, 0, 0);
      if (more % 64 === 0) ks.pins.unpinAll();
      expect(more).toBeLessThanOrEqual(65536);
    }
    ks.pins.unpinAll();
    expect(t.buckets).toBeGreaterThanOrEqual(t.size);
    const chains = chainLengths(t);
    const nonEmpty = chains.filter((c) => c > 0);
    expect(chains.reduce((a, b) => Math.max(a, b), 0)).toBeLessThanOrEqual(16);
    expect(t.size / nonEmpty.length).toBeLessThan(2);
    expect(chains.reduce((a, b) => a + b, 0)).toBe(t.size);
  });

  it('lookups alone finish a running rehash', () => {
    const { ks, t } = makeTable();
    let i = 0;
    while (!t.rehashing || t.size < 1000) insert(ks, t, 'k' + i++);
    const buckets = t.buckets;
    let finds = 0;
    while (t.rehashing) {
      expect(t.find(kb('k' + (finds % i)))).toBeGreaterThan(0);
      finds++;
      expect(finds).toBeLessThanOrEqual(buckets);
    }
    for (let j = 0; j < i; j++) expect(t.find(kb('k' + j))).toBeGreaterThan(0);
  });

  it('the cron shrinks a mostly empty table to the smallest power of two holding its keys', () => {
    const { ks, t } = makeTable();
    for (let i = 0; i < 5000; i++) insert(ks, t, 'k' + i);
    while (t.maintain(1));
    const big = t.buckets;
    expect(big).toBeGreaterThanOrEqual(5000);
    for (let i = 0; i < 4950; i++) remove(ks, t, 'k' + i);
    expect(t.maintain(0) || t.buckets < big).toBe(true);
    while (t.maintain(1));
    expect(t.rehashing).toBe(false);
    expect(t.buckets).toBe(64);
    expect(ks.indexBytes).toBe(t.bucketBytes + t.volatileBytes);
    for (let i = 4950; i < 5000; i++) expect(t.find(kb('k' + i))).toBeGreaterThan(0);
    // An empty table shrinks to the minimum.
    for (let i = 4950; i < 5000; i++) remove(ks, t, 'k' + i);
    while (t.maintain(1));
    expect(t.buckets).toBe(4);
    expect(t.find(kb('k4999'))).toBe(-1);
  });
});

describe('SCAN', () => {
  it('returns every key present for the whole scan while the table grows, then shrinks, between steps', () => {
    const { ks, t } = makeTable();
    const live = new Set<string>();
    const stable: string[] = [];
    for (let i = 0; i < 100; i++) {
      insert(ks, t, 's' + i);
      live.add('s' + i);
      stable.push('s' + i);
    }
    while (t.maintain(1));
    const seen = new Set<string>();
    let cursor = 0;
    let step = 0;
    let next = 0;
    const bucketsSeen: number[] = [];
    let grewWhileScanning = false;
    let shrankWhileScanning = false;
    do {
      cursor = scanStep(t, cursor, live, seen);
      step++;
      const before = t.buckets;
      if (step <= 6) {
        // Grow: a few thousand transient keys per step, the rehash running across steps.
        for (let i = 0; i < 1500; i++) {
          insert(ks, t, 't' + next);
          live.add('t' + next++);
        }
      } else if (step === 7) {
        for (const k of [...live]) {
          if (k.startsWith('t')) {
            remove(ks, t, k);
            live.delete(k);
          }
        }
      } else {
        // The cron's shrink, a batch at a time.
        t.maintain(0);
      }
      if (t.buckets > before) grewWhileScanning = true;
      if (t.buckets < before) shrankWhileScanning = true;
      bucketsSeen.push(t.buckets);
      expect(step).toBeLessThan(100000);
    } while (cursor !== 0);
    expect(grewWhileScanning, `buckets during the scan: ${bucketsSeen.slice(0, 20).join(' ')}`).toBe(true);
    expect(shrankWhileScanning).toBe(true);
    for (const k of stable) expect(seen.has(k), `stable key ${k} missed`).toBe(true);
  });

  it('property: random inserts, deletes, lookups and cron slices between steps never hide a key present throughout', () => {
    type Op = { kind: 'insert' | 'delete' | 'find'; n: number } | { kind: 'maintain' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constantFrom('insert' as const, 'delete' as const, 'find' as const), n: fc.integer({ min: 1, max: 400 }) }),
      fc.record({ kind: fc.constant('maintain' as const) }),
    );
    fc.assert(fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 2000 }), fc.array(opArb, { maxLength: 80 }), (nStable, nTransient, ops) => {
      const { ks, t } = makeTable();
      const live = new Set<string>();
      const transient: string[] = [];
      let next = 0;
      for (let i = 0; i < nStable; i++) {
        insert(ks, t, 's' + i);
        live.add('s' + i);
      }
      for (let i = 0; i < nTransient; i++) {
        insert(ks, t, 't' + next);
        live.add('t' + next);
        transient.push('t' + next++);
      }
      const seen = new Set<string>();
      let cursor = 0;
      let i = 0;
      let steps = 0;
      do {
        cursor = scanStep(t, cursor, live, seen);
        if (++steps > 1 << 20) throw new Error('SCAN does not end');
        const op = ops[i++];
        if (op === undefined) continue;
        if (op.kind === 'insert') {
          for (let j = 0; j < op.n; j++) {
            insert(ks, t, 't' + next);
            live.add('t' + next);
            transient.push('t' + next++);
          }
        } else if (op.kind === 'delete') {
          for (let j = 0; j < op.n && transient.length > 0; j++) {
            const k = transient.splice((j * 7919) % transient.length, 1)[0];
            remove(ks, t, k);
            live.delete(k);
          }
        } else if (op.kind === 'find') {
          for (let j = 0; j < op.n; j++) t.find(kb('s' + (j % Math.max(1, nStable))));
        } else {
          t.maintain(0);
        }
      } while (cursor !== 0);
      for (let j = 0; j < nStable; j++) if (!seen.has('s' + j)) throw new Error(`stable key s${j} missed`);
      expect(t.size).toBe(live.size);
    }), { numRuns: 150 });
  });

  it('a scan of an unchanging table visits each key exactly once', () => {
    const { ks, t } = makeTable();
    for (let i = 0; i < 3000; i++) insert(ks, t, 'k' + i);
    for (const state of ['rehashing', 'settled']) {
      if (state === 'settled') while (t.maintain(1));
      else expect(t.rehashing).toBe(true);
      const counts = new Map<string, number>();
      let cursor = 0;
      do {
        cursor = t.scan(cursor, (h) => {
          const k = t.key(h).toString();
          counts.set(k, (counts.get(k) ?? 0) + 1);
        });
      } while (cursor !== 0);
      expect(counts.size, state).toBe(3000);
      expect([...counts.values()].every((c) => c === 1), state).toBe(true);
    }
  });

  it('an empty table scans to 0 at once', () => {
    const { t } = makeTable();
    let visited = 0;
    expect(t.scan(0, () => { visited++; })).toBe(0);
    expect(visited).toBe(0);
  });
});

describe('random picks', () => {
  it('randomEntry returns only live entries, while a rehash runs and after deletes, and reaches every key', () => {
    const { ks, t } = makeTable();
    expect(t.randomEntry()).toBe(-1);
    const live = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      insert(ks, t, 'k' + i);
      live.add('k' + i);
    }
    for (let i = 0; i < 2000; i += 3) {
      remove(ks, t, 'k' + i);
      live.delete('k' + i);
    }
    for (let round = 0; round < 3; round++) {
      for (let j = 0; j < 3000; j++) {
        const h = t.randomEntry();
        expect(ks.slabs.isLive(h)).toBe(true);
        const k = t.key(h).toString();
        expect(live.has(k), k).toBe(true);
        expect(t.find(kb(k))).toBe(h);
      }
      // Shrink a bit, then run the cron partway.
      for (const k of [...live].slice(0, 400)) {
        remove(ks, t, k);
        live.delete(k);
      }
      t.maintain(0);
    }
    // A small table: every key is picked sooner or later.
    const small = makeTable();
    for (let i = 0; i < 10; i++) insert(small.ks, small.t, 'x' + i);
    const picked = new Set<string>();
    for (let j = 0; j < 2000 && picked.size < 10; j++) picked.add(small.t.key(small.t.randomEntry()).toString());
    expect(picked.size).toBe(10);
  });

  it('randomVolatile, volatileAt and sample return only live entries (volatile ones when asked)', () => {
    const { ks, t, now } = makeTable();
    expect(t.randomVolatile()).toBe(-1);
    for (let i = 0; i < 500; i++) insert(ks, t, 'k' + i, 'v', i % 3 === 0 ? now + 1000 + i : 0);
    for (let i = 0; i < 500; i += 2) remove(ks, t, 'k' + i);
    const expectedVolatile = [...Array(500).keys()].filter((i) => i % 3 === 0 && i % 2 === 1).length;
    expect(t.volatileSize).toBe(expectedVolatile);
    const vol = new Set<number>();
    for (let i = 0; i < t.volatileSize; i++) {
      const h = t.volatileAt(i);
      expect(t.expireAt(h)).not.toBe(0);
      expect(t.find(t.key(h))).toBe(h);
      vol.add(h);
    }
    expect(vol.size).toBe(t.volatileSize);
    for (let j = 0; j < 500; j++) expect(vol.has(t.randomVolatile())).toBe(true);
    for (const volatileOnly of [false, true]) {
      const out: number[] = [];
      for (let j = 0; j < 200; j++) t.sample(5, volatileOnly, out);
      expect(out.length).toBeGreaterThan(0);
      for (const h of out) {
        expect(ks.slabs.isLive(h)).toBe(true);
        expect(t.find(t.key(h))).toBe(h);
        if (volatileOnly) expect(t.expireAt(h)).not.toBe(0);
      }
    }
  });
});

describe('keys', () => {
  it('binary keys with zero bytes, the empty key, prefixes and keys longer than 254 bytes are told apart', () => {
    const { ks, t } = makeTable();
    const keys = [
      Buffer.alloc(0),
      Buffer.from([0]),
      Buffer.from([0, 0]),
      Buffer.from([0, 0, 1, 0]),
      Buffer.from([0, 0, 1, 0, 0]),
      Buffer.from('a'),
      Buffer.from('a\0'),
      Buffer.from('abcdefghijklmnop'), // 16 bytes: compared byte by byte
      Buffer.from('abcdefghijklmnoq'),
      Buffer.from('abcdefghijklmnopq'), // 17: compared with Buffer.compare
      Buffer.from('abcdefghijklmnopr'),
      Buffer.alloc(254, 0x41),
      Buffer.alloc(255, 0x41),
      Buffer.alloc(256, 0x41),
      Buffer.concat([Buffer.alloc(299, 0x41), Buffer.from([0])]),
      Buffer.concat([Buffer.alloc(299, 0x41), Buffer.from([1])]),
      Buffer.alloc(5000, 0),
      Buffer.alloc(20000, 0xff),
    ];
    const handles = keys.map((k, i) => {
      expect(t.find(k)).toBe(-1);
      const h = t.insert(k, 0, Buffer.from('value ' + i), 0, 0);
      ks.pins.unpinAll();
      return h;
    });
    keys.forEach((k, i) => {
      const h = t.find(k);
      expect(h, `key ${i}`).toBe(handles[i]);
      expect(t.key(h).equals(k), `key ${i}`).toBe(true);
      expect(t.value(h).toString()).toBe('value ' + i);
    });
    const seen: Buffer[] = [];
    let cursor = 0;
    do cursor = t.scan(cursor, (h) => seen.push(Buffer.from(t.key(h))));
    while (cursor !== 0);
    expect(seen.length).toBe(keys.length);
    for (const k of keys) expect(seen.some((s) => s.equals(k))).toBe(true);
    // A TTL (the EXT fields shift the key) and a rename keep long and binary keys intact.
    const expiries = keys.map((_, i) => 1_900_000_000_000 + i);
    keys.forEach((k, i) => {
      let h = t.find(k);
      ks.pins.pin(h);
      h = t.setExpireAt(h, expiries[i]);
      ks.pins.unpinAll();
      expect(t.find(k)).toBe(h);
      expect(t.key(h).equals(k)).toBe(true);
      expect(t.value(h).toString()).toBe('value ' + i);
    });
    expect(t.volatileSize).toBe(keys.length);
    const renamed = keys.map((k) => Buffer.concat([k, Buffer.from([0])]));
    keys.forEach((k, i) => {
      if (keys.some((o) => o.equals(renamed[i]))) return; // would collide with another key
      const h = t.find(k);
      ks.pins.pin(h);
      const nh = t.rename(h, renamed[i]);
      ks.pins.unpinAll();
      expect(t.find(k)).toBe(-1);
      expect(t.find(renamed[i])).toBe(nh);
      expect(t.value(nh).toString()).toBe('value ' + i);
      expect(t.expireAt(nh)).toBe(expiries[i]);
      expect(t.volatileAt(ks.items.vpos(nh))).toBe(nh);
    });
    expect(ks.slabs.check()).toBeNull();
  });

  it('property: arbitrary binary keys round-trip through insert, find, scan and remove', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.uint8Array({ maxLength: 300 }), {
      selector: (a) => Buffer.from(a).toString('latin1'), minLength: 1, maxLength: 80,
    }), (arrays) => {
      const { ks, t } = makeTable();
      const keys = arrays.map((a) => Buffer.from(a));
      keys.forEach((k, i) => t.insert(k, 0, Buffer.from([i & 255]), 0, 0));
      ks.pins.unpinAll();
      keys.forEach((k, i) => {
        const h = t.find(k);
        expect(h).toBeGreaterThan(0);
        expect(t.key(h).equals(k)).toBe(true);
        expect(t.value(h)[0]).toBe(i & 255);
      });
      const seen = new Set<string>();
      let cursor = 0;
      do cursor = t.scan(cursor, (h) => seen.add(t.key(h).toString('latin1')));
      while (cursor !== 0);
      expect(seen.size).toBe(keys.length);
      keys.forEach((k, i) => {
        if (i % 2 === 0) t.remove(t.find(k));
      });
      keys.forEach((k, i) => expect(t.find(k) >= 0).toBe(i % 2 === 1));
      expect(t.size).toBe(Math.floor(keys.length / 2));
      expect(ks.slabs.check()).toBeNull();
    }), { numRuns: 100 });
  });

  it('entryBytes counts the chunk, the bucket slot, a large block and the TTL slot', () => {
    const { ks, t, now } = makeTable();
    const small = t.insert(kb('a'), 0, kb('b'), 0, 0);
    expect(t.entryBytes(small)).toBe(ks.slabs.chunkSize(small) + 4);
    const big = t.insert(kb('big'), 0, Buffer.alloc(100000), now + 1000, 0);
    expect(t.entryBytes(big)).toBe(ks.slabs.chunkSize(big) + 4 + 100000 + 4);
  });
});

describe('insertAbsent and prefetch (loading a dump)', () => {
  it('adds a key given as a span of a bigger buffer unless it is there, while the table grows and rehashes', () => {
    const { ks, t } = makeTable();
    const n = 20_000;
    // Keys packed one after another, as in a reader's window.
    const packed = kb(Array.from({ length: n }, (_, i) => `key:${String(i).padStart(6, '0')}`).join(''));
    const at = (i: number) => i * 10;
    let rehashed = false;
    for (let i = 0; i < n; i++) {
      const h = t.insertAbsent(packed, at(i), at(i) + 10, 0, kb('v' + i), 0n, 0);
      expect(h).toBeGreaterThan(0);
      rehashed ||= t.rehashing;
      // Every key added so far is found again, from another copy of its bytes, in either array.
      if (i % 97 === 0) {
        for (let j = 0; j <= i; j += 13) expect(t.insertAbsent(kb(`  key:${String(j).padStart(6, '0')}`), 2, 12, 0, 7, 0n, 0)).toBe(-1);
      }
      ks.pins.unpinAll();
    }
    expect(rehashed).toBe(true);
    expect(t.size).toBe(n);
    for (let i = 0; i < n; i += 101) {
      const h = t.find(packed.subarray(at(i), at(i) + 10));
      expect(t.value(h).toString()).toBe('v' + i);
    }
    expect(ks.slabs.check()).toBeNull();
  });

  it('a value left to write (a length), and an exact expiry with its TTL array entry', () => {
    const { ks, t } = makeTable();
    const at = (1n << 60n) + 3n;
    const h = t.insertAbsent(kb('xxkeyxx'), 2, 5, 0, 5, at, 0);
    const s = t.writableSpan(h);
    s.buf.write('hello', s.start, 'latin1');
    ks.pins.unpinAll();
    const f = t.find(kb('key'));
    expect(f).toBe(h);
    expect(t.value(f).toString()).toBe('hello');
    expect(t.expireAtExact(f)).toBe(at);
    expect(t.volatileSize).toBe(1);
    expect(t.volatileAt(0)).toBe(f);
  });

  it('prefetch changes nothing, empty, full or while rehashing', () => {
    const { ks, t } = makeTable();
    const keys = kb('abcdefgh');
    const starts = Uint32Array.from([0, 2, 4, 6]);
    const ends = Uint32Array.from([2, 4, 6, 8]);
    t.prefetch(keys, starts, ends, 4);
    expect(t.size).toBe(0);
    for (let i = 0; !t.rehashing || i < 100; i++) insert(ks, t, 'k' + i);
    const before: number[] = [];
    let cursor = 0;
    do cursor = t.scan(cursor, (h) => before.push(h));
    while (cursor !== 0);
    t.prefetch(keys, starts, ends, 4);
    t.prefetch(kb('k1k2k3'), Uint32Array.from([0, 2, 4]), Uint32Array.from([2, 4, 6]), 3);
    const after: number[] = [];
    do cursor = t.scan(cursor, (h) => after.push(h));
    while (cursor !== 0);
    expect(after).toEqual(before);
    expect(t.rehashing).toBe(true);
  });
});
