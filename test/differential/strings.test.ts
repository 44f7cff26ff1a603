// String commands against real Redis 7: every command, its options and their
// conflicts, error paths (arity, bad numbers, overflow, size limits), RESP3
// replies byte for byte, and a randomized sequence test over the string and
// bit commands.

import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Argv, describeArgv, Pair, repliesEqual, startPair } from '../helpers/differential.js';
import { show } from '../helpers/raw-client.js';

let pair: Pair;
beforeAll(async () => { pair = await startPair(); });
afterAll(async () => { await pair.stop(); });
beforeEach(async () => { await pair.same(['FLUSHALL']); });

const seq = (cmds: Argv[]) => pair.sequence(cmds);
const FAR_SEC = '4102444800'; // 2100-01-01: an absolute time that will not pass during the test
const FAR_MS = '4102444800000';
const BIN = Buffer.from([0, 1, 0xff, 0x0d, 0x0a, 0x80, 0x20, 0x00]);

describe('GET / SET', () => {
  it('plain values, binary keys and values, empty values', async () => {
    await seq([
      ['GET', 'k'], ['SET', 'k', 'v'], ['GET', 'k'], ['SET', 'k', ''], ['GET', 'k'], ['STRLEN', 'k'],
      ['SET', BIN, BIN], ['GET', BIN], ['SET', 'big', Buffer.alloc(70000, 0xab)], ['GET', 'big'],
      ['SET', 'n', '12345'], ['GET', 'n'], ['SET', 'n', '-0'], ['GET', 'n'],
    ]);
  });

  it('every ordered combination of up to three SET options, on a missing and on an existing key', async () => {
    const opts: Argv[] = [['NX'], ['XX'], ['GET'], ['KEEPTTL'], ['EX', '100'], ['PX', '100000'], ['EXAT', FAR_SEC], ['PXAT', FAR_MS]];
    // Sequences of distinct options (repeats are covered below): 1 + 8 + 56 + 336 of them.
    const combos: Argv[][] = [[]];
    for (let i = 0; i < combos.length; i++) {
      if (combos[i].length === 3) continue;
      for (const o of opts) if (!combos[i].includes(o)) combos.push([...combos[i], o]);
    }
    for (const combo of combos.map((c) => c.flat())) {
      await pair.same(['DEL', 'k']);
      await pair.same(['SET', 'k', 'v1', ...combo]);
      await pair.same(['GET', 'k']);
      await pair.same(['PTTL', 'k']);
      await pair.same(['SET', 'k', 'v2', ...combo]);
      await pair.same(['GET', 'k']);
      await pair.same(['PTTL', 'k']);
    }
  });

  it('option parsing quirks: repeats, conflicts, missing values, case, NUL-terminated keywords', async () => {
    await seq([
      ['SET', 'k', 'v', 'EX', '10', 'EX', '20'], ['TTL', 'k'],
      ['SET', 'k', 'v', 'nx', 'NX'], ['SET', 'k', 'v', 'xx', 'get', 'Get'],
      ['SET', 'k', 'v', 'NX', 'XX'], ['SET', 'k', 'v', 'XX', 'NX'],
      ['SET', 'k', 'v', 'EX', '10', 'PX', '100'], ['SET', 'k', 'v', 'KEEPTTL', 'EX', '1'], ['SET', 'k', 'v', 'PX', '1', 'KEEPTTL'],
      ['SET', 'k', 'v', 'EXAT', FAR_SEC, 'PXAT', FAR_MS], ['SET', 'k', 'v', 'PERSIST'],
      ['SET', 'k', 'v', 'EX'], ['SET', 'k', 'v', 'PX'], ['SET', 'k', 'v', 'GET', 'EX'], ['SET', 'k', 'v', 'foo'], ['SET', 'k', 'v', ''],
      ['SET', 'k', 'v', 'nx\0junk'], ['SET', 'k', 'v', 'XX\0'], ['SET', 'k', 'v2', 'keepttl\0x', 'GET'], ['SET', 'k', 'v', 'EX\0', '100'], ['TTL', 'k'],
      ['SET', 'k', 'v', 'N'], ['SET', 'k', 'v', 'NXX'], ['SET', 'k', 'v', 'EXA', '1'],
    ]);
  });

  it('expiry values: zero, negative, not integers, int64 overflow, absolute times in the past', async () => {
    const values = ['0', '-1', '-9223372036854775808', 'abc', '1.5', ' 1', '', '9223372036854775807', '9223372036854775808',
      '9223372036854775', '9223372036854776', '922337203685477', '9223372036854775000', '9007199254740993'];
    for (const unit of ['EX', 'PX', 'EXAT', 'PXAT']) {
      for (const v of values) {
        await pair.same(['SET', 'k', 'v', unit, v]);
        await pair.same(['PEXPIRETIME', 'k'], { tolerance: 1500 });
        await pair.same(['SET', 'k', 'v', 'GET', unit, v]);
      }
    }
    await seq([['SET', 'k', 'old'], ['SET', 'k', 'v', 'GET', 'EX', 'abc'], ['GET', 'k'], ['SET', 'k', 'v', 'GET', 'EXAT', '1'], ['GET', 'k'], ['EXISTS', 'k']]);
  });

  it('SET GET with NX and XX returns the old value and sets only when the condition holds', async () => {
    await seq([
      ['SET', 'k', 'v', 'NX', 'GET'], ['GET', 'k'], ['SET', 'k', 'w', 'NX', 'GET'], ['GET', 'k'],
      ['SET', 'k', 'x', 'XX', 'GET'], ['GET', 'k'], ['SET', 'm', 'x', 'XX', 'GET'], ['EXISTS', 'm'],
      ['SET', 'k', 'y', 'NX'], ['SET', 'm', 'y', 'XX'],
    ]);
  });

  it('KEEPTTL keeps the expiry, plain SET clears it', async () => {
    await seq([
      ['SET', 'k', 'v', 'EX', '1000'], ['SET', 'k', 'w', 'KEEPTTL'], ['TTL', 'k'], ['GET', 'k'],
      ['SET', 'k', 'x'], ['TTL', 'k'], ['SET', 'nk', 'v', 'KEEPTTL'], ['TTL', 'nk'],
      ['SET', 'k', 'v', 'PXAT', '9223372036854775807'], ['PEXPIRETIME', 'k'], ['SET', 'k', 'w', 'KEEPTTL'], ['PEXPIRETIME', 'k'],
    ]);
  });
});

