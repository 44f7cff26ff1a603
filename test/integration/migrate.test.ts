// MIGRATE between real processes: kvslab to Debian's redis-server (strings,
// TTLs, binary keys, KEYS, COPY, REPLACE, AUTH and AUTH2, other dbs, NOKEY,
// a 64 MiB value), redis-server's own MIGRATE to kvslab, kvslab to kvslab
// with a tensor, and the failures: a target that never answers (IOERR after
// the timeout, the server blocked meanwhile and fine after), a closed port,
// a name that does not resolve. Also the cached connection (reused, replaced
// once the target drops it, closed after 10 s unused), WATCH seeing the
// delete, the slow log hiding AUTH's secrets, and a prompt exit.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startKvslab, startRedis, type RunningServer } from '../helpers/servers.js';
import { info } from '../helpers/info.js';
import { randomBytes } from '../helpers/random.js';

const HOST = '127.0.0.1';

let kv: RunningServer;
let redis: RunningServer;
/** A redis-server with requirepass and an ACL user. */
let locked: RunningServer;
let kv2: RunningServer;
let c: Redis;
let r: Redis;
let l: Redis;
let c2: Redis;

beforeAll(async () => {
  [kv, redis, locked, kv2] = await Promise.all([
    startKvslab(['--slowlog-log-slower-than', '0']),
    startRedis(),
    startRedis(['--requirepass', 'rootpw']),
    startKvslab(['--requirepass', 'kvpw']),
  ]);
  c = kv.client();
  r = redis.client();
  l = locked.client({ password: 'rootpw' });
  c2 = kv2.client({ password: 'kvpw' });
  await l.call('ACL', 'SETUSER', 'mover', 'on', '>moverpw', '~*', '+@all');
});

afterAll(async () => {
  await Promise.all([kv, redis, locked, kv2].map((s) => s?.stop()));
});

/** MIGRATE on the kvslab source to the given target port. */
function migrate(port: number, ...args: (string | Buffer | number)[]): Promise<unknown> {
  return c.call('MIGRATE', HOST, String(port), ...args.map((a) => (typeof a === 'number' ? String(a) : a)));
}

/** The error a call replied with. */
async function errorOf(p: Promise<unknown>): Promise<string> {
  return p.then((v) => `no error: ${String(v)}`, (e: Error) => e.message);
}

