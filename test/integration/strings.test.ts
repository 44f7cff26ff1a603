// String and bit commands through a real client (ioredis): binary safety,
// expiry that really happens, exact 64-bit counters, float formatting, bitmap
// counting checked against a model in the test, WATCH interplay of in-place
// writes, and RESP3 replies on a raw connection after HELLO 3.

import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { RunningServer, startKvslab } from '../helpers/servers.js';

let srv: RunningServer;
let r: Redis;
beforeAll(async () => {
  srv = await startKvslab();
  r = srv.client({ enableReadyCheck: false });
});
afterAll(async () => { await srv.stop(); });
beforeEach(async () => { await r.flushall(); });

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('values are binary-safe', () => {
  it('every byte value in keys and values, through SET/GET/GETRANGE/APPEND/SETRANGE', async () => {
    const key = Buffer.concat([Buffer.from('k\0\r\n'), ALL_BYTES]);
    expect(await r.set(key, ALL_BYTES)).toBe('OK');
    expect(await r.getBuffer(key)).toEqual(ALL_BYTES);
    expect(await r.strlen(key)).toBe(256);
    expect(await r.getrangeBuffer(key, 250, -1)).toEqual(ALL_BYTES.subarray(250));
    expect(await r.append(key, Buffer.from([0, 0xff]))).toBe(258);
    expect(await r.setrange(key, 1, Buffer.from([0xfe, 0x0d]))).toBe(258);
    const expected = Buffer.concat([ALL_BYTES, Buffer.from([0, 0xff])]);
    expected[1] = 0xfe;
    expected[2] = 0x0d;
    expect(await r.getBuffer(key)).toEqual(expected);
    expect(await r.mgetBuffer(key, 'missing')).toEqual([expected, null]);
  });

  it('a 1 MiB value round-trips', async () => {
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    await r.set('big', big);
    expect((await r.getBuffer('big'))?.equals(big)).toBe(true);
    expect(await r.getrangeBuffer('big', 1000, 1009)).toEqual(big.subarray(1000, 1010));
  });

  it('SETRANGE past the end pads with zero bytes', async () => {
    expect(await r.setrange('p', 4, 'ab')).toBe(6);
    expect(await r.getBuffer('p')).toEqual(Buffer.from([0, 0, 0, 0, 0x61, 0x62]));
  });
});

describe('SET options and the GET family', () => {
  it('NX, XX and GET replies', async () => {
    expect(await r.set('k', 'v1', 'XX')).toBeNull();
    expect(await r.set('k', 'v1', 'NX')).toBe('OK');
    expect(await r.set('k', 'v2', 'NX')).toBeNull();
    expect(await r.set('k', 'v2', 'XX')).toBe('OK');
    expect(await r.set('k', 'v3', 'GET')).toBe('v2');
    expect(await r.call('SET', 'k', 'v4', 'NX', 'GET')).toBe('v3');
    expect(await r.get('k')).toBe('v3');
    expect(await r.setnx('k', 'x')).toBe(0);
    expect(await r.getset('k', 'v5')).toBe('v3');
    expect(await r.getdel('k')).toBe('v5');
    expect(await r.exists('k')).toBe(0);
    expect(await r.getdel('k')).toBeNull();
  });

  it('conflicting or malformed options are rejected with Redis errors', async () => {
    await expect(r.call('SET', 'k', 'v', 'NX', 'XX')).rejects.toThrow('ERR syntax error');
    await expect(r.call('SET', 'k', 'v', 'EX', '10', 'PX', '10')).rejects.toThrow('ERR syntax error');
    await expect(r.call('SET', 'k', 'v', 'EX', '0')).rejects.toThrow("ERR invalid expire time in 'set' command");
    await expect(r.call('SET', 'k', 'v', 'PX', '9223372036854775807')).rejects.toThrow("ERR invalid expire time in 'set' command");
    await expect(r.call('SET', 'k', 'v', 'EX', 'soon')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.call('SETEX', 'k', '-1', 'v')).rejects.toThrow("ERR invalid expire time in 'setex' command");
    await expect(r.call('GETEX', 'k', 'PERSIST', 'EX', '1')).rejects.toThrow('ERR syntax error');
    await expect(r.call('MSET', 'a', '1', 'b')).rejects.toThrow("ERR wrong number of arguments for 'mset' command");
    expect(await r.exists('k', 'a')).toBe(0);
  });

  it('MSET, MSETNX and MGET', async () => {
    expect(await r.mset({ a: '1', b: '2' })).toBe('OK');
    expect(await r.msetnx('b', 'x', 'c', 'y')).toBe(0);
    expect(await r.msetnx('c', 'x', 'd', 'y')).toBe(1);
    expect(await r.mget('a', 'b', 'c', 'd', 'e')).toEqual(['1', '2', 'x', 'y', null]);
  });
});

