// KV.* commands through ioredis against a real kvslab: every command, every
// error, a failed command leaving the key as it was, the key as an ordinary
// key to DEL/EXPIRE/RENAME/COPY/SCAN TYPE/MEMORY USAGE, RESP3 replies, and a
// tensor key under maxmemory (evicted whole, kept while leased by KV.PIN).

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startKvslab, RunningServer } from '../helpers/servers.js';
import { info } from '../helpers/info.js';
import { RawClient, show } from '../helpers/raw-client.js';

const MB = 1024 * 1024;
const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

/** Shape args for a float32 tensor. */
function shape(layers: number, heads: number, headdim: number, kv = 2, dtype = 'float32'): string[] {
  return ['DTYPE', dtype, 'LAYERS', String(layers), 'HEADS', String(heads), 'HEADDIM', String(headdim), 'KV', String(kv)];
}

/**
 * A model of a tensor: stream[kv][layer] is the list of rows (Buffers). The
 * byte of row t of stream (k, l) is a function of (k, l, t) so slices can be
 * checked without keeping the data.
 */
function row(k: number, l: number, t: number, rowBytes: number): Buffer {
  const b = Buffer.alloc(rowBytes);
  for (let i = 0; i < rowBytes; i++) b[i] = (k * 131 + l * 31 + t * 7 + i) & 0xff;
  return b;
}

/** Payload of tokens [from, to) in the APPEND layout, for layers [l0, l1). */
function payload(kv: number, l0: number, l1: number, from: number, to: number, rowBytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let k = 0; k < kv; k++) for (let l = l0; l < l1; l++) for (let t = from; t < to; t++) parts.push(row(k, l, t, rowBytes));
  return Buffer.concat(parts);
}

let srv: RunningServer;
let r: Redis;

beforeAll(async () => {
  srv = await startKvslab();
  r = srv.client();
});
afterAll(async () => {
  await srv.stop();
});
beforeEach(async () => {
  await r.flushall();
});