describe('kvslab to Redis', () => {
  it('a string moves (deleted here), with its TTL still counting down, and without a TTL none', async () => {
    await c.set('plain', 'value');
    await c.set('ttl', 'short-lived', 'PX', 60_000);
    expect(await migrate(redis.port, 'plain', 0, 5000)).toBe('OK');
    expect(await migrate(redis.port, 'ttl', 0, 5000)).toBe('OK');
    expect(await c.exists('plain', 'ttl')).toBe(0);
    expect(await r.get('plain')).toBe('value');
    expect(await r.pttl('plain')).toBe(-1);
    expect(await r.get('ttl')).toBe('short-lived');
    const pttl = await r.pttl('ttl');
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('binary keys and values, byte for byte (the empty value too)', async () => {
    const key = Buffer.from([0, 1, 0xff, 0x0d, 0x0a, 0x24, 0x2a, 0]);
    const value = randomBytes(10_000, 7);
    await c.set(key, value);
    await c.set('empty', '');
    expect(await migrate(redis.port, key, 0, 5000)).toBe('OK');
    expect(await migrate(redis.port, 'empty', 0, 5000)).toBe('OK');
    expect(await r.getBuffer(key)).toEqual(value);
    expect(await r.get('empty')).toBe('');
    expect(await c.exists(key)).toBe(0);
  });

  it('KEYS moves several at once; missing ones are passed over; none present is NOKEY', async () => {
    await c.mset('m1', 'one', 'm2', 'two', 'm3', 'three');
    await c.pexpire('m2', 30_000);
    expect(await migrate(redis.port, '', 0, 5000, 'KEYS', 'm1', 'absent', 'm2', 'm3')).toBe('OK');
    expect(await r.mget('m1', 'm2', 'm3')).toEqual(['one', 'two', 'three']);
    expect(await r.pttl('m2')).toBeGreaterThan(20_000);
    expect(await c.exists('m1', 'm2', 'm3')).toBe(0);
    expect(await migrate(redis.port, '', 0, 5000, 'KEYS', 'absent', 'gone')).toBe('NOKEY');
    expect(await migrate(redis.port, 'absent', 0, 5000)).toBe('NOKEY');
  });

  it('COPY leaves the key here', async () => {
    await c.set('copied', 'both');
    expect(await migrate(redis.port, 'copied', 0, 5000, 'COPY')).toBe('OK');
    expect(await c.get('copied')).toBe('both');
    expect(await r.get('copied')).toBe('both');
  });

  it('without REPLACE the target\'s BUSYKEY comes back in Redis\'s words and nothing changes; with REPLACE the target\'s key is overwritten', async () => {
    await r.set('busy', 'old');
    await c.set('busy', 'new');
    expect(await errorOf(migrate(redis.port, 'busy', 0, 5000))).toBe('ERR Target instance replied with error: BUSYKEY Target key name already exists.');
    expect(await c.get('busy')).toBe('new');
    expect(await r.get('busy')).toBe('old');
    expect(await migrate(redis.port, 'busy', 0, 5000, 'REPLACE')).toBe('OK');
    expect(await r.get('busy')).toBe('new');
    expect(await c.exists('busy')).toBe(0);
  });

  it('with KEYS a BUSYKEY fails only its key: the others move, the first error is the reply', async () => {
    await r.set('k2', 'there');
    await c.mset('k1', 'a', 'k2', 'b', 'k3', 'c');
    expect(await errorOf(migrate(redis.port, '', 0, 5000, 'KEYS', 'k1', 'k2', 'k3'))).toBe('ERR Target instance replied with error: BUSYKEY Target key name already exists.');
    expect(await c.exists('k1', 'k3')).toBe(0);
    expect(await c.get('k2')).toBe('b');
    expect(await r.mget('k1', 'k2', 'k3')).toEqual(['a', 'there', 'c']);
  });

  it('the destination db is selected, and selected again when the next MIGRATE on the cached connection wants another', async () => {
    await c.mset('d5', 'five', 'd0', 'zero', 'd5b', 'five again');
    expect(await migrate(redis.port, 'd5', 5, 5000)).toBe('OK');
    expect(await migrate(redis.port, 'd0', 0, 5000)).toBe('OK');
    expect(await migrate(redis.port, 'd5b', 5, 5000)).toBe('OK');
    const r5 = redis.client({ db: 5 });
    expect(await r5.mget('d5', 'd5b', 'd0')).toEqual(['five', 'five again', null]);
    expect(await r.get('d0')).toBe('zero');
    expect(await errorOf(migrate(redis.port, 'd0x', 99, 5000))).toBe('no error: NOKEY');
    await c.set('d99', 'x');
    expect(await errorOf(migrate(redis.port, 'd99', 99, 5000))).toBe('ERR Target instance replied with error: ERR DB index is out of range');
    expect(await c.get('d99')).toBe('x');
  });

  it('AUTH with requirepass: a wrong password is the target\'s WRONGPASS and keeps the key; the right one moves it', async () => {
    await c.set('secret', 's');
    expect(await errorOf(migrate(locked.port, 'secret', 0, 5000))).toBe('ERR Target instance replied with error: NOAUTH Authentication required.');
    expect(await errorOf(migrate(locked.port, 'secret', 0, 5000, 'AUTH', 'nope'))).toBe('ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.');
    expect(await c.get('secret')).toBe('s');
    expect(await migrate(locked.port, 'secret', 0, 5000, 'AUTH', 'rootpw')).toBe('OK');
    expect(await l.get('secret')).toBe('s');
    expect(await c.exists('secret')).toBe(0);
  });

  it('AUTH2 as an ACL user, to another db', async () => {
    // "localhost": a connection of its own (the cache goes by the words), not yet authenticated.
    const viaLocalhost = (...args: string[]) => c.call('MIGRATE', 'localhost', String(locked.port), 'acl', '3', '5000', ...args);
    await c.set('acl', 'a');
    expect(await errorOf(viaLocalhost('AUTH2', 'mover', 'wrong'))).toBe('ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.');
    const l3 = locked.client({ password: 'rootpw', db: 3 });
    expect(await l3.exists('acl')).toBe(0);
    expect(await viaLocalhost('COPY', 'AUTH2', 'mover', 'moverpw')).toBe('OK');
    expect(await l3.get('acl')).toBe('a');
    expect(await c.get('acl')).toBe('a');
  });

  it('the slow log shows AUTH and AUTH2 secrets redacted, as Redis does', async () => {
    await c.call('SLOWLOG', 'RESET');
    await migrate(locked.port, 'nothing', 0, 5000, 'AUTH2', 'mover', 'moverpw', 'AUTH', 'rootpw');
    const entries = await c.call('SLOWLOG', 'GET', '10') as [number, number, number, string[]][];
    const args = entries.map((e) => e[3]).find((a) => a[0] === 'MIGRATE');
    expect(args?.slice(6)).toEqual(['AUTH2', '(redacted)', '(redacted)', 'AUTH', '(redacted)']);
  });

  it('a 64 MiB value', async () => {
    const big = randomBytes(64 * 1024 * 1024, 64, 16);
    await c.set('big', big);
    expect(await migrate(redis.port, 'big', 0, 60_000)).toBe('OK');
    expect(await c.exists('big')).toBe(0);
    expect(await r.strlen('big')).toBe(big.length);
    expect((await r.getBuffer('big'))?.equals(big)).toBe(true);
  });
});

describe('Redis to kvslab', () => {
  it('redis-server\'s MIGRATE with AUTH, SELECT and REPLACE lands in kvslab; BUSYKEY is kvslab\'s, in Redis\'s words', async () => {
    await r.set('from-redis', 'hello', 'PX', 90_000);
    await r.set(Buffer.from([0, 0xfe, 0x0a]), randomBytes(5000, 3));
    expect(await r.call('MIGRATE', HOST, String(kv2.port), 'from-redis', '4', '5000', 'AUTH', 'kvpw')).toBe('OK');
    const k4 = kv2.client({ password: 'kvpw', db: 4 });
    expect(await k4.get('from-redis')).toBe('hello');
    expect(await k4.pttl('from-redis')).toBeGreaterThan(80_000);
    expect(await r.call('MIGRATE', HOST, String(kv2.port), '', '0', '5000', 'AUTH2', 'default', 'kvpw', 'KEYS', Buffer.from([0, 0xfe, 0x0a]))).toBe('OK');
    expect(await c2.getBuffer(Buffer.from([0, 0xfe, 0x0a]))).toEqual(randomBytes(5000, 3));

    await r.set('from-redis', 'again');
    await r.set('int', '12345');
    expect(await errorOf(r.call('MIGRATE', HOST, String(kv2.port), 'from-redis', '4', '5000', 'AUTH', 'kvpw'))).toBe('ERR Target instance replied with error: BUSYKEY Target key name already exists.');
    expect(await r.call('MIGRATE', HOST, String(kv2.port), '', '4', '5000', 'REPLACE', 'AUTH', 'kvpw', 'KEYS', 'from-redis', 'int')).toBe('OK');
    expect(await k4.mget('from-redis', 'int')).toEqual(['again', '12345']);
    expect(await k4.pttl('from-redis')).toBe(-1);
    expect(await r.exists('from-redis', 'int')).toBe(0);
  });
});

describe('kvslab to kvslab', () => {
  const shape = ['DTYPE', 'float32', 'LAYERS', '4', 'HEADS', '2', 'HEADDIM', '8', 'KV', '2'];
  const tokens = (n: number, seed: number) => randomBytes(2 * 4 * n * 2 * 8 * 4, seed);

  it('a tensor moves bit for bit (its TTL too); Redis refuses one as data it cannot read', async () => {
    await c.call('KV.CREATE', 'tensor', ...shape, 'EX', '100');
    const data = tokens(17, 5);
    await c.call('KV.APPEND', 'tensor', data);
    const before = await c.call('KV.INFO', 'tensor') as unknown[];
    expect(await migrate(kv2.port, 'tensor', 0, 5000, 'AUTH', 'kvpw')).toBe('OK');
    expect(await c.exists('tensor')).toBe(0);
    expect(await c2.callBuffer('KV.SLICE', 'tensor', '0', '17')).toEqual(data);
    expect(await c2.call('KV.INFO', 'tensor')).toEqual(before);
    expect(await c2.ttl('tensor')).toBeGreaterThan(90);

    await c.call('KV.CREATE', 'tensor2', ...shape);
    expect(await errorOf(migrate(redis.port, 'tensor2', 0, 5000))).toBe('ERR Target instance replied with error: ERR Bad data format');
    expect(await c.exists('tensor2')).toBe(1);
  });
});

describe('failures', () => {
  it('a target that accepts and never answers: IOERR after about the timeout, the server blocked meanwhile, the key kept, all well after', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((res) => silent.listen(0, HOST, res));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      await c.set('stuck', 'v');
      const other = kv.client();
      await other.ping();
      const t0 = Date.now();
      let migrated = 0;
      const m = errorOf(migrate(port, 'stuck', 0, 800)).then((e) => { migrated = Date.now(); return e; });
      // Sent while MIGRATE waits: answered only after it (no command runs meanwhile).
      await new Promise((res) => setTimeout(res, 200));
      const pinged = await other.ping().then(() => Date.now());
      expect(await m).toBe('IOERR error or timeout reading to target instance');
      const took = migrated - t0;
      expect(took).toBeGreaterThanOrEqual(750);
      expect(took).toBeLessThan(3000);
      expect(pinged).toBeGreaterThanOrEqual(migrated);
      expect(await c.get('stuck')).toBe('v');
      expect(await c.ping()).toBe('PONG');
    } finally {
      silent.close();
    }
  });

  it('a closed port is IOERR writing, as Redis (its connect does not fail, its write does); a name that does not resolve, IOERR connecting', async () => {
    const closed = net.createServer();
    await new Promise<void>((res) => closed.listen(0, HOST, res));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((res) => closed.close(res));
    await c.set('here', 'v');
    expect(await errorOf(migrate(port, 'here', 0, 1000))).toBe('IOERR error or timeout writing to target instance');
    expect(await errorOf(c.call('MIGRATE', 'no-such-host.invalid', '6379', 'here', '0', '1000'))).toBe('IOERR error or timeout connecting to the client');
    expect(await c.get('here')).toBe('v');
  });

  it('a target that closes every connection at once: IOERR reading (after one retry)', async () => {
    let accepted = 0;
    const rude = net.createServer((s) => { accepted++; s.destroy(); });
    await new Promise<void>((res) => rude.listen(0, HOST, res));
    try {
      await c.set('rude', 'v');
      expect(await errorOf(migrate((rude.address() as net.AddressInfo).port, 'rude', 0, 1000))).toBe('IOERR error or timeout reading to target instance');
      expect(accepted).toBe(2);
      expect(await c.get('rude')).toBe('v');
    } finally {
      rude.close();
    }
  });
});

