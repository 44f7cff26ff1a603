// maxmemory side by side with Redis 7: the OOM refusal under noeviction (its
// text, which commands it stops, what it does to MULTI/EXEC), and the
// maxmemory and maxmemory-policy settings as CONFIG SET/GET and INFO show them.
// kvslab's store never goes past its budget while Redis's may, by a write, so
// the point where refusals start differs; the replies once refusing must not.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPair, Pair, Argv } from '../helpers/differential.js';
import { RawClient, Reply, show } from '../helpers/raw-client.js';

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";
const REDIS_POLICIES = ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'];

let pair: Pair;
/** A second connection to each server, for changing settings under a client in MULTI. */
let admin: [RawClient, RawClient];
beforeAll(async () => {
  pair = await startPair();
  admin = await pair.connect();
});
afterAll(async () => {
  for (const c of admin) c.close();
  await pair.stop();
});
beforeEach(async () => {
  // A test that failed inside MULTI must not leave its transaction open.
  await pair.both(['DISCARD']);
  await pair.same(['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction']);
  await pair.reset();
});

/** Sends a command on both admin connections; both must answer OK. */
async function adminBoth(...argv: string[]): Promise<void> {
  const replies = await Promise.all(admin.map((c) => c.call(...argv)));
  expect(replies.map(show)).toEqual(['OK', 'OK']);
}

/** Data both servers hold before the limit comes down. */
async function seed(): Promise<void> {
  await pair.sequence([
    ['SET', 'a', 'value-a'], ['SET', 'n', '10'], ['SET', 's', 'hello'], ['SET', 'f', '1.5'],
    ['SET', 'big', 'x'.repeat(5000)], ['SET', 'ttl', 'v', 'EX', '1000'],
  ]);
}

/** Brings both servers over their limit: maxmemory below what either uses. */
async function overTheLimit(): Promise<void> {
  await pair.same(['CONFIG', 'SET', 'maxmemory', '1']);
}

describe('noeviction at the limit', () => {
  it('filling with large values: both refuse with the same OOM error, and keep refusing them', async () => {
    await pair.same(['CONFIG', 'SET', 'maxmemory', '4mb']);
    const value = Buffer.alloc(256 * 1024, 0x61);
    const firstError: Reply[] = [];
    const accepted: number[] = [];
    for (const c of [pair.k, pair.r]) {
      let i = 0;
      let reply: Reply = null;
      for (; i < 100; i++) {
        reply = await c.call('SET', `fill:${i}`, value);
        if (reply !== null && typeof reply === 'object' && 'error' in reply) break;
      }
      accepted.push(i);
      firstError.push(reply);
      // The exact bytes of the refusal.
      expect(c.lastRaw.toString()).toBe(`-${OOM}\r\n`);
    }
    expect(show(firstError[0])).toEqual(show(firstError[1]));
    // Both took about 3 to 4 MB before refusing (Redis counts its own start-up memory too).
    for (const n of accepted) {
      expect(n).toBeGreaterThanOrEqual(8);
      expect(n).toBeLessThanOrEqual(16);
    }
    // Once refusing, the same large writes are refused alike, reads go on.
    await pair.sequence([
      ['SET', 'fill:more', value], ['APPEND', 'fill:0', value], ['SETRANGE', 'fill:0', String(300 * 1024), 'x'],
      ['MSET', 'm1', value, 'm2', value],
      ['STRLEN', 'fill:0'], ['EXISTS', 'fill:0', 'fill:1', 'nosuch'], ['GETRANGE', 'fill:1', '0', '9'], ['TYPE', 'fill:2'],
      ['TTL', 'fill:3'], ['GET', 'nosuch'],
    ]);
    await pair.same(['CONFIG', 'SET', 'maxmemory', '0']);
    await pair.same(['SET', 'fill:more', 'ok now']);
  });

  it('over the limit, every denyoom command is refused and the others still work', async () => {
    await seed();
    await overTheLimit();
    const denyoom: Argv[] = [
      ['SET', 'a', 'b'], ['SET', 'new', 'v'], ['SET', 'a', 'b', 'GET'], ['SET', 'a', 'b', 'XX', 'KEEPTTL'],
      ['SETNX', 'new', '1'], ['SETEX', 'new', '10', 'v'], ['PSETEX', 'new', '10000', 'v'], ['GETSET', 'a', 'z'],
      ['MSET', 'a', '1', 'b', '2'], ['MSETNX', 'x', '1', 'y', '2'], ['APPEND', 's', 'x'], ['APPEND', 'new', 'x'],
      ['SETRANGE', 's', '0', 'X'], ['SETRANGE', 's', '100', 'X'], ['INCR', 'n'], ['DECR', 'n'], ['INCRBY', 'n', '5'],
      ['DECRBY', 'n', '5'], ['INCRBYFLOAT', 'f', '1.5'], ['INCR', 'new'], ['SETBIT', 's', '0', '1'], ['SETBIT', 'new', '100', '1'],
      ['COPY', 'a', 'a2'],
    ];
    for (const argv of denyoom) {
      const reply = await pair.same(argv);
      expect(show(reply), argv.join(' ')).toEqual({ error: OOM });
    }
    // Nothing those commands would have changed has changed.
    await pair.sequence([['GET', 'a'], ['GET', 'n'], ['GET', 's'], ['GET', 'f'], ['EXISTS', 'new', 'x', 'y', 'a2'], ['DBSIZE']]);
    // Reads, expiry changes, deletes, renames and moves are not refused.
    await pair.sequence([
      ['GET', 'a'], ['MGET', 'a', 'n', 's', 'nosuch'], ['STRLEN', 'big'], ['GETRANGE', 's', '1', '3'], ['EXISTS', 'a', 's', 'nosuch'],
      ['TYPE', 'a'], ['TTL', 'a'], ['EXPIRE', 'a', '100'], ['TTL', 'a'], ['PERSIST', 'a'], ['TTL', 'a'], ['PEXPIRE', 'n', '100000'],
      ['PTTL', 'n'], ['EXPIRETIME', 'ttl'], ['GETEX', 's', 'PERSIST'], ['GETEX', 'ttl', 'EX', '50'], ['TTL', 'ttl'],
      ['BITCOUNT', 's'], ['GETBIT', 's', '1'], ['BITPOS', 's', '1'], ['LCS', 'a', 's'], ['OBJECT', 'ENCODING', 'n'],
      ['RENAME', 'a', 'a3'], ['RENAMENX', 'a3', 'a'], ['TOUCH', 'a', 'n'], ['MOVE', 'f', '1'], ['GETDEL', 'n'], ['DEL', 's', 'nosuch'],
      ['UNLINK', 'big'], ['DBSIZE'], ['PING'], ['ECHO', 'hi'], ['SELECT', '1'], ['GET', 'f'], ['SELECT', '0'],
      ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'GET', 'maxmemory-policy'],
    ]);
    // FLUSHALL is not refused, and does not make room under maxmemory 1 on either.
    await pair.sequence([['FLUSHALL'], ['DBSIZE'], ['SET', 'a', 'b']]);
    await pair.same(['CONFIG', 'SET', 'maxmemory', '0']);
    await pair.sequence([['SET', 'a', 'b'], ['GET', 'a']]);
  });
});

