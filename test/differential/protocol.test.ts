// Malformed and unusual input, sent byte for byte to kvslab and to Redis: the
// replies, and whether the connection is closed afterwards, must match.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPair, Pair } from '../helpers/differential.js';
import { RawClient, show } from '../helpers/raw-client.js';

let pair: Pair;
beforeAll(async () => { pair = await startPair(); });
afterAll(async () => { await pair.stop(); });

type Bytes = string | Buffer;

interface Outcome {
  /** Everything the server sent, as latin1 (byte for byte). */
  bytes: string;
  closed: boolean;
}

/**
 * Writes `parts` on a fresh connection to `port`, each in a write of its own
 * (a pause between them, so that a server reads them apart), then collects
 * what comes back: until the server closes, or, when `expected` says it stays
 * open, until as many bytes as expected came and a while passed quietly (with
 * no expectation: until it is quiet). At most 5 s.
 */
function exchange(port: number, parts: Bytes[], expected?: Outcome): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let size = 0;
    let closed = false;
    let written = false;
    let settle: NodeJS.Timeout | undefined;
    let cap: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(settle);
      clearTimeout(cap);
      s.destroy();
      resolve({ bytes: Buffer.concat(got).toString('latin1'), closed });
    };
    // Bytes that arrived while the timer was due are read before finishing.
    const later = (ms: number) => { clearTimeout(settle); settle = setTimeout(() => setImmediate(finish), ms); };
    const check = () => {
      if (!written || expected?.closed) return;
      if (!expected) return later(300);
      if (size >= expected.bytes.length) later(expected.bytes.length > 0 ? 150 : 300);
    };
    s.on('data', (d) => { got.push(d); size += d.length; check(); });
    let connected = false;
    // A reset after the reply is a close like any other (Redis resets a client it cut off).
    s.on('error', (e) => { if (!connected) reject(e); });
    s.on('close', () => { closed = true; finish(); });
    s.once('connect', async () => {
      connected = true;
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 25));
        s.write(parts[i]);
      }
      written = true;
      cap = setTimeout(finish, 5000);
      check();
    });
  });
}

/** The same bytes to both servers at once: [kvslab, redis]. */
async function both(parts: Bytes | Bytes[], expected?: Outcome): Promise<[Outcome, Outcome]> {
  const list = Array.isArray(parts) ? parts : [parts];
  return Promise.all([exchange(pair.kvslab.port, list, expected), exchange(pair.redis.port, list, expected)]);
}

/**
 * Asserts both servers sent the same bytes and agree on closing; returns
 * Redis's outcome. `expected` (what Redis does) only tells how long to wait:
 * the caller checks it.
 */
async function same(parts: Bytes | Bytes[], expected?: Outcome): Promise<Outcome> {
  const [k, r] = await both(parts, expected);
  const cut = (o: Outcome) => ({ bytes: o.bytes.length > 300 ? `${o.bytes.slice(0, 300)}... (${o.bytes.length} bytes)` : o.bytes, closed: o.closed });
  expect(cut(k)).toEqual(cut(r));
  expect(k.bytes === r.bytes).toBe(true);
  return r;
}

const MAX = 64 * 1024;
const a = (n: number) => 'a'.repeat(n);
const ERR = (m: string) => `-ERR Protocol error: ${m}\r\n`;

