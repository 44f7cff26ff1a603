// x86-64 `long double` arithmetic for INCRBYFLOAT. Redis computes in the
// 80-bit long double (64-bit significand, exponents down to 2^-16445
// subnormal, up to 2^16384), parses with strtold and prints with "%.17Lf"
// minus trailing zeros. JS doubles
// would differ in the last digits ("0.1" prints as 0.10000000000000001), so
// the format is emulated exactly with bigints: correctly rounded parse,
// correctly rounded sum, exact decimal output with ties to even, as glibc.

export interface LongDouble {
  neg: boolean;
  /** Value = m * 2^e; m < 2^64. */
  m: bigint;
  e: number;
}

const LD_MIN_EXP = -16445; // weight of the last bit of the smallest subnormal
const LD_MAX_EXP = 16384; // every finite value is below 2^16384
export const LD_ZERO: LongDouble = { neg: false, m: 0n, e: 0 };
export const LD_INF = 'inf';
const TWO64 = 1n << 64n;
const TEN17 = 10n ** 17n;
/** MAX_LONG_DOUBLE_CHARS: longer inputs are rejected before parsing. */
const LD_MAX_CHARS = 5 * 1024;

/** Number of bits of x > 0. */
function bitLength(x: bigint): number {
  if (x <= 0xffffffffn) return 32 - Math.clz32(Number(x));
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + 32 - Math.clz32(parseInt(hex[0], 16));
}

const POW10: bigint[] = [1n];
/** 10^n, cached for the exponents ordinary numbers use. */
function pow10(n: number): bigint {
  if (n > 400) return 10n ** BigInt(n);
  while (POW10.length <= n) POW10.push(POW10[POW10.length - 1] * 10n);
  return POW10[n];
}

/** Rounds s * 2^e (s >= 0) to the nearest long double, ties to even. */
function ldRound(neg: boolean, s: bigint, e: number): LongDouble | typeof LD_INF {
  if (s === 0n) return LD_ZERO;
  const top = bitLength(s) - 1 + e;
  const q = Math.max(top - 63, LD_MIN_EXP);
  const shift = q - e;
  let m: bigint;
  if (shift <= 0) {
    m = s << BigInt(-shift);
  } else {
    const sh = BigInt(shift);
    m = s >> sh;
    const rem = s - (m << sh);
    const half = 1n << (sh - 1n);
    if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
  }
  let qe = q;
  if (m === TWO64) {
    m >>= 1n;
    qe++;
  }
  if (m === 0n) return LD_ZERO;
  if (qe + 63 >= LD_MAX_EXP) return LD_INF;
  return { neg, m, e: qe };
}

/** Rounds p / d (both > 0) to the nearest long double, ties to even. */
function ldRoundRatio(neg: boolean, p: bigint, d: bigint): LongDouble | typeof LD_INF {
  let top = bitLength(p) - bitLength(d);
  if (top >= 0 ? p < d << BigInt(top) : p << BigInt(-top) < d) top--;
  const q = Math.max(top - 63, LD_MIN_EXP);
  let num = p;
  let den = d;
  if (q < 0) num <<= BigInt(-q);
  else den <<= BigInt(q);
  let m = num / den;
  const twice = (num - m * den) * 2n;
  if (twice > den || (twice === den && (m & 1n) === 1n)) m += 1n;
  return ldRound(neg, m, q);
}

const DEC_RE = /^([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const HEX_RE = /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INF_RE = /^([+-]?)inf(?:inity)?$/i;

/**
 * Redis's string2ld: the whole argument must be a strtold number, no
 * spaces; NaN, overflow and underflow to zero are rejected; infinity is
 * accepted (the sum then fails). Null when not a valid float.
 */
export function parseLongDouble(b: Buffer): LongDouble | typeof LD_INF | null {
  if (b.length === 0 || b.length >= LD_MAX_CHARS) return null;
  const s = b.toString('latin1');
  let m = DEC_RE.exec(s);
  if (m) {
    const neg = m[1] === '-';
    const frac = m[3] ?? m[4] ?? '';
    const digits = ((m[2] ?? '') + frac).replace(/^0+/, '');
    if (digits === '') return { neg, m: 0n, e: 0 };
    const exp10 = (m[5] ? Number(m[5]) : 0) - frac.length;
    const mag = exp10 + digits.length; // 10^(mag-1) <= value < 10^mag
    if (mag - 1 > 4933) return null; // beyond 1.19e4932: overflow
    if (mag < -4951) return null; // below half the smallest subnormal: underflow to 0
    const d = BigInt(digits);
    const r = exp10 >= 0 ? ldRound(neg, d * pow10(exp10), 0) : ldRoundRatio(neg, d, pow10(-exp10));
    return r === LD_INF || r.m === 0n ? null : r;
  }
  m = HEX_RE.exec(s);
  if (m) {
    const neg = m[1] === '-';
    const frac = m[3] ?? m[4] ?? '';
    const digits = ((m[2] ?? '') + frac).replace(/^0+/, '');
    if (digits === '') return { neg, m: 0n, e: 0 };
    const exp2 = (m[5] ? Number(m[5]) : 0) - 4 * frac.length;
    const top = digits.length * 4 + exp2;
    if (top > LD_MAX_EXP + 4) return null;
    if (top < LD_MIN_EXP - 4) return null;
    const r = ldRound(neg, BigInt(`0x${digits}`), exp2);
    return r === LD_INF || r.m === 0n ? null : r;
  }
  if (INF_RE.test(s)) return LD_INF;
  return null;
}

export function ldAdd(a: LongDouble, b: LongDouble): LongDouble | typeof LD_INF {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const x = a.m << BigInt(a.e - e);
  const y = b.m << BigInt(b.e - e);
  const sum = (a.neg ? -x : x) + (b.neg ? -y : y);
  return sum < 0n ? ldRound(true, -sum, e) : ldRound(false, sum, e);
}

/** "%.17Lf" without trailing zeros (and "-0" as "0"), as Redis's ld2string in human mode. */
export function ldFormat(x: LongDouble): string {
  let body: string;
  if (x.e >= 0) {
    body = (x.m << BigInt(x.e)).toString();
  } else {
    const den = 1n << BigInt(-x.e);
    const num = x.m * TEN17;
    let q = num / den;
    const twice = (num - q * den) * 2n;
    if (twice > den || (twice === den && (q & 1n) === 1n)) q += 1n;
    const digits = q.toString().padStart(18, '0');
    const frac = digits.slice(-17).replace(/0+$/, '');
    body = frac === '' ? digits.slice(0, -17) : `${digits.slice(0, -17)}.${frac}`;
  }
  return x.neg && body !== '0' ? `-${body}` : body;
}