describe('MULTI/EXEC at the limit', () => {
  it('over the limit, every queued command is refused (Redis 7) and EXEC aborts; DISCARD is allowed', async () => {
    await seed();
    await overTheLimit();
    await pair.sequence([
      ['MULTI'], ['GET', 'a'], ['SET', 'a', 'b'], ['PING'], ['EXEC'],
      ['MULTI'], ['INCR', 'n'], ['DISCARD'],
      ['MULTI'], ['EXEC'],
      ['GET', 'a'], ['GET', 'n'],
    ]);
  });

  it('a transaction queued under the limit with a write in it is aborted by EXEC once over the limit', async () => {
    await seed();
    await pair.sequence([['MULTI'], ['SET', 'x', '1'], ['GET', 'a'], ['INCR', 'n']]);
    // From other connections, the limit comes down while the transaction waits.
    await adminBoth('CONFIG', 'SET', 'maxmemory', '1');
    // Redis 7: EXEC of a transaction holding denyoom commands is refused as
    // they would be: -EXECABORT Transaction discarded because of: OOM ...
    await pair.same(['EXEC']);
    await pair.sequence([['GET', 'x'], ['GET', 'n'], ['EXEC']]);
  });

  it('a read-only transaction queued under the limit still runs once over it', async () => {
    await seed();
    await pair.sequence([['MULTI'], ['GET', 'a'], ['STRLEN', 's'], ['DEL', 'big']]);
    await adminBoth('CONFIG', 'SET', 'maxmemory', '1');
    await pair.sequence([['EXEC'], ['EXISTS', 'big']]);
  });

  it('a transaction refused while over the limit is not run after the limit is raised', async () => {
    await seed();
    await overTheLimit();
    await pair.sequence([['MULTI'], ['SET', 'x', '1']]);
    await adminBoth('CONFIG', 'SET', 'maxmemory', '0');
    await pair.sequence([['SET', 'y', '2'], ['EXEC'], ['GET', 'x'], ['GET', 'y']]);
  });
});

