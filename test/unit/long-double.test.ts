// INCRBYFLOAT's x86-64 long double emulation (src/util/long-double.ts) on its
// own. Every expected reply string below was taken from Redis 7.0.15
// (redis-server 7.0.15, SET k <current>; INCRBYFLOAT k <increment>) while
// writing these tests; a reply Redis refused is written as its error text.
// incrbyfloat() composes the functions the way INCRBYFLOAT in
// src/commands/strings.ts does.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LD_INF, LD_ZERO, ldAdd, ldFormat, parseLongDouble } from '../../src/util/long-double.js';

const NOT_FLOAT = 'ERR value is not a valid float';
const NAN_OR_INF = 'ERR increment would produce NaN or Infinity';

const ld = (s: string) => parseLongDouble(Buffer.from(s, 'latin1'));

/** INCRBYFLOAT on a key holding `cur` (null: no key) by `by`: the reply, or the error text. */
function incrbyfloat(cur: string | null, by: string): string {
  const a = cur === null ? LD_ZERO : ld(cur);
  if (a === null) return NOT_FLOAT;
  const b = ld(by);
  if (b === null) return NOT_FLOAT;
  const sum = a === LD_INF || b === LD_INF ? LD_INF : ldAdd(a, b);
  if (sum === LD_INF) return NAN_OR_INF;
  return ldFormat(sum);
}

/** INCRBYFLOAT applied `incs` in turn to a key starting at `start`: every reply. */
function chain(start: string | null, incs: string[]): string[] {
  let cur = start;
  return incs.map((by) => {
    const r = incrbyfloat(cur, by);
    if (!r.startsWith('ERR')) cur = r;
    return r;
  });
}

type Case = [current: string | null, increment: string, reply: string];

