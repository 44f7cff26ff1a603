// RDB files and DUMP payloads between kvslab and Debian's Redis 7.0, both
// ways: a kvslab dump passes redis-check-rdb and loads in redis-server with
// the same keys, values, encodings, TTLs and databases; a Redis dump loads in
// kvslab the same way; DUMP from one RESTOREs on the other; RESTORE's errors
// are Redis's, byte for byte.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort, logged, startKvslab, startRedis, type RunningServer } from '../helpers/servers.js';
import { startPair, type Pair } from '../helpers/differential.js';
import { info } from '../helpers/info.js';
import { show } from '../helpers/raw-client.js';

/** Strings of every RDB string encoding: integers, short, LZF-compressible, incompressible, empty, binary. */
function sampleValues(): [string, Buffer][] {
  const random = Buffer.alloc(200_000);
  let x = 12345;
  for (let i = 0; i < random.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    random[i] = x >>> 24;
  }
  return [
    ['int:small', Buffer.from('7')],
    ['int:neg', Buffer.from('-128')],
    ['int:16', Buffer.from('32767')],
    ['int:32', Buffer.from('-2147483648')],
    ['int:big', Buffer.from('9223372036854775807')],
    ['int:notcanonical', Buffer.from('007')],
    ['str:empty', Buffer.alloc(0)],
    ['str:short', Buffer.from('hello world')],
    ['str:repeat', Buffer.from('abcdefgh'.repeat(5000))],
    ['str:binary', Buffer.from([0, 255, 13, 10, 0, 1, 2, 3])],
    ['str:random', random],
    ['str:utf8', Buffer.from('κλειδί — 鍵')],
  ];
}

async function fill(c: Redis): Promise<void> {
  for (const [k, v] of sampleValues()) await c.set(k, v);
  await c.set('ttl:long', 'soon', 'EX', 100_000);
  await c.set('ttl:ms', 'later', 'PX', 5_000_000);
  await c.select(3);
  await c.set('db3:key', 'in three');
  await c.set('db3:ttl', 'x', 'EX', 50_000);
  await c.select(15);
  await c.set('db15:key', '15');
  await c.select(0);
}

/** Every key of every database with its value, encoding and PTTL, for comparing two servers. */
async function snapshot(c: Redis): Promise<Map<string, { value: string; encoding: string | null; pttl: number }>> {
  const out = new Map<string, { value: string; encoding: string | null; pttl: number }>();
  for (let db = 0; db < 16; db++) {
    await c.select(db);
    for (const k of await c.keys('*')) {
      const value = (await c.getBuffer(k))!.toString('hex');
      const encoding = await c.object('ENCODING', k) as string | null;
      out.set(`${db}/${k}`, { value, encoding, pttl: await c.pttl(k) });
    }
  }
  await c.select(0);
  return out;
}

function expectSameKeys(a: Awaited<ReturnType<typeof snapshot>>, b: Awaited<ReturnType<typeof snapshot>>): void {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [k, x] of a) {
    const y = b.get(k)!;
    expect(y.value, k).toBe(x.value);
    // Integers stay integers; raw and embstr are one encoding to an RDB file.
    expect(y.encoding === 'int', k).toBe(x.encoding === 'int');
    if (x.pttl < 0) expect(y.pttl, k).toBe(x.pttl);
    // The same absolute expiry, read a moment apart.
    else expect(Math.abs(y.pttl - x.pttl), k).toBeLessThan(5_000);
  }
}

/** redis-server started on `dir` as a process that must refuse it: its exit status and log. */
async function redisRefuses(dir: string): Promise<{ status: number | null; signal: string | null; out: string }> {
  // A port of its own: without one Redis stops before it reads the dump.
  const r = spawnSync('redis-server', ['--port', String(await freePort()), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], { encoding: 'utf8', timeout: 20_000 });
  // It exits on its own (a timeout would be a signal); the status is redis-check-rdb's verdict of the file.
  return { status: r.status, signal: r.signal, out: r.stdout + r.stderr };
}

function checkRdb(path: string): { status: number | null; out: string } {
  const r = spawnSync('redis-check-rdb', [path], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

let servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});
async function kvslab(args: string[] = []): Promise<RunningServer> {
  const s = await startKvslab(args);
  servers.push(s);
  return s;
}
async function redis(args: string[] = []): Promise<RunningServer> {
  const s = await startRedis(args);
  servers.push(s);
  return s;
}
async function stopAll(): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
}
beforeEach(stopAll);

