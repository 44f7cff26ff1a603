// Values above 64 KiB live in blocks of their own, outside the slabs. Every
// string command must treat them byte for byte as it treats small ones,
// growing, cutting and copying them against an in-test model; their memory
// must show in INFO and go when they go; and a reply queued as a view of a
// block must still carry the bytes the value had when it was read.

import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startKvslab, RunningServer } from '../helpers/servers.js';
import { encodeCommand } from '../helpers/raw-client.js';
import { parseInfo } from '../helpers/info.js';

const KB = 1024;
const MB = 1024 * 1024;

let srv: RunningServer;
let r: Redis;
beforeAll(async () => {
  srv = await startKvslab();
  r = srv.client();
});
afterAll(async () => { await srv.stop(); });


async function infoNum(section: string, field: string): Promise<number> {
  const v = parseInfo(await r.info(section)).get(field);
  if (v === undefined) throw new Error(`INFO ${section} has no ${field}`);
  return Number(v);
}

/** Random bytes with CR, LF and NUL sprinkled in (binary safety). */
function binary(len: number): Buffer {
  const b = randomBytes(len);
  for (let i = 0; i < len; i += 997) b[i] = [0x0d, 0x0a, 0x00][i % 3];
  return b;
}

/** The [start, end] byte range Redis's GETRANGE and BITCOUNT use for a value of `len` bytes; null when empty. */
function redisRange(len: number, start: number, end: number): [number, number] | null {
  if (start < 0 && end < 0 && start > end) return null;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return null;
  return [start, end];
}

function getrangeModel(v: Buffer, start: number, end: number): Buffer {
  const rg = redisRange(v.length, start, end);
  return rg ? v.subarray(rg[0], rg[1] + 1) : Buffer.alloc(0);
}

/** SETRANGE on a model: zero padding up to the offset. */
function setrangeModel(v: Buffer, offset: number, data: Buffer): Buffer {
  const out = Buffer.alloc(Math.max(v.length, offset + data.length));
  v.copy(out);
  data.copy(out, offset);
  return out;
}

function popcount(b: Buffer): number {
  let n = 0;
  for (const x of b) {
    let y = x;
    while (y) {
      n += y & 1;
      y >>= 1;
    }
  }
  return n;
}

async function expectValue(key: string, model: Buffer): Promise<void> {
  const got = await r.getBuffer(key);
  expect(got).not.toBeNull();
  expect(got!.length).toBe(model.length);
  // Compare without printing megabytes on failure.
  if (!got!.equals(model)) {
    let i = 0;
    while (got![i] === model[i]) i++;
    expect({ key, firstDifferenceAt: i }).toEqual({ key, firstDifferenceAt: -1 });
  }
}