describe('SETNX, SETEX, PSETEX, GETSET, GETDEL', () => {
  it('SETNX', async () => {
    await seq([['SETNX', 'k', 'a'], ['SETNX', 'k', 'b'], ['GET', 'k'], ['SETNX', BIN, BIN], ['GET', BIN]]);
  });

  it('SETEX and PSETEX, including invalid times', async () => {
    for (const cmd of ['SETEX', 'PSETEX']) {
      for (const t of ['100', '0', '-1', 'x', '1.0', '9223372036854775807', '9223372036854775', '9223372036854774000']) {
        await pair.same([cmd, 'k', t, 'v']);
        await pair.same(['GET', 'k']);
        await pair.same(['PTTL', 'k']);
      }
    }
  });

  it('GETSET returns the old value and clears the expiry', async () => {
    await seq([['GETSET', 'k', 'a'], ['GETSET', 'k', 'b'], ['GET', 'k'], ['SET', 'k', 'v', 'EX', '100'], ['GETSET', 'k', BIN], ['TTL', 'k'], ['GET', 'k']]);
  });

  it('GETDEL', async () => {
    await seq([['GETDEL', 'k'], ['SET', 'k', BIN], ['GETDEL', 'k'], ['EXISTS', 'k'], ['GETDEL', 'k']]);
  });
});

describe('GETEX', () => {
  it('every ordered pair of options, on a missing and on an existing key', async () => {
    const opts: Argv[] = [['EX', '100'], ['PX', '100000'], ['EXAT', FAR_SEC], ['PXAT', FAR_MS], ['PERSIST'], ['NX'], ['KEEPTTL'], ['GET'], ['EX'], ['FOO']];
    const combos: Argv[] = [[], ...opts];
    for (const a of opts) for (const b of opts) combos.push([...a, ...b]);
    for (const combo of combos) {
      await pair.same(['GETEX', 'missing', ...combo]);
      await pair.same(['SET', 'k', 'v', 'PX', '500000']);
      await pair.same(['GETEX', 'k', ...combo]);
      await pair.same(['PTTL', 'k']);
    }
  });

  it('bad times are only checked when the key exists; a past absolute time deletes the key', async () => {
    for (const unit of ['EX', 'PX', 'EXAT', 'PXAT']) {
      // '1' is in the past for EXAT/PXAT (deleted at once), and long enough for EX; PX 1 would race.
      for (const v of ['0', '-5', 'x', '9223372036854775807', '9223372036854775', ...(unit === 'PX' ? [] : ['1'])]) {
        await pair.same(['GETEX', 'missing', unit, v]);
        await pair.same(['SET', 'k', 'v']);
        await pair.same(['GETEX', 'k', unit, v]);
        await pair.same(['EXISTS', 'k']);
        await pair.same(['PEXPIRETIME', 'k'], { tolerance: 1500 });
      }
    }
  });

  it('PERSIST removes the expiry', async () => {
    await seq([['SET', 'k', 'v', 'EX', '100'], ['GETEX', 'k', 'PERSIST'], ['TTL', 'k'], ['GETEX', 'k', 'PERSIST', 'PERSIST'], ['TTL', 'k']]);
  });
});