describe('a kvslab dump in Redis', () => {
  it('passes redis-check-rdb and loads in redis-server with the same keys, encodings, TTLs and databases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-rdb-'));
    const k = await kvslab(['--dir', dir]);
    const kc = k.client();
    await fill(kc);
    // Already expired: not written (a loader would drop it anyway).
    await kc.set('ttl:gone', 'x', 'PX', 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(await kc.save()).toBe('OK');
    const expected = await snapshot(kc);
    expect(expected.has('0/ttl:gone')).toBe(false);

    const check = checkRdb(join(dir, 'dump.rdb'));
    expect(check.out).toContain('RDB looks OK');
    expect(check.status).toBe(0);
    expect(check.out).toMatch(/\b17 keys read/);
    expect(check.out).toMatch(/\b3 expires/);

    const r = await redis(['--dir', dir]);
    const rc = r.client();
    expectSameKeys(expected, await snapshot(rc));
    expect(await rc.dbsize()).toBe(14);
    expect(await rc.object('ENCODING', 'int:big')).toBe('int');
  });

  it('with rdbcompression no, long strings are raw and still load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-rdb-'));
    const k = await kvslab(['--dir', dir, '--rdbcompression', 'no']);
    const kc = k.client();
    await kc.set('long', 'z'.repeat(100_000));
    await kc.save();
    // Uncompressed: the file holds the whole value.
    expect(readFileSync(join(dir, 'dump.rdb')).length).toBeGreaterThan(100_000);
    const r = await redis(['--dir', dir]);
    expect(await r.client().get('long')).toBe('z'.repeat(100_000));
  });

  it('a tensor is a module value redis-check-rdb steps over; rdb-save-tensors no leaves it out for stock Redis', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-rdb-'));
    const k = await kvslab(['--dir', dir]);
    const kc = k.client();
    await kc.set('plain', 'v');
    await kc.call('KV.CREATE', 't', 'DTYPE', 'float16', 'LAYERS', '2', 'HEADS', '1', 'HEADDIM', '4', 'KV', '2');
    await kc.call('KV.APPEND', 't', Buffer.alloc(2 * 2 * 3 * 8, 7));
    await kc.save();
    const check = checkRdb(join(dir, 'dump.rdb'));
    expect(check.status).toBe(0);
    expect(check.out).toMatch(/\b2 keys read/);
    expect(check.out).toContain('RDB looks OK');
    // Stock Redis has no kvslab-kv module: it refuses the file, by the module's name.
    const refused = await redisRefuses(dir);
    expect(refused.signal).toBeNull();
    expect(refused.out).toContain("no matching module type 'kvslab-kv'");

    await kc.config('SET', 'rdb-save-tensors', 'no');
    await kc.save();
    expect(await logged(k, '1 KV tensor key(s) left out of the dump')).toContain('1 KV tensor key(s) left out of the dump');
    const r = await redis(['--dir', dir]);
    const rc = r.client();
    expect(await rc.keys('*')).toEqual(['plain']);
  });
});

