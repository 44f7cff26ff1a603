// The eviction policies (src/store/eviction/*.ts) inside a keyspace: which
// item each one picks (ks.evictOne, or victim() directly), that the volatile
// ones never touch a key without a TTL and refuse (OutOfMemoryError) when no
// key has one, that nobody evicts a pinned item, and the particular orders of
// LRU, LFU, volatile-ttl, SIEVE and S3-FIFO.

import { describe, expect, it } from 'vitest';
import { Keyspace } from '../../src/store/keyspace.js';
import { OutOfMemoryError } from '../../src/store/errors.js';
import { KeyIndex } from '../../src/store/key-index.js';
import { createPolicy, POLICY_NAMES } from '../../src/store/eviction/registry.js';

const KB = 1024;
const VOLATILE = POLICY_NAMES.filter((p) => p.startsWith('volatile-'));
const EVICTING = POLICY_NAMES.filter((p) => p !== 'noeviction');

interface Store {
  ks: Keyspace;
  t: KeyIndex;
  clock: { now: number };
  evicted: { key: string; hadTtl: boolean; pinned: boolean }[];
  budget: number;
}

function makeStore(policy: string, o: { budget?: number; samples?: number; lfu?: { logFactor: number; decayMinutes: number } } = {}): Store {
  const budget = o.budget ?? 0;
  const clock = { now: Date.now() };
  const evicted: Store['evicted'] = [];
  const ks: Keyspace = new Keyspace(64 * KB, 1.25, {
    mayGrow: (bytes) => budget === 0 || ks.usedBytes + bytes <= budget,
    evicting: (_table, ref) => evicted.push({ key: t.key(ref).toString(), hadTtl: t.expireAt(ref) !== 0, pinned: ks.isPinned(ref) }),
    now: () => clock.now,
  });
  const t = new KeyIndex(ks, 0);
  ks.tables.push(t);
  ks.access.lfu = policy.endsWith('-lfu') ? (o.lfu ?? { logFactor: 10, decayMinutes: 1 }) : null;
  ks.setPolicy(createPolicy(policy, ks, { samples: o.samples ?? 5 }));
  if (budget > 0) ks.slabs.holdEmptyPages = true;
  return { ks, t, clock, evicted, budget };
}

const kb = (s: string) => Buffer.from(s);

function set(s: Store, key: string, size = 10, expireAt = 0): number {
  const h = s.t.insert(kb(key), 0, Buffer.alloc(size, key.length), expireAt, s.clock.now);
  s.ks.pins.unpinAll();
  return h;
}

function touch(s: Store, key: string): void {
  const h = s.t.find(kb(key));
  expect(h).toBeGreaterThan(0);
  s.t.touch(h, s.clock.now);
}

/** Evicts one item through the keyspace; the evicted key. */
function evict(s: Store): string {
  const n = s.evicted.length;
  expect(s.ks.evictOne()).toBe(true);
  expect(s.evicted.length).toBe(n + 1);
  return s.evicted[n].key;
}

function keysOfQueue(s: Store, main: boolean): string[] {
  const out: string[] = [];
  for (let r = main ? s.ks.queues.mainHead : s.ks.queues.head; r !== 0; r = s.ks.items.older(r)) out.push(s.t.key(r).toString());
  return out;
}