describe('MGET, MSET, MSETNX', () => {
  it('MGET mixes present and missing keys', async () => {
    await seq([['MSET', 'a', '1', BIN, BIN], ['MGET', 'a', 'b', BIN, 'a'], ['MGET', 'zz']]);
  });

  it('MSET sets all (last wins on duplicates) and clears expiries; odd argument counts are arity errors', async () => {
    await seq([
      ['SET', 'a', 'x', 'EX', '100'], ['MSET', 'a', '1', 'b', '2', 'a', '3'], ['MGET', 'a', 'b'], ['TTL', 'a'],
      ['MSET', 'a'], ['MSET', 'a', '1', 'b'], ['MSETNX', 'a', '1', 'b'], ['MSETNX', 'a'],
    ]);
  });

  it('MSETNX sets nothing when any key exists', async () => {
    await seq([
      ['MSETNX', 'a', '1', 'b', '2'], ['MSETNX', 'b', '9', 'c', '9'], ['MGET', 'a', 'b', 'c'],
      ['MSETNX', 'c', '1', 'c', '2'], ['GET', 'c'],
    ]);
  });
});

describe('APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE', () => {
  it('APPEND creates and grows, keeps the expiry', async () => {
    await seq([
      ['APPEND', 'k', 'abc'], ['APPEND', 'k', BIN], ['APPEND', 'k', ''], ['GET', 'k'], ['STRLEN', 'k'],
      ['APPEND', 'e', ''], ['EXISTS', 'e'], ['STRLEN', 'e'], ['STRLEN', 'missing'],
      ['SET', 't', '1', 'EX', '100'], ['APPEND', 't', '2'], ['TTL', 't'], ['GET', 't'],
    ]);
  });

  it('GETRANGE and SUBSTR over a grid of indexes, and int64 extremes', async () => {
    await seq([['SET', 's', 'Hello, World'], ['SET', 'e', ''], ['SET', 'n', '12345']]);
    const idx = ['0', '1', '3', '11', '12', '100', '-1', '-2', '-5', '-12', '-13', '-100'];
    for (const start of idx) {
      for (const end of idx) {
        await pair.same(['GETRANGE', 's', start, end]);
      }
    }
    for (const key of ['e', 'n', 'missing']) {
      for (const [s, e] of [['0', '-1'], ['1', '2'], ['-1', '0'], ['5', '1'], ['-3', '-1']]) await pair.same(['SUBSTR', key, s, e]);
    }
    const extremes = ['9223372036854775807', '-9223372036854775808', '-9223372036854775807', '9223372036854775806'];
    for (const s of extremes) for (const e of extremes) await pair.same(['GETRANGE', 's', s, e]);
    await seq([
      ['GETRANGE', 's', 'x', '1'], ['GETRANGE', 's', '0', '1.5'], ['GETRANGE', 's', '9223372036854775808', '1'],
      ['GETRANGE', 'missing', 'x', '1'], ['GETRANGE', 'missing', '0', '-1'],
    ]);
  });

  it('SETRANGE pads with zero bytes, overwrites in place, keeps the expiry', async () => {
    await seq([
      ['SETRANGE', 'k', '5', 'abc'], ['GET', 'k'], ['SETRANGE', 'k', '0', 'XY'], ['GET', 'k'],
      ['SETRANGE', 'k', '6', BIN], ['GET', 'k'], ['SETRANGE', 'k', '2', ''], ['SETRANGE', 'k', '1000', ''], ['STRLEN', 'k'],
      ['SETRANGE', 'new', '0', ''], ['EXISTS', 'new'], ['SETRANGE', 'new', '3', ''], ['EXISTS', 'new'],
      ['SETRANGE', 'k', '-1', 'x'], ['SETRANGE', 'k', '-1', ''], ['SETRANGE', 'k', 'x', 'a'], ['SETRANGE', 'k', '1.0', 'a'],
      ['SET', 't', 'hello', 'EX', '100'], ['SETRANGE', 't', '1', 'a'], ['SETRANGE', 't', '4', 'XYZ'], ['GET', 't'], ['TTL', 't'],
      ['SET', 'n', '123'], ['SETRANGE', 'n', '1', '9'], ['GET', 'n'], ['INCR', 'n'],
    ]);
  });
});

