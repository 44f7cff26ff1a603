// maxmemory as a hard budget and the eviction policies, against real kvslab
// processes started with a small maxmemory: the budget holds after every
// write under every policy, noeviction and the volatile-* policies refuse
// writes as Redis does, each policy keeps what it is meant to keep, and the
// introspection around eviction (INFO, OBJECT, WATCH) reports it.

import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startKvslab, RunningServer } from '../helpers/servers.js';
import { info, parseInfo } from '../helpers/info.js';

const MB = 1024 * 1024;
const OOM = "OOM command not allowed when used memory > 'maxmemory'.";
const LFU_REQUIRED = 'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
const LRU_REQUIRED = 'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

/** Every maxmemory-policy name: Redis's, then kvslab's own. */
const POLICIES = [
  'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl',
  'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction',
  'allkeys-sieve', 'volatile-sieve', 'allkeys-s3fifo',
];
const VOLATILE = POLICIES.filter((p) => p.startsWith('volatile-'));

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** A kvslab with a maxmemory budget and a policy (stopped after the test). */
async function start(maxmemory: string, policy: string, extra: string[] = []): Promise<{ srv: RunningServer; r: Redis }> {
  const srv = await startKvslab(['--maxmemory', maxmemory, '--maxmemory-policy', policy, ...extra]);
  running.push(srv);
  return { srv, r: srv.client() };
}



/** used_memory, maxmemory and evicted_keys in one INFO call. */
async function memState(r: Redis): Promise<{ used: number; max: number; evicted: number }> {
  const m = await info(r, 'memory', 'stats');
  return { used: Number(m.get('used_memory')), max: Number(m.get('maxmemory')), evicted: Number(m.get('evicted_keys')) };
}

/** A small deterministic PRNG (the fills are the same on every run). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The value stored under `key`: the key's text repeated to `len` bytes, so any mix-up shows. */
function valueOf(key: string, len: number): Buffer {
  return Buffer.alloc(len, `${key}|`);
}

interface FillOptions {
  prefix: string;
  count: number;
  /** Value length of the i-th key. */
  size: (i: number) => number;
  /** TTL in seconds of the i-th key (none when absent or 0). */
  ttl?: (i: number) => number;
  batch?: number;
  /** Runs after each batch (reading a hot set, say). */
  between?: () => Promise<void>;
  /** Stop once this many writes were refused. */
  stopAfterErrors?: number;
}

interface FillResult {
  accepted: { key: string; len: number }[];
  errors: string[];
  /** Largest used_memory seen after a batch, and the budget. */
  maxUsed: number;
  maxmemory: number;
  evicted: number;
}

/**
 * Writes keys in pipelined batches; after every batch INFO memory must show
 * used_memory <= maxmemory.
 */
async function fill(r: Redis, o: FillOptions): Promise<FillResult> {
  const batch = o.batch ?? 200;
  const out: FillResult = { accepted: [], errors: [], maxUsed: 0, maxmemory: 0, evicted: 0 };
  for (let from = 0; from < o.count; from += batch) {
    const p = r.pipeline();
    const keys: { key: string; len: number }[] = [];
    for (let i = from; i < Math.min(o.count, from + batch); i++) {
      const key = `${o.prefix}${i}`;
      const len = o.size(i);
      const ttl = o.ttl?.(i) ?? 0;
      if (ttl > 0) p.set(key, valueOf(key, len), 'EX', ttl);
      else p.set(key, valueOf(key, len));
      keys.push({ key, len });
    }
    const replies = await p.exec() as [Error | null, unknown][];
    replies.forEach(([err], j) => {
      if (err) out.errors.push(err.message);
      else out.accepted.push(keys[j]);
    });
    const st = await memState(r);
    expect(st.used, `used_memory after the batch from ${o.prefix}${from}`).toBeLessThanOrEqual(st.max);
    out.maxUsed = Math.max(out.maxUsed, st.used);
    out.maxmemory = st.max;
    out.evicted = st.evicted;
    if (o.between) await o.between();
    if (o.stopAfterErrors !== undefined && out.errors.length >= o.stopAfterErrors) break;
  }
  return out;
}

/** Polls `cond` every 20 ms until it holds (for up to 5 s). */
async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await cond()) return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error('condition not reached in 5 s');
}

