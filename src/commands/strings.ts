// String commands: GET, SET and its variants, the GET* family, MGET/MSET,
// APPEND, ranges, the INCR family, INCRBYFLOAT (80-bit long double emulated
// exactly in util/long-double.ts) and LCS.

import type { CommandContext, Handler } from './context.js';
import { RESIZE_GROW, RESIZE_ZERO, ValueType } from '../store/types.js';
import {
  argIs, intOrReply, parseInt64, parseInt64Big, ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGTYPE, REPLIED,
} from './args.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_STRING, CMD_DENYOOM, CMD_FAST, CMD_READONLY, CMD_WRITE } from './model/flags.js';
import {
  keyAt, keysFrom, KS_ACCESS, KS_DELETE, KS_INSERT, KS_OW, KS_RO, KS_RW, KS_UPDATE, KS_VARIABLE_FLAGS, type KeyRef,
} from './model/key-specs.js';
import { INT64_MAX, INT64_MIN } from '../util/int64.js';
import { LD_INF, LD_ZERO, ldAdd, ldFormat, parseLongDouble } from '../util/long-double.js';

const EMPTY = Buffer.alloc(0);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);
const ERR_MAX_SIZE = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';

// ---------------------------------------------------------------------------
// Shared helpers (bits.ts uses them too)

/** Handle of a string key for reading, or -1 (missing); REPLIED after a WRONGTYPE reply. */
export function lookupStringOrReply(c: CommandContext, key: Buffer): number {
  const h = c.db.lookupRead(key);
  if (h >= 0 && c.db.type(h) !== ValueType.String) {
    c.addError(ERR_WRONGTYPE);
    return REPLIED;
  }
  return h;
}

/** Same as lookupStringOrReply for commands that write (no hit/miss statistics). */
export function lookupStringWriteOrReply(c: CommandContext, key: Buffer): number {
  const h = c.db.lookupWrite(key);
  if (h >= 0 && c.db.type(h) !== ValueType.String) {
    c.addError(ERR_WRONGTYPE);
    return REPLIED;
  }
  return h;
}

/** Whether the value outgrows proto-max-bulk-len (Redis's checkStringLength). */
function tooLongOrReply(c: CommandContext, size: number, append: number): boolean {
  if (size + append > c.server.config.int('proto-max-bulk-len')) {
    c.addError(ERR_MAX_SIZE);
    return true;
  }
  return false;
}

/**
 * `start > end` for two negative int64 arguments, exact even where doubles
 * are not (both below -2^53): GETRANGE and BITCOUNT return empty then.
 */
export function negativeRangeInverted(sb: Buffer, eb: Buffer, s: number, e: number): boolean {
  if (!(s < 0 && e < 0)) return false;
  // Rounding to double is monotonic: different doubles keep the exact order.
  if (s !== e || Number.isSafeInteger(s)) return s > e;
  return (parseInt64Big(sb) as bigint) > (parseInt64Big(eb) as bigint);
}

const scratch = Buffer.allocUnsafe(24);
/** Decimal text of a safe integer, in a scratch buffer (the store copies it). */
function intBytes(n: number): Buffer {
  let pos = 24;
  let v = n < 0 ? -n : n;
  do {
    const q = Math.floor(v / 10);
    scratch[--pos] = 0x30 + (v - q * 10);
    v = q;
  } while (v !== 0);
  if (n < 0) scratch[--pos] = 0x2d;
  return scratch.subarray(pos, 24);
}

/** An int64 as an exact number when short enough, else as a bigint; null when not an int64. */
function exactInt(b: Buffer): number | bigint | null {
  if (b.length < 16) return parseInt64(b);
  const v = parseInt64Big(b);
  if (v === null) return null;
  return v <= MAX_SAFE_BIG && v >= -MAX_SAFE_BIG ? Number(v) : v;
}

// ---------------------------------------------------------------------------
// SET / GETEX options: one parser for both, as Redis's
// parseExtendedStringArgumentsOrReply. Conflicting options are a syntax error;
// repeating the same option is allowed (the last value wins).

