// Bit commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS. Bit 0 is
// the most significant bit of the first byte. Offsets and indexes can reach
// 2^32 and beyond, so index arithmetic uses Math.floor and %, not 32-bit ops.

import type { CommandContext, Handler } from './context.js';
import { argIs, intOrReply, parseInt64, ERR_NOT_INTEGER, ERR_SYNTAX, REPLIED } from './args.js';
import {
  lookupStringOrReply, lookupStringWriteOrReply, negativeRangeInverted,
} from './strings.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_BITMAP, CMD_DENYOOM, CMD_FAST, CMD_READONLY, CMD_WRITE } from './model/flags.js';
import { keyAt, KS_ACCESS, KS_RO, KS_RW, KS_UPDATE } from './model/key-specs.js';
import { RESIZE_ZERO } from '../store/types.js';

const ERR_BIT_OFFSET = 'ERR bit offset is not an integer or out of range';
const ERR_BIT_VALUE = 'ERR bit is not an integer or out of range';

/** Bit offset argument: an int64 >= 0 whose byte is below proto-max-bulk-len. */
function bitOffsetOrReply(c: CommandContext, b: Buffer): number | null {
  const v = parseInt64(b);
  if (v === null || v < 0 || Math.floor(v / 8) >= c.server.config.int('proto-max-bulk-len')) {
    c.addError(ERR_BIT_OFFSET);
    return null;
  }
  return v;
}

/** BYTE or BIT unit argument: true for BIT; null after a syntax error reply. */
function unitIsBitOrReply(c: CommandContext, b: Buffer): boolean | null {
  if (argIs(b, 'bit')) return true;
  if (argIs(b, 'byte')) return false;
  c.addError(ERR_SYNTAX);
  return null;
}

const BITS_IN_BYTE = new Uint8Array(256);
for (let i = 1; i < 256; i++) BITS_IN_BYTE[i] = (i & 1) + BITS_IN_BYTE[i >> 1];

/** Number of set bits in b[start, end). */
function popcount(b: Buffer, start: number, end: number): number {
  let n = 0;
  let i = start;
  // Byte by byte up to a 4-byte boundary, then 32-bit words (SWAR), then the tail.
  while (i < end && ((b.byteOffset + i) & 3) !== 0) n += BITS_IN_BYTE[b[i++]];
  const words = Math.floor((end - i) / 4);
  if (words > 0) {
    const u = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let k = 0; k < words; k++) {
      let x = u[k];
      x -= (x >>> 1) & 0x55555555;
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      n += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
    }
    i += words * 4;
  }
  while (i < end) n += BITS_IN_BYTE[b[i++]];
  return n;
}

/**
 * Position of the first bit equal to `bit` in b[start, start+count), relative
 * to start. When there is none: -1 looking for 1, count*8 looking for 0 (the
 * string reads as zero-padded on the right), as Redis's redisBitpos.
 */
function bitposIn(b: Buffer, start: number, count: number, bit: number): number {
  const skip = bit === 1 ? 0 : 0xff;
  let i = 0;
  while (i < count && b[start + i] === skip) i++;
  if (i === count) return bit === 1 ? -1 : count * 8;
  return i * 8 + bitposByte(b[start + i], bit);
}

/** redisBitpos on a single byte. */
function bitposByte(byte: number, bit: number): number {
  for (let k = 0; k < 8; k++) if (((byte >> (7 - k)) & 1) === bit) return k;
  return bit === 1 ? -1 : 8;
}