describe('volatile policies', () => {
  for (const policy of VOLATILE) {
    it(`${policy} never evicts a key without a TTL`, () => {
      const s = makeStore(policy, { budget: 400 * KB });
      const persistent: string[] = [];
      for (let i = 0; s.evicted.length < 300; i++) {
        const ttl = i % 3 !== 0;
        const key = 'k' + i;
        try {
          set(s, key, 200 + (i % 5) * 50, ttl ? s.clock.now + 100000 + i : 0);
        } catch (e) {
          // Only when no key with a TTL is left to evict.
          expect(e).toBeInstanceOf(OutOfMemoryError);
          expect(s.t.volatileSize).toBe(0);
          break;
        }
        if (!ttl) persistent.push(key);
        s.clock.now += 10;
      }
      expect(s.evicted.length).toBeGreaterThan(0);
      for (const e of s.evicted) expect(e.hadTtl, `${policy} evicted ${e.key}`).toBe(true);
      for (const k of persistent) expect(s.t.find(kb(k)), k).toBeGreaterThan(0);
      expect(s.ks.usedBytes).toBeLessThanOrEqual(s.budget + s.t.volatileBytes);
      expect(s.ks.slabs.check()).toBeNull();
    });

    it(`${policy} throws OutOfMemoryError when no key has a TTL, evicting nothing`, () => {
      const s = makeStore(policy, { budget: 300 * KB });
      let i = 0;
      let thrown: unknown = null;
      for (; i < 100000 && thrown === null; i++) {
        try {
          set(s, 'k' + i, 500);
        } catch (e) {
          thrown = e;
        }
      }
      expect(thrown).toBeInstanceOf(OutOfMemoryError);
      expect(s.evicted).toEqual([]);
      expect(s.ks.policy.victim()).toBe(0);
      expect(s.t.size).toBe(i - 1);
      expect(s.t.find(kb('k' + (i - 1)))).toBe(-1);
      expect(s.ks.itemCount).toBe(s.t.size);
      expect(s.ks.queues.count + s.ks.queues.mainCount).toBe(s.ks.itemCount);
      expect(s.ks.usedBytes).toBeLessThanOrEqual(s.budget);
      expect(s.ks.slabs.check()).toBeNull();
      // A key with a TTL can be evicted (and then only it).
      const ttlKey = 'k0';
      let h = s.t.find(kb(ttlKey));
      s.ks.pins.pin(h);
      h = s.t.setExpireAt(h, s.clock.now + 1000);
      s.ks.pins.unpinAll();
      expect(s.ks.policy.victim()).toBe(h);
    });
  }

  it('volatile-ttl evicts the nearest expiries first (exactly when sampling sees every key)', () => {
    const s = makeStore('volatile-ttl', { samples: 2000 });
    const order = [...Array(200).keys()].sort((a, b) => ((a * 7919) % 200) - ((b * 7919) % 200));
    for (const rank of order) set(s, 'r' + rank, 10, s.clock.now + 60000 + rank * 1000);
    for (let i = 0; i < 50; i++) set(s, 'p' + i, 10);
    const evicted = Array.from({ length: 20 }, () => evict(s));
    expect(evicted).toEqual([...Array(20).keys()].map((r) => 'r' + r));
  });

  it('volatile-ttl with 5 samples evicts mostly near expiries, and never a key without TTL', () => {
    const s = makeStore('volatile-ttl', { samples: 5 });
    const order = [...Array(400).keys()].sort((a, b) => ((a * 7919) % 400) - ((b * 7919) % 400));
    for (const rank of order) set(s, 'r' + rank, 10, s.clock.now + 60000 + rank * 1000);
    for (let i = 0; i < 100; i++) set(s, 'p' + i, 10);
    const ranks: number[] = [];
    for (let i = 0; i < 80; i++) {
      const k = evict(s);
      expect(k.startsWith('r'), k).toBe(true);
      ranks.push(Number(k.slice(1)));
    }
    const mean = ranks.reduce((a, b) => a + b, 0) / ranks.length;
    // Random choice would average about 200; the ideal is 39.5.
    expect(mean).toBeLessThan(110);
  });

  it('volatile-sieve with few TTL keys (sampled mode) evicts only those', () => {
    const s = makeStore('volatile-sieve');
    for (let i = 0; i < 400; i++) set(s, 'p' + i, 10);
    for (let i = 0; i < 20; i++) set(s, 't' + i, 10, s.clock.now + 100000);
    for (let i = 0; i < 20; i++) expect(evict(s).startsWith('t')).toBe(true);
    expect(s.ks.evictOne()).toBe(false);
    expect(s.t.size).toBe(400);
  });
});

describe('pins', () => {
  // Regression (allkeys-s3fifo, fixed): with a third of the items pinned, the
  // small queue ends up holding only pinned items (see the S3-FIFO test below).
  for (const policy of EVICTING) {
    it(`${policy} never picks a pinned item, and picks none when all are pinned`, () => {
      const s = makeStore(policy);
      const refs: number[] = [];
      for (let i = 0; i < 60; i++) refs.push(set(s, 'k' + i, 10 + i, s.clock.now + 100000 + i * 1000));
      for (const r of refs) s.t.touch(r, s.clock.now);
      while (s.t.maintain(1)); // (a running rehash hides keys from sampling: tested on its own)
      // A third pinned: victims are always unpinned, live items.
      for (let i = 0; i < 60; i += 3) s.ks.pins.pin(refs[i]);
      for (let round = 0; round < 200; round++) {
        const v = s.ks.policy.victim();
        expect(v).not.toBe(0);
        expect(s.ks.isPinned(v)).toBe(false);
        expect(s.t.find(s.t.key(v))).toBe(v);
      }
      // All pinned: nothing.
      for (let i = 0; i < 60; i++) if (i % 3 !== 0) s.ks.pins.pin(refs[i]);
      expect(s.ks.policy.victim()).toBe(0);
      expect(s.ks.evictOne()).toBe(false);
      // All but one pinned: that one, or nothing (sampling policies may give up).
      s.ks.pins.unpinAll();
      for (let i = 0; i < 59; i++) s.ks.pins.pin(refs[i]);
      for (let round = 0; round < 20; round++) expect([0, refs[59]]).toContain(s.ks.policy.victim());
      s.ks.pins.unpinAll();
      expect(s.ks.slabs.check()).toBeNull();
      expect(s.ks.queues.count + s.ks.queues.mainCount).toBe(60);
    });
  }
});