/** How many of `keys` exist (pipelined EXISTS). */
async function countExisting(r: Redis, keys: string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < keys.length; i += 500) {
    n += await r.exists(...keys.slice(i, i + 500));
  }
  return n;
}

/** Asserts every key holds exactly the value it was written with. */
async function expectValues(r: Redis, items: { key: string; len: number }[]): Promise<void> {
  for (let i = 0; i < items.length; i += 200) {
    const part = items.slice(i, i + 200);
    const got = await r.mgetBuffer(...part.map((x) => x.key));
    const bad = part.filter((x, j) => !(got[j] && got[j]!.equals(valueOf(x.key, x.len)))).map((x) => x.key);
    expect(bad, 'keys missing or with wrong bytes').toEqual([]);
  }
}

describe('the budget under every policy', () => {
  it.each(POLICIES)('%s: filling past maxmemory keeps used_memory <= maxmemory after every batch', async (policy) => {
    const { r } = await start('4mb', policy);
    const rand = prng(7);
    const sizes = Array.from({ length: 4500 }, () => 100 + Math.floor(rand() * 3900));
    const res = await fill(r, {
      prefix: 'k:',
      count: sizes.length,
      size: (i) => sizes[i],
      // The volatile policies may only evict keys with a TTL.
      ttl: () => (policy.startsWith('volatile-') ? 3600 : 0),
    });
    expect(res.maxmemory).toBe(4 * MB);
    // About 9 MB were written into 4 MB: the budget was reached...
    expect(res.maxUsed).toBeGreaterThan(3 * MB);
    const dbsize = await r.dbsize();
    if (policy === 'noeviction') {
      // ...and writes were refused, nothing evicted.
      expect(res.evicted).toBe(0);
      expect(res.errors.length).toBeGreaterThan(0);
      expect(new Set(res.errors)).toEqual(new Set([OOM]));
      expect(dbsize).toBe(res.accepted.length);
    } else {
      // ...and keys were evicted to make room, every write accepted.
      expect(res.errors).toEqual([]);
      expect(res.evicted).toBeGreaterThan(0);
      expect(dbsize).toBeGreaterThan(0);
      expect(dbsize + res.evicted).toBe(sizes.length);
    }
    expect((await info(r, 'memory')).get('maxmemory_policy')).toBe(policy);
  });
});

describe('noeviction', () => {
  it('refuses writes with Redis\'s OOM error once full and keeps every key it accepted', async () => {
    const { srv, r } = await start('4mb', 'noeviction');
    const rand = prng(11);
    const sizes = Array.from({ length: 8000 }, () => 200 + Math.floor(rand() * 1800));
    const res = await fill(r, { prefix: 'n:', count: sizes.length, size: (i) => sizes[i], stopAfterErrors: 400 });
    expect(res.errors.length).toBeGreaterThanOrEqual(400);
    // Exactly Redis's text, nothing else.
    expect(new Set(res.errors)).toEqual(new Set([OOM]));
    expect(res.evicted).toBe(0);
    expect(await r.dbsize()).toBe(res.accepted.length);
    // Reads and deletes still work; deleting keys frees their chunks, so the same keys fit again.
    const first = res.accepted[0];
    expect((await r.getBuffer(first.key))!.equals(valueOf(first.key, first.len))).toBe(true);
    const freed = res.accepted.slice(0, 100);
    expect(await r.del(...freed.map((x) => x.key))).toBe(100);
    expect(await r.dbsize()).toBe(res.accepted.length - 100);
    for (const x of freed) expect(await r.set(x.key, valueOf(x.key, x.len))).toBe('OK');
    // Every accepted key is there with its bytes (read on a connection of its
    // own, closed afterwards: the replies' buffers count in used_memory).
    const reader = srv.client();
    await expectValues(reader, res.accepted);
    reader.disconnect();
    await waitFor(async () => Number((await info(r, 'clients')).get('connected_clients')) === 1);
    const st = await memState(r);
    expect(st.used).toBeLessThanOrEqual(st.max);
    expect(st.evicted).toBe(0);
  });
});