describe('maxmemory settings', () => {
  it('CONFIG GET maxmemory-policy and CONFIG SET of every Redis policy name answer alike', async () => {
    await pair.same(['CONFIG', 'GET', 'maxmemory-policy']);
    for (const p of REDIS_POLICIES) {
      await pair.same(['CONFIG', 'SET', 'maxmemory-policy', p]);
      await pair.same(['CONFIG', 'GET', 'maxmemory-policy']);
      const [ki, ri] = await pair.both(['INFO', 'memory']);
      const field = (x: Reply) => /maxmemory_policy:(\S+)/.exec(show(x) as string)?.[1];
      expect(field(ki)).toBe(p);
      expect(field(ri)).toBe(p);
    }
    // Case-insensitive, read back in lower case.
    await pair.sequence([['CONFIG', 'SET', 'maxmemory-policy', 'AllKeys-LFU'], ['CONFIG', 'GET', 'maxmemory-policy']]);
    await pair.sequence([['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru', 'maxmemory', '5mb'], ['CONFIG', 'GET', 'maxmemory-policy'], ['CONFIG', 'GET', 'maxmemory']]);
    // An unknown name: the same error, kvslab listing its own policies after Redis's.
    const [k, r] = await pair.both(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-ttl']);
    const redisText = (r as { error: string }).error;
    expect(redisText).toMatch(/^ERR CONFIG SET failed \(possibly related to argument 'maxmemory-policy'\) - argument\(s\) must be one of the following: /);
    expect((k as { error: string }).error).toBe(`${redisText}, allkeys-sieve, volatile-sieve, allkeys-s3fifo`);
    await pair.same(['CONFIG', 'GET', 'maxmemory-policy']);
  });

  it('CONFIG SET maxmemory with units reads back the same, in CONFIG GET and INFO', async () => {
    for (const v of ['10mb', '1gb', '5g', '100KB', '1k', '7m', '3GB', '12345', '4096kb', '0']) {
      await pair.same(['CONFIG', 'SET', 'maxmemory', v]);
      await pair.same(['CONFIG', 'GET', 'maxmemory']);
      const [ki, ri] = await pair.both(['INFO', 'memory']);
      const fields = (x: Reply) => {
        const t = show(x) as string;
        return [/maxmemory:(\d+)/.exec(t)?.[1], /maxmemory_human:(\S+)/.exec(t)?.[1]];
      };
      expect(fields(ki), v).toEqual(fields(ri));
    }
    // Rejected values, and a bad one among good ones changes nothing.
    for (const v of ['10xb', '-1', '1.5mb', 'mb', '']) await pair.same(['CONFIG', 'SET', 'maxmemory', v]);
    await pair.same(['CONFIG', 'SET', 'maxmemory', '2mb']);
    await pair.same(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-random', 'maxmemory', '10xb']);
    await pair.same(['CONFIG', 'GET', 'maxmemory']);
    await pair.same(['CONFIG', 'GET', 'maxmemory-policy']);
    await pair.same(['CONFIG', 'SET', 'maxmemory', '0']);
  });

  it('the largest maxmemory reads back exactly in CONFIG GET, and in kvslab\'s INFO', async () => {
    const max = '18446744073709551615';
    await pair.same(['CONFIG', 'SET', 'maxmemory', max]);
    await pair.same(['CONFIG', 'GET', 'maxmemory']);
    // Redis 7.0's INFO prints this one as a signed number (maxmemory:-1); kvslab's
    // INFO must at least print the value it was given, not a rounded double.
    const info = show(await pair.k.call('INFO', 'memory')) as string;
    expect(/maxmemory:(\S+)/.exec(info)?.[1]).toBe(max);
    await pair.same(['CONFIG', 'SET', 'maxmemory', '0']);
  });

  it('maxmemory-samples and the LFU settings read back alike', async () => {
    await pair.sequence([
      ['CONFIG', 'SET', 'maxmemory-samples', '10'], ['CONFIG', 'GET', 'maxmemory-samples'],
      ['CONFIG', 'SET', 'maxmemory-samples', '0'], ['CONFIG', 'GET', 'maxmemory-samples'],
      ['CONFIG', 'SET', 'maxmemory-eviction-tenacity', '50'], ['CONFIG', 'GET', 'maxmemory-eviction-tenacity'],
      ['CONFIG', 'SET', 'maxmemory-eviction-tenacity', '101'],
      ['CONFIG', 'SET', 'lfu-log-factor', '20'], ['CONFIG', 'GET', 'lfu-log-factor'],
      ['CONFIG', 'SET', 'lfu-decay-time', '3'], ['CONFIG', 'GET', 'lfu-decay-time'],
      ['CONFIG', 'SET', 'maxmemory-samples', '5', 'maxmemory-eviction-tenacity', '10', 'lfu-log-factor', '10', 'lfu-decay-time', '1'],
    ]);
  });

  it('OBJECT FREQ and IDLETIME answer alike as the policy changes', async () => {
    await pair.same(['SET', 'k', 'v']);
    await pair.same(['OBJECT', 'FREQ', 'k']);
    await pair.same(['OBJECT', 'IDLETIME', 'k']);
    await pair.same(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu']);
    await pair.same(['OBJECT', 'IDLETIME', 'k']);
    await pair.same(['SET', 'fresh', 'v']);
    await pair.same(['OBJECT', 'FREQ', 'fresh']);
    await pair.same(['OBJECT', 'FREQ', 'nosuch']);
    await pair.same(['CONFIG', 'SET', 'maxmemory-policy', 'volatile-lfu']);
    await pair.same(['OBJECT', 'IDLETIME', 'k']);
    await pair.same(['CONFIG', 'SET', 'maxmemory-policy', 'volatile-ttl']);
    await pair.same(['OBJECT', 'FREQ', 'k']);
  });
});