describe('LRU and LFU', () => {
  it('allkeys-lru evicts the key idle longest (sampling every key)', () => {
    const s = makeStore('allkeys-lru', { samples: 100 });
    for (let i = 0; i < 20; i++) {
      set(s, 'k' + i);
      s.clock.now += 1000;
    }
    touch(s, 'k0');
    s.clock.now += 1000;
    touch(s, 'k5');
    while (s.t.maintain(1)); // no rehash running: sampling sees every bucket (see the test below for a running one)
    const order = Array.from({ length: 20 }, () => evict(s));
    expect(order).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0, 5].map((i) => 'k' + i));
  });

  it('allkeys-lfu evicts the least frequently used key first', () => {
    const s = makeStore('allkeys-lfu', { samples: 100, lfu: { logFactor: 0, decayMinutes: 0 } });
    for (let i = 0; i < 10; i++) set(s, 'k' + i);
    // Key i read (9 - i) * 2 times: with lfu-log-factor 0 every read counts.
    for (let i = 0; i < 10; i++) for (let j = 0; j < (9 - i) * 2; j++) touch(s, 'k' + i);
    expect(s.t.lfuCounter(s.t.find(kb('k0')), s.clock.now)).toBe(5 + 18);
    while (s.t.maintain(1));
    const order = Array.from({ length: 10 }, () => evict(s));
    expect(order).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((i) => 'k' + i));
  });

  // Regression (fixed): KeyIndex.sample, while a rehash runs, samples one of the
  // two bucket arrays only (always the new one once half the old one has
  // moved), and removals do not advance the rehash. When the remaining keys
  // all sit in the other array, every round samples nothing and victim()
  // returns 0: evictOne fails (a write gets OOM) with keys present.
  it('allkeys-lru and allkeys-lfu can evict every key while a rehash is running', () => {
    const stuck: string[] = [];
    for (let n = 17; n <= 80; n++) {
      for (const policy of ['allkeys-lru', 'allkeys-lfu']) {
        const s = makeStore(policy);
        for (let i = 0; i < n; i++) set(s, 'k' + i);
        while (s.t.size > 0) {
          if (!s.ks.evictOne()) {
            stuck.push(`${policy}, ${n} keys: stuck with ${s.t.size} left (rehashing: ${s.t.rehashing})`);
            break;
          }
        }
      }
    }
    expect(stuck).toEqual([]);
  });

  // Regression (allkeys-lru and allkeys-lfu, fixed): a table that has just lost
  // most of its keys to eviction is sparse (16384 buckets, a hundred keys),
  // KeyIndex.sample looks at 50 consecutive buckets, and SampledPolicy
  // gives up after 16 empty rounds: the write gets OOM with keys left to evict.
  // (The volatile ones sample the dense TTL array; Redis keeps sampling while
  // keys remain.)
  for (const policy of ['allkeys-lru', 'allkeys-lfu', 'volatile-lru', 'volatile-lfu', 'volatile-ttl']) {
    it(`${policy} evicts down to the last keys when one value needs almost all the memory`, () => {
      const budget = 1024 * KB;
      const s = makeStore(policy, { budget });
      for (let i = 0; s.evicted.length === 0; i++) set(s, 'k' + i, 64, s.clock.now + 100000);
      const keys = s.t.size;
      expect(keys).toBeGreaterThan(5000);
      s.t.insert(kb('big'), 0, Buffer.alloc(Math.floor(budget * 0.9)), 0, s.clock.now);
      s.ks.pins.unpinAll();
      expect(s.t.find(kb('big'))).toBeGreaterThan(0);
      expect(s.evicted.length).toBeGreaterThan(keys * 0.9);
      expect(s.ks.usedBytes).toBeLessThanOrEqual(budget + s.t.volatileBytes);
    });
  }

  it('allkeys-random and volatile-random evict live keys from every part of the table', () => {
    for (const policy of ['allkeys-random', 'volatile-random']) {
      const s = makeStore(policy);
      for (let i = 0; i < 500; i++) set(s, 'k' + i, 10, s.clock.now + 10000);
      const evicted = new Set(Array.from({ length: 250 }, () => evict(s)));
      expect(evicted.size).toBe(250);
      const low = [...evicted].filter((k) => Number(k.slice(1)) < 250).length;
      expect(low).toBeGreaterThan(75);
      expect(low).toBeLessThan(175);
      expect(s.t.size).toBe(250);
    }
  });
});