describe('expiry', () => {
  it('PX, PSETEX, PXAT, GETEX PX expire; KEEPTTL keeps; SET, GETSET and GETEX PERSIST clear', async () => {
    const now = Date.now();
    await r.set('px', 'v', 'PX', 150);
    await r.psetex('psetex', 150, 'v');
    await r.set('pxat', 'v', 'PXAT', now + 150);
    await r.set('getex', 'v');
    expect(await r.getex('getex', 'PX', 150)).toBe('v');
    await r.set('keep', 'v', 'PX', 150);
    await r.set('keep', 'v2', 'KEEPTTL');
    for (const k of ['cleared', 'getset', 'persist', 'incr', 'append']) await r.set(k, '1', 'PX', 150);
    await r.set('cleared', 'v2');
    await r.getset('getset', 'v2');
    expect(await r.getex('persist', 'PERSIST')).toBe('1');
    // Writes that change a value in place keep the expiry.
    await r.incr('incr');
    await r.append('append', 'x');
    expect(await r.get('px')).toBe('v');
    await sleep(400);
    expect(await r.mget('px', 'psetex', 'pxat', 'getex', 'keep', 'incr', 'append')).toEqual([null, null, null, null, null, null, null]);
    expect(await r.mget('cleared', 'getset', 'persist')).toEqual(['v2', 'v2', '1']);
  });

  it('an absolute time in the past removes the key at once', async () => {
    await r.set('k', 'v', 'EXAT', 1);
    expect(await r.exists('k')).toBe(0);
    await r.set('k', 'v');
    expect(await r.getex('k', 'PXAT', 1000)).toBe('v');
    expect(await r.exists('k')).toBe(0);
  });

  it('EX and SETEX set whole seconds', async () => {
    await r.set('a', 'v', 'EX', 100);
    await r.setex('b', 50, 'v');
    expect(await r.ttl('a')).toBe(100);
    expect(await r.ttl('b')).toBe(50);
    expect(await r.pttl('a')).toBeGreaterThan(99_000);
  });
});

describe('counters', () => {
  it('INCR family on missing keys and ordinary values', async () => {
    expect(await r.incr('c')).toBe(1);
    expect(await r.incrby('c', 41)).toBe(42);
    expect(await r.decr('c')).toBe(41);
    expect(await r.decrby('c', 50)).toBe(-9);
    expect(await r.get('c')).toBe('-9');
    await r.set('s', 'ten');
    await expect(r.incr('s')).rejects.toThrow('ERR value is not an integer or out of range');
  });

  it('exact at the int64 limits', async () => {
    const big = srv.client({ enableReadyCheck: false, stringNumbers: true });
    await big.set('n', '9223372036854775806');
    expect(await big.incr('n')).toBe('9223372036854775807');
    await expect(big.incr('n')).rejects.toThrow('ERR increment or decrement would overflow');
    expect(await big.decrby('n', '9223372036854775807')).toBe('0');
    expect(await big.decrby('n', '9223372036854775807')).toBe('-9223372036854775807');
    expect(await big.decr('n')).toBe('-9223372036854775808');
    await expect(big.decr('n')).rejects.toThrow('ERR increment or decrement would overflow');
    await expect(big.decrby('n', '-9223372036854775808')).rejects.toThrow('ERR decrement would overflow');
    expect(await big.incrby('m', '9007199254740993')).toBe('9007199254740993');
    expect(await big.incr('m')).toBe('9007199254740994');
    expect(await big.get('m')).toBe('9007199254740994');
  });

  it('INCRBYFLOAT formats as Redis does', async () => {
    expect(await r.incrbyfloat('f', 0.1)).toBe('0.1');
    expect(await r.incrbyfloat('f', 0.2)).toBe('0.3');
    // The sum is computed in 80-bit long double, printed with 17 decimals: Redis gives exactly this.
    expect(await r.incrbyfloat('f', '1e3')).toBe('1000.29999999999999999');
    expect(await r.incrbyfloat('g', '5.0e3')).toBe('5000');
    expect(await r.incrbyfloat('g', '-5000')).toBe('0');
    expect(await r.incrbyfloat('h', '1.23456789012345678901')).toBe('1.23456789012345679');
    expect(await r.incrbyfloat('i', '0x1p-2')).toBe('0.25');
    await expect(r.incrbyfloat('i', 'inf')).rejects.toThrow('ERR increment would produce NaN or Infinity');
    await expect(r.incrbyfloat('i', 'abc')).rejects.toThrow('ERR value is not a valid float');
    expect(await r.get('i')).toBe('0.25');
  });
});