// [name, bytes (one write, or several apart), what Redis does (checked too: a
// case that stops testing what it says shows up)]
const cases: [string, Bytes | Bytes[], Outcome][] = [
  ['inline ping', 'PING\r\n', { bytes: '+PONG\r\n', closed: false }],
  ['inline with double quotes', 'ECHO "a b\\x41\\n"\r\n', { bytes: '$5\r\na bA\n\r\n', closed: false }],
  ['inline with single quotes', "ECHO 'c \\' d'\r\n", { bytes: "$5\r\nc ' d\r\n", closed: false }],
  ['inline without CR', 'PING\n', { bytes: '+PONG\r\n', closed: false }],
  ['inline empty lines are skipped', '\r\n\r\n   \r\n\nPING\r\n', { bytes: '+PONG\r\n', closed: false }],
  ['inline CR first is a space', '\rPING\r\n', { bytes: '+PONG\r\n', closed: false }],
  ['inline unbalanced double quotes', 'ECHO "abc\r\n', { bytes: ERR('unbalanced quotes in request'), closed: true }],
  ['inline unbalanced single quotes', "ECHO 'abc\r\n", { bytes: ERR('unbalanced quotes in request'), closed: true }],
  ['inline quote not followed by space', 'ECHO "abc"def\r\n', { bytes: ERR('unbalanced quotes in request'), closed: true }],
  ['inline then multibulk in one packet', 'PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n', { bytes: '+PONG\r\n$2\r\nhi\r\n+PONG\r\n', closed: false }],
  ['inline line cut across writes', ['ECHO "hel', 'lo"', '\r\nPING\r', '\n'], { bytes: '$5\r\nhello\r\n+PONG\r\n', closed: false }],
  ['commands before an error run, after it not', 'PING\r\n*1\r\n$4\r\nPING\r\n*1\r\nx\r\nPING\r\n', { bytes: `+PONG\r\n+PONG\r\n${ERR("expected '$', got 'x'")}`, closed: true }],
  ['empty bulk elements are fine', '*2\r\n$4\r\nECHO\r\n$0\r\n\r\n', { bytes: '$0\r\n\r\n', closed: false }],
  ['unknown command keeps the connection', '*1\r\n$3\r\nFOO\r\nPING\r\n', { bytes: "-ERR unknown command 'FOO', with args beginning with: \r\n+PONG\r\n", closed: false }],
  // Multibulk counts.
  ['empty and negative multibulks are ignored', '*0\r\n*-1\r\n*-5\r\nPING\r\n', { bytes: '+PONG\r\n', closed: false }],
  ['multibulk count not a number', '*abc\r\n', { bytes: ERR('invalid multibulk length'), closed: true }],
  ['multibulk count -0', '*-0\r\n', { bytes: ERR('invalid multibulk length'), closed: true }],
  ['multibulk count with a leading zero', '*01\r\n$4\r\nPING\r\n', { bytes: ERR('invalid multibulk length'), closed: true }],
  ['multibulk count with a plus sign', '*+1\r\n$4\r\nPING\r\n', { bytes: ERR('invalid multibulk length'), closed: true }],
  ['multibulk count empty', '*\r\nPING\r\n', { bytes: ERR('invalid multibulk length'), closed: true }],
  ['multibulk count INT_MAX + 1', '*2147483648\r\n', { bytes: ERR('invalid multibulk length'), closed: true }],
  ['multibulk count beyond a long long', '*99999999999999999999999\r\n', { bytes: ERR('invalid multibulk length'), closed: true }],
  ['multibulk count INT_MAX is accepted (and waited for)', '*2147483647\r\n$4\r\nECHO\r\n', { bytes: '', closed: false }],
  ['multibulk count 1024^3 + 1 is accepted', '*1073741825\r\n', { bytes: '', closed: false }],
  ['the byte after a count\'s CR is skipped, whatever it is', '*1\rX$4\r\nPING\r\n', { bytes: '+PONG\r\n', closed: false }],
  // Bulk headers.
  ['bulk length not a number', '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n', { bytes: ERR('invalid bulk length'), closed: true }],
  ['bulk length not a number, cut across writes', ['*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$bla', 'bla\r', '\n'], { bytes: ERR('invalid bulk length'), closed: true }],
  ['bulk length with trailing garbage', '*1\r\n$1a\r\nxxxxxxxxxxxxxxxxxxxxx\r\n', { bytes: ERR('invalid bulk length'), closed: true }],
  ['bulk length with a leading zero', '*1\r\n$04\r\nPING\r\n', { bytes: ERR('invalid bulk length'), closed: true }],
  ['bulk length empty', '*1\r\n$\r\n', { bytes: ERR('invalid bulk length'), closed: true }],
  ['negative bulk length', '*1\r\n$-1\r\n', { bytes: ERR('invalid bulk length'), closed: true }],
  ['bulk length -0', '*1\r\n$-0\r\n', { bytes: ERR('invalid bulk length'), closed: true }],
  ['bulk length over proto-max-bulk-len', '*1\r\n$536870913\r\n', { bytes: ERR('invalid bulk length'), closed: true }],
  ['bulk length at proto-max-bulk-len is waited for', '*1\r\n$536870912\r\n', { bytes: '', closed: false }],
  ['bulk length beyond a long long', '*1\r\n$99999999999999999999999\r\n', { bytes: ERR('invalid bulk length'), closed: true }],
  ['the byte after a bulk length\'s CR is skipped', '*1\r\n$4\rXPING\r\n', { bytes: '+PONG\r\n', closed: false }],
  // Element types.
  ["expected '$', got 'x'", '*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n', { bytes: ERR("expected '$', got 'f'"), closed: true }],
  ['multibulk with integer element', '*1\r\n:5\r\n', { bytes: ERR("expected '$', got ':'"), closed: true }],
  ['multibulk with nested array element', '*2\r\n$4\r\nECHO\r\n*1\r\n', { bytes: ERR("expected '$', got '*'"), closed: true }],
  ["expected '$', got CR (shown as a space)", '*1\r\n\r\n', { bytes: ERR("expected '$', got ' '"), closed: true }],
  ["expected '$', got LF (shown as a space)", '*1\r\n\n\r\n', { bytes: ERR("expected '$', got ' '"), closed: true }],
  ["expected '$', got a byte above 0x7f (sent as is)", Buffer.from('*1\r\n\xe9\r\n', 'latin1'), { bytes: ERR("expected '$', got '\xe9'"), closed: true }],
  ['element header cut across writes', ['*2\r\n$4\r\nECHO\r\n', 'x', 'yz\r', '\n'], { bytes: ERR("expected '$', got 'x'"), closed: true }],
  // Payloads are taken by length; the two bytes after them are skipped unseen.
  ['a payload not followed by CRLF', '*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n', { bytes: '+PONG\r\n+PONG\r\n', closed: false }],
  ['a payload followed by other bytes, then inline', '*2\r\n$4\r\nECHO\r\n$2\r\nhiXY$4\r\nPING\r\n', { bytes: "$2\r\nhi\r\n-ERR unknown command '$4', with args beginning with: \r\n+PONG\r\n", closed: false }],
  ['a payload cut across writes', ['*2\r\n$4\r\nECHO\r\n$10\r\n01234', '567', '89\r', '\n'], { bytes: '$10\r\n0123456789\r\n', closed: false }],
  // A NUL ends Redis's search for the end of a line: the line never ends.
  ['NUL in an inline command: never answered', ['PI\0NG\r\n', 'PING\r\n'], { bytes: '', closed: false }],
  ['NUL in a multibulk count: never answered', '*1\0\r\n$4\r\nPING\r\n', { bytes: '', closed: false }],
  ['NUL in a bulk length: never answered', '*1\r\n$4\0\r\nPING\r\n', { bytes: '', closed: false }],
  // Unterminated lines: up to 64 KiB are waited for, one byte more is an error.
  ['NUL + 64 KiB - 1: waited for', ['\0', a(MAX - 1)], { bytes: '', closed: false }],
  ['NUL + 64 KiB: too big inline request', ['\0', a(MAX)], { bytes: ERR('too big inline request'), closed: true }],
  ['a command after NUL + 64 KiB: too big inline request', ['PING\r\n\0', a(MAX)], { bytes: `+PONG\r\n${ERR('too big inline request')}`, closed: true }],
  ['* + NUL + 64 KiB - 1: too big mbulk count string', ['*\0', a(MAX - 1)], { bytes: ERR('too big mbulk count string'), closed: true }],
  ['$ + NUL + 64 KiB - 1: too big bulk count string', ['*1\r\n$\0', a(MAX - 1)], { bytes: ERR('too big bulk count string'), closed: true }],
  ['inline of 64 KiB without newline: waited for', ['ECHO ', a(MAX - 5)], { bytes: '', closed: false }],
  ['inline of 64 KiB + 1 without newline: too big inline request', ['ECHO ', a(MAX - 4)], { bytes: ERR('too big inline request'), closed: true }],
  ['inline just under 64 KiB with newline is run', `ECHO ${a(MAX - 10)}\r\n`, { bytes: `$${MAX - 10}\r\n${a(MAX - 10)}\r\n`, closed: false }],
  ['multibulk count of 64 KiB digits without CR: waited for', ['*', '1'.repeat(MAX - 1)], { bytes: '', closed: false }],
  ['multibulk count of 64 KiB + 1: too big mbulk count string', ['*', '1'.repeat(MAX)], { bytes: ERR('too big mbulk count string'), closed: true }],
  ['bulk length of 64 KiB + 1: too big bulk count string', ['*1\r\n$', '1'.repeat(MAX)], { bytes: ERR('too big bulk count string'), closed: true }],
  ['no bulk header at all in 64 KiB + 1: too big bulk count string', ['*1\r\n', a(MAX + 1)], { bytes: ERR('too big bulk count string'), closed: true }],
];