describe('SIEVE', () => {
  it('a visited item survives one pass of the hand; the oldest unvisited one goes first', () => {
    const s = makeStore('allkeys-sieve');
    for (const k of ['A', 'B', 'C', 'D']) set(s, k);
    touch(s, 'A');
    touch(s, 'C');
    // The hand starts at the oldest: A is visited (its bit is cleared, it stays), B goes.
    expect(evict(s)).toBe('B');
    expect(s.ks.items.visited(s.t.find(kb('A')))).toBe(false);
    // The hand stayed after B: C is visited and stays, D goes.
    expect(evict(s)).toBe('D');
    // Past the newest the hand wraps to the oldest: A, unvisited now, goes before C.
    expect(evict(s)).toBe('A');
    expect(evict(s)).toBe('C');
    expect(s.ks.evictOne()).toBe(false);
  });

  it('new items are examined soon: a one-hit wonder goes before old popular items', () => {
    const s = makeStore('allkeys-sieve');
    for (let i = 0; i < 10; i++) set(s, 'old' + i);
    for (let i = 0; i < 10; i++) touch(s, 'old' + i);
    set(s, 'new');
    expect(evict(s)).toBe('new');
    // Every old item lost its bit on that pass: now the oldest goes.
    expect(evict(s)).toBe('old0');
  });

  it('the hand follows its item when it is deleted or moved', () => {
    const s = makeStore('allkeys-sieve');
    // D's value is such that the 15 bytes of a TTL take it to a bigger chunk.
    for (const k of ['A', 'B', 'C', 'D', 'E']) set(s, k, k === 'D' ? 20 : 10);
    touch(s, 'A');
    expect(evict(s)).toBe('B'); // the hand now points at C
    // C is deleted: the hand moves on to D (else it would point at a freed chunk).
    s.t.remove(s.t.find(kb('C')));
    // D moves: the hand follows it (else it would point at D's old chunk).
    let d = s.t.find(kb('D'));
    s.ks.pins.pin(d);
    const before = d;
    d = s.t.setExpireAt(d, s.clock.now + 1000);
    expect(d).not.toBe(before);
    s.ks.pins.unpinAll();
    expect(evict(s)).toBe('D');
    expect(evict(s)).toBe('E');
    expect(evict(s)).toBe('A');
    expect(s.t.size).toBe(0);
  });
});