const OPT_NX = 1;
const OPT_XX = 2;
const OPT_GET = 4;
const OPT_KEEPTTL = 8;
export const OPT_EX = 16;
export const OPT_PX = 32;
const OPT_EXAT = 64;
const OPT_PXAT = 128;
const OPT_PERSIST = 256;

interface StringOptions {
  flags: number;
  /** argv index of the EX/PX/EXAT/PXAT value, or -1. */
  expireArg: number;
}

// Reused: handlers run one at a time and read the result before the next call.
const parsed: StringOptions = { flags: 0, expireArg: -1 };

/**
 * Parses SET's options (`forSet`: NX XX GET KEEPTTL EX PX EXAT PXAT) or
 * GETEX's (EX PX EXAT PXAT PERSIST) from argv[from]. Null after replying.
 */
function parseStringOptions(c: CommandContext, argv: Buffer[], from: number, forSet: boolean): StringOptions | null {
  let flags = 0;
  let expireArg = -1;
  for (let j = from; j < argv.length; j++) {
    const a = argv[j];
    const hasValue = j + 1 < argv.length;
    if (forSet && argIs(a, 'nx') && !(flags & OPT_XX)) flags |= OPT_NX;
    else if (forSet && argIs(a, 'xx') && !(flags & OPT_NX)) flags |= OPT_XX;
    else if (forSet && argIs(a, 'get')) flags |= OPT_GET;
    else if (forSet && argIs(a, 'keepttl') && !(flags & (OPT_PERSIST | OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT))) flags |= OPT_KEEPTTL;
    else if (!forSet && argIs(a, 'persist') && !(flags & (OPT_KEEPTTL | OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT))) flags |= OPT_PERSIST;
    else if (hasValue && argIs(a, 'ex') && !(flags & (OPT_KEEPTTL | OPT_PERSIST | OPT_PX | OPT_EXAT | OPT_PXAT))) {
      flags |= OPT_EX;
      expireArg = ++j;
    } else if (hasValue && argIs(a, 'px') && !(flags & (OPT_KEEPTTL | OPT_PERSIST | OPT_EX | OPT_EXAT | OPT_PXAT))) {
      flags |= OPT_PX;
      expireArg = ++j;
    } else if (hasValue && argIs(a, 'exat') && !(flags & (OPT_KEEPTTL | OPT_PERSIST | OPT_EX | OPT_PX | OPT_PXAT))) {
      flags |= OPT_EXAT;
      expireArg = ++j;
    } else if (hasValue && argIs(a, 'pxat') && !(flags & (OPT_KEEPTTL | OPT_PERSIST | OPT_EX | OPT_PX | OPT_EXAT))) {
      flags |= OPT_PXAT;
      expireArg = ++j;
    } else {
      c.addError(ERR_SYNTAX);
      return null;
    }
  }
  parsed.flags = flags;
  parsed.expireArg = expireArg;
  return parsed;
}

/**
 * Absolute expiry (ms) from an EX/PX/EXAT/PXAT value, or null after
 * replying. As Redis: the value must be > 0, and neither the conversion to
 * ms nor adding the current time may overflow int64. A bigint when beyond
 * 2^53 (Redis keeps any int64 time exactly: see Db.setExpireExact).
 */