describe('INCR family', () => {
  it('INCR, DECR, INCRBY, DECRBY on missing, integer and non-integer values', async () => {
    await seq([
      ['INCR', 'a'], ['INCR', 'a'], ['DECR', 'a'], ['DECR', 'b'], ['INCRBY', 'a', '100'], ['DECRBY', 'a', '-5'], ['INCRBY', 'c', '-7'],
      ['SET', 's', 'abc'], ['INCR', 's'], ['DECRBY', 's', '1'],
      ...['007', '+5', '1.0', ' 1', '1 ', '-0', '', '0x10', '12345678901234567890', '99999999999999999999', '-', '1e3'].flatMap((v): Argv[] => [['SET', 'x', v], ['INCR', 'x'], ['GET', 'x']]),
      ['INCRBY', 'a', 'abc'], ['INCRBY', 'a', '1.5'], ['INCRBY', 'a', ' 1'], ['INCRBY', 'a', '-0'], ['INCRBY', 'a', '+1'], ['INCRBY', 'a', ''],
      ['DECRBY', 'a', '9223372036854775808'], ['DECRBY', 'a', 'x'],
    ]);
  });

  it('exact 64-bit arithmetic at and around the limits', async () => {
    await seq([
      ['SET', 'n', '9223372036854775806'], ['INCR', 'n'], ['INCR', 'n'], ['GET', 'n'], ['INCRBY', 'n', '0'], ['INCRBY', 'n', '-1'],
      ['DECRBY', 'n', '-9223372036854775808'], ['DECRBY', 'n', '9223372036854775807'], ['DECRBY', 'n', '2'], ['GET', 'n'],
      ['SET', 'm', '-9223372036854775807'], ['DECR', 'm'], ['DECR', 'm'], ['INCRBY', 'm', '-1'], ['INCRBY', 'm', '9223372036854775807'],
      ['INCRBY', 'm', '9223372036854775807'], ['INCRBY', 'm', '9223372036854775807'], ['GET', 'm'],
      ['INCRBY', 'p', '9007199254740991'], ['INCRBY', 'p', '9007199254740991'], ['INCRBY', 'p', '-18014398509481983'], ['DECRBY', 'p', '9007199254740993'],
      ['INCRBY', 'q', '4611686018427387904'], ['INCRBY', 'q', '4611686018427387903'], ['INCR', 'q'], ['GET', 'q'],
      ['SET', 'r', '-1234567890123456789'], ['INCR', 'r'], ['DECRBY', 'r', '-1234567890123456789'], ['DECRBY', 'r', '-9223372036854775807'],
    ]);
  });

  it('keeps the expiry', async () => {
    await seq([['SET', 'k', '5', 'EX', '100'], ['INCR', 'k'], ['INCRBY', 'k', '10'], ['DECR', 'k'], ['TTL', 'k'], ['GET', 'k']]);
  });
});

describe('INCRBYFLOAT', () => {
  it('formats like Redis (long double, 17 decimals, no trailing zeros)', async () => {
    const steps: [string, string][] = [
      ['f', '0.1'], ['f', '0.2'], ['f', '-0.3'], ['f', '0.1'], ['f', '0.1'], ['f', '0.1'],
      ['g', '1e20'], ['g', '1.5'], ['h', '1.23456789012345678901234'], ['h', '-1.2345678901234567'],
      ['i', '5e-18'], ['j', '1.5e-17'], ['j', '2.5e-17'], ['k', '0.000003814697265625'], ['k', '0.000007629394531250'],
      ['l', '0.000011444091796875'], ['m', '3.0e3'], ['m', '.5'], ['m', '5.'], ['m', '-.5e1'], ['m', '+1.5'], ['m', '00012'],
      ['n', '9223372036854775807'], ['n', '1'], ['o', '18446744073709551615'], ['o', '1'], ['p', '1e308'], ['p', '1e308'],
      ['q', '3.14159265358979323846264338327950288'], ['q', '-3.14159265358979323846264338327950288'],
      ['r', '0.3333333333333333333333333333'], ['r', '0.6666666666666666666666666667'], ['s', '-1e-20'], ['s', '-0'],
      ['t', '1e400'], ['t', '-1e400'], ['u', '1.1e4932'], ['v', '1e-4940'], ['v', '3e-4951'], ['w', '123456789.987654321'], ['w', '-0.000000001'],
    ];
    for (const [k, by] of steps) {
      await pair.same(['INCRBYFLOAT', k, by]);
      await pair.same(['GET', k]);
    }
  });

  it('accepts strtold syntax (hex, exponents, infinity) and rejects the rest', async () => {
    const inputs = ['0x1p3', '0X1P-2', '0x.8', '0x1.8', '0x1.p1', '0x1.fffffffffffffffep16383', '0x1.ffffffffffffffffp16383',
      '0x1.0000000000000001p0', '0x1.00000000000000008p0', '0x1.00000000000000018p0', '0x1p-16445', '0x1p-16446', '0x3p-16447',
      '1E2', '1e+5', '1.e5', '0e99999999999999999999999', '1e99999999999999999999999', '1e-5000', '1e-4951', '1.2e4932',
      'inf', 'INF', '+inf', '-inf', 'infinity', 'in', 'nan', '-nan', 'NAN(123)', ' 1', '1 ', '-', '.', '1e', '0x', '0x1p', '0x.p1', '0xg',
      '1_0', '', '\0', '1.5\0abc', 'abc', '1,5'];
    for (const v of inputs) {
      await pair.same(['DEL', 'f']);
      await pair.same(['INCRBYFLOAT', 'f', v]);
      await pair.same(['GET', 'f']);
    }
  });

  it('the stored value must be a float too; errors leave it unchanged', async () => {
    await seq([
      ['SET', 's', 'abc'], ['INCRBYFLOAT', 's', '1'], ['INCRBYFLOAT', 's', 'x'],
      ['SET', 'i', '10'], ['INCRBYFLOAT', 'i', 'x'], ['INCRBYFLOAT', 'i', '0.5'], ['INCRBYFLOAT', 'i', 'inf'], ['GET', 'i'],
      ['SET', 'inf', 'inf'], ['INCRBYFLOAT', 'inf', '1'], ['SET', 'e', '1e5'], ['INCRBYFLOAT', 'e', '0.5'],
      ['SET', 'sp', ' 1'], ['INCRBYFLOAT', 'sp', '1'], ['SET', 't', '1', 'EX', '100'], ['INCRBYFLOAT', 't', '1.5'], ['TTL', 't'],
    ]);
  });
});