describe('large values byte for byte', () => {
  it('SET/GET round-trip binary values around and far above the inline limit', async () => {
    for (const len of [65535, 65536, 65537, 100 * KB, MB, 5 * MB + 3]) {
      const v = binary(len);
      expect(await r.set(`rt:${len}`, v)).toBe('OK');
      expect(await r.strlen(`rt:${len}`)).toBe(len);
      await expectValue(`rt:${len}`, v);
    }
    // Overwriting a large value with a small one and back.
    expect(await r.set('rt:65537', 'small')).toBe('OK');
    expect(await r.get('rt:65537')).toBe('small');
    const again = binary(300 * KB);
    expect(await r.set('rt:65537', again)).toBe('OK');
    await expectValue('rt:65537', again);
    // With a TTL, through GETEX and GETDEL.
    expect(await r.set('rt:ttl', again, 'EX', 1000)).toBe('OK');
    expect((await r.getexBuffer('rt:ttl', 'PERSIST'))!.equals(again)).toBe(true);
    expect(await r.ttl('rt:ttl')).toBe(-1);
    expect((await r.getdelBuffer('rt:ttl'))!.equals(again)).toBe(true);
    expect(await r.exists('rt:ttl')).toBe(0);
  });

  it('APPEND grows a value to several MiB, from inline into a block, as a model does', async () => {
    let model = binary(KB);
    await r.set('app', model);
    let step = 0;
    while (model.length < 5 * MB) {
      const add = binary(1 + ((step * 7919) % (96 * KB)));
      const n = await r.append('app', add);
      model = Buffer.concat([model, add]);
      expect(n).toBe(model.length);
      // Full comparisons now and then: across the 64 KiB boundary and in the MiBs.
      if (step % 25 === 0 || (model.length > 64 * KB && model.length - add.length <= 64 * KB)) await expectValue('app', model);
      step++;
    }
    expect(await r.strlen('app')).toBe(model.length);
    await expectValue('app', model);
    // APPEND to a missing key creates it.
    const fresh = binary(70 * KB);
    expect(await r.append('app:new', fresh)).toBe(fresh.length);
    await expectValue('app:new', fresh);
  });

  it('SETRANGE inside and past the end pads with zeros; GETRANGE slices as Redis does', async () => {
    let model = binary(200 * KB);
    await r.set('sr', model);
    const edits: [number, number][] = [
      [0, 10], [1000, 5000], [64 * KB - 3, 10], [200 * KB - 1, 1], // inside
      [200 * KB, 100], [300 * KB, 4 * KB], [MB, 7], // past the end: zero padding
    ];
    for (const [offset, len] of edits) {
      const data = binary(len);
      const n = await r.setrange('sr', offset, data);
      model = setrangeModel(model, offset, data);
      expect(n).toBe(model.length);
      expect(await r.strlen('sr')).toBe(model.length);
    }
    await expectValue('sr', model);
    // The padding really is zeros.
    expect((await r.getrangeBuffer('sr', 200 * KB + 100, 300 * KB - 1)).equals(Buffer.alloc(100 * KB - 100))).toBe(true);
    const ranges: [number, number][] = [
      [0, 0], [0, -1], [5, 100 * KB], [-100, -1], [-1, -1], [-5 * MB, 10], [100 * KB, 5 * MB],
      [MB, MB + 6], [MB + 6, MB + 100], [10, 5], [-1, -5], [70 * KB, 70 * KB + 64 * KB],
    ];
    for (const [s, e] of ranges) {
      const got = await r.getrangeBuffer('sr', s, e);
      expect(got.equals(getrangeModel(model, s, e)), `GETRANGE ${s} ${e}`).toBe(true);
    }
    // SETRANGE on a missing key makes a zero-padded large value.
    const tail = binary(33);
    expect(await r.setrange('sr:new', 150 * KB, tail)).toBe(150 * KB + 33);
    await expectValue('sr:new', setrangeModel(Buffer.alloc(0), 150 * KB, tail));
  });

  it('SETBIT, GETBIT and BITCOUNT on a large value agree with a model', async () => {
    let model = binary(300 * KB);
    await r.set('bits', model);
    const bitOf = (b: Buffer, off: number) => ((b[off >> 3] ?? 0) >> (7 - (off & 7))) & 1;
    let seed = 12345;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const p = r.pipeline();
    const expected: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const off = next(model.length * 8);
      const bit = next(2);
      expected.push(bitOf(model, off));
      if (bit) model[off >> 3] |= 1 << (7 - (off & 7));
      else model[off >> 3] &= ~(1 << (7 - (off & 7)));
      p.setbit('bits', off, bit);
    }
    const replies = (await p.exec() as [Error | null, number][]).map(([, v]) => v);
    expect(replies).toEqual(expected);
    // SETBIT past the end grows the value with zeros.
    const far = model.length * 8 + 100 * KB * 8 + 3;
    expect(await r.setbit('bits', far, 1)).toBe(0);
    const grown = Buffer.alloc((far >> 3) + 1);
    model.copy(grown);
    grown[far >> 3] |= 1 << (7 - (far & 7));
    model = grown;
    expect(await r.strlen('bits')).toBe(model.length);
    for (let i = 0; i < 200; i++) {
      const off = next(model.length * 8 + 64);
      expect(await r.getbit('bits', off), `GETBIT ${off}`).toBe(bitOf(model, off));
    }
    expect(await r.bitcount('bits')).toBe(popcount(model));
    for (const [s, e] of [[0, 0], [0, -1], [1000, 200 * KB], [-50 * KB, -1], [-1, -1], [350 * KB, 10 * MB], [5, 1]] as [number, number][]) {
      const rg = redisRange(model.length, s, e);
      expect(await r.bitcount('bits', s, e), `BITCOUNT ${s} ${e}`).toBe(rg ? popcount(model.subarray(rg[0], rg[1] + 1)) : 0);
    }
    await expectValue('bits', model);
  });
});