describe('a Redis dump in kvslab', () => {
  it('loads with the same keys, encodings, TTLs and databases', async () => {
    const r = await redis();
    const rc = r.client();
    await fill(rc);
    await rc.save();
    const dir = (await rc.config('GET', 'dir') as string[])[1];
    const expected = await snapshot(rc);
    const k = await kvslab(['--dir', dir]);
    const kc = k.client();
    expectSameKeys(expected, await snapshot(kc));
    const persistence = await info(kc, 'persistence');
    expect(persistence.get('rdb_last_load_keys_loaded')).toBe('17');
    expect(k.output()).toMatch(/DB loaded from disk/);
  });

  it('a key longer than kvslab holds (Redis takes 600 KiB keys) stops start-up, naming it', async () => {
    const rc = (await redis()).client();
    await rc.set(Buffer.alloc(600 * 1024, 0x61), 'v');
    await rc.save();
    const dir = (await rc.config('GET', 'dir') as string[])[1];
    const out = await kvslab(['--dir', dir]).then(() => '', (e: Error) => e.message);
    expect(out).toMatch(/key 'a{128}\.\.\.' in db 0 is 614400 bytes: key is too long \(kvslab keys are at most 524244 bytes\)/);
  });

  it('drops keys that expired while the server was down (rdb_last_load_keys_expired)', async () => {
    const r = await redis();
    const rc = r.client();
    await rc.set('stays', '1');
    await rc.set('goes', '1', 'PX', 300);
    await rc.save();
    const dir = (await rc.config('GET', 'dir') as string[])[1];
    await new Promise((res) => setTimeout(res, 400));
    const kc = (await kvslab(['--dir', dir])).client();
    expect(await kc.keys('*')).toEqual(['stays']);
    const p = await info(kc, 'persistence');
    expect(p.get('rdb_last_load_keys_expired')).toBe('1');
    expect(p.get('rdb_last_load_keys_loaded')).toBe('1');
  });

  it('refuses a dump with types kvslab does not have, naming the first; rdb-load-skip-unknown-types steps over every encoding of them', async () => {
    const r = await redis();
    const rc = r.client();
    // Every type in each encoding Redis 7.0 writes, small (listpack, intset) and large, between strings.
    await rc.set('s0', 'first');
    await rc.hset('h:small', 'f', 'v');
    await rc.hset('h:big', Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`])));
    await rc.set('s1', 'between');
    await rc.rpush('l:small', 'a', 'b');
    await rc.rpush('l:big', ...Array.from({ length: 20_000 }, (_, i) => `element-${i}`));
    await rc.sadd('set:int', 1, 2, 3);
    await rc.sadd('set:big', ...Array.from({ length: 600 }, (_, i) => `m${i}`));
    await rc.zadd('z:small', 1, 'a', 2.5, 'b');
    await rc.zadd('z:big', ...Array.from({ length: 300 }, (_, i) => [i / 3, `m${i}`]).flat());
    await rc.zadd('z:inf', '+inf', 'x', '-inf', 'y');
    await rc.xadd('st', '*', 'a', '1');
    await rc.xadd('st', '*', 'b', '2');
    await rc.xgroup('CREATE', 'st', 'g', '0');
    await rc.xreadgroup('GROUP', 'g', 'consumer', 'STREAMS', 'st', '>');
    await rc.select(2);
    await rc.set('s2', 'in db 2', 'EX', 10_000);
    await rc.select(0);
    await rc.save();
    const dir = (await rc.config('GET', 'dir') as string[])[1];
    const out = await kvslab(['--dir', dir]).then(() => '', (e: Error) => e.message);
    // The first in the file's (hash table) order.
    expect(out).toMatch(/The dump holds 10 keys of types kvslab does not have \(the first: '(h|l|set|z|st)[:a-z]*', an? (hash|list|set|zset|stream), in db 0 at offset \d+\)/);
    expect(out).toMatch(/rdb-load-skip-unknown-types yes/);
    const k = await kvslab(['--dir', dir, '--rdb-load-skip-unknown-types', 'yes']);
    const kc = k.client();
    expect((await kc.keys('*')).sort()).toEqual(['s0', 's1']);
    expect(await kc.get('s1')).toBe('between');
    await kc.select(2);
    expect(await kc.get('s2')).toBe('in db 2');
    expect(await kc.ttl('s2')).toBeGreaterThan(9_000);
    expect(await logged(k, '10 keys of types kvslab does not have were skipped')).toMatch(/10 keys of types kvslab does not have were skipped/);
  });
});

describe('DUMP and RESTORE', () => {
  let p: Pair;
  beforeAll(async () => {
    p = await startPair();
  });
  afterAll(async () => {
    await p.kvslab.stop();
    await p.redis.stop();
    await p.k.close();
    await p.r.close();
  });
  beforeEach(async () => {
    await p.reset();
  });

  it('a value DUMPed by either RESTOREs on the other, the same', async () => {
    for (const [key, value] of sampleValues()) {
      await p.both(['SET', key, value]);
      const fromRedis = await p.r.call('DUMP', key) as Buffer;
      const fromKvslab = await p.k.call('DUMP', key) as Buffer;
      for (const c of [p.k, p.r]) {
        expect(show(await c.call('RESTORE', `${key}:r`, '0', fromRedis))).toBe('OK');
        expect(show(await c.call('RESTORE', `${key}:k`, '0', fromKvslab))).toBe('OK');
        for (const k of [`${key}:r`, `${key}:k`]) {
          expect(await c.call('GET', k), k).toEqual(value);
        }
      }
      await p.same(['OBJECT', 'ENCODING', `${key}:r`]);
    }
  });

  it('errors as Redis, in its order: options, BUSYKEY, TTL, payload', async () => {
    await p.both(['SET', 'src', 'value']);
    const good = await p.r.call('DUMP', 'src') as Buffer;
    const flipped = Buffer.from(good);
    flipped[1] ^= 1;
    const newer = Buffer.from(good);
    newer.writeUInt16LE(11, newer.length - 10);
    await p.sequence([
      ['RESTORE', 'src', '0', good],
      ['RESTORE', 'src', '0', good, 'REPLACE'],
      ['RESTORE', 'x', '-1', good],
      ['RESTORE', 'x', 'abc', good],
      ['RESTORE', 'x', '0', good, 'BOGUS'],
      ['RESTORE', 'x', '0', good, 'IDLETIME'],
      ['RESTORE', 'x', '0', good, 'IDLETIME', '-1'],
      ['RESTORE', 'x', '0', good, 'IDLETIME', 'x'],
      ['RESTORE', 'x', '0', good, 'FREQ', '256'],
      ['RESTORE', 'x', '0', good, 'FREQ', '1', 'IDLETIME', '1'],
      ['RESTORE', 'src', '-1', good, 'BOGUS'],
      ['RESTORE', 'src', '-1', good],
      ['RESTORE', 'x', '0', flipped],
      ['RESTORE', 'x', '0', newer],
      ['RESTORE', 'x', '0', Buffer.from('short')],
      ['RESTORE', 'x', '0', Buffer.alloc(0)],
      ['EXISTS', 'x'],
    ]);
  });

  it('TTL, ABSTTL, an expired TTL, REPLACE, IDLETIME and FREQ as Redis', async () => {
    await p.both(['SET', 'src', 'value']);
    const payload = await p.r.call('DUMP', 'src') as Buffer;
    await p.sequence([
      ['RESTORE', 'a', '100000', payload],
      ['RESTORE', 'b', String(Date.now() + 200_000), payload, 'ABSTTL'],
      ['RESTORE', 'c', '1', payload, 'ABSTTL'],
      ['EXISTS', 'c'],
      ['RESTORE', 'src', '1', payload, 'ABSTTL', 'REPLACE'],
      ['EXISTS', 'src'],
      ['RESTORE', 'd', '0', payload, 'IDLETIME', '1000'],
    ]);
    for (const k of ['a', 'b']) {
      const [kt, rt] = await p.both(['PTTL', k]) as number[];
      expect(Math.abs(kt - rt)).toBeLessThan(2_000);
      expect(kt).toBeGreaterThan(90_000);
    }
    const [ki, ri] = await p.both(['OBJECT', 'IDLETIME', 'd']) as number[];
    expect(ri).toBeGreaterThanOrEqual(1000);
    expect(Math.abs(ki - ri)).toBeLessThanOrEqual(2);
  });

  it('FREQ under an LFU policy', async () => {
    await p.both(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu']);
    await p.both(['SET', 'src', 'value']);
    const payload = await p.r.call('DUMP', 'src') as Buffer;
    await p.sequence([
      ['RESTORE', 'f', '0', payload, 'FREQ', '100'],
      ['OBJECT', 'FREQ', 'f'],
    ]);
    await p.both(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
  });

  it('a tensor DUMPs and RESTOREs between kvslab servers, bit for bit; Redis refuses it as data it cannot read', async () => {
    await p.k.call('KV.CREATE', 't', 'DTYPE', 'bfloat16', 'LAYERS', '3', 'HEADS', '2', 'HEADDIM', '4', 'KV', '2');
    const data = Buffer.alloc(2 * 3 * 5 * 2 * 4 * 2);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 0xff;
    await p.k.call('KV.APPEND', 't', data);
    const payload = await p.k.call('DUMP', 't') as Buffer;
    expect(show(await p.k.call('RESTORE', 't2', '0', payload))).toBe('OK');
    expect(await p.k.call('KV.SLICE', 't2', '0', '5')).toEqual(data);
    expect(await p.k.call('KV.SLICE', 't2', '1', '4', 'LAYER', '2')).toEqual(await p.k.call('KV.SLICE', 't', '1', '4', 'LAYER', '2'));
    expect(await p.r.call('RESTORE', 't', '0', payload)).toEqual({ error: 'ERR Bad data format' });
  });
});

describe('redis-check-rdb on what kvslab writes', () => {
  it('the file of an empty server, and of keys in many databases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-rdb-'));
    const k = await kvslab(['--dir', dir]);
    const kc = k.client();
    await kc.save();
    expect(checkRdb(join(dir, 'dump.rdb')).status).toBe(0);
    for (let db = 0; db < 16; db++) {
      await kc.select(db);
      await kc.set(`k${db}`, db);
    }
    await kc.save();
    const check = checkRdb(join(dir, 'dump.rdb'));
    expect(check.status).toBe(0);
    expect(check.out).toMatch(/\b16 keys read/);
  });

  it('a file redis-check-rdb finds broken is one kvslab refuses too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-rdb-'));
    const r = await redis(['--dir', dir]);
    await r.client().set('k', 'hello world');
    await r.client().save();
    const file = join(dir, 'dump.rdb');
    const bytes = readFileSync(file);
    // The value's last byte (before EOF and the CRC): only the checksum can tell.
    bytes[bytes.length - 10] ^= 0x55;
    writeFileSync(file, bytes);
    // redis-check-rdb names the offset after the trailer, kvslab the trailer's own.
    expect(checkRdb(file).out).toContain(`[offset ${bytes.length}] RDB CRC error`);
    await expect(kvslab(['--dir', dir])).rejects.toThrow(new RegExp(`Wrong RDB checksum.* at offset ${bytes.length - 8}`));
    expect((await redisRefuses(dir)).out).toContain('RDB CRC error');
  });
});