function setbit(c: CommandContext, argv: Buffer[]): void {
  const offset = bitOffsetOrReply(c, argv[2]);
  if (offset === null) return;
  const on = parseInt64(argv[3]);
  if (on !== 0 && on !== 1) return c.addError(ERR_BIT_VALUE);
  const h = lookupStringWriteOrReply(c, argv[1]);
  if (h === REPLIED) return;
  const byte = Math.floor(offset / 8);
  const mask = 1 << (7 - (offset % 8));
  if (h >= 0) {
    const len = c.db.valueLength(h);
    if (byte < len) {
      const v = c.db.valueSpan(h);
      const old = v.buf[v.start + byte] & mask;
      // Unchanged bit: no write at all, so WATCH is not triggered (as Redis).
      if ((old !== 0) !== (on === 1)) {
        const w = c.db.writable(h);
        const i = w.start + byte;
        w.buf[i] = on === 1 ? w.buf[i] | mask : w.buf[i] & ~mask;
        c.db.valueChanged(h);
      }
      return old !== 0 ? c.addOne() : c.addZero();
    }
    // Grows with zero bytes; the bit goes in place.
    const nh = c.db.resize(h, byte + 1, RESIZE_ZERO);
    if (on === 1) {
      const w = c.db.writable(nh);
      w.buf[w.start + byte] = mask;
    }
    c.db.valueChanged(nh);
    return c.addZero();
  }
  const next = Buffer.alloc(byte + 1);
  if (on === 1) next[byte] = mask;
  c.db.setString(argv[1], next, 0);
  c.addZero();
}

function getbit(c: CommandContext, argv: Buffer[]): void {
  const offset = bitOffsetOrReply(c, argv[2]);
  if (offset === null) return;
  const h = lookupStringOrReply(c, argv[1]);
  if (h === REPLIED) return;
  if (h < 0) return c.addZero();
  const v = c.db.valueSpan(h);
  const byte = Math.floor(offset / 8);
  if (byte < v.end - v.start && (v.buf[v.start + byte] & (1 << (7 - (offset % 8)))) !== 0) c.addOne();
  else c.addZero();
}

/** A BITCOUNT/BITPOS range resolved to bytes, with the bits of the edge bytes that lie outside it. */
interface ByteRange { start: number; end: number; firstMask: number; lastMask: number }

const range: ByteRange = { start: 0, end: 0, firstMask: 0, lastMask: 0 };

/**
 * Resolves start..end (negative from the end, in bytes or bits) against a
 * value of `len` bytes, clamped as Redis does. Returns a shared object.
 */
function byteRange(s: number, e: number, len: number, isBit: boolean): ByteRange {
  const total = isBit ? len * 8 : len;
  let start = s < 0 ? Math.max(total + s, 0) : s;
  let end = e < 0 ? Math.max(total + e, 0) : e;
  if (end >= total) end = total - 1;
  range.firstMask = 0;
  range.lastMask = 0;
  if (isBit && start <= end) {
    // Bits of the edge bytes outside the range, left out after whole bytes are scanned.
    range.firstMask = ~((1 << (8 - (start % 8))) - 1) & 0xff;
    range.lastMask = (1 << (7 - (end % 8))) - 1;
    start = Math.floor(start / 8);
    end = Math.floor(end / 8);
  }
  range.start = start;
  range.end = end;
  return range;
}

function bitcount(c: CommandContext, argv: Buffer[]): void {
  // Redis 7.0 looks the key up before parsing the range: a missing key is 0 whatever follows.
  const h = lookupStringOrReply(c, argv[1]);
  if (h === REPLIED) return;
  if (h < 0) return c.addZero();
  const p = c.db.value(h);
  const n = argv.length;
  let r: ByteRange;
  if (n === 4 || n === 5) {
    const s = intOrReply(c, argv[2]);
    if (s === null) return;
    const e = intOrReply(c, argv[3]);
    if (e === null) return;
    // Redis 7.0 answers 0 for an inverted negative range before it reads BYTE|BIT.
    if (negativeRangeInverted(argv[2], argv[3], s, e)) return c.addZero();
    let isBit = false;
    if (n === 5) {
      const u = unitIsBitOrReply(c, argv[4]);
      if (u === null) return;
      isBit = u;
    }
    r = byteRange(s, e, p.length, isBit);
  } else if (n === 2) {
    r = byteRange(0, -1, p.length, false);
  } else {
    return c.addError(ERR_SYNTAX);
  }
  const { start, end, firstMask, lastMask } = r;
  if (start > end) return c.addZero();
  let count = popcount(p, start, end + 1);
  if (firstMask !== 0) count -= BITS_IN_BYTE[p[start] & firstMask];
  if (lastMask !== 0) count -= BITS_IN_BYTE[p[end] & lastMask];
  c.addInt(count);
}