export function expireAtOrReply(c: CommandContext, arg: Buffer, flags: number, cmd: string): number | bigint | null {
  const seconds = (flags & (OPT_EX | OPT_EXAT)) !== 0;
  const relative = (flags & (OPT_EX | OPT_PX)) !== 0;
  if (arg.length <= 12) {
    // Below 10^12 nothing can overflow and doubles are exact.
    const v = parseInt64(arg);
    if (v === null) {
      c.addError(ERR_NOT_INTEGER);
      return null;
    }
    if (v <= 0) {
      c.addError(`ERR invalid expire time in '${cmd}' command`);
      return null;
    }
    const ms = seconds ? v * 1000 : v;
    return relative ? ms + c.db.now() : ms;
  }
  const v = parseInt64Big(arg);
  if (v === null) {
    c.addError(ERR_NOT_INTEGER);
    return null;
  }
  let ms = v;
  if (v > 0n && seconds) ms = v <= INT64_MAX / 1000n ? v * 1000n : -1n;
  if (ms > 0n && relative) ms += BigInt(c.db.now());
  if (ms <= 0n || ms > INT64_MAX) {
    c.addError(`ERR invalid expire time in '${cmd}' command`);
    return null;
  }
  return ms <= MAX_SAFE_BIG ? Number(ms) : ms;
}

/** Sets a string key with an expiry from expireAtOrReply (or 0 / -1 as Db.setString takes). */
function setWithExpiry(c: CommandContext, key: Buffer, value: Buffer, at: number | bigint): void {
  if (typeof at === 'number') return c.db.setString(key, value, at);
  c.db.setString(key, value, 0);
  c.db.setExpireExact(c.db.find(key), at);
}

// ---------------------------------------------------------------------------
// GET / SET family

/** Replies the value of a string key or null; false after a WRONGTYPE reply. */
function replyValue(c: CommandContext, key: Buffer): boolean {
  const h = lookupStringOrReply(c, key);
  if (h === REPLIED) return false;
  if (h < 0) c.addNull();
  else c.addBulkSpan(c.db.valueSpan(h));
  return true;
}

function get(c: CommandContext, argv: Buffer[]): void {
  replyValue(c, argv[1]);
}

/**
 * The common part of SET, SETNX, SETEX, PSETEX (Redis's setGenericCommand).
 * `expireAt` is absolute ms, 0 for none, -1 to keep the current one. Returns
 * whether the key was set; replies only with GET or after an error.
 */
function setGeneric(c: CommandContext, key: Buffer, value: Buffer, flags: number, expireAt: number | bigint): boolean | null {
  if ((flags & OPT_GET) !== 0 && !replyValue(c, key)) return null;
  if ((flags & (OPT_NX | OPT_XX)) !== 0) {
    const found = c.db.lookupWrite(key) >= 0;
    if (((flags & OPT_NX) !== 0 && found) || ((flags & OPT_XX) !== 0 && !found)) return false;
  }
  setWithExpiry(c, key, value, expireAt);
  return true;
}

function set(c: CommandContext, argv: Buffer[]): void {
  if (argv.length === 3) {
    // The hot path: no options.
    c.db.setString(argv[1], argv[2], 0);
    return c.addOk();
  }
  const o = parseStringOptions(c, argv, 3, true);
  if (o === null) return;
  const flags = o.flags;
  let expireAt: number | bigint = (flags & OPT_KEEPTTL) !== 0 ? -1 : 0;
  if (o.expireArg >= 0) {
    const at = expireAtOrReply(c, argv[o.expireArg], flags, 'set');
    if (at === null) return;
    expireAt = at;
  }
  const done = setGeneric(c, argv[1], argv[2], flags, expireAt);
  if (done === null || (flags & OPT_GET) !== 0) return;
  if (done) c.addOk();
  else c.addNull();
}

/** SET's key with its flags, which depend on a GET among the options (Redis's setGetKeys). */
function setKeys(argv: readonly Buffer[]): KeyRef[] {
  for (let i = 3; i < argv.length; i++) if (argIs(argv[i], 'get')) return [{ pos: 1, flags: KS_RW | KS_ACCESS | KS_UPDATE }];
  return [{ pos: 1, flags: KS_OW | KS_UPDATE }];
}

function setnx(c: CommandContext, argv: Buffer[]): void {
  if (setGeneric(c, argv[1], argv[2], OPT_NX, 0)) c.addOne();
  else c.addZero();
}