describe('large values and memory', () => {
  it('DEL frees the blocks: used_memory_large and large_values go back down', async () => {
    await r.flushall();
    const large0 = await infoNum('memory', 'used_memory_large');
    const count0 = await infoNum('slabs', 'large_values');
    const keys = ['del:a', 'del:b', 'del:c'];
    for (const k of keys) await r.set(k, binary(MB));
    const large1 = await infoNum('memory', 'used_memory_large');
    expect(large1 - large0).toBeGreaterThanOrEqual(3 * MB);
    expect(await infoNum('slabs', 'large_values')).toBe(count0 + 3);
    const used1 = await infoNum('memory', 'used_memory');
    expect(await r.del(...keys)).toBe(3);
    expect(await infoNum('memory', 'used_memory_large')).toBe(large0);
    expect(await infoNum('slabs', 'large_values')).toBe(count0);
    expect(await infoNum('memory', 'used_memory')).toBeLessThanOrEqual(used1 - 3 * MB);
    // UNLINK, GETDEL and an overwrite by a small value free them too.
    await r.set('del:u', binary(MB));
    await r.set('del:g', binary(MB));
    await r.set('del:o', binary(MB));
    expect(await r.unlink('del:u')).toBe(1);
    expect((await r.getdelBuffer('del:g'))!.length).toBe(MB);
    expect(await r.set('del:o', 'tiny')).toBe('OK');
    expect(await infoNum('memory', 'used_memory_large')).toBe(large0);
    expect(await infoNum('slabs', 'large_values')).toBe(count0);
  });

  it('RENAME, COPY and MOVE keep the bytes; a copy is independent of its source', async () => {
    const v = binary(2 * MB + 5);
    await r.set('mv:src', v);
    expect(await r.rename('mv:src', 'mv:renamed')).toBe('OK');
    expect(await r.exists('mv:src')).toBe(0);
    await expectValue('mv:renamed', v);

    expect(await r.copy('mv:renamed', 'mv:copy')).toBe(1);
    await expectValue('mv:copy', v);
    const patch = binary(1000);
    await r.setrange('mv:copy', MB, patch);
    const patched = setrangeModel(v, MB, patch);
    await expectValue('mv:copy', patched);
    await expectValue('mv:renamed', v);

    // RENAME over an existing large key drops the old value's block.
    const large0 = await infoNum('memory', 'used_memory_large');
    await r.set('mv:victim', binary(MB));
    expect(await r.rename('mv:renamed', 'mv:victim')).toBe('OK');
    await expectValue('mv:victim', v);
    expect(await infoNum('memory', 'used_memory_large')).toBe(large0);

    expect(await r.move('mv:copy', 1)).toBe(1);
    expect(await r.exists('mv:copy')).toBe(0);
    const db1 = srv.client({ db: 1 });
    const moved = await db1.getBuffer('mv:copy');
    expect(moved!.equals(patched)).toBe(true);
    // COPY across databases too.
    expect(await r.copy('mv:victim', 'mv:other', 'DB', 1)).toBe(1);
    expect((await db1.getBuffer('mv:other'))!.equals(v)).toBe(true);
    expect(await db1.del('mv:copy', 'mv:other')).toBe(2);
  });

  it('MEMORY USAGE of a large value counts its block', async () => {
    await r.set('mu:small', binary(100));
    await r.set('mu:large', binary(100 * KB));
    await r.set('mu:huge', binary(3 * MB));
    const small = await r.call('MEMORY', 'USAGE', 'mu:small') as number;
    const large = await r.call('MEMORY', 'USAGE', 'mu:large') as number;
    const huge = await r.call('MEMORY', 'USAGE', 'mu:huge') as number;
    expect(large).toBeGreaterThanOrEqual(100 * KB);
    expect(large).toBeLessThan(100 * KB + 4 * KB);
    expect(huge).toBeGreaterThanOrEqual(3 * MB);
    expect(small).toBeLessThan(1000);
  });
});