function bitpos(c: CommandContext, argv: Buffer[]): void {
  const bit = parseInt64(argv[2]);
  if (bit === null) return c.addError(ERR_NOT_INTEGER);
  if (bit !== 0 && bit !== 1) return c.addError('ERR The bit argument must be 1 or 0.');
  // As BITCOUNT: the key is looked up before the range is parsed.
  const h = lookupStringOrReply(c, argv[1]);
  if (h === REPLIED) return;
  // A missing key reads as an endless run of zero bits.
  if (h < 0) return c.addInt(bit === 1 ? -1 : 0);
  const p = c.db.value(h);
  const n = argv.length;
  let r: ByteRange;
  let endGiven = false;
  if (n >= 4 && n <= 6) {
    const s = intOrReply(c, argv[3]);
    if (s === null) return;
    let isBit = false;
    if (n === 6) {
      const u = unitIsBitOrReply(c, argv[5]);
      if (u === null) return;
      isBit = u;
    }
    let e = p.length - 1;
    if (n >= 5) {
      const v = intOrReply(c, argv[4]);
      if (v === null) return;
      e = v;
      endGiven = true;
    }
    r = byteRange(s, e, p.length, isBit);
  } else if (n === 3) {
    r = byteRange(0, -1, p.length, false);
  } else {
    return c.addError(ERR_SYNTAX);
  }
  let { start } = r;
  const { end, firstMask, lastMask } = r;
  // An empty range holds neither a 0 nor a 1.
  if (start > end) return c.addInt(-1);

  // Redis's walk: the masked first byte, the whole bytes, the masked last byte.
  let bytes = end - start + 1;
  let pos = -1;
  let done = false;
  if (firstMask !== 0) {
    let ch = bit === 1 ? p[start] & ~firstMask & 0xff : p[start] | firstMask;
    if (lastMask !== 0 && bytes === 1) ch = bit === 1 ? ch & ~lastMask & 0xff : ch | lastMask;
    pos = bitposByte(ch, bit);
    if (bytes === 1 || (pos !== -1 && pos !== 8)) done = true;
    else {
      start++;
      bytes--;
    }
  }
  if (!done) {
    const whole = bytes - (lastMask !== 0 ? 1 : 0);
    if (whole > 0) {
      pos = bitposIn(p, start, whole, bit);
      if (bytes === whole || (pos !== -1 && pos !== whole * 8)) done = true;
      else {
        start += whole;
        bytes -= whole;
      }
    }
    if (!done) {
      const ch = bit === 1 ? p[end] & ~lastMask & 0xff : p[end] | lastMask;
      pos = bitposByte(ch, bit);
    }
  }
  // With an explicit end the right side is not zero-padded: no 0 found means -1.
  if (endGiven && bit === 0 && pos === bytes * 8) return c.addInt(-1);
  if (pos !== -1) pos += start * 8;
  c.addInt(pos);
}

const group = 'bitmap';
export const bitCommands: CommandDef<Handler>[] = [
  {
    name: 'setbit', arity: 4, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_BITMAP, keySpecs: [keyAt(1, KS_RW | KS_ACCESS | KS_UPDATE)], handler: setbit,
    docs: { summary: 'Sets or clears one bit of a string value and returns its previous state; the string grows as needed.', since: '2.2.0', group, complexity: 'O(1)', syntax: 'key offset value' },
  },
  {
    name: 'getbit', arity: 3, flags: CMD_READONLY | CMD_FAST, acl: ACL_BITMAP, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: getbit,
    docs: { summary: 'Returns one bit of a string value (0 past its end).', since: '2.2.0', group, complexity: 'O(1)', syntax: 'key offset' },
  },
  {
    name: 'bitcount', arity: -2, flags: CMD_READONLY, acl: ACL_BITMAP, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: bitcount,
    docs: { summary: 'Counts the bits set to 1 in a string value, optionally within a byte or bit range.', since: '2.6.0', group, complexity: 'O(N)', syntax: 'key [start end [BYTE | BIT]]' },
  },
  {
    name: 'bitpos', arity: -3, flags: CMD_READONLY, acl: ACL_BITMAP, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: bitpos,
    docs: { summary: 'Finds the first bit set to 1 or 0 in a string value, optionally within a byte or bit range.', since: '2.8.7', group, complexity: 'O(N)', syntax: 'key bit [start [end [BYTE | BIT]]]' },
  },
];