function setexGeneric(c: CommandContext, argv: Buffer[], flag: number, cmd: string): void {
  const at = expireAtOrReply(c, argv[2], flag, cmd);
  if (at === null) return;
  setGeneric(c, argv[1], argv[3], flag, at);
  c.addOk();
}

function setex(c: CommandContext, argv: Buffer[]): void { setexGeneric(c, argv, OPT_EX, 'setex'); }
function psetex(c: CommandContext, argv: Buffer[]): void { setexGeneric(c, argv, OPT_PX, 'psetex'); }

function getset(c: CommandContext, argv: Buffer[]): void {
  if (!replyValue(c, argv[1])) return;
  c.db.setString(argv[1], argv[2], 0);
}

function getdel(c: CommandContext, argv: Buffer[]): void {
  if (!replyValue(c, argv[1])) return;
  c.db.delete(argv[1]);
}

function getex(c: CommandContext, argv: Buffer[]): void {
  const o = parseStringOptions(c, argv, 2, false);
  if (o === null) return;
  const { flags, expireArg } = o;
  const key = argv[1];
  const h = lookupStringOrReply(c, key);
  if (h === REPLIED) return;
  if (h < 0) return c.addNull();
  // As Redis: the expiry value is checked only once the key is known to exist.
  let at: number | bigint = 0;
  if (expireArg >= 0) {
    const v = expireAtOrReply(c, argv[expireArg], flags, 'getex');
    if (v === null) return;
    at = v;
  }
  c.addBulkSpan(c.db.valueSpan(h));
  if ((flags & (OPT_EXAT | OPT_PXAT)) !== 0 && at <= c.db.now()) c.db.delete(key);
  else if (typeof at === 'bigint') c.db.setExpireExact(h, at);
  else if (expireArg >= 0) c.db.setExpire(h, at);
  else if ((flags & OPT_PERSIST) !== 0 && c.db.expireAt(h) !== 0) c.db.setExpire(h, 0);
}

function mget(c: CommandContext, argv: Buffer[]): void {
  const db = c.db;
  c.addArrayLen(argv.length - 1);
  for (let i = 1; i < argv.length; i++) {
    const h = db.lookupRead(argv[i]);
    // Keys of other types read as missing, without an error.
    if (h < 0 || db.type(h) !== ValueType.String) c.addNull();
    else c.addBulkSpan(db.valueSpan(h));
  }
}

function msetArity(c: CommandContext, argv: Buffer[], cmd: string): boolean {
  if (argv.length % 2 === 0) {
    c.addError(`ERR wrong number of arguments for '${cmd}' command`);
    return false;
  }
  return true;
}

function mset(c: CommandContext, argv: Buffer[]): void {
  if (!msetArity(c, argv, 'mset')) return;
  // All or nothing: within maxmemory there is room for every key, or none is written.
  c.db.reserveStrings(argv, 1);
  for (let i = 1; i < argv.length; i += 2) c.db.setString(argv[i], argv[i + 1], 0);
  c.addOk();
}

function msetnx(c: CommandContext, argv: Buffer[]): void {
  if (!msetArity(c, argv, 'msetnx')) return;
  for (let i = 1; i < argv.length; i += 2) if (c.db.lookupWrite(argv[i]) >= 0) return c.addZero();
  c.db.reserveStrings(argv, 1);
  for (let i = 1; i < argv.length; i += 2) c.db.setString(argv[i], argv[i + 1], 0);
  c.addOne();
}

function append(c: CommandContext, argv: Buffer[]): void {
  const add = argv[2];
  const h = lookupStringWriteOrReply(c, argv[1]);
  if (h === REPLIED) return;
  if (h < 0) {
    c.db.setString(argv[1], add, 0);
    return c.addInt(add.length);
  }
  const len = c.db.valueLength(h);
  if (tooLongOrReply(c, len, add.length)) return;
  // In place when the chunk or block has room; otherwise it moves, keeping room to grow.
  const nh = c.db.resize(h, len + add.length, RESIZE_GROW);
  const s = c.db.writable(nh);
  add.copy(s.buf, s.start + len);
  c.db.valueChanged(nh);
  c.addInt(len + add.length);
}

