// Keyspace commands through a real client (ioredis) on a real kvslab process:
// the semantics users rely on (counts, TTLs carried by RENAME/COPY/MOVE,
// databases), the SCAN guarantee under concurrent writes, RANDOMKEY after
// mass deletes, and WATCH seeing keyspace-wide changes.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startKvslab, RunningServer } from '../helpers/servers.js';

let srv: RunningServer;
let r: Redis;
beforeAll(async () => {
  srv = await startKvslab();
  r = srv.client({ enableReadyCheck: false });
});
afterAll(async () => { await srv.stop(); });
beforeEach(async () => { await r.flushall(); });

/** A fresh connection (own selected db, own WATCH state). */
function conn(): Redis {
  return srv.client({ enableReadyCheck: false });
}

async function scanAll(c: Redis, between: () => Promise<void> = async () => {}, ...opts: (string | number)[]): Promise<string[]> {
  const seen: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = (await c.call('SCAN', cursor, ...opts)) as [string, string[]];
    seen.push(...keys);
    cursor = next;
    await between();
  } while (cursor !== '0');
  return seen;
}

describe('DEL, UNLINK, EXISTS, TOUCH, TYPE, DBSIZE', () => {
  it('count existing keys, repeats included for EXISTS and TOUCH', async () => {
    await r.mset('a', '1', 'b', '2', 'c', '3');
    expect(await r.exists('a', 'a', 'b', 'zz')).toBe(3);
    expect(await r.touch('a', 'a', 'zz')).toBe(2);
    expect(await r.del('a', 'a', 'zz')).toBe(1);
    expect(await r.unlink('b', 'c', 'b')).toBe(2);
    expect(await r.dbsize()).toBe(0);
  });

  it('handle binary key names', async () => {
    const key = Buffer.from([0, 0xff, 0x0d, 0x0a, 0x20]);
    await r.set(key, 'x');
    expect(await r.exists(key)).toBe(1);
    expect(await r.type(key)).toBe('string');
    expect(await r.keysBuffer('*')).toEqual([key]);
    expect(await r.del(key)).toBe(1);
    expect(await r.type(key)).toBe('none');
  });

  it('treat an expired key as absent', async () => {
    await r.set('gone', '1', 'PX', 20);
    await r.set('kept', '1');
    await new Promise((res) => setTimeout(res, 60));
    expect(await r.exists('gone', 'kept')).toBe(1);
    expect(await r.type('gone')).toBe('none');
    expect(await r.del('gone')).toBe(0);
  });
});

describe('KEYS', () => {
  it('matches glob patterns and skips expired keys', async () => {
    await r.mset('hello', '1', 'hallo', '1', 'hxllo', '1', 'hllo', '1', 'heeeello', '1', 'a*b', '1');
    await r.set('hexpired', '1', 'PX', 10);
    await new Promise((res) => setTimeout(res, 40));
    expect((await r.keys('h?llo')).sort()).toEqual(['hallo', 'hello', 'hxllo']);
    expect((await r.keys('h*llo')).sort()).toEqual(['hallo', 'heeeello', 'hello', 'hllo', 'hxllo']);
    expect((await r.keys('h[ae]llo')).sort()).toEqual(['hallo', 'hello']);
    expect((await r.keys('h[^e]llo')).sort()).toEqual(['hallo', 'hxllo']);
    expect((await r.keys('h[a-b]llo')).sort()).toEqual(['hallo']);
    expect(await r.keys('a\\*b')).toEqual(['a*b']);
    expect(await r.keys('H*')).toEqual([]);
    expect((await r.keys('*')).length).toBe(6);
  });
});