describe('a queued reply keeps the bytes it was given', () => {
  /**
   * Opens a connection that does not read: what the server writes piles up
   * in the kernel and then in the server's socket. Returns the socket and a
   * function that resumes reading and resolves with exactly `bytes` bytes.
   */
  async function slowReader(port: number): Promise<{ s: net.Socket; readAll: (bytes: number) => Promise<Buffer> }> {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((res) => s.once('connect', res));
    s.pause();
    const chunks: Buffer[] = [];
    let got = 0;
    let want = Infinity;
    let done: (() => void) | null = null;
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= want && done) done();
    });
    return {
      s,
      readAll(bytes: number) {
        want = bytes;
        return new Promise<Buffer>((res, rej) => {
          const t = setTimeout(() => rej(new Error(`got ${got} of ${bytes} bytes`)), 30_000);
          done = () => {
            clearTimeout(t);
            res(Buffer.concat(chunks));
          };
          s.resume();
          if (got >= want) done();
        });
      },
    };
  }

  /** The slow client's output still queued in the server (CLIENT LIST omem), by its local port. */
  async function pendingOutput(s: net.Socket): Promise<number> {
    const list = await r.client('LIST') as string;
    const line = list.split('\n').find((l) => l.includes(`addr=127.0.0.1:${s.localPort} `));
    // Not listed yet: the server has not taken the connection in.
    if (!line) return 0;
    return Number(/ omem=(\d+)/.exec(line)![1]);
  }

  async function waitQueued(s: net.Socket, atLeast: number): Promise<number> {
    let omem = 0;
    for (let i = 0; i < 250 && omem < atLeast; i++) {
      omem = await pendingOutput(s);
      if (omem < atLeast) await new Promise((res) => setTimeout(res, 20));
    }
    return omem;
  }

  it('GET of a multi-MiB value by a slow reader survives SETRANGE, APPEND and SETBIT on it', async () => {
    const SIZE = 8 * MB;
    const GETS = 6;
    const old = binary(SIZE);
    await r.set('slow', old);
    const { s, readAll } = await slowReader(srv.port);
    s.write(Buffer.concat(Array.from({ length: GETS }, () => encodeCommand(['GET', 'slow']))));
    // Most of the 48 MiB of replies cannot leave: they wait in the server as views of the block.
    const queued = await waitQueued(s, 16 * MB);
    expect(queued).toBeGreaterThanOrEqual(16 * MB);

    // Change the value in place while those views wait.
    let model: Buffer = Buffer.from(old);
    for (const [off, len] of [[0, 100], [SIZE / 2, 64 * KB], [SIZE - 10, 10]]) {
      const data = binary(len);
      expect(await r.setrange('slow', off, data)).toBe(SIZE);
      model = setrangeModel(model, off, data);
    }
    expect(await r.setbit('slow', 8 * 1000 + 3, old[1000] & 0x10 ? 0 : 1)).toBe((old[1000] >> 4) & 1);
    model[1000] ^= 0x10;
    const tail = binary(1000);
    expect(await r.append('slow', tail)).toBe(SIZE + 1000);
    model = Buffer.concat([model, tail]);
    await expectValue('slow', model);

    const header = Buffer.from(`$${SIZE}\r\n`);
    const one = header.length + SIZE + 2;
    const all = await readAll(GETS * one);
    s.destroy();
    expect(all.length).toBe(GETS * one);
    for (let i = 0; i < GETS; i++) {
      const rep = all.subarray(i * one, (i + 1) * one);
      expect(rep.subarray(0, header.length).equals(header)).toBe(true);
      expect(rep.subarray(header.length, header.length + SIZE).equals(old), `reply ${i} carries the old bytes`).toBe(true);
      expect(rep.subarray(one - 2).toString()).toBe('\r\n');
    }
    // Nothing of the writes was lost either.
    await expectValue('slow', model);
  });

  it('GETRANGE views and a SET over the value while they wait', async () => {
    const SIZE = 6 * MB;
    const old = binary(SIZE);
    await r.set('slow2', old);
    const { s, readAll } = await slowReader(srv.port);
    const ranges: [number, number][] = [[0, SIZE - 1], [1000, 5 * MB], [MB, 3 * MB], [0, SIZE - 1]];
    s.write(Buffer.concat(ranges.map(([a, b]) => encodeCommand(['GETRANGE', 'slow2', String(a), String(b)]))));
    expect(await waitQueued(s, 4 * MB)).toBeGreaterThanOrEqual(4 * MB);
    // Inside every range: SETRANGE, then a SET of the same length (a new value), then SETRANGE again.
    await r.setrange('slow2', 2 * MB, binary(MB));
    const replacement = binary(SIZE);
    await r.set('slow2', replacement);
    await r.setrange('slow2', 2 * MB, Buffer.alloc(10, 0xee));
    const expected = ranges.map(([a, b]) => Buffer.concat([Buffer.from(`$${b - a + 1}\r\n`), old.subarray(a, b + 1), Buffer.from('\r\n')]));
    const total = expected.reduce((n, e) => n + e.length, 0);
    const all = await readAll(total);
    s.destroy();
    let pos = 0;
    for (let i = 0; i < expected.length; i++) {
      expect(all.subarray(pos, pos + expected[i].length).equals(expected[i]), `GETRANGE reply ${i}`).toBe(true);
      pos += expected[i].length;
    }
    await expectValue('slow2', setrangeModel(replacement, 2 * MB, Buffer.alloc(10, 0xee)));
  });

  it('a GET and a SETRANGE pipelined on one connection: the GET answers the old bytes', async () => {
    const SIZE = 3 * MB;
    const old = binary(SIZE);
    await r.set('pipe', old);
    const patch = binary(KB);
    const s = net.connect(srv.port, '127.0.0.1');
    await new Promise((res) => s.once('connect', res));
    const chunks: Buffer[] = [];
    const header = `$${SIZE}\r\n`;
    const want = header.length + SIZE + 2 + `:${SIZE}\r\n`.length + header.length + SIZE + 2;
    const all = await new Promise<Buffer>((res, rej) => {
      let got = 0;
      const t = setTimeout(() => rej(new Error(`got ${got} of ${want}`)), 20_000);
      s.on('data', (d: Buffer) => {
        chunks.push(d);
        got += d.length;
        if (got >= want) {
          clearTimeout(t);
          res(Buffer.concat(chunks));
        }
      });
      // One write: both commands are read in one batch, the GET's reply still unsent when SETRANGE runs.
      s.write(Buffer.concat([encodeCommand(['GET', 'pipe']), encodeCommand(['SETRANGE', 'pipe', '0', patch]), encodeCommand(['GET', 'pipe'])]));
    });
    s.destroy();
    const first = all.subarray(header.length, header.length + SIZE);
    expect(first.equals(old)).toBe(true);
    const mid = header.length + SIZE + 2;
    expect(all.subarray(mid, mid + `:${SIZE}\r\n`.length).toString()).toBe(`:${SIZE}\r\n`);
    const secondAt = mid + `:${SIZE}\r\n`.length + header.length;
    expect(all.subarray(secondAt, secondAt + SIZE).equals(setrangeModel(old, 0, patch))).toBe(true);
  });
});