function strlen(c: CommandContext, argv: Buffer[]): void {
  const h = lookupStringOrReply(c, argv[1]);
  if (h === REPLIED) return;
  if (h < 0) return c.addZero();
  c.addInt(c.db.valueLength(h));
}

function getrange(c: CommandContext, argv: Buffer[]): void {
  let start = intOrReply(c, argv[2]);
  if (start === null) return;
  let end = intOrReply(c, argv[3]);
  if (end === null) return;
  const h = lookupStringOrReply(c, argv[1]);
  if (h === REPLIED) return;
  if (h < 0) return c.addBulk(EMPTY);
  const v = c.db.valueSpan(h);
  const len = v.end - v.start;
  if (negativeRangeInverted(argv[2], argv[3], start, end)) return c.addBulk(EMPTY);
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return c.addBulk(EMPTY);
  v.end = v.start + end + 1;
  v.start += start;
  c.addBulkSpan(v);
}

function setrange(c: CommandContext, argv: Buffer[]): void {
  const offset = intOrReply(c, argv[2]);
  if (offset === null) return;
  if (offset < 0) return c.addError('ERR offset is out of range');
  const value = argv[3];
  const h = lookupStringWriteOrReply(c, argv[1]);
  if (h === REPLIED) return;
  if (h < 0) {
    if (value.length === 0) return c.addZero();
    if (tooLongOrReply(c, offset, value.length)) return;
    const next = Buffer.alloc(offset + value.length);
    value.copy(next, offset);
    c.db.setString(argv[1], next, 0);
    return c.addInt(next.length);
  }
  const len = c.db.valueLength(h);
  if (value.length === 0) return c.addInt(len);
  if (tooLongOrReply(c, offset, value.length)) return;
  const need = offset + value.length;
  // Growing pads with zero bytes up to the offset; the new bytes go in place.
  const nh = need > len ? c.db.resize(h, need, RESIZE_ZERO) : h;
  const s = c.db.writable(nh);
  value.copy(s.buf, s.start + offset);
  c.db.valueChanged(nh);
  c.addInt(Math.max(len, need));
}

// ---------------------------------------------------------------------------
// INCR family: exact int64. Doubles carry the common case; bigint takes over
// only when a value or the result leaves the 53-bit range.

function incrDecr(c: CommandContext, key: Buffer, by: number | bigint): void {
  const h = lookupStringWriteOrReply(c, key);
  if (h === REPLIED) return;
  let cur: number | bigint = 0;
  if (h >= 0) {
    const v = exactInt(c.db.value(h));
    if (v === null) return c.addError(ERR_NOT_INTEGER);
    cur = v;
  }
  let next: number | bigint;
  if (typeof cur === 'number' && typeof by === 'number' && Math.abs(cur + by) <= MAX_SAFE) {
    next = cur + by;
  } else {
    const big = BigInt(cur) + BigInt(by);
    if (big > INT64_MAX || big < INT64_MIN) return c.addError('ERR increment or decrement would overflow');
    next = big;
  }
  const bytes = typeof next === 'number' ? intBytes(next) : Buffer.from(next.toString(), 'latin1');
  if (h >= 0) c.db.overwrite(h, bytes);
  else c.db.setString(key, bytes, 0);
  c.addInt(next);
}

function incr(c: CommandContext, argv: Buffer[]): void { incrDecr(c, argv[1], 1); }
function decr(c: CommandContext, argv: Buffer[]): void { incrDecr(c, argv[1], -1); }

function incrby(c: CommandContext, argv: Buffer[]): void {
  const by = exactInt(argv[2]);
  if (by === null) return c.addError(ERR_NOT_INTEGER);
  incrDecr(c, argv[1], by);
}