describe('multi-key writes at the limit', () => {
  // Redis checks memory once, before the command: an MSET that passes runs whole. kvslab's budget
  // is hard, so it makes room for every key first (evicting as the policy allows) or refuses the
  // command before writing any (it once wrote the keys that fitted, then failed).
  it('MSET and MSETNX under noeviction write all of their keys or none', async () => {
    const { r } = await start('4mb', 'noeviction');
    const value = (k: string) => valueOf(k, 1000);
    const res = await fill(r, { prefix: 'f:', count: 8000, size: () => 1000, stopAfterErrors: 20 });
    expect(res.errors.length).toBeGreaterThanOrEqual(20);
    // Room for about 20 values of this size again.
    expect(await r.del(...res.accepted.slice(0, 20).map((x) => x.key))).toBe(20);
    const many = Array.from({ length: 200 }, (_, i) => `m:${i}`);
    await expect(r.mset(...many.flatMap((k) => [k, value(k)]))).rejects.toThrow(OOM);
    expect(await r.exists(...many)).toBe(0);
    await expect(r.msetnx(...many.flatMap((k) => [k, value(k)]))).rejects.toThrow(OOM);
    expect(await r.exists(...many)).toBe(0);
    // What fits is written whole.
    const few = many.slice(0, 5);
    expect(await r.mset(...few.flatMap((k) => [k, value(k)]))).toBe('OK');
    expect(await r.exists(...few)).toBe(5);
    for (const k of few) expect((await r.getBuffer(k))!.equals(value(k))).toBe(true);
    const st = await memState(r);
    expect(st.used).toBeLessThanOrEqual(st.max);
  });

  it('under an eviction policy the same MSET evicts to make room and writes every key', async () => {
    const { r } = await start('4mb', 'allkeys-lru');
    await fill(r, { prefix: 'f:', count: 6000, size: () => 1000 });
    const many = Array.from({ length: 200 }, (_, i) => `m:${i}`);
    expect(await r.mset(...many.flatMap((k) => [k, valueOf(k, 1000)]))).toBe('OK');
    expect(await r.exists(...many)).toBe(200);
    const st = await memState(r);
    expect(st.evicted).toBeGreaterThan(0);
    expect(st.used).toBeLessThanOrEqual(st.max);
  });
});

describe('volatile policies', () => {
  it.each(VOLATILE)('%s never evicts a key without a TTL, and answers OOM when no key has one', async (policy) => {
    const { r } = await start('4mb', policy);
    const rand = prng(13);
    // About 1.3 MB of keys without a TTL first...
    const persistent = await fill(r, { prefix: 'p:', count: 1500, size: () => 300 + Math.floor(rand() * 500) });
    expect(persistent.errors).toEqual([]);
    // ...then keys with a TTL, well past the budget.
    const volatile = await fill(r, { prefix: 'v:', count: 7000, size: () => 300 + Math.floor(rand() * 500), ttl: (i) => 1000 + i });
    expect(volatile.errors).toEqual([]);
    expect(volatile.evicted).toBeGreaterThan(1000);
    expect(await countExisting(r, persistent.accepted.map((x) => x.key))).toBe(1500);
    await expectValues(r, persistent.accepted);
    // Only keys with a TTL went.
    expect(await r.dbsize()).toBe(1500 + 7000 - volatile.evicted);

    // With no key carrying a TTL there is nothing to evict: writes are refused.
    await r.flushall();
    const before = (await memState(r)).evicted;
    const onlyPersistent = await fill(r, { prefix: 'q:', count: 8000, size: () => 300 + Math.floor(rand() * 500), stopAfterErrors: 50 });
    expect(onlyPersistent.errors.length).toBeGreaterThanOrEqual(50);
    expect(new Set(onlyPersistent.errors)).toEqual(new Set([OOM]));
    expect((await memState(r)).evicted).toBe(before);
    expect(await r.dbsize()).toBe(onlyPersistent.accepted.length);
    await expectValues(r, onlyPersistent.accepted);
  });

  it('volatile-ttl evicts the keys nearest to expiring first (volatile-random as the control)', async () => {
    // The same keys, with TTLs spread uniformly over 10^4 .. 10^6 s in random
    // order, under volatile-ttl and under volatile-random. Eviction samples,
    // so the test asks for a clear margin, not an exact order.
    const share: Record<string, number> = {};
    for (const policy of ['volatile-ttl', 'volatile-random']) {
      const { r } = await start('4mb', policy);
      const rand = prng(17);
      const ttls = Array.from({ length: 10000 }, () => 10_000 + Math.floor(rand() * 990_000));
      const res = await fill(r, { prefix: 't:', count: ttls.length, size: () => 800, ttl: (i) => ttls[i] });
      expect(res.errors).toEqual([]);
      expect(res.evicted).toBeGreaterThan(5000);
      const keys = ttls.map((_, i) => `t:${i}`);
      const p = r.pipeline();
      for (const k of keys) p.ttl(k);
      const left = ((await p.exec()) as [Error | null, number][]).map(([, t]) => t).filter((t) => t > 0);
      // Not compared with DBSIZE: the 10000 replies themselves count against the 4mb
      // budget (client buffers do, as in Redis) and may evict a few more keys meanwhile.
      expect(left.length).toBeGreaterThan(1000);
      // The share of survivors whose TTL is in the longer half.
      share[policy] = left.filter((t) => t > 505_000).length / left.length;
    }
    expect(share['volatile-ttl']).toBeGreaterThan(0.8);
    expect(share['volatile-random']).toBeLessThan(0.65);
  });
});