describe('protocol errors match Redis byte for byte', () => {
  for (const [name, bytes, redis] of cases) {
    it(name, async () => {
      const r = await same(bytes, redis);
      expect(r).toEqual(redis);
    });
  }

  it('a frame of 50,000 arguments arriving over many reads', async () => {
    const args = ['MSET'];
    for (let i = 0; i < 25_000; i++) args.push(`big:${i}`, `v${i}`);
    const frame = Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map((x) => Buffer.from(`$${x.length}\r\n${x}\r\n`))]);
    const get = '*3\r\n$4\r\nMGET\r\n$5\r\nbig:0\r\n$9\r\nbig:24999\r\n';
    // Cut anywhere: inside headers, payloads, between arguments.
    const parts = [frame.subarray(0, 1000), frame.subarray(1000, 1001), frame.subarray(1001, 70_000), frame.subarray(70_000), get];
    const redis = { bytes: '+OK\r\n*2\r\n$2\r\nv0\r\n$6\r\nv24999\r\n', closed: false };
    expect(await same(parts, redis)).toEqual(redis);
  });

  it('streams cut at random points', async () => {
    const stream = Buffer.concat([
      Buffer.from('*3\r\n$3\r\nSET\r\n$3\r\ncut\r\n$20\r\n01234567890123456789\r\n'),
      Buffer.from('ECHO "in line" \'x\'\r\n\r\n'),
      Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\ncut\r\n*0\r\n*-1\r\n'),
      Buffer.from('*2\r\n$4\r\nECHO\r\n$1a\r\nxx\r\n'),
    ]);
    let seed = 7;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    for (let run = 0; run < 4; run++) {
      const cuts = [...new Set(Array.from({ length: 6 }, () => 1 + rnd(stream.length - 1)))].sort((x, y) => x - y);
      const parts = [0, ...cuts].map((c, i, all) => stream.subarray(c, all[i + 1] ?? stream.length));
      const r = await same(parts, { bytes: '', closed: true });
      expect(r.closed).toBe(true);
      expect(r.bytes.endsWith(ERR('invalid bulk length'))).toBe(true);
    }
  });
});