function decrby(c: CommandContext, argv: Buffer[]): void {
  const by = exactInt(argv[2]);
  if (by === null) return c.addError(ERR_NOT_INTEGER);
  if (by === INT64_MIN) return c.addError('ERR decrement would overflow');
  incrDecr(c, argv[1], -by);
}

// ---------------------------------------------------------------------------
// INCRBYFLOAT (the long double arithmetic is in util/long-double.ts).

function incrbyfloat(c: CommandContext, argv: Buffer[]): void {
  const key = argv[1];
  const h = lookupStringWriteOrReply(c, key);
  if (h === REPLIED) return;
  const cur = h >= 0 ? parseLongDouble(c.db.value(h)) : LD_ZERO;
  if (cur === null) return c.addError(ERR_NOT_FLOAT);
  const by = parseLongDouble(argv[2]);
  if (by === null) return c.addError(ERR_NOT_FLOAT);
  const sum = cur === LD_INF || by === LD_INF ? LD_INF : ldAdd(cur, by);
  if (sum === LD_INF) return c.addError('ERR increment would produce NaN or Infinity');
  const text = Buffer.from(ldFormat(sum), 'latin1');
  if (h >= 0) c.db.overwrite(h, text);
  else c.db.setString(key, text, 0);
  c.addBulk(text);
}

// ---------------------------------------------------------------------------
// LCS: the classic dynamic-programming table, walked back from the end the
// way Redis does, so the ranges (IDX) come out in the same order.

function lcs(c: CommandContext, argv: Buffer[]): void {
  const db = c.db;
  // Both lookups first (the second may expire a key); values are read after them.
  const ha = db.lookupRead(argv[1]);
  const hb = db.lookupRead(argv[2]);
  if ((ha >= 0 && db.type(ha) !== ValueType.String) || (hb >= 0 && db.type(hb) !== ValueType.String)) {
    return c.addError('ERR The specified keys must contain string values');
  }
  const a = ha >= 0 ? db.value(ha) : EMPTY;
  const b = hb >= 0 ? db.value(hb) : EMPTY;

  let getLen = false;
  let getIdx = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j];
    if (argIs(opt, 'idx')) getIdx = true;
    else if (argIs(opt, 'len')) getLen = true;
    else if (argIs(opt, 'withmatchlen')) withMatchLen = true;
    else if (argIs(opt, 'minmatchlen') && j + 1 < argv.length) {
      const v = intOrReply(c, argv[++j]);
      if (v === null) return;
      minMatchLen = v < 0 ? 0 : v;
    } else {
      return c.addError(ERR_SYNTAX);
    }
  }
  if (getIdx && getLen) return c.addError('ERR If you want both the length and indexes, please just use IDX.');
  const alen = a.length;
  const blen = b.length;
  if (alen >= 0xfffffffe || blen >= 0xfffffffe) return c.addError('ERR String too long for LCS');
  const cells = (alen + 1) * (blen + 1);
  if (cells * 4 > c.server.config.int('proto-max-bulk-len')) {
    return c.addError('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
  }
  let t: Uint32Array;
  try {
    t = new Uint32Array(cells); // zeroed: row 0 and column 0 stay 0
  } catch {
    return c.addError('ERR Insufficient memory, failed allocating transient memory for LCS');
  }
  const w = blen + 1;
  for (let i = 1; i <= alen; i++) {
    const ai = a[i - 1];
    const row = i * w;
    const prev = row - w;
    for (let j = 1; j <= blen; j++) {
      if (ai === b[j - 1]) t[row + j] = t[prev + j - 1] + 1;
      else {
        const up = t[prev + j];
        const left = t[row + j - 1];
        t[row + j] = up > left ? up : left;
      }
    }
  }
  const total = t[alen * w + blen];
  const computeLcs = getIdx || !getLen;
  const result = computeLcs ? Buffer.allocUnsafe(total) : EMPTY;
  // Flat [aStart, aEnd, bStart, bEnd, len] per emitted range.
  const ranges: number[] = [];
  let idx = total;
  let i = alen;
  let j = blen;
  let aStart = alen; // alen: no range open
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  while (computeLcs && i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      result[idx - 1] = a[i - 1];
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (t[(i - 1) * w + j] > t[i * w + j - 1]) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (getIdx && (minMatchLen === 0 || matchLen >= minMatchLen)) ranges.push(aStart, aEnd, bStart, bEnd, matchLen);
      aStart = alen;
    }
  }
  if (getIdx) {
    c.addMapLen(2);
    c.addBulkString('matches');
    c.addArrayLen(ranges.length / 5);
    for (let k = 0; k < ranges.length; k += 5) {
      c.addArrayLen(withMatchLen ? 3 : 2);
      c.addArrayLen(2);
      c.addInt(ranges[k]);
      c.addInt(ranges[k + 1]);
      c.addArrayLen(2);
      c.addInt(ranges[k + 2]);
      c.addInt(ranges[k + 3]);
      if (withMatchLen) c.addInt(ranges[k + 4]);
    }
    c.addBulkString('len');
    c.addInt(total);
  } else if (getLen) {
    c.addInt(total);
  } else {
    c.addBulk(result);
  }
}

