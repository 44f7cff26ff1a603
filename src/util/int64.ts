// 64-bit integers as Redis reads them (string2ll): exact as bigints, fast as
// numbers while they stay within 2^53.

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/**
 * Redis's string2ll as a bigint: optional '-', no '+', no leading zeros, no
 * spaces, within int64. Null when the bytes are not such an integer.
 */
export function parseInt64Big(b: Buffer): bigint | null {
  const n = b.length;
  if (n === 0 || n > 20) return null;
  if (n === 1 && b[0] === 0x30) return 0n;
  let i = 0;
  if (b[0] === 0x2d) {
    i = 1;
    if (n === 1) return null;
  }
  if (b[i] < 0x31 || b[i] > 0x39) return null;
  for (let j = i + 1; j < n; j++) if (b[j] < 0x30 || b[j] > 0x39) return null;
  const v = BigInt(b.toString('latin1', 0, n));
  if (v > INT64_MAX || v < INT64_MIN) return null;
  return v;
}

/**
 * The same grammar as a JS number. Values beyond 2^53 lose precision; use
 * parseInt64Big where exact 64-bit arithmetic matters (INCR family).
 */
export function parseInt64(b: Buffer): number | null {
  const n = b.length;
  if (n === 0 || n > 20) return null;
  if (n < 16) {
    // Fast path: no overflow possible, no BigInt.
    if (n === 1 && b[0] === 0x30) return 0;
    let i = 0;
    let neg = false;
    if (b[0] === 0x2d) {
      neg = true;
      i = 1;
      if (n === 1) return null;
    }
    if (b[i] < 0x31 || b[i] > 0x39) return null;
    let v = 0;
    for (; i < n; i++) {
      const d = b[i] - 0x30;
      if (d < 0 || d > 9) return null;
      v = v * 10 + d;
    }
    return neg ? -v : v;
  }
  const big = parseInt64Big(b);
  return big === null ? null : Number(big);
}