describe('LCS', () => {
  it('string, LEN, IDX, MINMATCHLEN, WITHMATCHLEN and their errors', async () => {
    await seq([['MSET', 'a', 'ohmytext', 'b', 'mynewtext', 'x1', 'abcabcabcxyzabc', 'x2', 'zzabcyyabcxxabcabc', 'e', '', 'bin', BIN]]);
    const opts: Argv[] = [[], ['LEN'], ['IDX'], ['IDX', 'WITHMATCHLEN'], ['IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'], ['IDX', 'MINMATCHLEN', '-5'],
      ['WITHMATCHLEN'], ['LEN', 'WITHMATCHLEN', 'MINMATCHLEN', '3'], ['IDX', 'LEN'], ['LEN', 'IDX'], ['MINMATCHLEN'], ['MINMATCHLEN', 'x'],
      ['foo'], ['foo', 'IDX', 'LEN'], ['IDX', 'LEN', 'foo'], ['len\0x'], ['IDX', 'MINMATCHLEN', '9223372036854775807'], ['idx', 'minmatchlen', '2']];
    const pairs = [['a', 'b'], ['b', 'a'], ['x1', 'x2'], ['x2', 'x1'], ['a', 'a'], ['a', 'missing'], ['missing', 'b'], ['missing', 'missing2'], ['e', 'a'], ['bin', 'bin'], ['bin', 'a']];
    for (const [k1, k2] of pairs) for (const o of opts) await pair.same(['LCS', k1, k2, ...o]);
  });
});

describe('arity', () => {
  it('wrong argument counts for every command', async () => {
    const cases: Argv[] = [
      ['GET'], ['GET', 'a', 'b'], ['SET'], ['SET', 'a'], ['SETNX', 'a'], ['SETNX', 'a', 'b', 'c'], ['SETEX', 'a', '1'], ['SETEX', 'a', '1', 'v', 'x'],
      ['PSETEX', 'a'], ['GETSET', 'a'], ['GETDEL'], ['GETDEL', 'a', 'b'], ['GETEX'], ['MGET'], ['MSET'], ['MSET', 'a'], ['MSETNX', 'a'],
      ['APPEND', 'a'], ['STRLEN'], ['STRLEN', 'a', 'b'], ['GETRANGE', 'a', '1'], ['GETRANGE', 'a', '1', '2', '3'], ['SUBSTR', 'a'],
      ['SETRANGE', 'a', '1'], ['INCR'], ['INCR', 'a', 'b'], ['DECR'], ['INCRBY', 'a'], ['INCRBY', 'a', '1', '2'], ['DECRBY', 'a'],
      ['INCRBYFLOAT', 'a'], ['INCRBYFLOAT', 'a', '1', '2'], ['LCS', 'a'], ['SETBIT', 'a', '1'], ['GETBIT', 'a'], ['GETBIT', 'a', '1', '2'],
      ['BITCOUNT'], ['BITPOS', 'a'],
    ];
    for (const argv of cases) await pair.same(argv);
  });

  it('COMMAND INFO metadata matches (arity, flags, key positions, ACL categories)', async () => {
    const names = ['get', 'set', 'setnx', 'setex', 'psetex', 'getset', 'getdel', 'getex', 'mget', 'mset', 'msetnx', 'append', 'strlen',
      'getrange', 'substr', 'setrange', 'incr', 'decr', 'incrby', 'decrby', 'incrbyfloat', 'lcs', 'setbit', 'getbit', 'bitcount', 'bitpos'];
    for (const name of names) {
      const [k, r] = await pair.both(['COMMAND', 'INFO', name]);
      // The first seven fields; tips and key specs are the COMMAND family's concern.
      const head = (x: unknown) => show((x as unknown[][])[0].slice(0, 7) as never);
      expect({ name, info: head(k) }).toEqual({ name, info: head(r) });
    }
  });
});