describe('S3-FIFO', () => {
  it('a new item read once moves to the main queue; a never-read one leaves the small queue first', () => {
    const s = makeStore('allkeys-s3fifo');
    for (const k of 'ABCDEFGHIJ') set(s, k);
    touch(s, 'A');
    expect(evict(s)).toBe('B');
    expect(s.ks.items.inMain(s.t.find(kb('A')))).toBe(true);
    expect(keysOfQueue(s, true)).toEqual(['A']);
    expect(s.ks.queues.mainCount).toBe(1);
    // The small queue still holds 8 of 9 items, well over its tenth: it is evicted from, not main.
    expect(evict(s)).toBe('C');
    expect(s.ks.queues.count + s.ks.queues.mainCount).toBe(s.ks.itemCount);
  });

  it('a key evicted from the small queue and inserted again goes to the main queue (ghost)', () => {
    const s = makeStore('allkeys-s3fifo');
    for (const k of 'ABCDE') set(s, k);
    expect(evict(s)).toBe('A');
    set(s, 'A');
    expect(s.ks.items.inMain(s.t.find(kb('A')))).toBe(true);
    // A key never seen before starts in the small queue.
    set(s, 'Z');
    expect(s.ks.items.inMain(s.t.find(kb('Z')))).toBe(false);
    expect(keysOfQueue(s, true)).toEqual(['A']);
    expect(keysOfQueue(s, false)).toEqual(['Z', 'E', 'D', 'C', 'B']);
  });

  it('in the main queue each read buys one more trip; unread items go', () => {
    const s = makeStore('allkeys-s3fifo');
    for (const k of 'ABCD') set(s, k);
    for (const k of 'ABCD') touch(s, k);
    // All four are read: the first eviction moves them all to main, then takes the main tail.
    touch(s, 'B'); // B has 2 hits in the small queue; moving to main clears them
    expect(evict(s)).toBe('A');
    expect(s.ks.queues.mainCount).toBe(3);
    touch(s, 'C');
    touch(s, 'C');
    // Main tail is B (no hits since promotion): goes. Then C has 2 hits: two trips round, D goes first.
    expect(evict(s)).toBe('B');
    expect(evict(s)).toBe('D');
    expect(evict(s)).toBe('C');
  });

  // Regression (fixed): when every item of the small queue is pinned and it still
  // holds a tenth of the items, victim() requeues them over and over until its
  // step budget runs out and returns 0, never looking at the main queue: a
  // write fails with OOM (or nothing is evicted) while unpinned items wait in main.
  it('when every item of the small queue is pinned, the main queue gives the victim', () => {
    const s = makeStore('allkeys-s3fifo');
    for (const k of 'ABCDEFGHIJ') set(s, k);
    for (const k of 'ABCDEFGHIJ') touch(s, k);
    expect(evict(s)).toBe('A'); // all ten promoted, then the main tail goes
    expect(s.ks.queues.mainCount).toBe(9);
    // One command inserts two keys (pinned until it ends) and needs memory.
    s.t.insert(kb('K'), 0, Buffer.alloc(10), 0, s.clock.now);
    s.t.insert(kb('L'), 0, Buffer.alloc(10), 0, s.clock.now);
    expect(s.ks.queues.count).toBe(2);
    const v = s.ks.policy.victim();
    expect(v).not.toBe(0);
    expect(s.ks.isPinned(v)).toBe(false);
    expect(s.t.key(v).toString()).toBe('B');
    s.ks.pins.unpinAll();
  });

  it('a pinned item at the tail is passed over, not evicted', () => {
    const s = makeStore('allkeys-s3fifo');
    for (const k of 'ABC') set(s, k);
    s.ks.pins.pin(s.t.find(kb('A')));
    expect(evict(s)).toBe('B');
    expect(s.t.find(kb('A'))).toBeGreaterThan(0);
    s.ks.pins.unpinAll();
  });
});

describe('sampled policies after chunks are reused', () => {
  // Regression (fixed): SampledPolicy keeps the refs of its pool across calls and has
  // no forget(); a pooled item that is deleted leaves a stale ref behind. When
  // its unit goes to another size class, slabs.isLive(ref) is true for a ref in
  // the middle of another item's chunk (isLive does not check that the ref
  // starts a chunk), and if the bytes there look like the old item (values are
  // client data), keyHash matches and victim() returns a ref that is no item.
  // With other bytes, keyHash reads a garbage length (up to 4 GiB of hashing).
  it('victim() never returns a ref that is not a live item', () => {
    const s = makeStore('allkeys-lru', { samples: 5 });
    s.ks.slabs.holdEmptyPages = true;
    const items = s.ks.items;
    const old = new Map<number, Buffer>();
    for (let i = 0; i < 300; i++) {
      const h = set(s, 'k' + i, 10);
      const start = items.off(h);
      old.set(h, Buffer.from(items.buf(h).subarray(start, start + items.size(h))));
    }
    // One eviction fills the pool with candidates; then every key goes.
    evict(s);
    for (let i = 0; i < 300; i++) {
      const h = s.t.find(kb('k' + i));
      if (h > 0) s.t.remove(h);
    }
    expect(s.ks.itemCount).toBe(0);
    // Items of another class take the same page; their values are zero...
    const fresh: number[] = [];
    for (let i = 0; i < 56; i++) fresh.push(set(s, 'n' + i, 1000));
    expect(new Set(fresh.map((r) => r >>> s.ks.slabs.pageShift)).size).toBe(1);
    // ...except where a client wrote bytes that happen to look like an old item.
    let planted = 0;
    for (const [ref, bytes] of old) {
      const page = items.buf(ref);
      const at = items.off(ref);
      const host = fresh.find((f) => items.buf(f) === page && items.valueStart(f) <= at && at + bytes.length <= items.valueStart(f) + 1000);
      if (host === undefined) continue;
      bytes.copy(page, at);
      planted++;
    }
    expect(planted).toBeGreaterThan(200);
    for (let round = 0; round < 20; round++) {
      const v = s.ks.policy.victim();
      if (v === 0) break;
      expect(fresh, `victim ${v} is not an item`).toContain(v);
    }
  });
});