describe('SCAN', () => {
  it('walks every key once when nothing changes', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `key:${i}`);
    await r.mset(...names.flatMap((n) => [n, 'v']));
    const seen = await scanAll(r, async () => {}, 'COUNT', 7);
    expect(seen.length).toBe(1000);
    expect(new Set(seen)).toEqual(new Set(names));
  });

  it('returns every key present for the whole scan while other keys come and go', async () => {
    const stable = Array.from({ length: 600 }, (_, i) => `stable:${i}`);
    const churn = Array.from({ length: 3000 }, (_, i) => `churn:${i}`);
    // Interleaved so deleting the churn keys leaves holes everywhere.
    for (let i = 0; i < churn.length; i += 500) {
      const part = churn.slice(i, i + 500).flatMap((n) => [n, 'v']);
      await r.mset(...stable.slice(i / 5, i / 5 + 100).flatMap((n) => [n, 'v']), ...part);
    }
    const other = conn();
    let step = 0;
    let added = 0;
    const seen = await scanAll(r, async () => {
      step++;
      if (step === 5) {
        // A mass delete, then a RANDOMKEY that compacts the table mid-scan.
        await other.del(...churn.slice(0, 2800));
        await other.randomkey();
      } else {
        await other.set(`new:${added++}`, 'v');
        await other.del(`new:${Math.floor(Math.random() * added)}`);
      }
    }, 'COUNT', 20);
    const seenSet = new Set(seen);
    expect(stable.filter((k) => !seenSet.has(k))).toEqual([]);
  });

  it('filters by MATCH and TYPE without stopping early', async () => {
    await r.mset(...Array.from({ length: 300 }, (_, i) => [`user:${i}`, 'v', `item:${i}`, 'v']).flat());
    const users = await scanAll(r, async () => {}, 'MATCH', 'user:*', 'COUNT', 10);
    expect(new Set(users).size).toBe(300);
    expect(users.every((k) => k.startsWith('user:'))).toBe(true);
    expect((await scanAll(r, async () => {}, 'TYPE', 'STRING')).length).toBe(600);
    expect(await scanAll(r, async () => {}, 'TYPE', 'list')).toEqual([]);
  });

  it('rejects bad cursors and options', async () => {
    await expect(r.call('SCAN', 'abc')).rejects.toThrow('ERR invalid cursor');
    await expect(r.call('SCAN', '0', 'COUNT', '0')).rejects.toThrow('ERR syntax error');
    await expect(r.call('SCAN', '0', 'COUNT', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.call('SCAN', '0', 'MATCH')).rejects.toThrow('ERR syntax error');
  });
});

describe('RANDOMKEY', () => {
  it('returns null on an empty db and a live key otherwise', async () => {
    expect(await r.randomkey()).toBe(null);
    await r.set('only', '1');
    expect(await r.randomkey()).toBe('only');
  });

  it('stays fast after mass deletes leave a few keys', async () => {
    const n = 50_000;
    for (let i = 0; i < n; i += 5000) {
      await r.mset(...Array.from({ length: 5000 }, (_, j) => [`k${i + j}`, 'v']).flat());
    }
    for (let i = 0; i < n - 5; i += 5000) {
      await r.del(...Array.from({ length: Math.min(5000, n - 5 - i) }, (_, j) => `k${i + j}`));
    }
    expect(await r.dbsize()).toBe(5);
    const start = performance.now();
    const p = r.pipeline();
    for (let i = 0; i < 2000; i++) p.randomkey();
    const res = (await p.exec()) ?? [];
    expect(performance.now() - start).toBeLessThan(5000);
    const keys = new Set(res.map(([, v]) => v as string));
    expect([...keys].sort()).toEqual([`k${n - 1}`, `k${n - 2}`, `k${n - 3}`, `k${n - 4}`, `k${n - 5}`].sort());
  });

  it('skips and deletes expired keys', async () => {
    await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0').catch(() => {});
    try {
      for (let i = 0; i < 50; i++) await r.set(`e${i}`, '1', 'PX', 5);
      await r.set('live', '1');
      await new Promise((res) => setTimeout(res, 30));
      expect(await r.randomkey()).toBe('live');
    } finally {
      await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1').catch(() => {});
    }
  });
});

describe('RENAME, RENAMENX', () => {
  it('moves value and TTL; the old destination and its TTL are gone', async () => {
    await r.set('src', 'v1', 'EX', 1000);
    await r.set('dst', 'v2');
    expect(await r.rename('src', 'dst')).toBe('OK');
    expect(await r.get('dst')).toBe('v1');
    expect(await r.ttl('dst')).toBeGreaterThan(990);
    expect(await r.exists('src')).toBe(0);
    await r.set('a', 'x');
    await r.set('b', 'y', 'EX', 1000);
    await r.rename('a', 'b');
    expect(await r.ttl('b')).toBe(-1);
  });

  it('RENAMENX leaves an existing destination alone', async () => {
    await r.mset('a', '1', 'b', '2');
    expect(await r.renamenx('a', 'b')).toBe(0);
    expect(await r.renamenx('a', 'c')).toBe(1);
    expect(await r.mget('a', 'b', 'c')).toEqual([null, '2', '1']);
  });

  it('errors on a missing source, even when renaming to itself', async () => {
    await expect(r.rename('nokey', 'x')).rejects.toThrow('ERR no such key');
    await expect(r.rename('nokey', 'nokey')).rejects.toThrow('ERR no such key');
    await r.set('k', 'v');
    expect(await r.rename('k', 'k')).toBe('OK');
    expect(await r.renamenx('k', 'k')).toBe(0);
  });
});