describe('WATCH and in-place writes', () => {
  it('a write that changes nothing does not abort a watching transaction, as in Redis', async () => {
    const [k2, r2] = await pair.connect();
    const writes: Argv[] = [
      ['SETBIT', 'w', '1', '1'], ['SETBIT', 'w', '3', '1'], ['SETBIT', 'w', '3', '0'], ['SETBIT', 'w', '100', '0'],
      ['SETRANGE', 'w', '0', 'z'], ['SETRANGE', 'w', '0', ''], ['SETRANGE', 'w', '100', ''], ['APPEND', 'w', ''],
      ['GETEX', 'w', 'PERSIST'], ['SET', 'w', 'a', 'NX'], ['MSETNX', 'w', 'b'], ['SET', 'w', 'a', 'XX', 'GET'], ['INCRBYFLOAT', 'w', 'x'],
    ];
    for (const write of writes) {
      await pair.sequence([['SET', 'w', 'a'], ['WATCH', 'w']]);
      await k2.call(...write);
      await r2.call(...write);
      await pair.sequence([['MULTI'], ['GET', 'w'], ['EXEC']]);
    }
    await pair.sequence([['SET', 'w', 'a', 'EX', '100'], ['WATCH', 'w']]);
    await k2.call('GETEX', 'w', 'PERSIST');
    await r2.call('GETEX', 'w', 'PERSIST');
    await pair.sequence([['MULTI'], ['TTL', 'w'], ['EXEC']]);
    k2.close();
    r2.close();
  });
});

describe('keyspace statistics', () => {
  it('hits and misses are counted by the same commands as in Redis', async () => {
    const counters = async () => {
      const [k, r] = await pair.both(['INFO', 'stats']);
      return [k, r].map((info) => {
        const text = String(info);
        return ['keyspace_hits', 'keyspace_misses'].map((name) => Number(new RegExp(`${name}:(\\d+)`).exec(text)?.[1]));
      });
    };
    const cmds: Argv[] = [
      ['SET', 'a', '1'], ['GET', 'a'], ['GET', 'x'], ['SET', 'a', '2', 'GET'], ['SET', 'x', '1', 'NX', 'GET'], ['SETNX', 'a', '1'],
      ['GETSET', 'a', '3'], ['GETDEL', 'x'], ['GETDEL', 'x'], ['GETEX', 'a', 'PERSIST'], ['GETEX', 'y'], ['MGET', 'a', 'y', 'a'],
      ['MSETNX', 'a', '1'], ['APPEND', 'a', 'x'], ['APPEND', 'z', 'x'], ['STRLEN', 'a'], ['STRLEN', 'y'], ['GETRANGE', 'a', '0', '1'],
      ['GETRANGE', 'y', '0', '1'], ['SETRANGE', 'a', '0', 'q'], ['INCR', 'n'], ['INCRBYFLOAT', 'n', '1'], ['LCS', 'a', 'y'],
      ['SETBIT', 'b', '1', '1'], ['GETBIT', 'b', '1'], ['GETBIT', 'y', '1'], ['BITCOUNT', 'b'], ['BITCOUNT', 'y'], ['BITPOS', 'b', '1'],
      ['BITPOS', 'y', '1'], ['BITPOS', 'b', '3'], ['GETEX', 'a', 'FOO'],
    ];
    const [k0, r0] = await counters();
    for (const argv of cmds) await pair.same(argv);
    const [k1, r1] = await counters();
    const redisDelta = r1.map((v, i) => v - r0[i]);
    expect(redisDelta[0]).toBeGreaterThan(10); // the counters were found and moved
    expect(k1.map((v, i) => v - k0[i])).toEqual(redisDelta);
  });
});

// --- RESP3: replies compared byte for byte on fresh connections.

describe('RESP3', () => {
  it('null, map and integer replies are byte-identical after HELLO 3', async () => {
    const [k, r] = await pair.connect();
    for (const c of [k, r]) {
      await c.call('HELLO', '3');
      expect(c.lastRaw.subarray(0, 3).toString()).toBe('%7\r');
    }
    const cmds: Argv[] = [
      ['GET', 'missing'], ['SET', 'a', 'ohmytext'], ['SET', 'b', 'mynewtext'], ['MGET', 'a', 'missing', 'b'], ['GETDEL', 'missing'],
      ['GETEX', 'missing', 'EX', '10'], ['GETSET', 'missing', 'v'], ['SET', 'a', 'ohmytext', 'GET'], ['SET', 'n', 'x', 'NX'], ['SET', 'zz', 'x', 'XX'],
      ['SET', 'zz', 'x', 'XX', 'GET'], ['LCS', 'a', 'b'], ['LCS', 'a', 'b', 'LEN'], ['LCS', 'a', 'b', 'IDX'], ['LCS', 'a', 'b', 'IDX', 'WITHMATCHLEN', 'MINMATCHLEN', '2'],
      ['LCS', 'missing', 'b', 'IDX'], ['INCRBYFLOAT', 'f', '1.5'], ['INCR', 'i'], ['GETRANGE', 'missing', '0', '-1'], ['STRLEN', 'a'],
      ['SETBIT', 'bm', '3', '1'], ['BITCOUNT', 'bm'], ['BITPOS', 'bm', '1'], ['GETBIT', 'bm', '3'], ['SET', 'k', 'v', 'FOO'],
    ];
    for (const argv of cmds) {
      await Promise.all([k.call(...argv), r.call(...argv)]);
      expect({ cmd: describeArgv(argv), reply: k.lastRaw.toString('latin1') }).toEqual({ cmd: describeArgv(argv), reply: r.lastRaw.toString('latin1') });
    }
    k.close();
    r.close();
  });
});

