// Randomized differential test across every family: fast-check generates
// command sequences (valid and invalid: wrong arities, bad options, wrong
// numbers, binary values, expiry), runs them on kvslab and on Redis, and
// every reply must match. A failure is shrunk to a minimal sequence.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Argv, describeArgv, Pair, repliesEqual, startPair } from '../helpers/differential.js';
import { Reply, show } from '../helpers/raw-client.js';

let pair: Pair;
beforeAll(async () => { pair = await startPair(); });
afterAll(async () => { await pair.stop(); });

const key = fc.constantFrom<string | Buffer>('a', 'b', 'c', 'num', Buffer.from([0, 0xff, 0x0d, 0x0a]));
const intText = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.constantFrom('9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', '+1', ' 1', '1.5', '', 'abc', '-0'),
);
const value = fc.oneof(
  intText,
  fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('1.5', '3.0e3', 'inf', '-inf', 'nan', '0x10', '10.25'),
);
const ttlSeconds = fc.oneof(fc.integer({ min: 100, max: 100000 }).map(String), fc.constantFrom('0', '-5', 'x', '9223372036854775807'));
const opt = fc.constantFrom('NX', 'XX', 'GT', 'LT', 'GET', 'KEEPTTL', 'EX', 'PX', 'EXAT', 'PXAT', 'PERSIST', 'BYTE', 'BIT', 'LEN', 'IDX', 'REPLACE', 'DB', 'FOO');
const bitOffset = fc.oneof(fc.integer({ min: 0, max: 200 }).map(String), fc.constantFrom('-1', '4294967296', 'z'));

/** One random command; `sorted` marks replies whose order is unspecified. */
const command: fc.Arbitrary<{ argv: Argv; sorted?: boolean }> = fc.oneof(
  fc.tuple(key, value).map(([k, v]) => ({ argv: ['SET', k, v] })),
  fc.tuple(key, value, fc.array(fc.oneof(opt, ttlSeconds), { maxLength: 3 })).map(([k, v, o]) => ({ argv: ['SET', k, v, ...o] })),
  key.map((k) => ({ argv: ['GET', k] })),
  fc.tuple(key, fc.array(fc.oneof(opt, ttlSeconds), { maxLength: 2 })).map(([k, o]) => ({ argv: ['GETEX', k, ...o] })),
  key.map((k) => ({ argv: ['GETDEL', k] })),
  fc.tuple(key, value).map(([k, v]) => ({ argv: ['GETSET', k, v] })),
  fc.tuple(key, value).map(([k, v]) => ({ argv: ['SETNX', k, v] })),
  fc.tuple(key, ttlSeconds, value).map(([k, t, v]) => ({ argv: ['SETEX', k, t, v] })),
  fc.tuple(key, value).map(([k, v]) => ({ argv: ['APPEND', k, v] })),
  key.map((k) => ({ argv: ['STRLEN', k] })),
  fc.tuple(key, intText, intText).map(([k, s, e]) => ({ argv: ['GETRANGE', k, s, e] })),
  fc.tuple(key, fc.integer({ min: -2, max: 40 }).map(String), value).map(([k, o, v]) => ({ argv: ['SETRANGE', k, o, v] })),
  key.map((k) => ({ argv: ['INCR', k] })),
  key.map((k) => ({ argv: ['DECR', k] })),
  fc.tuple(key, intText).map(([k, n]) => ({ argv: ['INCRBY', k, n] })),
  fc.tuple(key, intText).map(([k, n]) => ({ argv: ['DECRBY', k, n] })),
  fc.tuple(key, fc.constantFrom('1', '0.5', '-2.25', '10', 'abc', '1e3')).map(([k, n]) => ({ argv: ['INCRBYFLOAT', k, n] })),
  fc.array(key, { minLength: 1, maxLength: 4 }).map((ks) => ({ argv: ['MGET', ...ks] })),
  fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }).map((kv) => ({ argv: ['MSET', ...kv.flat()] })),
  fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }).map((kv) => ({ argv: ['MSETNX', ...kv.flat()] })),
  fc.tuple(key, bitOffset, fc.constantFrom('0', '1', '2')).map(([k, o, b]) => ({ argv: ['SETBIT', k, o, b] })),
  fc.tuple(key, bitOffset).map(([k, o]) => ({ argv: ['GETBIT', k, o] })),
  fc.tuple(key, fc.array(fc.oneof(intText, opt), { maxLength: 3 })).map(([k, a]) => ({ argv: ['BITCOUNT', k, ...a] })),
  fc.tuple(key, fc.constantFrom('0', '1', '2'), fc.array(fc.oneof(intText, opt), { maxLength: 3 })).map(([k, b, a]) => ({ argv: ['BITPOS', k, b, ...a] })),
  fc.tuple(key, key, fc.array(opt, { maxLength: 2 })).map(([a, b, o]) => ({ argv: ['LCS', a, b, ...o] })),
  fc.array(key, { minLength: 1, maxLength: 4 }).map((ks) => ({ argv: ['DEL', ...ks] })),
  fc.array(key, { minLength: 1, maxLength: 4 }).map((ks) => ({ argv: ['EXISTS', ...ks] })),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ({ argv: ['UNLINK', ...ks] })),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ({ argv: ['TOUCH', ...ks] })),
  key.map((k) => ({ argv: ['TYPE', k] })),
  fc.tuple(key, key).map(([a, b]) => ({ argv: ['RENAME', a, b] })),
  fc.tuple(key, key).map(([a, b]) => ({ argv: ['RENAMENX', a, b] })),
  fc.tuple(key, key, fc.array(fc.oneof(opt, fc.constantFrom('0', '1', '99')), { maxLength: 3 })).map(([a, b, o]) => ({ argv: ['COPY', a, b, ...o] })),
  fc.tuple(key, fc.constantFrom('0', '1', '16', 'x')).map(([k, d]) => ({ argv: ['MOVE', k, d] })),
  fc.constantFrom('*', 'a*', '?', '[ab]', 'n\\um').map((p) => ({ argv: ['KEYS', p], sorted: true })),
  fc.constant<{ argv: Argv }>({ argv: ['DBSIZE'] }),
  fc.tuple(fc.constantFrom('EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT'), key, ttlSeconds, fc.array(opt, { maxLength: 2 })).map(([c, k, t, o]) => ({ argv: [c, k, c.endsWith('AT') ? String(Number(t) > 0 ? 4000000000 + Number(t) : t) : t, ...o] })),
  fc.tuple(fc.constantFrom('TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME', 'PERSIST'), key).map(([c, k]) => ({ argv: [c, k] })),
  fc.tuple(fc.constantFrom('SELECT', 'SWAPDB'), fc.constantFrom('0', '1', '0')).map(([c, d]) => ({ argv: c === 'SELECT' ? [c, d] : [c, d, '1'] })),
  fc.constantFrom<Argv>(['MULTI'], ['EXEC'], ['DISCARD'], ['PING'], ['ECHO', 'x'], ['WATCH', 'a'], ['UNWATCH']).map((argv) => ({ argv })),
  // Wrong arities and unknown commands.
  fc.constantFrom<Argv>(['GET'], ['SET', 'a'], ['INCRBY', 'a'], ['EXPIRE', 'a'], ['MSET', 'a'], ['GETRANGE', 'a', '1'], ['NOPE'], ['NOPE', 'x\r\ny']).map((argv) => ({ argv })),
);