describe('what each policy keeps', () => {
  /**
   * A hot set of 100 keys written first and read after every batch of 200
   * cold keys (never read), 10000 cold keys into a budget that holds about
   * 3500: a policy that favours use keeps the hot set, and (but under LFU,
   * where never-read keys all have the same counter, as in Redis) the oldest
   * cold keys leave.
   */
  async function hotSetRun(policy: string, preReads = 0): Promise<{ hotLeft: number; earlyColdLeft: number; r: Redis }> {
    const { r } = await start('4mb', policy);
    const hot = Array.from({ length: 100 }, (_, i) => ({ key: `hot:${i}`, len: 1000 }));
    for (const h of hot) await r.set(h.key, valueOf(h.key, h.len));
    const readHot = async () => {
      const p = r.pipeline();
      for (const h of hot) p.getBuffer(h.key);
      await p.exec();
    };
    for (let i = 0; i < preReads; i++) await readHot();
    const res = await fill(r, { prefix: 'cold:', count: 10000, size: () => 1000, between: readHot });
    expect(res.errors).toEqual([]);
    expect(res.evicted).toBeGreaterThan(6000);
    const hotLeft = await countExisting(r, hot.map((h) => h.key));
    const earlyColdLeft = await countExisting(r, Array.from({ length: 3000 }, (_, i) => `cold:${i}`));
    return { hotLeft, earlyColdLeft, r };
  }

  it.each([
    ['allkeys-lru', 0],
    ['allkeys-lfu', 20],
    ['allkeys-sieve', 0],
    ['allkeys-s3fifo', 0],
  ] as [string, number][])('%s keeps a hot set read between batches of cold inserts', async (policy, preReads) => {
    const { hotLeft, earlyColdLeft } = await hotSetRun(policy, preReads);
    expect(hotLeft).toBeGreaterThanOrEqual(98);
    // About 3500 of 10100 keys fit; of the 3000 oldest cold keys, few are left.
    if (policy !== 'allkeys-lfu') expect(earlyColdLeft).toBeLessThan(150);
  });

  it('allkeys-random keeps no such preference (the control for the tests above)', async () => {
    const { hotLeft } = await hotSetRun('allkeys-random');
    expect(hotLeft).toBeLessThan(80);
  });

  it('allkeys-lfu: keys read often outlive keys read once, with the counter showing it', async () => {
    const { r } = await start('4mb', 'allkeys-lfu');
    const frequent = Array.from({ length: 200 }, (_, i) => `freq:${i}`);
    for (const k of frequent) await r.set(k, valueOf(k, 1000));
    // Read often up front, then never again while cold keys stream in.
    for (let n = 0; n < 30; n++) {
      const p = r.pipeline();
      for (const k of frequent) p.get(k);
      await p.exec();
    }
    const freqs = await Promise.all(frequent.slice(0, 20).map((k) => r.call('OBJECT', 'FREQ', k) as Promise<number>));
    await r.set('fresh', 'x');
    const fresh = await r.call('OBJECT', 'FREQ', 'fresh') as number;
    for (const f of freqs) expect(f).toBeGreaterThan(fresh);
    const res = await fill(r, { prefix: 'once:', count: 10000, size: () => 1000 });
    expect(res.evicted).toBeGreaterThan(6000);
    expect(await countExisting(r, frequent)).toBeGreaterThanOrEqual(195);
  });
});