describe('COPY and MOVE', () => {
  it('COPY duplicates value and TTL, across dbs, with REPLACE', async () => {
    await r.set('src', 'v', 'EX', 1000);
    expect(await r.copy('src', 'dst')).toBe(1);
    expect(await r.ttl('dst')).toBeGreaterThan(990);
    await r.set('dst', 'other');
    expect(await r.copy('src', 'dst')).toBe(0);
    expect(await r.copy('src', 'dst', 'REPLACE')).toBe(1);
    expect(await r.get('dst')).toBe('v');
    expect(await r.copy('src', 'src', 'DB', 3)).toBe(1);
    const c3 = conn();
    await c3.select(3);
    expect(await c3.get('src')).toBe('v');
    expect(await c3.ttl('src')).toBeGreaterThan(990);
    await expect(r.copy('src', 'src')).rejects.toThrow('ERR source and destination objects are the same');
    await expect(r.call('COPY', 'src', 'x', 'DB', '16')).rejects.toThrow('ERR DB index is out of range');
  });

  it('MOVE carries the TTL and refuses an existing destination', async () => {
    await r.set('k', 'v', 'PX', 500_000);
    expect(await r.move('k', 5)).toBe(1);
    expect(await r.exists('k')).toBe(0);
    const c5 = conn();
    await c5.select(5);
    expect(await c5.get('k')).toBe('v');
    expect(await c5.pttl('k')).toBeGreaterThan(490_000);
    await r.set('k', 'mine');
    expect(await r.move('k', 5)).toBe(0);
    expect(await r.get('k')).toBe('mine');
    await expect(r.move('k', 0)).rejects.toThrow('ERR source and destination objects are the same');
    await expect(r.move('k', 16)).rejects.toThrow('ERR DB index is out of range');
  });
});

describe('FLUSHDB, FLUSHALL, SWAPDB', () => {
  it('FLUSHDB empties only the selected db; FLUSHALL every db', async () => {
    const c1 = conn();
    await c1.select(1);
    await r.set('a', '1');
    await c1.set('b', '1');
    expect(await r.flushdb()).toBe('OK');
    expect(await r.dbsize()).toBe(0);
    expect(await c1.dbsize()).toBe(1);
    expect(await r.call('FLUSHALL', 'ASYNC')).toBe('OK');
    expect(await c1.dbsize()).toBe(0);
    await expect(r.call('FLUSHDB', 'LATER')).rejects.toThrow('ERR syntax error');
  });

  it('SWAPDB swaps contents under connected clients', async () => {
    const c1 = conn();
    await c1.select(1);
    await r.set('in0', 'zero', 'EX', 1000);
    await c1.set('in1', 'one');
    expect(await r.swapdb(0, 1)).toBe('OK');
    expect(await r.get('in1')).toBe('one');
    expect(await c1.get('in0')).toBe('zero');
    expect(await c1.ttl('in0')).toBeGreaterThan(990);
    await expect(r.call('SWAPDB', 'x', '1')).rejects.toThrow('ERR invalid first DB index');
    await expect(r.call('SWAPDB', '0', '99')).rejects.toThrow('ERR DB index is out of range');
  });
});

describe('WATCH sees keyspace commands', () => {
  async function execAfter(watchKey: string, write: (c: Redis) => Promise<unknown>, db = 0): Promise<unknown> {
    const w = conn();
    if (db) await w.select(db);
    await w.watch(watchKey);
    await write(conn());
    const res = await w.multi().set('probe', '1').exec();
    w.disconnect();
    return res;
  }

  it('RENAME dirties watchers of both names', async () => {
    await r.set('a', '1');
    expect(await execAfter('a', (c) => c.rename('a', 'b'))).toBe(null);
    expect(await execAfter('a', (c) => c.rename('b', 'a'))).toBe(null);
  });

  it('MOVE and COPY dirty watchers of the affected keys', async () => {
    await r.set('k', '1');
    expect(await execAfter('k', (c) => c.copy('k', 'k2'))).toEqual([[null, 'OK']]);
    expect(await execAfter('k2', (c) => c.copy('k', 'k2', 'REPLACE'))).toBe(null);
    expect(await execAfter('k', (c) => c.move('k', 2), 2)).toBe(null);
    expect(await execAfter('k', (c) => c.call('MOVE', 'k', '0').then(() => undefined, () => undefined))).toEqual([[null, 'OK']]);
  });

  it('FLUSHDB, FLUSHALL and SWAPDB dirty watchers of existing keys', async () => {
    await r.set('w', '1');
    expect(await execAfter('w', (c) => c.flushdb())).toBe(null);
    await r.set('w', '1');
    expect(await execAfter('w', (c) => c.flushall())).toBe(null);
    await r.set('w', '1');
    expect(await execAfter('w', (c) => c.swapdb(0, 7))).toBe(null);
  });

  it('EXPIRE and PERSIST dirty watchers; a failed conditional EXPIRE does not', async () => {
    await r.set('t', '1');
    expect(await execAfter('t', (c) => c.expire('t', 100))).toBe(null);
    expect(await execAfter('t', (c) => c.persist('t'))).toBe(null);
    expect(await execAfter('t', (c) => c.call('EXPIRE', 't', '100', 'XX'))).toEqual([[null, 'OK']]);
  });
});
