// Bit commands against real Redis 7: SETBIT/GETBIT offsets and values,
// BITCOUNT and BITPOS over exhaustive grids of byte and bit ranges, their
// argument errors (including Redis 7.0's order: a missing key answers before
// the range is parsed), and random bitmaps with random ranges.

import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Argv, describeArgv, Pair, repliesEqual, startPair } from '../helpers/differential.js';
import { show } from '../helpers/raw-client.js';

let pair: Pair;
beforeAll(async () => { pair = await startPair(); });
afterAll(async () => { await pair.stop(); });
beforeEach(async () => { await pair.same(['FLUSHALL']); });

const seq = (cmds: Argv[]) => pair.sequence(cmds);

describe('SETBIT / GETBIT', () => {
  it('set, clear, grow, previous values', async () => {
    await seq([
      ['SETBIT', 'k', '7', '1'], ['GET', 'k'], ['SETBIT', 'k', '7', '1'], ['SETBIT', 'k', '7', '0'], ['SETBIT', 'k', '7', '0'], ['GET', 'k'],
      ['SETBIT', 'k', '0', '1'], ['SETBIT', 'k', '100', '1'], ['GET', 'k'], ['STRLEN', 'k'], ['GETBIT', 'k', '100'], ['GETBIT', 'k', '99'],
      ['GETBIT', 'k', '0'], ['GETBIT', 'k', '1000000'], ['GETBIT', 'missing', '5'], ['SETBIT', 'z', '15', '0'], ['GET', 'z'],
      ['SET', 's', 'abc'], ...[0, 1, 2, 3, 6, 7, 8, 9, 23, 24].map((o): Argv => ['GETBIT', 's', String(o)]),
      ['SETBIT', 's', '1', '0'], ['SETBIT', 's', '30', '1'], ['GET', 's'],
      ['SET', 'n', '12'], ['SETBIT', 'n', '7', '0'], ['GET', 'n'], ['INCR', 'n'],
      ['SET', 't', 'x', 'EX', '100'], ['SETBIT', 't', '0', '1'], ['SETBIT', 't', '40', '1'], ['TTL', 't'],
    ]);
  });

  it('offset and value errors, checked in Redis order', async () => {
    const offsets = ['-1', 'x', '', '+1', '1.0', ' 1', '5\0x', '4294967296', '9223372036854775807', '9223372036854775808', '-9223372036854775808'];
    for (const o of offsets) {
      await pair.same(['SETBIT', 'k', o, '1']);
      await pair.same(['SETBIT', 'k', o, 'x']);
      await pair.same(['GETBIT', 'k', o]);
      await pair.same(['GETBIT', 'missing', o]);
    }
    for (const v of ['2', '-1', 'x', '', '01', '1.0', ' 1', '9223372036854775807']) await pair.same(['SETBIT', 'k', '3', v]);
    await seq([['EXISTS', 'k'], ['SETBIT', 'k', '3', '1'], ['SETBIT', 'k', '0', '2'], ['GET', 'k']]);
  });
});

const patterns: [string, Buffer][] = [
  ['mixed', Buffer.from([0x00, 0xff, 0xf0, 0x0f, 0x81])],
  ['zeros', Buffer.alloc(3)],
  ['ones', Buffer.alloc(3, 0xff)],
  ['one byte', Buffer.from([0x10])],
  ['empty', Buffer.alloc(0)],
];

describe('BITCOUNT', () => {
  it('whole strings, missing keys, wrong argument counts and units', async () => {
    for (const [, v] of patterns) {
      await pair.same(['SET', 'k', v]);
      await seq([['BITCOUNT', 'k'], ['BITCOUNT', 'k', '0'], ['BITCOUNT', 'k', '0', '1', 'BIT', 'x'], ['BITCOUNT', 'k', '0', '-1', 'foo'],
        ['BITCOUNT', 'k', 'x', '-1'], ['BITCOUNT', 'k', '0', 'x'], ['BITCOUNT', 'k', 'x', '1', 'foo'], ['BITCOUNT', 'k', '0', '-1', 'bit\0x']]);
    }
    await seq([['BITCOUNT', 'missing'], ['BITCOUNT', 'missing', '0'], ['BITCOUNT', 'missing', 'x', 'y'], ['BITCOUNT', 'missing', '0', '1', 'foo', 'bar']]);
  });

  it('every byte range and every bit range of small bitmaps', async () => {
    for (const [, v] of patterns) {
      await pair.same(['SET', 'k', v]);
      for (let s = -7; s <= 7; s++) {
        for (let e = -7; e <= 7; e++) {
          await pair.same(['BITCOUNT', 'k', String(s), String(e)]);
          await pair.same(['BITCOUNT', 'k', String(s), String(e), 'BYTE']);
        }
      }
      for (let s = -42; s <= 42; s += 4) {
        for (let e = -42; e <= 42; e += 3) await pair.same(['BITCOUNT', 'k', String(s), String(e), 'BIT']);
      }
    }
  });

  it('int64 extremes as indexes', async () => {
    await pair.same(['SET', 'k', Buffer.from([0xaa, 0x55, 0xff])]);
    const ext = ['9223372036854775807', '-9223372036854775808', '-9223372036854775807', '9223372036854775806', '0', '-1'];
    for (const s of ext) {
      for (const e of ext) {
        await pair.same(['BITCOUNT', 'k', s, e]);
        await pair.same(['BITCOUNT', 'k', s, e, 'BIT']);
      }
    }
  });
});