function sortReplies(a: Reply[]): Reply[] {
  return [...a].sort((x, y) => (Buffer.isBuffer(x) && Buffer.isBuffer(y) ? Buffer.compare(x, y) : 0));
}

/** KEYS order is unspecified: sort it, also inside an EXEC reply (where it may sit). */
function normalize(r: Reply, sorted: boolean | undefined, name: string): Reply {
  if (!Array.isArray(r)) return r;
  if (sorted) return sortReplies(r);
  if (name === 'exec') return r.map((x) => (Array.isArray(x) ? sortReplies(x) : x));
  return r;
}

describe('random command sequences', () => {
  it('match Redis reply for reply', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('2', '3'), fc.array(command, { minLength: 1, maxLength: 25 }), async (proto, cmds) => {
        // Start each run from the same state on both servers, in RESP2 or RESP3
        // (HELLO's own reply differs by the client id, so it is not compared).
        for (const c of [pair.k, pair.r]) {
          await c.call('DISCARD');
          await c.call('SELECT', '0');
          await c.call('FLUSHALL');
          await c.call('HELLO', proto);
        }
        const log: string[] = [];
        for (const { argv, sorted } of cmds) {
          const [k, r] = await pair.both(argv);
          const name = String(argv[0]).toLowerCase();
          const tol = name === 'ttl' || name === 'expiretime' ? 2 : name === 'pttl' || name === 'pexpiretime' ? 2000 : 0;
          log.push(describeArgv(argv));
          // Exact bytes where the order is defined and no clock is involved.
          const exact = tol === 0 && !sorted && name !== 'exec';
          const same = exact ? pair.k.lastRaw.equals(pair.r.lastRaw) : repliesEqual(normalize(k, sorted, name), normalize(r, sorted, name), tol);
          if (!same) {
            if (exact) expect({ sequence: log, raw: pair.k.lastRaw.toString('latin1') }).toEqual({ sequence: log, raw: pair.r.lastRaw.toString('latin1') });
            expect({ sequence: log, kvslab: show(k) }).toEqual({ sequence: log, kvslab: show(r) });
          }
        }
      }),
      { numRuns: Number(process.env.KVSLAB_FUZZ_RUNS ?? 150) },
    );
  });
});