describe('proto-max-bulk-len limits', () => {
  let small: Pair;
  beforeAll(async () => { small = await startPair(['--proto-max-bulk-len', '1mb'], ['--proto-max-bulk-len', '1mb']); });
  afterAll(async () => { await small.stop(); });

  it('APPEND and SETRANGE beyond the limit, LCS table beyond the limit', async () => {
    const mb = 1024 * 1024;
    const cmds: Argv[] = [
      ['SET', 'x', Buffer.alloc(mb - 100, 0x61)], ['APPEND', 'x', Buffer.alloc(100, 0x62)], ['APPEND', 'x', 'c'], ['APPEND', 'x', ''], ['STRLEN', 'x'],
      ['SETRANGE', 'z', String(mb - 1), 'a'], ['SETRANGE', 'z', String(mb), 'a'], ['SETRANGE', 'z', String(mb - 1), 'aa'], ['SETRANGE', 'z', '0', ''],
      ['SETRANGE', 'z', '99999999999', 'a'], ['SETRANGE', 'z', '99999999999', ''], ['SETRANGE', 'nz', String(mb), 'a'], ['SETRANGE', 'nz', '9223372036854775807', 'a'],
      ['STRLEN', 'z'], ['EXISTS', 'nz'],
      ['SETBIT', 'b', String(8 * mb - 1), '1'], ['SETBIT', 'b', String(8 * mb), '1'], ['GETBIT', 'b', String(8 * mb)], ['GETBIT', 'b', String(8 * mb - 1)],
      ['BITCOUNT', 'b'], ['BITPOS', 'b', '1'], ['BITPOS', 'b', '0', '-1', '-1', 'BIT'],
    ];
    for (const argv of cmds) await small.same(argv);
    // LCS needs (len1+1)*(len2+1) 4-byte cells; 512*512*4 is exactly 1mb.
    for (const [x, y] of [[511, 511], [512, 511], [511, 512], [0, 262143], [262144, 0], [600, 600]]) {
      await small.same(['SET', 'p', Buffer.alloc(x, 0x61)]);
      await small.same(['SET', 'q', Buffer.alloc(y, 0x61)]);
      await small.same(['LCS', 'p', 'q', 'LEN']);
      await small.same(['LCS', 'q', 'p', 'foo']);
    }
  });
});

// --- Randomized sequences over the string and bit commands.

const key = fc.constantFrom<string | Buffer>('a', 'b', 'c', Buffer.from([0, 0xff, 0x0d, 0x0a]));
const intText = fc.oneof(
  fc.integer({ min: -20, max: 40 }).map(String),
  fc.constantFrom('9223372036854775807', '-9223372036854775808', '9223372036854775808', '9007199254740993', '007', '+1', ' 1', '1.5', '', 'x', '-0'),
);
const floatText = fc.oneof(
  fc.double({ noNaN: true, min: -1e6, max: 1e6 }).map(String),
  fc.constantFrom('0.1', '-0.3', '1e20', '5e-18', '0x1p3', 'inf', 'nan', '1e400', ' 1', 'abc', '3.0e3', '.5'),
);
const value = fc.oneof(
  intText,
  floatText,
  fc.uint8Array({ maxLength: 10 }).map((a) => Buffer.from(a)),
  fc.string({ maxLength: 8 }),
);
/** Expiry values that cannot pass during a run: long, far away, in the past, or invalid. */
const setExpiry = fc.oneof(
  fc.tuple(fc.constantFrom('EX', 'PX'), fc.constantFrom('100', '100000', '0', '-5', 'x', '9223372036854775807', '9223372036854775')),
  fc.tuple(fc.constantFrom('EXAT', 'PXAT'), fc.constantFrom(FAR_SEC, FAR_MS, '1', '1000', '0', '-1', '9223372036854775807')),
).map(([u, v]) => [u, v]);
const setOpt = fc.oneof(
  fc.constantFrom<Argv>(['NX'], ['XX'], ['GET'], ['KEEPTTL'], ['PERSIST'], ['EX'], ['FOO'], ['nx\0x']),
  setExpiry,
);
const getexOpt = fc.oneof(fc.constantFrom<Argv>(['PERSIST'], ['NX'], ['KEEPTTL'], ['PX'], ['BAR']), setExpiry);
const unit = fc.constantFrom('BIT', 'BYTE', 'bit', 'FOO');
const bitIndex = fc.oneof(fc.integer({ min: -40, max: 80 }).map(String), fc.constantFrom('-9223372036854775808', '9223372036854775807', 'x'));
// Valid offsets stay small: a valid offset near 2^32 would make both servers allocate 512 MB.
const bitOffset = fc.oneof(fc.integer({ min: 0, max: 100 }).map(String), fc.constantFrom('-1', '4294967296', '9223372036854775807', 'z', '+1'));