// ---------------------------------------------------------------------------

const group = 'string';
const rangeComplexity = 'O(N) where N is the length of the returned string';
export const stringCommands: CommandDef<Handler>[] = [
  {
    name: 'get', arity: 2, flags: CMD_READONLY | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: get,
    docs: { summary: 'Returns the string value of a key.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'set', arity: -3, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_UPDATE | KS_VARIABLE_FLAGS, 'RW and ACCESS due to the optional `GET` argument')], getKeys: setKeys, handler: set,
    docs: { summary: 'Sets the string value of a key, with optional expiry and conditions.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]' },
  },
  {
    name: 'setnx', arity: 3, flags: CMD_WRITE | CMD_DENYOOM | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_OW | KS_INSERT)], handler: setnx,
    docs: { summary: 'Sets a key only when it does not exist yet.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key value' },
  },
  {
    name: 'setex', arity: 4, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_STRING, keySpecs: [keyAt(1, KS_OW | KS_UPDATE)], handler: setex,
    docs: { summary: 'Sets a key together with a time to live in seconds.', since: '2.0.0', group, complexity: 'O(1)', syntax: 'key seconds value' },
  },
  {
    name: 'psetex', arity: 4, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_STRING, keySpecs: [keyAt(1, KS_OW | KS_UPDATE)], handler: psetex,
    docs: { summary: 'Sets a key together with a time to live in milliseconds.', since: '2.6.0', group, complexity: 'O(1)', syntax: 'key milliseconds value' },
  },
  {
    name: 'getset', arity: 3, flags: CMD_WRITE | CMD_DENYOOM | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_UPDATE)], handler: getset,
    docs: { summary: 'Replaces the value of a key and returns the previous one.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key value' },
  },
  {
    name: 'getdel', arity: 2, flags: CMD_WRITE | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_DELETE)], handler: getdel,
    docs: { summary: 'Returns the value of a key and removes the key.', since: '6.2.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'getex', arity: -2, flags: CMD_WRITE | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_UPDATE, 'RW and UPDATE because it changes the TTL')], handler: getex,
    docs: { summary: 'Returns the value of a key and optionally changes or removes its expiry.', since: '6.2.0', group, complexity: 'O(1)', syntax: 'key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]' },
  },
  {
    name: 'mget', arity: -2, flags: CMD_READONLY | CMD_FAST, acl: ACL_STRING, keySpecs: [keysFrom(1, KS_RO | KS_ACCESS)], handler: mget,
    tips: ['request_policy:multi_shard'],
    docs: { summary: 'Returns the values of several keys at once.', since: '1.0.0', group, complexity: 'O(N) where N is the number of keys to retrieve.', syntax: 'key [key ...]' },
  },
  {
    name: 'mset', arity: -3, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_STRING, keySpecs: [keysFrom(1, KS_OW | KS_UPDATE, 2)], handler: mset,
    tips: ['request_policy:multi_shard', 'response_policy:all_succeeded'],
    docs: { summary: 'Sets several keys to their values at once.', since: '1.0.1', group, complexity: 'O(N) where N is the number of keys to set.', syntax: 'key value [key value ...]' },
  },
  {
    name: 'msetnx', arity: -3, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_STRING, keySpecs: [keysFrom(1, KS_OW | KS_INSERT, 2)], handler: msetnx,
    tips: ['request_policy:multi_shard', 'response_policy:agg_min'],
    docs: { summary: 'Sets several keys at once, and only if none of them exists.', since: '1.0.1', group, complexity: 'O(N) where N is the number of keys to set.', syntax: 'key value [key value ...]' },
  },
  {
    name: 'append', arity: 3, flags: CMD_WRITE | CMD_DENYOOM | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_INSERT)], handler: append,
    docs: { summary: 'Adds bytes at the end of a string value, creating the key if needed.', since: '2.0.0', group, complexity: 'O(1) amortized when the appended value is small; copying it is O(M) in its length M.', syntax: 'key value' },
  },
  {
    name: 'strlen', arity: 2, flags: CMD_READONLY | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RO)], handler: strlen,
    docs: { summary: 'Returns the length in bytes of a string value.', since: '2.2.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'getrange', arity: 4, flags: CMD_READONLY, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: getrange,
    docs: { summary: 'Returns a slice of a string value, by byte indexes.', since: '2.4.0', group, complexity: rangeComplexity, syntax: 'key start end' },
  },
  {
    name: 'substr', arity: 4, flags: CMD_READONLY, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: getrange,
    docs: { summary: 'Returns a slice of a string value (the old name of GETRANGE).', since: '1.0.0', group, complexity: rangeComplexity, syntax: 'key start end' },
  },
  {
    name: 'setrange', arity: 4, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_UPDATE)], handler: setrange,
    docs: { summary: 'Overwrites part of a string value from an offset, padding with zero bytes.', since: '2.2.0', group, complexity: 'O(1) plus copying the value: O(M) in its length M.', syntax: 'key offset value' },
  },
  {
    name: 'incr', arity: 2, flags: CMD_WRITE | CMD_DENYOOM | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_UPDATE)], handler: incr,
    docs: { summary: 'Adds one to the integer value of a key.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'decr', arity: 2, flags: CMD_WRITE | CMD_DENYOOM | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_UPDATE)], handler: decr,
    docs: { summary: 'Subtracts one from the integer value of a key.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'incrby', arity: 3, flags: CMD_WRITE | CMD_DENYOOM | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_UPDATE)], handler: incrby,
    docs: { summary: 'Adds an integer to the integer value of a key.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key increment' },
  },
  {
    name: 'decrby', arity: 3, flags: CMD_WRITE | CMD_DENYOOM | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_UPDATE)], handler: decrby,
    docs: { summary: 'Subtracts an integer from the integer value of a key.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key decrement' },
  },
  {
    name: 'incrbyfloat', arity: 3, flags: CMD_WRITE | CMD_DENYOOM | CMD_FAST, acl: ACL_STRING, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_UPDATE)], handler: incrbyfloat,
    docs: { summary: 'Adds a floating point number to the numeric value of a key.', since: '2.6.0', group, complexity: 'O(1)', syntax: 'key increment' },
  },
  {
    name: 'lcs', arity: -3, flags: CMD_READONLY, acl: ACL_STRING, keySpecs: [{ flags: KS_RO | KS_ACCESS, begin: { index: 1 }, find: { lastkey: 1, keystep: 1, limit: 0 } }], handler: lcs,
    docs: { summary: 'Finds the longest common subsequence of two string values.', since: '7.0.0', group, complexity: 'O(N*M) where N and M are the lengths of s1 and s2, respectively', syntax: 'key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]' },
  },
];