describe('the budget at run time', () => {
  it('lowering maxmemory evicts at once, raising it lets the store grow again', async () => {
    const { r } = await start('8mb', 'allkeys-lru');
    const res = await fill(r, { prefix: 'm:', count: 9000, size: () => 700 });
    expect(res.maxUsed).toBeGreaterThan(6 * MB);
    const full = await memState(r);
    const keysFull = await r.dbsize();

    expect(await r.config('SET', 'maxmemory', '3mb')).toBe('OK');
    const low = await memState(r);
    expect(low.max).toBe(3 * MB);
    expect(low.used).toBeLessThanOrEqual(3 * MB);
    expect(low.evicted).toBeGreaterThan(full.evicted);
    const keysLow = await r.dbsize();
    expect(keysLow).toBeLessThan(keysFull);
    // Writes go on within the lower budget.
    const more = await fill(r, { prefix: 'low:', count: 2000, size: () => 700 });
    expect(more.errors).toEqual([]);
    expect(more.maxUsed).toBeLessThanOrEqual(3 * MB);

    expect(await r.config('SET', 'maxmemory', '8mb')).toBe('OK');
    const evictedBefore = (await memState(r)).evicted;
    const grow = await fill(r, { prefix: 'high:', count: 3000, size: () => 700 });
    expect(grow.errors).toEqual([]);
    expect(grow.maxUsed).toBeGreaterThan(4 * MB);
    expect(await r.dbsize()).toBeGreaterThan(keysLow + 2000);
    // About 2.4 MB more fitted into the room the higher budget gave: nothing evicted.
    expect(grow.evicted).toBe(evictedBefore);
  });

  it('CONFIG GET maxmemory-policy and INFO show every policy name CONFIG SET accepts', async () => {
    const { r } = await start('4mb', 'noeviction');
    for (const p of POLICIES) {
      expect(await r.config('SET', 'maxmemory-policy', p)).toBe('OK');
      expect(await r.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', p]);
      expect((await info(r, 'memory')).get('maxmemory_policy')).toBe(p);
    }
    // Names are case-insensitive and read back in lower case, as in Redis.
    expect(await r.config('SET', 'maxmemory-policy', 'ALLKEYS-S3FIFO')).toBe('OK');
    expect(await r.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-s3fifo']);
    await expect(r.config('SET', 'maxmemory-policy', 'allkeys-ttl')).rejects.toThrow(/maxmemory-policy/);
    expect(await r.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-s3fifo']);
  });

  it('switching policy with CONFIG SET takes effect at once, from a full noeviction store to each policy', async () => {
    const { r } = await start('4mb', 'noeviction');
    const first = await fill(r, { prefix: 'a:', count: 6000, size: () => 600, ttl: () => 3600, stopAfterErrors: 1 });
    expect(first.errors.length).toBeGreaterThan(0);
    expect(new Set(first.errors)).toEqual(new Set([OOM]));
    let evicted = first.evicted;
    expect(evicted).toBe(0);
    for (const policy of POLICIES.filter((p) => p !== 'noeviction')) {
      expect(await r.config('SET', 'maxmemory-policy', policy)).toBe('OK');
      const next = await fill(r, { prefix: `${policy}:`, count: 1000, size: () => 600, ttl: () => 3600 });
      expect(next.errors, policy).toEqual([]);
      expect(next.evicted, policy).toBeGreaterThan(evicted);
      evicted = next.evicted;
    }
    // And back: nothing more is evicted, writes are refused again.
    expect(await r.config('SET', 'maxmemory-policy', 'noeviction')).toBe('OK');
    const last = await fill(r, { prefix: 'z:', count: 400, size: () => 600, stopAfterErrors: 1 });
    expect(new Set(last.errors)).toEqual(new Set([OOM]));
    expect(last.evicted).toBe(evicted);
  });
});

describe('OBJECT FREQ and IDLETIME', () => {
  it('FREQ errors unless an LFU policy is set; IDLETIME errors under one', async () => {
    const { r } = await start('4mb', 'allkeys-lru');
    const t0 = Date.now();
    await r.set('k', 'v');
    await expect(r.call('OBJECT', 'FREQ', 'k')).rejects.toThrow(LFU_REQUIRED);
    const idle = await r.call('OBJECT', 'IDLETIME', 'k') as number;
    expect(idle).toBeGreaterThanOrEqual(0);
    expect(idle).toBeLessThanOrEqual(Math.ceil((Date.now() - t0) / 1000));
    expect(await r.call('OBJECT', 'FREQ', 'nosuch')).toBeNull();

    expect(await r.config('SET', 'maxmemory-policy', 'allkeys-lfu')).toBe('OK');
    await expect(r.call('OBJECT', 'IDLETIME', 'k')).rejects.toThrow(LRU_REQUIRED);
    expect(typeof await r.call('OBJECT', 'FREQ', 'k')).toBe('number');

    for (const p of ['volatile-lfu']) {
      expect(await r.config('SET', 'maxmemory-policy', p)).toBe('OK');
      await expect(r.call('OBJECT', 'IDLETIME', 'k')).rejects.toThrow(LRU_REQUIRED);
    }
    for (const p of ['allkeys-sieve', 'allkeys-s3fifo', 'volatile-ttl', 'noeviction']) {
      expect(await r.config('SET', 'maxmemory-policy', p)).toBe('OK');
      await expect(r.call('OBJECT', 'FREQ', 'k')).rejects.toThrow(LFU_REQUIRED);
      expect(typeof await r.call('OBJECT', 'IDLETIME', 'k')).toBe('number');
    }
  });

  it('under allkeys-lfu the counter starts at 5 and grows with reads', async () => {
    const { r } = await start('4mb', 'allkeys-lfu');
    await r.set('f', 'v');
    // A new key's counter is 5 (LFU_INIT_VAL), less one if a minute of decay has just ticked.
    const initial = await r.call('OBJECT', 'FREQ', 'f') as number;
    expect([4, 5]).toContain(initial);
    // OBJECT FREQ itself is not an access.
    for (let i = 0; i < 20; i++) expect(await r.call('OBJECT', 'FREQ', 'f')).toBeLessThanOrEqual(initial);
    for (let i = 0; i < 300; i++) await r.get('f');
    const grown = await r.call('OBJECT', 'FREQ', 'f') as number;
    expect(grown).toBeGreaterThan(5);
    expect(grown).toBeLessThanOrEqual(255);
    // With lfu-log-factor 0 every access counts (up to 255); a minute boundary may take one off.
    expect(await r.config('SET', 'lfu-log-factor', '0')).toBe('OK');
    await r.set('g', 'v');
    for (let i = 0; i < 40; i++) await r.get('g');
    const g = await r.call('OBJECT', 'FREQ', 'g') as number;
    expect(g).toBeGreaterThanOrEqual(5 + 40 - 2);
    expect(g).toBeLessThanOrEqual(5 + 40);
  });
});

describe('eviction seen from outside', () => {
  it('a WATCHed key that gets evicted makes EXEC fail', async () => {
    const { srv, r } = await start('4mb', 'allkeys-lru');
    const watcher = srv.client();
    await r.set('watched', 'v0');
    await r.set('untouched', 'u0');
    expect(await watcher.watch('watched')).toBe('OK');
    // Fill until the (never read) watched key is evicted.
    let gone = false;
    for (let round = 0; round < 10 && !gone; round++) {
      await fill(r, { prefix: `w${round}:`, count: 4000, size: () => 1000 });
      gone = (await r.exists('watched')) === 0;
    }
    expect(gone).toBe(true);
    expect(await watcher.call('MULTI')).toBe('OK');
    expect(await watcher.call('SET', 'watched', 'v1')).toBe('QUEUED');
    expect(await watcher.call('EXEC')).toBeNull();
    expect(await r.exists('watched')).toBe(0);
    // The same connection's next transaction, watching nothing, goes through.
    expect(await watcher.call('MULTI')).toBe('OK');
    expect(await watcher.call('SET', 'watched', 'v2')).toBe('QUEUED');
    expect(await watcher.call('EXEC')).toEqual(['OK']);
    expect(await r.get('watched')).toBe('v2');
  });

  it('INFO stats evicted_keys and INFO slabs agree with the keyspace', async () => {
    const { r } = await start('4mb', 'allkeys-lru');
    const rand = prng(23);
    const res = await fill(r, { prefix: 's:', count: 8000, size: () => 50 + Math.floor(rand() * 2000) });
    const dbsize = await r.dbsize();
    expect(res.evicted).toBeGreaterThan(0);
    expect(dbsize + res.evicted).toBe(8000);

    const text = await r.call('INFO', 'slabs') as string;
    expect(text.startsWith('# Slabs\r\n')).toBe(true);
    const m = parseInfo(text);
    expect(Number(m.get('items'))).toBe(dbsize);
    expect(Number(m.get('evictions'))).toBe(res.evicted);
    expect(Number(m.get('slab_page_size'))).toBe(MB);
    const classes = [...m].filter(([k]) => /^class_\d+$/.test(k));
    expect(classes.length).toBeGreaterThan(3);
    let used = 0;
    let evictions = 0;
    let slabs = 0;
    for (const [name, value] of classes) {
      const f = Object.fromEntries(value.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
      for (const field of ['chunk_size', 'slab_size', 'slabs', 'chunks_per_slab', 'used_chunks', 'free_chunks', 'evictions', 'oldest_item_age']) {
        expect(Number.isInteger(f[field]), `${name} ${field} in ${value}`).toBe(true);
        expect(f[field]).toBeGreaterThanOrEqual(0);
      }
      expect(f.used_chunks + f.free_chunks).toBe(f.slabs * f.chunks_per_slab);
      expect(f.chunk_size * f.chunks_per_slab).toBeLessThanOrEqual(f.slab_size);
      used += f.used_chunks;
      evictions += f.evictions;
      slabs += f.slabs * f.slab_size;
    }
    // One chunk per key; evictions per class add up to the total.
    expect(used).toBe(dbsize);
    expect(evictions).toBe(res.evicted);
    expect(slabs).toBeLessThanOrEqual(Number(m.get('slab_pages')) * MB);
    const mem = await info(r, 'memory');
    expect(slabs).toBeLessThanOrEqual(Number(mem.get('used_memory_slabs')));
  });
});

describe('eviction takes about what the write needs, not the cache', () => {
  // A write that needs memory outside the slabs (a large value's block, a
  // bigger hash index) must free room by evicting; evicting about a page's
  // worth of items is the price of page-sized slabs, evicting the whole
  // cache is not.

  it('large values written into a full cache of small keys evict about their size in small keys', async () => {
    const { r } = await start('8mb', 'allkeys-lru');
    const small = await fill(r, { prefix: 'sm:', count: 30000, size: () => 200, batch: 500 });
    expect(small.evicted).toBe(0);
    const smallKeys = await r.dbsize();
    // 30 values of 100 KiB: 3 MB of large blocks into a full 8 MB budget.
    let minKept = smallKeys;
    for (let j = 0; j < 30; j++) {
      expect(await r.set(`big:${j}`, Buffer.alloc(100 * 1024, j))).toBe('OK');
      const st = await memState(r);
      expect(st.used).toBeLessThanOrEqual(st.max);
      minKept = Math.min(minKept, (await r.dbsize()) - (j + 1));
    }
    // Small keys take a 232-byte chunk each: 3 MB of blocks plus two 1 MB pages
    // of slack is at most ~22000 of them. Observed without the fault: ~15800 kept.
    expect(smallKeys - minKept).toBeLessThan(22000);
    expect(minKept).toBeGreaterThan(8000);
  });

  it('the hash index growing in a full cache does not empty it', async () => {
    // Values of 100..599 bytes fill 4 MB at about 8000 keys, so the index of
    // 8192 buckets must grow while the budget is already used up.
    const { r } = await start('4mb', 'allkeys-lru');
    let peak = 0;
    let lowAfterFull = Infinity;
    let evictedSeen = false;
    for (let from = 0; from < 16000; from += 100) {
      const p = r.pipeline();
      for (let n = from; n < from + 100; n++) p.set(`ix:${n}`, valueOf(`ix:${n}`, 100 + (n % 500)));
      await p.exec();
      const st = await memState(r);
      expect(st.used).toBeLessThanOrEqual(st.max);
      const d = await r.dbsize();
      if (st.evicted === 0) peak = Math.max(peak, d);
      else {
        evictedSeen = true;
        lowAfterFull = Math.min(lowAfterFull, d);
      }
    }
    expect(evictedSeen).toBe(true);
    expect(peak).toBeGreaterThan(7000);
    // Growing the index needs 64 KiB; at worst a page (1 MB, ~2200 of these keys) should go.
    expect(lowAfterFull).toBeGreaterThan(peak / 2);
  });
});