const command: fc.Arbitrary<Argv> = fc.oneof(
  fc.tuple(key, value).map(([k, v]): Argv => ['SET', k, v]),
  fc.tuple(key, value, fc.array(setOpt, { maxLength: 3 })).map(([k, v, o]): Argv => ['SET', k, v, ...o.flat()]),
  key.map((k): Argv => ['GET', k]),
  fc.tuple(key, value).map(([k, v]): Argv => ['SETNX', k, v]),
  fc.tuple(fc.constantFrom('SETEX', 'PSETEX'), key, fc.constantFrom('100', '100000', '0', '-1', 'x'), value).map(([c, k, t, v]): Argv => [c, k, t, v]),
  fc.tuple(key, value).map(([k, v]): Argv => ['GETSET', k, v]),
  key.map((k): Argv => ['GETDEL', k]),
  fc.tuple(key, fc.array(getexOpt, { maxLength: 2 })).map(([k, o]): Argv => ['GETEX', k, ...o.flat()]),
  fc.array(key, { minLength: 1, maxLength: 4 }).map((ks): Argv => ['MGET', ...ks]),
  fc.tuple(fc.constantFrom('MSET', 'MSETNX'), fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([c, kv, odd]): Argv => [c, ...kv.flat(), ...(odd ? ['extra'] : [])]),
  fc.tuple(key, value).map(([k, v]): Argv => ['APPEND', k, v]),
  key.map((k): Argv => ['STRLEN', k]),
  fc.tuple(fc.constantFrom('GETRANGE', 'SUBSTR'), key, intText, intText).map(([c, k, s, e]): Argv => [c, k, s, e]),
  fc.tuple(key, fc.oneof(fc.integer({ min: -1, max: 30 }).map(String), fc.constantFrom('x', '')), value).map(([k, o, v]): Argv => ['SETRANGE', k, o, v]),
  fc.tuple(fc.constantFrom('INCR', 'DECR'), key).map(([c, k]): Argv => [c, k]),
  fc.tuple(fc.constantFrom('INCRBY', 'DECRBY'), key, intText).map(([c, k, n]): Argv => [c, k, n]),
  fc.tuple(key, floatText).map(([k, n]): Argv => ['INCRBYFLOAT', k, n]),
  fc.tuple(key, key, fc.array(fc.constantFrom<Argv>(['LEN'], ['IDX'], ['WITHMATCHLEN'], ['MINMATCHLEN', '2'], ['MINMATCHLEN'], ['FOO']), { maxLength: 3 }))
    .map(([a, b, o]): Argv => ['LCS', a, b, ...o.flat()]),
  fc.tuple(key, bitOffset, fc.constantFrom('0', '1', '2', '-1', 'x')).map(([k, o, b]): Argv => ['SETBIT', k, o, b]),
  fc.tuple(key, bitOffset).map(([k, o]): Argv => ['GETBIT', k, o]),
  fc.tuple(key, fc.array(fc.oneof(bitIndex, unit), { maxLength: 4 })).map(([k, a]): Argv => ['BITCOUNT', k, ...a]),
  fc.tuple(key, fc.constantFrom('0', '1', '2', 'x'), fc.array(fc.oneof(bitIndex, unit), { maxLength: 4 })).map(([k, b, a]): Argv => ['BITPOS', k, b, ...a]),
  key.map((k): Argv => ['DEL', k]),
);

/** A command, or the same command with arguments dropped or added (arity errors). */
const mutated: fc.Arbitrary<Argv> = fc.tuple(command, fc.integer({ min: 0, max: 9 }), fc.nat()).map(([argv, roll, n]) => {
  if (roll === 0) return argv.slice(0, 1 + (n % argv.length));
  if (roll === 1) return [...argv, 'junk'];
  return argv;
});

describe('random string and bit command sequences', () => {
  it('match Redis reply for reply, and leave the same values and expiries', async () => {
    const keys = ['a', 'b', 'c', Buffer.from([0, 0xff, 0x0d, 0x0a])];
    await fc.assert(
      fc.asyncProperty(fc.array(mutated, { minLength: 1, maxLength: 20 }), async (cmds) => {
        await pair.same(['FLUSHALL']);
        const log: string[] = [];
        const check = async (argv: Argv) => {
          log.push(describeArgv(argv));
          const [k, r] = await pair.both(argv);
          const tol = String(argv[0]) === 'PTTL' ? 1500 : 0;
          if (!repliesEqual(k, r, tol)) expect({ sequence: log, kvslab: show(k) }).toEqual({ sequence: log, kvslab: show(r) });
        };
        for (const argv of cmds) await check(argv);
        await check(['MGET', ...keys]);
        for (const k of keys) await check(['PTTL', k]);
      }),
      { numRuns: Number(process.env.KVSLAB_FUZZ_RUNS ?? 200) },
    );
  });
});
