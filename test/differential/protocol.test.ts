// Malformed and unusual input, sent byte for byte to kvslab and to Redis: the
// replies, and whether the connection is closed afterwards, must match.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPair, Pair } from '../helpers/differential.js';
import { RawClient, show } from '../helpers/raw-client.js';

let pair: Pair;
beforeAll(async () => { pair = await startPair(); });
afterAll(async () => { await pair.stop(); });

/** Sends bytes on fresh connections to both servers; returns what each did. */
async function both(bytes: string | Buffer, replies: number, settleMs = 300) {
  const out = [];
  for (const port of [pair.kvslab.port, pair.redis.port]) {
    const c = await RawClient.connect(port);
    const got = await Promise.race([
      c.sendRaw(bytes, replies),
      new Promise<null>((r) => setTimeout(() => r(null), 3000)),
    ]);
    const closed = await c.waitClose(settleMs);
    c.close();
    out.push({ replies: got === null ? 'timeout' : got.map(show), closed });
  }
  return out;
}

const cases: [string, string, number][] = [
  ['inline ping', 'PING\r\n', 1],
  ['inline with quotes', 'ECHO "a b\\x41\\n" \'c d\'\r\n', 1],
  ['inline without CR', 'PING\n', 1],
  ['inline empty lines are skipped', '\r\n\r\nPING\r\n', 1],
  ['inline unbalanced quotes', 'ECHO "abc\r\n', 1],
  ['inline quote not followed by space', 'ECHO "abc"def\r\n', 1],
  ['inline then multibulk in one packet', 'PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n', 3],
  ['multibulk with integer element', '*1\r\n:5\r\n', 1],
  ['empty bulk elements are fine', '*2\r\n$4\r\nECHO\r\n$0\r\n\r\n', 1],
  ['multibulk with nested array element', '*2\r\n$4\r\nECHO\r\n*1\r\n', 1],
  ['multibulk count not a number', '*abc\r\n', 1],
  ['multibulk count too big', '*99999999999\r\n', 1],
  ['bulk length over proto-max-bulk-len', '*1\r\n$536870913\r\n', 1],
  ['negative bulk length', '*1\r\n$-1\r\n', 1],
  ['empty multibulk is ignored', '*0\r\n*-1\r\nPING\r\n', 1],
  ['unknown command keeps the connection', '*1\r\n$3\r\nFOO\r\nPING\r\n', 2],
];

describe('protocol errors match Redis', () => {
  for (const [name, bytes, n] of cases) {
    it(name, async () => {
      const [k, r] = await both(bytes, n);
      expect(k).toEqual(r);
    });
  }
});

describe('robustness', () => {
  it('survives random bytes and keeps serving other clients', async () => {
    const watcher = await RawClient.connect(pair.kvslab.port);
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let i = 0; i < 200; i++) {
      const len = 1 + (rnd() % 300);
      const buf = Buffer.alloc(len);
      for (let j = 0; j < len; j++) buf[j] = rnd() & 0xff;
      // Bias some inputs towards protocol-looking prefixes.
      if (i % 3 === 0) buf[0] = 0x2a;
      if (i % 5 === 0) buf.write('*2\r\n$', 0);
      const c = await RawClient.connect(pair.kvslab.port);
      c.sendRaw(buf, 1).catch(() => {});
      await new Promise((r) => setTimeout(r, 2));
      c.close();
    }
    expect(await watcher.call('PING')).toEqual(Buffer.from('PONG'));
    watcher.close();
  });

  it('survives truncated frames', async () => {
    const frames = ['*3\r\n$3\r\nSET\r\n$1\r\na', '*2\r\n$4\r\nEC', '*1', '*2\r\n$4\r\nECHO\r\n$10\r\nabc'];
    for (const f of frames) {
      const c = await RawClient.connect(pair.kvslab.port);
      await c.sendRaw(f, 0);
      await new Promise((r) => setTimeout(r, 20));
      c.close();
    }
    const c = await RawClient.connect(pair.kvslab.port);
    expect(await c.call('PING')).toEqual(Buffer.from('PONG'));
    c.close();
  });

  it('reassembles frames split at every byte', async () => {
    const c = await RawClient.connect(pair.kvslab.port);
    const frame = Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$6\r\nva\r\nue\r\n*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n');
    const p = c.sendRaw(Buffer.alloc(0), 2);
    for (let i = 0; i < frame.length; i++) {
      (c as unknown as { socket: import('node:net').Socket }).socket.write(frame.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
    expect((await p).map(show)).toEqual(['OK', 'va\r\nue']);
    c.close();
  });

  it('keeps unfinished frames intact while other clients are read in between', async () => {
    // Every connection reads into one shared buffer: a half-received frame
    // must survive other clients' reads overwriting that buffer.
    const a = await RawClient.connect(pair.kvslab.port);
    const b = await RawClient.connect(pair.kvslab.port);
    const sock = (c: RawClient) => (c as unknown as { socket: import('node:net').Socket }).socket;
    const pause = () => new Promise((r) => setTimeout(r, 30));
    const small = Buffer.from('0123456789abcdefghij'.repeat(5));
    const big = Buffer.alloc(300 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const frame = (k: string, v: Buffer) => Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n`), v, Buffer.from('\r\n')]);
    const replies = a.sendRaw(Buffer.alloc(0), 3);
    const fs = frame('small', small);
    const fb = frame('big', big);
    const fx = frame('x', Buffer.from('y'));
    // Cut inside the header, inside the value, inside the big value, and between frames.
    const stream = Buffer.concat([fs, fb, fx]);
    const cuts = [7, 40, fs.length + 20, fs.length + 100_000, fs.length + 200_000, stream.length - 3];
    let from = 0;
    for (const cut of [...cuts, stream.length]) {
      sock(a).write(stream.subarray(from, cut));
      from = cut;
      await pause();
      // Another client's traffic lands in the shared buffer in between.
      await b.call('SET', 'noise', Buffer.alloc(60_000, 0x5a));
    }
    expect((await replies).map(show)).toEqual(['OK', 'OK', 'OK']);
    expect(await b.call('GET', 'small')).toEqual(small);
    expect(await b.call('GET', 'big')).toEqual(big);
    expect(await b.call('GET', 'x')).toEqual(Buffer.from('y'));
    a.close();
    b.close();
  });

  it('closes a client whose query buffer passes client-query-buffer-limit', async () => {
    const c = await RawClient.connect(pair.kvslab.port);
    await c.call('CONFIG', 'SET', 'client-query-buffer-limit', '1mb');
    const c2 = await RawClient.connect(pair.kvslab.port);
    // A 4 MB argument announced but only 2 MB sent: the pending query grows past 1 MB.
    c2.sendRaw(`*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$${4 * 1024 * 1024}\r\n${'x'.repeat(2 * 1024 * 1024)}`, 0).catch(() => {});
    expect(await c2.waitClose(3000)).toBe(true);
    await c.call('CONFIG', 'SET', 'client-query-buffer-limit', '1gb');
    expect(await c.call('PING')).toEqual(Buffer.from('PONG'));
    c.close();
  });

  it('answers a deep pipeline in order', async () => {
    const c = await RawClient.connect(pair.kvslab.port);
    let bytes = '';
    for (let i = 0; i < 5000; i++) bytes += `*2\r\n$4\r\nECHO\r\n$${String(i).length}\r\n${i}\r\n`;
    const replies = await c.sendRaw(bytes, 5000);
    expect(replies.map(show)).toEqual(Array.from({ length: 5000 }, (_, i) => String(i)));
    c.close();
  });
});