function expectReplies(cases: Case[]): void {
  expect(cases.map(([a, b]) => [a, b, incrbyfloat(a, b)])).toEqual(cases);
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('INCRBYFLOAT arithmetic (replies from Redis 7.0.15)', () => {
  it('decimal sums print without binary noise, as long double + %.17Lf do', () => {
    expectReplies([
      ['10.5', '0.1', '10.6'],
      ['3.0e3', '200', '3200'],
      ['5.0e3', '2.0e2', '5200'],
      ['0', '0.1', '0.1'],
      ['1', '0.1', '1.1'],
      ['1.1', '2.2', '3.3'],
      ['0', '0.30000000000000004', '0.30000000000000004'],
      ['0', '0.1e1', '1'],
      ['-1', '0.5', '-0.5'],
      ['0', '-1.5', '-1.5'],
      ['10', '-10.0', '0'],
      // No key: the current value is 0.
      [null, '10.5', '10.5'],
      [null, '0.1', '0.1'],
    ]);
  });

  it('chains of increments re-parse each stored reply (Redis 7.0.15, one INCRBYFLOAT after another)', () => {
    expect(chain('1', Array(10).fill('0.1'))).toEqual(['1.1', '1.2', '1.3', '1.4', '1.5', '1.6', '1.7', '1.8', '1.9', '2']);
    expect(chain('0', Array(10).fill('0.1'))).toEqual(['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '1']);
    expect(chain('10.5', ['0.1', '0.1', '0.1'])).toEqual(['10.6', '10.7', '10.8']);
    expect(chain('0', ['0.1', '0.2'])).toEqual(['0.1', '0.3']);
    expect(chain('0', ['-0.1', '-0.2', '0.3'])).toEqual(['-0.1', '-0.3', '0']);
    expect(chain('0', Array(5).fill('0.3333333333333333333')))
      .toEqual(['0.33333333333333333', '0.66666666666666666', '0.99999999999999999', '1.33333333333333332', '1.66666666666666665']);
    // 2^64 bits of precision: at 1e20 an increment of 1 is lost.
    expect(chain('100000000000000000000', ['1', '1', '0.5'])).toEqual(['100000000000000000000', '100000000000000000000', '100000000000000000000']);
    expect(chain('0', ['1e-17', '1e-17', '1e-17', '-3e-17'])).toEqual(['0.00000000000000001', '0.00000000000000002', '0.00000000000000003', '0']);
  });

  it('17 and more significant digits: rounded to the 64-bit significand, then to 17 decimals', () => {
    expectReplies([
      ['0', '1.2345678901234567890123', '1.23456789012345679'],
      ['0', '0.1234567890123456789', '0.12345678901234568'],
      ['0', '3.0000000000000000001', '3'],
      ['0', '1.00000000000000000005', '1'],
      ['0', '1.000000000000000000054', '1'],
      ['0', '12345678901234567890', '12345678901234567890'],
      ['0', '123456789012345678901234567890', '123456789012345678899921813504'],
      ['9223372036854775807', '1', '9223372036854775808'],
      ['18446744073709551615', '1', '18446744073709551616'],
      ['18446744073709551616', '1', '18446744073709551616'],
    ]);
  });

  it('%.17Lf: tiny values round at the 17th decimal, ties to even, and a negative zero prints as 0', () => {
    expectReplies([
      ['0', '1e-5', '0.00001'],
      ['0', '1e-4', '0.0001'],
      ['0', '0.0001', '0.0001'],
      ['0', '1e-17', '0.00000000000000001'],
      ['0', '6e-18', '0.00000000000000001'],
      ['0', '5e-18', '0'],
      ['0', '4e-18', '0'],
      ['0', '1e-18', '0'],
      ['0', '1.5e-17', '0.00000000000000002'],
      ['0', '2.5e-17', '0.00000000000000002'],
      ['0', '0.000000000000000015', '0.00000000000000002'],
      ['0', '0.000000000000000025', '0.00000000000000002'],
      ['0', '0.000000000000000035', '0.00000000000000004'],
      ['0', '-6e-18', '-0.00000000000000001'],
      ['0', '-0.000000000000000015', '-0.00000000000000002'],
      ['0', '-1e-18', '0'],
      ['0', '-5e-324', '0'],
    ]);
  });

  it('zero and negative zero all print "0"', () => {
    expectReplies([
      ['0', '-0', '0'],
      ['-0', '0', '0'],
      ['0', '-0.0', '0'],
      ['1', '-1', '0'],
      ['0.1', '-0.1', '0'],
    ]);
  });

  it('large exponents print every integer digit (Redis 7.0.15: 1e17, 1.5e308 and 1e400)', () => {
    expectReplies([
      ['0', '1e17', '100000000000000000'],
      ['0', '1e+2', '100'],
      ['0', '1.5e308',
        '149999999999999999999901476489468468031016840965060944967133685421180106066691046036756664728216022031902928370522024964'
        + '340854582506645209487860806577896175175227643677561112877760303256738896516844124921428435196017215141331511736789270744'
        + '288327321353040504243421434090049846615188904452633296864511849922560'],
      ['0', '1e400',
        '100000000000000000002818806839475865145864534336290520386259106935396855340086298620393639948483241605220940539273176162'
        + '002958227772592557340238289765933406610177974474345461739178624481166749717237789438243915933380474706750262466844013592'
        + '375136038303437354855052449559649790218250382800910684149474024568986530409510175126580926158275889201834725116433165913'
        + '62664138176309734806343732497430221946880'],
    ]);
  });

  it('the largest exponents: up to just below 2^16384 (Redis 7.0.15 replies, compared by length and SHA-256)', () => {
    // Redis printed 4933 digits for 1e4932.
    const e4932 = incrbyfloat('0', '1e4932');
    expect(e4932.length).toBe(4933);
    expect(e4932.slice(0, 24)).toBe('100000000000000000000601');
    expect(sha256(e4932)).toBe('754d16acb807875eba75298c60f224d7a029b9d04efbadf36cacaaa9b88f0745');
    // Powers of two are exact: Redis printed 2^16383 in full (4932 digits).
    expect(incrbyfloat('0', '0x1p16383')).toBe((2n ** 16383n).toString());
    // The largest finite long double, (2^64 - 1) * 2^16320.
    const max = '0x1.fffffffffffffffep16383';
    expect(incrbyfloat('0', max)).toBe(((2n ** 64n - 1n) * 2n ** 16320n).toString());
    // Past it, or at the half-ulp tie (rounds up to 2^16384): the sum is infinite.
    expect(incrbyfloat(max, '0x1p16320')).toBe(NAN_OR_INF);
    expect(incrbyfloat(max, '0x1p16319')).toBe(NAN_OR_INF);
    // A quarter ulp is lost: the value stays the largest.
    expect(incrbyfloat(max, '0x1p16318')).toBe(((2n ** 64n - 1n) * 2n ** 16320n).toString());
    expectReplies([
      ['1e4932', '1e4932', NAN_OR_INF],
      ['-1e4932', '-1e4932', NAN_OR_INF],
      ['1e4932', '-1e4932', '0'],
    ]);
  });

  it('overflow and underflow to zero are rejected as not a float; subnormals are accepted', () => {
    expectReplies([
      ['0', '1e4933', NOT_FLOAT],
      ['0', '1e5000', NOT_FLOAT],
      ['0', '-1e5000', NOT_FLOAT],
      ['0', '0x1p16384', NOT_FLOAT],
      // The smallest subnormal is 2^-16445 (about 3.645e-4951); below half of it strtold gives 0.
      ['0', '1e-4950', '0'],
      ['0', '1.83e-4951', '0'],
      ['0', '1.8e-4951', NOT_FLOAT],
      ['0', '1e-4951', NOT_FLOAT],
      ['0', '1e-4952', NOT_FLOAT],
      ['0', '1e-5000', NOT_FLOAT],
      ['0', '0x1p-16445', '0'],
      // Exactly half the smallest subnormal: ties to even, to zero.
      ['0', '0x1p-16446', NOT_FLOAT],
    ]);
  });

  it('hex floats are accepted (strtold), with an optional binary exponent', () => {
    expectReplies([
      ['0', '0x10', '16'],
      ['0', '0x1p-2', '0.25'],
      ['0', '0X1.8P1', '3'],
      ['0', '0x.8', '0.5'],
      ['0', '0x1P+4', '16'],
      ['0', '0x1.p1', '2'],
      ['0', '0x', NOT_FLOAT],
      ['0', '0xg', NOT_FLOAT],
      ['0', '0x1p', NOT_FLOAT],
      ['0', '0x1p1.5', NOT_FLOAT],
    ]);
  });

  it('decimal syntax strtold takes whole', () => {
    expectReplies([
      ['0', '.5', '0.5'],
      ['0', '5.', '5'],
      ['0', '+5', '5'],
      ['0', '1E2', '100'],
      ['0', '1.e2', '100'],
      ['0', '00012', '12'],
      ['0', '-.5e1', '-5'],
    ]);
  });

  it('anything else, spaces around the number included, is not a float, in the key or the argument', () => {
    expectReplies([
      ['0', '1 ', NOT_FLOAT],
      ['0', ' 1', NOT_FLOAT],
      ['0', '\t1', NOT_FLOAT],
      ['0', '1\0', NOT_FLOAT],
      ['1 ', '1', NOT_FLOAT],
      [' 1', '1', NOT_FLOAT],
      ['abc', '1', NOT_FLOAT],
      ['', '1', NOT_FLOAT],
      ['0', '', NOT_FLOAT],
      ['0', 'nan', NOT_FLOAT],
      ['0', 'NaN', NOT_FLOAT],
      ['0', 'infinit', NOT_FLOAT],
      ['0', '1_', NOT_FLOAT],
      ['0', '1.0.0', NOT_FLOAT],
      ['0', 'e5', NOT_FLOAT],
      ['0', '1e', NOT_FLOAT],
      ['0', '1e1.5', NOT_FLOAT],
      ['0', '++1', NOT_FLOAT],
      ['0', '-', NOT_FLOAT],
      ['0', '.', NOT_FLOAT],
      ['0', 'e', NOT_FLOAT],
      ['0', '1d', NOT_FLOAT],
      ['0', '1f', NOT_FLOAT],
      ['0', '1L', NOT_FLOAT],
    ]);
  });

  it('infinity parses (any case, with sign) but an infinite sum is refused', () => {
    expectReplies([
      ['0', 'inf', NAN_OR_INF],
      ['0', '-inf', NAN_OR_INF],
      ['0', 'infinity', NAN_OR_INF],
      ['0', 'INF', NAN_OR_INF],
      ['0', '-Infinity', NAN_OR_INF],
      ['inf', '1', NAN_OR_INF],
    ]);
    expect([ld('inf'), ld('-INF'), ld('Infinity')]).toEqual([LD_INF, LD_INF, LD_INF]);
  });

  it('inputs of 5120 bytes or more are refused before parsing (MAX_LONG_DOUBLE_CHARS; Redis 7.0.15 agrees)', () => {
    expect(incrbyfloat('0', `${'0'.repeat(5118)}7`)).toBe('7');
    expect(incrbyfloat('0', `${'0'.repeat(5119)}7`)).toBe(NOT_FLOAT);
  });
});

describe('long double representation', () => {
  it('parses to a normalized 64-bit significand: 1, 3, -2.5 and 0.1 as the x87 stores them', () => {
    expect(ld('1')).toEqual({ neg: false, m: 1n << 63n, e: -63 });
    expect(ld('3')).toEqual({ neg: false, m: 0xc000000000000000n, e: -62 });
    expect(ld('-2.5')).toEqual({ neg: true, m: 0xa000000000000000n, e: -62 });
    // 0.1L is 0xCCCCCCCCCCCCCCCD * 2^-67 (rounded up from ...CCCC.CC).
    expect(ld('0.1')).toEqual({ neg: false, m: 0xcccccccccccccccdn, e: -67 });
  });

  it('subnormals keep the smallest exponent with fewer significant bits', () => {
    expect(ld('0x1p-16445')).toEqual({ neg: false, m: 1n, e: -16445 });
    expect(ld('1e-4950')).toEqual({ neg: false, m: 3n, e: -16445 });
    expect(ld('0x1.fffffffffffffffep16383')).toEqual({ neg: false, m: 0xffffffffffffffffn, e: 16320 });
  });

  it('zeros: "0" is LD_ZERO\'s value, "-0" keeps its sign, both print "0"', () => {
    expect(ld('0')).toEqual(LD_ZERO);
    expect(ld('-0')).toEqual({ neg: true, m: 0n, e: 0 });
    expect(ldFormat(LD_ZERO)).toBe('0');
    expect(ldFormat({ neg: true, m: 0n, e: 0 })).toBe('0');
  });

  it('ldAdd: zero is the identity, opposite values cancel, overflow is LD_INF', () => {
    const x = ld('10.5');
    if (x === null || x === LD_INF) throw new Error('10.5 did not parse');
    expect(ldAdd(LD_ZERO, x)).toEqual(x);
    expect(ldAdd(x, LD_ZERO)).toEqual(x);
    expect(ldAdd(x, { ...x, neg: true })).toEqual(LD_ZERO);
    const max = { neg: false, m: 0xffffffffffffffffn, e: 16320 };
    expect(ldAdd(max, max)).toBe(LD_INF);
    expect(ldAdd({ ...max, neg: true }, { ...max, neg: true })).toBe(LD_INF);
  });

  it('ldFormat prints exact binary values to 17 decimals with trailing zeros dropped', () => {
    expect(ldFormat({ neg: false, m: 1n, e: -1 })).toBe('0.5');
    expect(ldFormat({ neg: true, m: 3n, e: -2 })).toBe('-0.75');
    expect(ldFormat({ neg: false, m: 5n, e: 3 })).toBe('40');
    // 2^-57 = 6.938...e-18 rounds up to 1e-17; 2^-58 = 3.469...e-18 rounds to 0.
    expect(ldFormat({ neg: false, m: 1n, e: -57 })).toBe('0.00000000000000001');
    expect(ldFormat({ neg: false, m: 1n, e: -58 })).toBe('0');
    // 2^-10 = 0.0009765625: exact, fewer than 17 decimals.
    expect(ldFormat({ neg: false, m: 1n, e: -10 })).toBe('0.0009765625');
  });
});