describe('the cached connection', () => {
  it('is reused; replaced when the target drops it; closed after 10 s unused', async () => {
    const target = await startRedis();
    try {
      const t = target.client();
      const connections = async () => Number((await info(t, 'stats')).get('total_connections_received'));
      const clients = async () => Number((await info(t, 'clients')).get('connected_clients'));
      const base = await connections();
      await c.mset('c1', '1', 'c2', '2', 'c3', '3');
      expect(await migrate(target.port, 'c1', 0, 5000)).toBe('OK');
      expect(await migrate(target.port, 'c2', 0, 5000)).toBe('OK');
      expect(await connections()).toBe(base + 1);
      await t.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      expect(await migrate(target.port, 'c3', 0, 5000)).toBe('OK');
      expect(await t.mget('c1', 'c2', 'c3')).toEqual(['1', '2', '3']);
      expect(await clients()).toBe(2);
      const end = Date.now() + 15_000;
      while ((await clients()) > 1 && Date.now() < end) await new Promise((res) => setTimeout(res, 250));
      expect(await clients()).toBe(1);
    } finally {
      await target.stop();
    }
  }, 30_000);
});

describe('around it', () => {
  it('a WATCH on a migrated key fails the EXEC', async () => {
    await c.set('watched', 'v');
    const w = kv.client();
    await w.watch('watched');
    expect(await migrate(redis.port, 'watched', 0, 5000, 'REPLACE')).toBe('OK');
    expect(await w.multi().get('watched').exec()).toBeNull();
  });

  it('a kvslab that has migrated exits at once on SIGTERM (the worker does not hold it)', async () => {
    const s = await startKvslab();
    await s.client().set('k', 'v');
    expect(await s.client().call('MIGRATE', HOST, String(redis.port), 'k', '0', '5000', 'REPLACE')).toBe('OK');
    const t0 = Date.now();
    await s.stop();
    expect(s.proc.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