describe('BITPOS', () => {
  it('bit argument, missing keys, wrong argument counts and units', async () => {
    await seq([
      ['BITPOS', 'missing', '1'], ['BITPOS', 'missing', '0'], ['BITPOS', 'missing', '2'], ['BITPOS', 'missing', 'x'],
      ['BITPOS', 'missing', '1', 'abc'], ['BITPOS', 'missing', '0', 'abc', '1', 'x', 'y'],
    ]);
    for (const [, v] of patterns) {
      await pair.same(['SET', 'k', v]);
      await seq([
        ['BITPOS', 'k', '1'], ['BITPOS', 'k', '0'], ['BITPOS', 'k', '2'], ['BITPOS', 'k', '-1'], ['BITPOS', 'k', 'x'], ['BITPOS', 'k', '1.0'],
        ['BITPOS', 'k', '0', 'abc'], ['BITPOS', 'k', '0', '1', '2', 'x'], ['BITPOS', 'k', '0', '1', 'x', 'bit'], ['BITPOS', 'k', '0', '1', 'x', 'foo'],
        ['BITPOS', 'k', '0', '1', '-1', 'x'], ['BITPOS', 'k', '1', '0', '-1', 'BYTE\0'], ['BITPOS', 'k', '0', '1', '2', 'BIT', 'x'],
      ]);
    }
  });

  it('every byte range and every bit range of small bitmaps, with and without an end', async () => {
    for (const [, v] of patterns) {
      await pair.same(['SET', 'k', v]);
      for (const bit of ['0', '1']) {
        for (let s = -7; s <= 7; s++) {
          await pair.same(['BITPOS', 'k', bit, String(s)]);
          for (let e = -7; e <= 7; e++) {
            await pair.same(['BITPOS', 'k', bit, String(s), String(e)]);
            await pair.same(['BITPOS', 'k', bit, String(s), String(e), 'BYTE']);
          }
        }
        for (let s = -42; s <= 42; s += 4) {
          for (let e = -42; e <= 42; e += 3) await pair.same(['BITPOS', 'k', bit, String(s), String(e), 'BIT']);
        }
      }
    }
  });

  it('long runs of set and clear bytes', async () => {
    const v = Buffer.concat([Buffer.alloc(37, 0xff), Buffer.from([0xfe]), Buffer.alloc(40, 0), Buffer.from([0x01]), Buffer.alloc(9, 0xff)]);
    await pair.same(['SET', 'k', v]);
    for (const bit of ['0', '1']) {
      for (const r of [[], ['0'], ['5'], ['38'], ['38', '77'], ['38', '78'], ['-1'], ['-10', '-1'], ['300', '630', 'BIT'], ['295', '640', 'BIT'], ['303', '303', 'BIT']]) {
        await pair.same(['BITPOS', 'k', bit, ...r]);
      }
    }
  });
});

describe('random bitmaps and ranges', () => {
  it('BITCOUNT, BITPOS and GETBIT agree with Redis', async () => {
    const index = fc.oneof(fc.integer({ min: -100, max: 100 }), fc.integer({ min: -9, max: 9 })).map(String);
    const query = fc.oneof(
      fc.tuple(index, index, fc.constantFrom([], ['BIT'], ['BYTE'])).map(([s, e, u]): Argv => ['BITCOUNT', 'k', s, e, ...u]),
      fc.tuple(fc.constantFrom('0', '1'), fc.array(index, { maxLength: 2 })).map(([b, r]): Argv => ['BITPOS', 'k', b, ...r]),
      fc.tuple(fc.constantFrom('0', '1'), index, index, fc.constantFrom('BIT', 'BYTE')).map(([b, s, e, u]): Argv => ['BITPOS', 'k', b, s, e, u]),
      fc.nat({ max: 120 }).map((o): Argv => ['GETBIT', 'k', String(o)]),
      fc.tuple(fc.nat({ max: 120 }), fc.constantFrom('0', '1')).map(([o, b]): Argv => ['SETBIT', 'k', String(o), b]),
    );
    // Bytes biased towards 0x00 and 0xff so runs (BITPOS's fast path) are common.
    const byte = fc.oneof(fc.constantFrom(0, 0xff), fc.integer({ min: 0, max: 255 }));
    await fc.assert(
      fc.asyncProperty(fc.array(byte, { maxLength: 14 }), fc.array(query, { minLength: 1, maxLength: 25 }), async (bytes, queries) => {
        const log: string[] = [];
        for (const argv of [['SET', 'k', Buffer.from(bytes)], ...queries, ['GET', 'k']] as Argv[]) {
          log.push(describeArgv(argv));
          const [k, r] = await pair.both(argv);
          if (!repliesEqual(k, r)) expect({ sequence: log, kvslab: show(k) }).toEqual({ sequence: log, kvslab: show(r) });
        }
      }),
      { numRuns: Number(process.env.KVSLAB_FUZZ_RUNS ?? 200) },
    );
  });
});