describe('client-query-buffer-limit matches Redis', () => {
  beforeAll(async () => { await pair.sequence([['CONFIG', 'SET', 'client-query-buffer-limit', '1mb']]); });
  afterAll(async () => { await pair.sequence([['CONFIG', 'SET', 'client-query-buffer-limit', '1gb']]); });
  const set = '*3\r\n$3\r\nSET\r\n$1\r\nq\r\n';

  it('a bulk announced at 4 MB, 2 MB of it sent: closed without a reply', async () => {
    const redis = { bytes: '', closed: true };
    expect(await same([`${set}$${4 << 20}\r\n`, a(2 << 20)], redis)).toEqual(redis);
  });

  it('a bulk announced at 4 MB, 1 MB - 4 KB of it sent: kept', async () => {
    const redis = { bytes: '', closed: false };
    expect(await same([`${set}$${4 << 20}\r\n`, a((1 << 20) - 4096)], redis)).toEqual(redis);
  });

  it('a whole value over the limit is not run', async () => {
    const closed = { bytes: '', closed: true };
    expect(await same([`${set}$${2 << 20}\r\n${a(2 << 20)}\r\n`], closed)).toEqual(closed);
    const absent = { bytes: ':0\r\n', closed: false };
    expect(await same('*2\r\n$6\r\nEXISTS\r\n$1\r\nq\r\n', absent)).toEqual(absent);
  });
});

describe('unauthenticated clients match Redis', () => {
  let locked: Pair;
  beforeAll(async () => { locked = await startPair(['--requirepass', 'pw'], ['--requirepass', 'pw']); });
  afterAll(async () => { await locked.stop(); });
  const sameOn = async (bytes: string, redis: Outcome): Promise<void> => {
    const [k, r] = await Promise.all([exchange(locked.kvslab.port, [bytes], redis), exchange(locked.redis.port, [bytes], redis)]);
    expect(k).toEqual(r);
    expect(r).toEqual(redis);
  };

  it('a multibulk count over 10', async () => {
    await sameOn('*11\r\n', { bytes: ERR('unauthenticated multibulk length'), closed: true });
    await sameOn('*10\r\n', { bytes: '', closed: false });
  });

  it('a bulk length over 16384', async () => {
    await sameOn('*1\r\n$16385\r\n', { bytes: ERR('unauthenticated bulk length'), closed: true });
    await sameOn('*1\r\n$16384\r\n', { bytes: '', closed: false });
  });

  it('the limits are lifted by AUTH in the same packet', async () => {
    const auth = '*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n';
    await sameOn(`${auth}*2\r\n$4\r\nECHO\r\n$16385\r\n${a(16385)}\r\n`, { bytes: `+OK\r\n$16385\r\n${a(16385)}\r\n`, closed: false });
  });
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