/** The error text of a command that must fail. */
async function err(...args: (string | Buffer)[]): Promise<string> {
  try {
    await r.call(args[0] as string, ...args.slice(1));
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${String(args[0])} did not fail`);
}

function slice(key: string, ...rest: (string | number)[]): Promise<Buffer | null> {
  return r.callBuffer('KV.SLICE', key, ...rest.map(String)) as Promise<Buffer | null>;
}

describe('KV.CREATE, KV.APPEND, KV.SLICE', () => {
  it('appends tokens of every layer and slices any token range and layer range back', async () => {
    const L = 3;
    const rb = 2 * 4 * 4; // 2 heads x 4 dims x float32
    expect(await r.call('KV.CREATE', 't', ...shape(L, 2, 4))).toBe('OK');
    expect(await r.type('t')).toBe('kvtensor');
    let len = 0;
    // Blocks of uneven sizes, so the capacity grows several times and the streams move.
    for (const n of [1, 5, 16, 3, 40, 100]) {
      expect(await r.call('KV.APPEND', 't', payload(2, 0, L, len, len + n, rb), 'AT', String(len))).toBe(len + n);
      len += n;
    }
    expect(await r.call('KV.LEN', 't')).toBe(len);
    expect(await slice('t', 0, len)).toEqual(payload(2, 0, L, 0, len, rb));
    expect(await slice('t', 7, 50)).toEqual(payload(2, 0, L, 7, 50, rb));
    expect(await slice('t', 10, 20, 'LAYER', 1)).toEqual(payload(2, 1, 2, 10, 20, rb));
    expect(await slice('t', 0, 9, 'LAYERS', 1, 3)).toEqual(payload(2, 1, 3, 0, 9, rb));
    // Half-open, end clamped, negatives from the end.
    expect(await slice('t', -5, 1000)).toEqual(payload(2, 0, L, len - 5, len, rb));
    expect(await slice('t', 0, -1)).toEqual(payload(2, 0, L, 0, len - 1, rb));
    expect(await slice('t', 50, 10)).toEqual(Buffer.alloc(0));
    expect(await slice('t', len, len + 10)).toEqual(Buffer.alloc(0));
    expect(await slice('missing', 0, 10)).toBeNull();
  });

  it('appends layer by layer; the committed length is what every layer holds', async () => {
    const L = 4;
    const rb = 8;
    await r.call('KV.CREATE', 'p', ...shape(L, 1, 2));
    for (let l = 0; l < L; l++) {
      // Until the last layer is in, no token is committed.
      const reply = await r.call('KV.APPEND', 'p', payload(2, l, l + 1, 0, 10, rb), 'LAYER', String(l), 'AT', '0');
      expect(reply).toBe(l === L - 1 ? 10 : 0);
    }
    expect(await slice('p', 0, 10)).toEqual(payload(2, 0, L, 0, 10, rb));
    // A layer ahead of the others: slices of all layers stop at the committed length, one layer's at its own.
    await r.call('KV.APPEND', 'p', payload(2, 2, 3, 10, 14, rb), 'LAYER', '2');
    expect(await r.call('KV.LEN', 'p')).toBe(10);
    expect(await slice('p', 0, 100)).toEqual(payload(2, 0, L, 0, 10, rb));
    expect(await slice('p', 0, 100, 'LAYER', 2)).toEqual(payload(2, 2, 3, 0, 14, rb));
    // Whole-layer appends wait until the layers agree.
    expect(await err('KV.APPEND', 'p', payload(2, 0, L, 10, 11, rb))).toBe('ERR layers hold from 10 to 14 tokens: append by LAYER until they agree');
    const info = await r.call('KV.INFO', 'p') as unknown[];
    const m = new Map<string, unknown>();
    for (let i = 0; i < info.length; i += 2) m.set(info[i] as string, info[i + 1]);
    expect(m.get('layer_lengths')).toEqual([10, 10, 14, 10]);
    expect(m.get('length')).toBe(10);
  });

  it('a retried append with AT is harmless', async () => {
    await r.call('KV.CREATE', 'a', ...shape(1, 1, 1));
    const p = payload(2, 0, 1, 0, 2, 4);
    expect(await r.call('KV.APPEND', 'a', p, 'AT', '0')).toBe(2);
    expect(await err('KV.APPEND', 'a', p, 'AT', '0')).toBe('ERR position mismatch, length is 2');
    expect(await r.call('KV.LEN', 'a')).toBe(2);
  });

  it('CREATE in KV.APPEND makes the key, and refuses a different shape', async () => {
    const p = payload(2, 0, 2, 0, 3, 8);
    expect(await r.call('KV.APPEND', 'c', p, 'CREATE', ...shape(2, 1, 2))).toBe(3);
    expect(await r.call('KV.APPEND', 'c', p, 'CREATE', ...shape(2, 1, 2))).toBe(6);
    expect(await err('KV.APPEND', 'c', p, 'CREATE', ...shape(2, 2, 1, 2, 'float16'))).toBe('ERR shape mismatch, the key has dtype float32 layers 2 heads 1 headdim 2 kv 2');
    expect(await err('KV.APPEND', 'nokey', p)).toBe('ERR no such key');
    // One layer of a new key.
    expect(await r.call('KV.APPEND', 'c1', payload(2, 1, 2, 0, 3, 8), 'LAYER', '1', 'CREATE', ...shape(2, 1, 2))).toBe(0);
    expect(await slice('c1', 0, 3, 'LAYER', 1)).toEqual(payload(2, 1, 2, 0, 3, 8));
  });

  it('KV 1 stores one latent per token (MLA)', async () => {
    const rb = 16 * 2;
    const p = payload(1, 0, 2, 0, 5, rb);
    expect(await r.call('KV.PUT', 'mla', p, ...shape(2, 1, 16, 1, 'bfloat16'))).toBe(5);
    expect(await slice('mla', 1, 3, 'LAYER', 1)).toEqual(payload(1, 1, 2, 1, 3, rb));
  });

  it('every dtype has its element size', async () => {
    const sizes: Record<string, number> = { float32: 4, float16: 2, bfloat16: 2, float8_e4m3: 1, float8_e5m2: 1, int8: 1, uint8: 1 };
    for (const [dtype, size] of Object.entries(sizes)) {
      // 3 heads of 4 bytes / size elements: a row is 12 bytes whatever the dtype, a token 24.
      await r.call('KV.PUT', `d:${dtype}`, Buffer.alloc(24 * 5), ...shape(1, 3, 4 / size, 2, dtype));
      const m = await r.call('KV.INFO', `d:${dtype}`) as unknown[];
      expect(m[m.indexOf('bytes_per_token') + 1]).toBe(24);
      expect(m[m.indexOf('length') + 1]).toBe(5);
      expect(m[m.indexOf('dtype') + 1]).toBe(dtype);
    }
  });
});

describe('KV.PUT, KV.META, KV.INFO, KV.TRUNCATE', () => {
  it('puts a whole chunk in one step, with META, NX and a TTL', async () => {
    const p = payload(2, 0, 2, 0, 8, 8);
    expect(await r.call('KV.PUT', 'k', p, ...shape(2, 1, 2), 'META', 'shape-and-dtype', 'EX', '100')).toBe(8);
    expect(await r.call('KV.PUT', 'k', p, ...shape(2, 1, 2), 'NX')).toBeNull();
    expect(await r.call('KV.CREATE', 'k', ...shape(2, 1, 2), 'NX')).toBeNull();
    expect(await r.call('KV.META', 'k')).toBe('shape-and-dtype');
    expect(await r.call('KV.META', 'nokey')).toBeNull();
    expect(await r.ttl('k')).toBeGreaterThan(98);
    expect(await slice('k', 0, 8)).toEqual(p);
    const m = await r.call('KV.INFO', 'k') as unknown[];
    expect(m).toEqual([
      'dtype', 'float32', 'layers', 2, 'kv', 2, 'heads', 1, 'headdim', 2, 'length', 8, 'layer_lengths', [8, 8],
      'bytes_per_token', 32, 'bytes', 256, 'capacity', 8, 'meta_bytes', 15, 'ttl', 100,
    ]);
    // Without NX the key is replaced, and without EX it loses its TTL, as SET does.
    expect(await r.call('KV.PUT', 'k', payload(2, 0, 2, 0, 2, 8), ...shape(2, 1, 2))).toBe(2);
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.call('KV.META', 'k')).toBe('');
    // A string key is replaced too.
    await r.set('s', 'x');
    expect(await r.call('KV.PUT', 's', p, ...shape(2, 1, 2), 'PX', '5000')).toBe(8);
    expect(await r.pttl('s')).toBeGreaterThan(4000);
  });

  it('KV.INFO is a map in RESP3', async () => {
    const raw = await RawClient.connect(srv.port);
    await raw.call('HELLO', '3');
    await raw.call('KV.CREATE', 'm', ...shape(1, 1, 1));
    const m = await raw.call('KV.INFO', 'm');
    raw.close();
    expect(show(m)).toEqual({
      map: [
        ['dtype', 'float32'], ['layers', 1], ['kv', 2], ['heads', 1], ['headdim', 1], ['length', 0], ['layer_lengths', [0]],
        ['bytes_per_token', 8], ['bytes', 0], ['capacity', 0], ['meta_bytes', 0], ['ttl', -1],
      ],
    });
  });

  it('truncates, and gives memory back when most of the room is unused', async () => {
    await r.call('KV.CREATE', 'big', ...shape(2, 2, 128, 2, 'float16'));
    for (let i = 0; i < 20; i++) await r.call('KV.APPEND', 'big', payload(2, 0, 2, i * 50, i * 50 + 50, 512));
    const before = Number(await r.memory('USAGE', 'big'));
    expect(await r.call('KV.TRUNCATE', 'big', '1000')).toBe(1000);
    expect(await r.call('KV.TRUNCATE', 'big', '30')).toBe(30);
    expect(await slice('big', 0, 100)).toEqual(payload(2, 0, 2, 0, 30, 512));
    const after = Number(await r.memory('USAGE', 'big'));
    expect(after).toBeLessThan(before / 4);
    // It grows again from there.
    expect(await r.call('KV.APPEND', 'big', payload(2, 0, 2, 30, 40, 512))).toBe(40);
    expect(await slice('big', 25, 40, 'LAYER', 1)).toEqual(payload(2, 1, 2, 25, 40, 512));
    expect(await r.call('KV.TRUNCATE', 'nokey', '5')).toBe(0);
  });
});

describe('KV.PREFIX, KV.PIN, KV.MSLICE', () => {
  it('counts keys in a row from the first, never jumping a hole', async () => {
    for (const k of ['c0', 'c1', 'c2', 'c4']) await r.call('KV.PUT', k, payload(2, 0, 1, 0, 4, 4), ...shape(1, 1, 1));
    expect(await r.call('KV.PREFIX', 'c0', 'c1', 'c2', 'c3', 'c4')).toBe(3);
    expect(await r.call('KV.PREFIX', 'c3', 'c4')).toBe(0);
    // Any key type counts: LMCache's plain keys too.
    await r.set('plain', 'x');
    expect(await r.call('KV.PREFIX', 'plain', 'c0')).toBe(2);
    expect(await r.call('KV.PIN', '1000', 'c0', 'c1', 'c3', 'c4')).toBe(2);
    expect(await err('KV.PIN', '0', 'c0')).toBe('ERR milliseconds must be between 1 and 86400000');
  });

  it('MSLICE returns the run of present keys, stopping at the first missing one', async () => {
    const chunks = [0, 1, 2].map((i) => payload(2, 0, 2, i * 4, i * 4 + 4, 8));
    for (let i = 0; i < 3; i++) await r.call('KV.PUT', `m${i}`, chunks[i], ...shape(2, 1, 2));
    const all = await r.callBuffer('KV.MSLICE', '0', '4', 'm0', 'm1', 'm2') as Buffer[];
    expect(all).toEqual(chunks);
    const part = await r.callBuffer('KV.MSLICE', '1', '3', 'm0', 'm1', 'gone', 'm2') as Buffer[];
    expect(part.length).toBe(2);
    expect(part[1]).toEqual(payload(2, 0, 2, 5, 7, 8));
    expect(await r.callBuffer('KV.MSLICE', '0', '4', 'gone', 'm0')).toEqual([]);
    await r.set('str', 'x');
    expect(await err('KV.MSLICE', '0', '4', 'm0', 'str')).toBe(WRONGTYPE);
  });
});

describe('errors', () => {
  it('validates every argument and changes nothing when it fails', async () => {
    const p = payload(2, 0, 2, 0, 3, 8);
    await r.call('KV.PUT', 'e', p, ...shape(2, 1, 2), 'META', 'm');
    const dims = ['DTYPE', 'float32', 'LAYERS', '2', 'HEADS', '1', 'HEADDIM', '2'];
    expect(await err('KV.CREATE', 'x', 'DTYPE', 'float64', 'LAYERS', '2', 'HEADS', '1', 'HEADDIM', '2'))
      .toBe("ERR unknown dtype 'float64', expected one of float32, float16, bfloat16, float8_e4m3, float8_e5m2, int8, uint8");
    expect(await err('KV.CREATE', 'x', 'DTYPE', 'float32', 'LAYERS', '0', 'HEADS', '1', 'HEADDIM', '2')).toBe('ERR LAYERS must be between 1 and 1024');
    expect(await err('KV.CREATE', 'x', 'DTYPE', 'float32', 'LAYERS', '2', 'HEADS', '5000', 'HEADDIM', '2')).toBe('ERR HEADS must be between 1 and 1024');
    expect(await err('KV.CREATE', 'x', 'DTYPE', 'float32', 'LAYERS', '2', 'HEADS', '1', 'HEADDIM', '-1')).toBe('ERR HEADDIM must be between 1 and 16384');
    expect(await err('KV.CREATE', 'x', ...dims, 'KV', '3')).toBe('ERR KV must be between 1 and 2');
    expect(await err('KV.CREATE', 'x', 'DTYPE', 'float32', 'LAYERS', 'two', 'HEADS', '1', 'HEADDIM', '2')).toBe('ERR value is not an integer or out of range');
    expect(await err('KV.CREATE', 'x', 'DTYPE', 'float32', 'LAYERS', '2', 'HEADS', '1', 'KV', '2')).toBe('ERR KV.CREATE needs DTYPE, LAYERS, HEADS and HEADDIM');
    expect(await err('KV.CREATE', 'x', ...dims, 'BOGUS')).toBe('ERR syntax error');
    expect(await err('KV.CREATE', 'x', ...dims, 'EX', '0')).toBe("ERR invalid expire time in 'kv.create' command");
    expect(await err('KV.CREATE', 'x')).toBe("ERR wrong number of arguments for 'kv.create' command");
    expect(await err('KV.PUT', 'x', Buffer.alloc(7), ...dims)).toBe('ERR payload of 7 bytes is not a whole number of tokens of 32 bytes');
    expect(await err('KV.APPEND', 'e', Buffer.alloc(20))).toBe('ERR payload of 20 bytes is not a whole number of tokens of 32 bytes');
    expect(await err('KV.APPEND', 'e', Buffer.alloc(20), 'LAYER', '1')).toBe('ERR payload of 20 bytes is not a whole number of tokens of 16 bytes');
    expect(await err('KV.APPEND', 'e', Buffer.alloc(16), 'LAYER', '2')).toBe('ERR layer 2 is out of range, the key has 2 layers');
    expect(await err('KV.APPEND', 'e', Buffer.alloc(32), 'AT', '1')).toBe('ERR position mismatch, length is 3');
    expect(await err('KV.APPEND', 'e', Buffer.alloc(32), 'CREATE', 'LAYER', '1')).toBe('ERR syntax error');
    expect(await err('KV.SLICE', 'e', '0', '1', 'LAYER', '2')).toBe('ERR layer 2 is out of range, the key has 2 layers');
    expect(await err('KV.SLICE', 'e', '0', '1', 'LAYERS', '1', '1')).toBe('ERR LAYERS needs from < to');
    expect(await err('KV.SLICE', 'e', '0', 'x')).toBe('ERR value is not an integer or out of range');
    expect(await err('KV.SLICE', 'e', '0', '1', 'LAYER')).toBe('ERR syntax error');
    expect(await err('KV.TRUNCATE', 'e', '-1')).toBe('ERR length must be between 0 and 4294967295');
    // None of that touched the key.
    expect(await slice('e', 0, 10)).toEqual(p);
    expect(await r.call('KV.META', 'e')).toBe('m');
    for (const k of ['x']) expect(await r.exists(k)).toBe(0);
  });

  it('a tensor larger than proto-max-bulk-len is refused', async () => {
    await r.config('SET', 'proto-max-bulk-len', String(1 * MB));
    try {
      await r.call('KV.CREATE', 'lim', ...shape(1, 1, 1024));
      const block = Buffer.alloc(2 * 4096 * 100); // 100 tokens of 8 KiB
      expect(await r.call('KV.APPEND', 'lim', block)).toBe(100);
      expect(await err('KV.APPEND', 'lim', block)).toMatch(/^ERR tensor of \d+ bytes would exceed proto-max-bulk-len \(1048576\)$/);
      expect(await r.call('KV.LEN', 'lim')).toBe(100);
      expect(await err('KV.CREATE', 'lim2', 'DTYPE', 'float32', 'LAYERS', '1024', 'HEADS', '1', 'HEADDIM', '1', 'META', Buffer.alloc(MB)))
        .toMatch(/exceed proto-max-bulk-len/);
    } finally {
      await r.config('SET', 'proto-max-bulk-len', '512mb');
    }
  });

  it('string commands answer WRONGTYPE on a tensor key, KV commands on a string key', async () => {
    await r.call('KV.CREATE', 't', ...shape(1, 1, 1));
    await r.set('s', 'v');
    expect(await err('GET', 't')).toBe(WRONGTYPE);
    expect(await err('APPEND', 't', 'x')).toBe(WRONGTYPE);
    expect(await err('GETRANGE', 't', '0', '1')).toBe(WRONGTYPE);
    for (const args of [['KV.SLICE', 's', '0', '1'], ['KV.LEN', 's'], ['KV.INFO', 's'], ['KV.META', 's'], ['KV.APPEND', 's', 'xxxxxxxx'], ['KV.TRUNCATE', 's', '0']]) {
      expect(await err(...args)).toBe(WRONGTYPE);
    }
  });
});

describe('a tensor key is a key', () => {
  it('DEL, EXISTS, EXPIRE, TTL, RENAME, COPY, SCAN TYPE, MEMORY USAGE, OBJECT', async () => {
    const p = payload(2, 0, 2, 0, 6, 8);
    await r.call('KV.PUT', 'a', p, ...shape(2, 1, 2), 'META', 'hdr');
    expect(await r.exists('a')).toBe(1);
    expect(await r.expire('a', 50)).toBe(1);
    expect(await r.ttl('a')).toBeGreaterThan(48);
    expect(await r.rename('a', 'b')).toBe('OK');
    expect(await r.copy('b', 'c')).toBe(1);
    await r.call('KV.APPEND', 'c', payload(2, 0, 2, 6, 8, 8));
    expect(await slice('b', 0, 100)).toEqual(p);
    expect(await slice('c', 0, 100)).toEqual(payload(2, 0, 2, 0, 8, 8));
    expect(await r.call('KV.META', 'c')).toBe('hdr');
    await r.set('str', 'x');
    const [, keys] = await r.scan('0', 'COUNT', '100', 'TYPE', 'kvtensor');
    expect(keys.sort()).toEqual(['b', 'c']);
    expect(Number(await r.memory('USAGE', 'b'))).toBeGreaterThan(p.length);
    expect(await r.object('ENCODING', 'b')).toBe('raw');
    expect(await r.del('b', 'c')).toBe(2);
    expect(await r.call('KV.LEN', 'b')).toBe(0);
  });

  it('expires like any key', async () => {
    await r.call('KV.CREATE', 'x', ...shape(1, 1, 1), 'PX', '50');
    await new Promise((res) => setTimeout(res, 120));
    expect(await r.call('KV.LEN', 'x')).toBe(0);
    expect(await slice('x', 0, 1)).toBeNull();
  });

  it('a slice sent while the tensor grows keeps the bytes it was cut from', async () => {
    // Big enough that the slice goes out as views of the stored block.
    const rb = 64 * 1024;
    await r.call('KV.PUT', 'v', payload(2, 0, 1, 0, 8, rb), ...shape(1, 1, 16 * 1024));
    const pipe = r.pipeline();
    pipe.callBuffer('KV.SLICE', 'v', '0', '8');
    pipe.call('KV.APPEND', 'v', payload(2, 0, 1, 8, 40, rb));
    pipe.call('KV.TRUNCATE', 'v', '2');
    pipe.callBuffer('KV.SLICE', 'v', '0', '8');
    const res = await pipe.exec() as [Error | null, unknown][];
    // (Buffer.equals: a deep compare of megabytes is slow.)
    expect((res[0][1] as Buffer).equals(payload(2, 0, 1, 0, 8, rb))).toBe(true);
    expect(res[1][1]).toBe(40);
    expect((res[3][1] as Buffer).equals(payload(2, 0, 1, 0, 2, rb))).toBe(true);
  });
});

describe('under maxmemory', () => {
  let m: RunningServer;
  let mr: Redis;
  beforeAll(async () => {
    m = await startKvslab(['--maxmemory', '24mb', '--maxmemory-policy', 'allkeys-lru']);
    mr = m.client();
  });
  afterAll(async () => {
    await m.stop();
  });

  it('a tensor key is evicted whole, never in part, and a leased one is kept', async () => {
    const rb = 4096;
    const chunk = (i: number) => payload(2, 0, 4, i * 16, i * 16 + 16, rb); // 512 KiB
    await mr.call('KV.PUT', 'leased', chunk(0), ...shape(4, 1, 1024));
    expect(await mr.call('KV.PIN', '60000', 'leased')).toBe(1);
    for (let i = 0; i < 120; i++) await mr.call('KV.PUT', `c${i}`, chunk(i), ...shape(4, 1, 1024));
    const mem = await info(mr, 'memory');
    expect(Number(mem.get('used_memory'))).toBeLessThanOrEqual(24 * MB);
    expect(Number((await info(mr, 'stats')).get('evicted_keys'))).toBeGreaterThan(0);
    // The oldest key was leased: it stays, whatever the LRU clock says.
    expect(await mr.call('KV.LEN', 'leased')).toBe(16);
    // Every key left is whole.
    let whole = 0;
    for (let i = 0; i < 120; i++) {
      const s = await mr.callBuffer('KV.SLICE', `c${i}`, '0', '16') as Buffer | null;
      if (s === null) continue;
      expect(s.equals(chunk(i))).toBe(true);
      whole++;
    }
    expect(whole).toBeGreaterThan(10);
    expect(whole).toBeLessThan(120);
  });

  it('with kv-tail-trim, sequences picked for eviction give back their tail before they go', async () => {
    await mr.flushall();
    await mr.config('SET', 'kv-tail-trim', 'yes');
    try {
      const seq = (i: number) => payload(2, 0, 4, i * 1000, i * 1000 + 64, 4096); // 64 tokens, 2 MiB
      for (let i = 0; i < 20; i++) await mr.call('KV.PUT', `s${i}`, seq(i), ...shape(4, 1, 1024));
      const stats = await info(mr, 'stats');
      expect(Number(stats.get('kv_tail_trims'))).toBeGreaterThan(0);
      expect(Number((await info(mr, 'memory')).get('used_memory'))).toBeLessThanOrEqual(24 * MB);
      // The oldest sequences were cut to a whole number of 16-token blocks, and what is left is their prefix.
      let trimmed = 0;
      for (let i = 0; i < 20; i++) {
        const len = await mr.call('KV.LEN', `s${i}`) as number;
        if (len === 0 || len === 64) continue;
        expect(len % 16).toBe(0);
        const got = await mr.callBuffer('KV.SLICE', `s${i}`, '0', '64') as Buffer;
        expect(got.equals(payload(2, 0, 4, i * 1000, i * 1000 + len, 4096))).toBe(true);
        trimmed++;
      }
      expect(trimmed).toBeGreaterThan(0);
      // The newest one is whole.
      expect(await mr.call('KV.LEN', 's19')).toBe(64);
    } finally {
      await mr.config('SET', 'kv-tail-trim', 'no');
    }
  });

  it('an append that cannot get memory fails with OOM and leaves the key as it was', async () => {
    await mr.config('SET', 'maxmemory-policy', 'noeviction');
    try {
      await mr.flushall();
      await mr.call('KV.CREATE', 'g', ...shape(4, 1, 1024));
      let len = 0;
      let oom = '';
      for (let i = 0; i < 400 && oom === ''; i++) {
        try {
          len = await mr.call('KV.APPEND', 'g', payload(2, 0, 4, len, len + 16, 4096)) as number;
        } catch (e) {
          oom = (e as Error).message;
        }
      }
      expect(oom).toBe("OOM command not allowed when used memory > 'maxmemory'.");
      expect(await mr.call('KV.LEN', 'g')).toBe(len);
      expect((await mr.callBuffer('KV.SLICE', 'g', '0', String(len), 'LAYER', '3') as Buffer).equals(payload(2, 3, 4, 0, len, 4096))).toBe(true);
    } finally {
      await mr.config('SET', 'maxmemory-policy', 'allkeys-lru');
    }
  });
});
