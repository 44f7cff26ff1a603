// Request frames for the protocol fuzzer: a seeded PRNG, valid commands over
// the fuzzer's own keys ("fz:*"), and the ways a frame can go wrong on the
// wire (flipped bytes, wrong lengths, huge counts, truncation, NULs, non-bulk
// elements, inline garbage, over-long lines). Commands that would stop the
// server or touch other clients' data (SHUTDOWN, FLUSHALL, DEBUG, CONFIG,
// CLIENT KILL/PAUSE, SWAPDB, MOVE) are never generated, nor LCS: O(N*M) on
// the larger values, it would spend the time budget on a few calls.

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function makeRng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** An integer in [0, n). */
    int: (n: number): number => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number): boolean => next() < p,
    bytes(n: number): Buffer {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
}

export type Rng = ReturnType<typeof makeRng>;

export function encode(argv: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const key = (r: Rng) => `fz:${r.int(200)}`;
const keys = (r: Rng, n: number) => Array.from({ length: n }, () => key(r));
const num = (r: Rng) => String(r.pick([0, 1, -1, 7, 100, 1000, 65536, 2 ** 31, -(2 ** 31), 2 ** 53, r.int(100000)]));

/** A value: mostly short, sometimes a few KB, rarely past the 16 KiB view or 64 KiB large-value thresholds. */
function value(r: Rng): Buffer | string {
  const roll = r.next();
  const n = roll < 0.8 ? r.int(64) : roll < 0.99 ? r.int(2048) : roll < 0.998 ? 16_000 + r.int(50_000) : 65_000 + r.int(200_000);
  return r.chance(0.5) ? r.bytes(n) : 'v'.repeat(n);
}

const GENERATORS: ((r: Rng) => (string | Buffer)[])[] = [
  () => ['PING'],
  (r) => ['PING', value(r)],
  (r) => ['ECHO', value(r)],
  (r) => ['SET', key(r), value(r)],
  (r) => ['SET', key(r), value(r), r.pick(['EX', 'PX']), String(1 + r.int(100_000))],
  (r) => ['SET', key(r), value(r), r.pick(['NX', 'XX', 'KEEPTTL', 'GET'])],
  (r) => ['GET', key(r)],
  (r) => ['GETDEL', key(r)],
  (r) => ['GETEX', key(r), r.pick(['PERSIST', 'EX']), ...(r.chance(0.5) ? [String(1 + r.int(1000))] : [])],
  (r) => ['MGET', ...keys(r, 1 + r.int(10))],
  (r) => ['MSET', ...keys(r, 1 + r.int(5)).flatMap((k) => [k, value(r)])],
  (r) => [r.pick(['DEL', 'UNLINK', 'EXISTS', 'TOUCH']), ...keys(r, 1 + r.int(5))],
  (r) => [r.pick(['INCR', 'DECR']), key(r)],
  (r) => [r.pick(['INCRBY', 'DECRBY']), key(r), num(r)],
  (r) => ['INCRBYFLOAT', key(r), r.pick(['1.5', '-0.25', '1e3', 'inf', 'nan', '3.0e-5'])],
  (r) => ['APPEND', key(r), value(r)],
  (r) => ['STRLEN', key(r)],
  (r) => ['SETRANGE', key(r), String(r.int(100_000)), value(r)],
  (r) => ['GETRANGE', key(r), num(r), num(r)],
  (r) => ['SETBIT', key(r), String(r.int(100_000)), String(r.int(2))],
  (r) => ['GETBIT', key(r), String(r.int(100_000))],
  (r) => ['BITCOUNT', key(r), ...(r.chance(0.5) ? [num(r), num(r)] : [])],
  (r) => ['BITPOS', key(r), String(r.int(2))],
  (r) => [r.pick(['EXPIRE', 'PEXPIRE']), key(r), String(1 + r.int(100_000)), ...(r.chance(0.3) ? [r.pick(['NX', 'XX', 'GT', 'LT'])] : [])],
  (r) => [r.pick(['TTL', 'PTTL', 'PERSIST', 'TYPE', 'EXPIRETIME']), key(r)],
  (r) => [r.pick(['RENAME', 'RENAMENX', 'COPY']), key(r), key(r)],
  (r) => ['SCAN', String(r.int(1000)), 'MATCH', `fz:${r.int(20)}*`, 'COUNT', String(1 + r.int(100))],
  (r) => ['KEYS', `fz:${r.int(20)}*`],
  (r) => [r.pick(['DBSIZE', 'RANDOMKEY', 'TIME', 'MULTI', 'EXEC', 'DISCARD', 'UNWATCH'])],
  (r) => ['SELECT', String(r.int(18) - 1)],
  (r) => ['WATCH', ...keys(r, 1 + r.int(3))],
  (r) => ['CLIENT', r.pick(['SETNAME', 'GETNAME', 'ID', 'INFO', 'REPLY']), ...(r.chance(0.5) ? [r.pick(['fz', 'ON', 'OFF', 'SKIP'])] : [])],
  (r) => ['HELLO', r.pick(['2', '3', '4'])],
  (r) => ['INFO', r.pick(['server', 'clients', 'memory', 'stats', 'keyspace', 'everything'])],
  (r) => ['COMMAND', r.pick(['COUNT', 'INFO', 'DOCS']), ...(r.chance(0.5) ? ['get'] : [])],
  (r) => ['OBJECT', r.pick(['ENCODING', 'FREQ', 'IDLETIME', 'REFCOUNT']), key(r)],
  (r) => ['MEMORY', 'USAGE', key(r)],
  (r) => [r.pick(['SETEX', 'PSETEX']), key(r), String(1 + r.int(10_000)), value(r)],
  (r) => [r.pick(['SETNX', 'GETSET']), key(r), value(r)],
  (r) => [r.pick(['LPUSH', 'HSET', 'NOSUCHCMD', 'get', 'sEt']), key(r), value(r)],
];

/** One valid command's arguments. */
export function validCommand(r: Rng): (string | Buffer)[] {
  return r.pick(GENERATORS)(r);
}

const HUGE = ['2147483647', '2147483648', '4294967296', '99999999999999999999', '-2', '-2147483648', '1048577', '536870913', '536870912', '0x10', ' 3', '3 ', '+3', '', '1.5', 'abc'];

/** The ways a frame goes wrong; each takes a valid frame and returns what is sent instead. */
const MUTATIONS: ((r: Rng, f: Buffer) => Buffer)[] = [
  // Flipped bytes.
  (r, f) => {
    const b = Buffer.from(f);
    for (let n = 1 + r.int(3); n > 0; n--) b[r.int(b.length)] ^= 1 + r.int(255);
    return b;
  },
  // A bulk length off by a little, or a count off by one.
  (r, f) => replaceLength(r, f, (n) => String(Math.max(0, n + r.pick([-3, -2, -1, 1, 2, 3, 10])))),
  // Huge, negative or malformed counts and lengths.
  (r, f) => replaceLength(r, f, () => r.pick(HUGE)),
  // Cut short: what follows is read as the rest of it.
  (r, f) => f.subarray(0, r.int(f.length)),
  // NUL bytes anywhere.
  (r, f) => {
    const at = r.int(f.length + 1);
    return Buffer.concat([f.subarray(0, at), Buffer.alloc(1 + r.int(3)), f.subarray(at)]);
  },
  // An element that is not a bulk string: integer, simple string, nested array, RESP3 types.
  (r, f) => {
    const s = f.toString('latin1');
    const i = s.indexOf('$', 1 + r.int(Math.max(1, s.length - 1)));
    const at = i < 0 ? s.indexOf('$') : i;
    if (at < 0) return f;
    const b = Buffer.from(f);
    b[at] = r.pick([0x3a, 0x2b, 0x2d, 0x2a, 0x25, 0x7e, 0x5f, 0x2c, 0x23, 0x28, 0x3d, 0x3e]);
    return b;
  },
  // Missing or doubled CR/LF.
  (r, f) => {
    const s = f.toString('latin1');
    const at = s.indexOf('\r\n', r.int(s.length));
    if (at < 0) return f;
    return Buffer.concat([f.subarray(0, at), r.chance(0.5) ? Buffer.alloc(0) : Buffer.from(r.pick(['\r\n\r\n', '\n', '\r', '\n\r'])), f.subarray(at + 2)]);
  },
];

function replaceLength(r: Rng, f: Buffer, to: (n: number) => string): Buffer {
  const s = f.toString('latin1');
  const heads: number[] = [];
  for (let i = 0; i < s.length; i++) if ((s[i] === '$' || s[i] === '*') && (i === 0 || s[i - 1] === '\n')) heads.push(i);
  if (heads.length === 0) return f;
  const at = r.pick(heads);
  const end = s.indexOf('\r\n', at);
  if (end < 0) return f;
  const n = Number(s.slice(at + 1, end));
  return Buffer.concat([f.subarray(0, at + 1), Buffer.from(to(n), 'latin1'), f.subarray(end)]);
}

/** Inline commands and junk that is not RESP at all. */
function garbage(r: Rng): Buffer {
  switch (r.int(8)) {
    case 0: return Buffer.from(`${r.pick(['PING', 'GET fz:1', 'SET fz:2 "a b"', 'ECHO \'x\\\'y\'', 'set "fz:3" "\\x41\\x42"', 'DEL fz:1 fz:2'])}\r\n`);
    case 1: return Buffer.from(`${r.pick(['SET "unbalanced', "GET 'x", 'ECHO "\\x4"', 'ECHO "a"b', '"'])}\r\n`);
    case 2: return Buffer.concat([r.bytes(1 + r.int(200)), Buffer.from('\r\n')]);
    case 3: return r.bytes(1 + r.int(2000));
    // Many arguments on one inline line.
    case 4: return Buffer.from(`MGET ${Array.from({ length: 1 + r.int(r.pick([20, 2000])) }, (_, i) => `fz:${i % 200}`).join(' ')}\r\n`);
    // A long header or inline line, sometimes past the 64 KiB limit, sometimes unterminated.
    case 5: return Buffer.from(`${r.pick(['*', '$', 'PING ', ''])}${'1'.repeat(r.pick([30, 100, 1000, 20_000, 65_530, 70_000]))}${r.chance(0.5) ? '\r\n' : ''}`);
    case 6: return Buffer.from(r.pick(['*0\r\n', '*-1\r\n', '\r\n', '\n', '*1\r\n$-1\r\n', '*2\r\n$4\r\nPING\r\n$-1\r\n', '*1\r\n*1\r\n$4\r\nPING\r\n', '*\r\n', '$\r\n', '*1\r\n$\r\n']));
    default: return Buffer.from(`*${1 + r.int(3)}\r\n$${r.int(10)}\r\n`);
  }
}

/** One frame: valid, mutated from a valid one, or garbage, by `badness` (0..1). */
export function frame(r: Rng, badness: number): Buffer {
  const f = encode(validCommand(r));
  if (!r.chance(badness)) return f;
  if (r.chance(0.15)) return garbage(r);
  return r.pick(MUTATIONS)(r, f);
}