describe('LCS', () => {
  it('returns the subsequence, its length, and matching ranges', async () => {
    await r.mset({ a: 'ohmytext', b: 'mynewtext' });
    expect(await r.call('LCS', 'a', 'b')).toBe('mytext');
    expect(await r.call('LCS', 'a', 'b', 'LEN')).toBe(6);
    expect(await r.call('LCS', 'a', 'b', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN')).toEqual(['matches', [[[4, 7], [5, 8], 4]], 'len', 6]);
    await expect(r.call('LCS', 'a', 'b', 'IDX', 'LEN')).rejects.toThrow('ERR If you want both the length and indexes, please just use IDX.');
  });
});

describe('bitmaps', () => {
  it('SETBIT, GETBIT, BITCOUNT and BITPOS agree with a model of the bitmap', async () => {
    // A pseudo-random set of bits (fixed seed) spread over 4000 offsets.
    const bits = new Set<number>();
    let x = 12345;
    for (let i = 0; i < 700; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      bits.add(x % 4000);
    }
    const pipe = r.pipeline();
    for (const b of bits) pipe.setbit('bm', b, 1);
    const prev = await pipe.exec();
    expect(prev?.every(([err]) => err === null)).toBe(true);
    const sorted = [...bits].sort((a, b) => a - b);
    const countBits = (lo: number, hi: number) => sorted.filter((b) => b >= lo && b <= hi).length;
    const len = Math.floor(sorted[sorted.length - 1] / 8) + 1;
    expect(await r.strlen('bm')).toBe(len);
    expect(await r.bitcount('bm')).toBe(bits.size);
    expect(await r.bitcount('bm', 10, 20)).toBe(countBits(80, 167));
    expect(await r.call('BITCOUNT', 'bm', '5', '1234', 'BIT')).toBe(countBits(5, 1234));
    expect(await r.call('BITCOUNT', 'bm', '-100', '-1', 'BIT')).toBe(countBits(len * 8 - 100, len * 8 - 1));
    expect(await r.bitpos('bm', 1)).toBe(sorted[0]);
    const after = sorted.find((b) => b >= 2001) as number;
    expect(await r.call('BITPOS', 'bm', '1', '2001', '-1', 'BIT')).toBe(after);
    let firstClear = 0;
    while (bits.has(firstClear)) firstClear++;
    expect(await r.bitpos('bm', 0)).toBe(firstClear);
    for (const probe of [0, 1, 7, 8, 999, 3999, 4000, 10_000]) {
      expect(await r.getbit('bm', probe)).toBe(bits.has(probe) ? 1 : 0);
    }
    expect(await r.setbit('bm', sorted[0], 0)).toBe(1);
    expect(await r.bitcount('bm')).toBe(bits.size - 1);
  });

  it('errors for bad offsets and bit values', async () => {
    await expect(r.setbit('b', -1, 1)).rejects.toThrow('ERR bit offset is not an integer or out of range');
    await expect(r.call('SETBIT', 'b', '4294967296', '1')).rejects.toThrow('ERR bit offset is not an integer or out of range');
    await expect(r.setbit('b', 1, 2)).rejects.toThrow('ERR bit is not an integer or out of range');
    await expect(r.call('BITPOS', 'b', '2')).rejects.toThrow('ERR The bit argument must be 1 or 0.');
    expect(await r.exists('b')).toBe(0);
  });
});

describe('WATCH sees in-place writes', () => {
  async function watchedExec(write: () => Promise<unknown>): Promise<unknown> {
    const w = srv.client({ enableReadyCheck: false });
    await w.watch('k');
    await write();
    const res = await w.multi().get('k').exec();
    w.disconnect();
    return res;
  }

  it('SETBIT that changes a bit aborts EXEC; one that does not change it does not (as Redis)', async () => {
    await r.set('k', 'a'); // 0b01100001
    expect(await watchedExec(() => r.setbit('k', 1, 1))).not.toBeNull();
    expect(await watchedExec(() => r.setbit('k', 3, 1))).toBeNull();
    expect(await watchedExec(() => r.setrange('k', 0, 'z'))).toBeNull();
    expect(await watchedExec(() => r.getex('k', 'PERSIST'))).not.toBeNull();
  });
});

/** Raw replies of a RESP3 session (after HELLO 3), as bytes on the wire. */
async function resp3Session(port: number, cmds: string[][]): Promise<string[]> {
  const c = await RawClient.connect(port);
  await c.call('HELLO', '3');
  const out: string[] = [];
  for (const argv of cmds) {
    await c.call(...argv);
    out.push(c.lastRaw.toString('latin1'));
  }
  c.close();
  return out;
}

describe('RESP3', () => {
  it('nulls, maps and bulk strings after HELLO 3', async () => {
    const replies = await resp3Session(srv.port, [
      ['GET', 'missing'], ['MSET', 'a', 'ohmytext', 'b', 'mynewtext'], ['MGET', 'a', 'missing'], ['SET', 'a', 'x', 'NX'],
      ['LCS', 'a', 'b', 'IDX', 'MINMATCHLEN', '4'], ['INCRBYFLOAT', 'f', '2.5'], ['GETDEL', 'missing'], ['GETEX', 'missing'],
    ]);
    expect(replies).toEqual([
      '_\r\n', '+OK\r\n', '*2\r\n$8\r\nohmytext\r\n_\r\n', '_\r\n',
      '%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n',
      '$3\r\n2.5\r\n', '_\r\n', '_\r\n',
    ]);
  });
});
