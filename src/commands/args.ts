// Argument parsing shared by every command family, with Redis's exact
// grammar. The *OrReply helpers send the error and return null, so a handler
// reads as a straight line of early returns.

import type { Client } from '../server/client.js';

export const ERR_NOT_INTEGER = 'ERR value is not an integer or out of range';
export const ERR_NOT_FLOAT = 'ERR value is not a valid float';
export const ERR_SYNTAX = 'ERR syntax error';
export const ERR_WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

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

/** Integer argument or reply `msg` (default: not an integer) and null. */
export function intOrReply(c: Client, b: Buffer, msg = ERR_NOT_INTEGER): number | null {
  const v = parseInt64(b);
  if (v === null) c.addError(msg);
  return v;
}

/** Integer argument that must be >= 0, else reply `negMsg`. */
export function nonNegIntOrReply(c: Client, b: Buffer, negMsg: string): number | null {
  const v = intOrReply(c, b);
  if (v === null) return null;
  if (v < 0) {
    c.addError(negMsg);
    return null;
  }
  return v;
}

/**
 * Redis's string-to-double for arguments (strtold): optional spaces are not
 * allowed, "inf"/"-inf" are, NaN is not.
 */
export function parseDouble(b: Buffer): number | null {
  const n = b.length;
  if (n === 0 || n > 5000) return null;
  const s = b.toString('latin1', 0, n);
  // strtod accepts leading whitespace; Redis rejects it by checking isspace(buf[0]).
  if (/^\s|\s$/.test(s)) return null;
  const l = s.toLowerCase();
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  // strtod grammar: decimal or hex float; JS Number() is close but accepts "" / "0x1" differently.
  if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|0[xX][0-9a-fA-F]+(\.[0-9a-fA-F]*)?([pP][+-]?\d+)?)$/.test(s)) return null;
  const v = /^[+-]?0[xX]/.test(s) ? parseHexFloat(s) : Number(s);
  return Number.isNaN(v) ? null : v;
}

function parseHexFloat(s: string): number {
  const m = /^([+-]?)0[xX]([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/.exec(s);
  if (!m) return NaN;
  let v = parseInt(m[2], 16);
  const frac = m[3] ?? '';
  for (let i = 0; i < frac.length; i++) v += parseInt(frac[i], 16) / 16 ** (i + 1);
  if (m[4]) v *= 2 ** Number(m[4]);
  return m[1] === '-' ? -v : v;
}

export function doubleOrReply(c: Client, b: Buffer, msg = ERR_NOT_FLOAT): number | null {
  const v = parseDouble(b);
  if (v === null) c.addError(msg);
  return v;
}

/**
 * Whether an argument is the option word `lower`, compared as Redis compares
 * argv (strcasecmp on C strings): the comparison stops at a NUL byte, so
 * "nx\0junk" is NX.
 */
export function cArgIs(b: Buffer, lower: string): boolean {
  const n = lower.length;
  if (b.length < n || (b.length > n && b[n] !== 0)) return false;
  for (let i = 0; i < n; i++) {
    let ch = b[i];
    if (ch >= 0x41 && ch <= 0x5a) ch |= 0x20;
    if (ch !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** An argument as Redis prints it with %s (a C string): latin1, up to the first NUL, at most `max` bytes. */
export function cText(b: Buffer, max = Infinity): string {
  const nul = b.indexOf(0);
  const end = Math.min(nul < 0 ? b.length : nul, max);
  return b.toString('latin1', 0, end);
}

/** An argument as a lower-case ASCII string, for option keywords. */
export function keyword(b: Buffer): string {
  return b.length > 64 ? '' : b.toString('latin1', 0, b.length).toLowerCase();
}

/** Bytes of an argument as a latin1 string (binary-exact), for error messages. */
export function bytesText(b: Buffer): string {
  return b.toString('latin1', 0, b.length);
}
