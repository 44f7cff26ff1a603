// LZF, the compression of RDB strings (Redis ships liblzf). The stream is a
// run of items: a control byte below 32 is a literal run of ctrl + 1 bytes;
// otherwise its top 3 bits are the match length - 2 (7: one more byte adds to
// it) and its low 5 bits with the next byte the distance - 1 back into the
// output (up to 8 KiB). Any valid stream decompresses anywhere, so the
// compressor need only be valid and reasonably greedy, not liblzf's twin.

const HLOG = 14;
const MAX_OFF = 1 << 13;
/** Longest match an item can hold: 2 + 7 + 255. */
const MAX_REF = (1 << 8) + (1 << 3);
const MAX_LIT = 1 << 5;

export class LzfError extends Error {}

/**
 * Compresses src[start, end) into dst[dstStart, dstEnd). Returns the bytes
 * written, or 0 when the output would not fit (Redis then stores the string
 * as it is). `table` is scratch the caller keeps (its contents need not be
 * cleared: a stale entry is only a candidate whose bytes are checked).
 */
export function lzfCompress(src: Uint8Array, start: number, end: number, dst: Uint8Array, dstStart: number, dstEnd: number, table: Int32Array = newTable()): number {
  let ip = start;
  let op = dstStart;
  let lit = 0;
  // A byte for the length of the literal run being gathered.
  if (op >= dstEnd) return 0;
  op++;
  // Where the input is known to repeat itself `periodOff + 1` bytes back (up to `periodEnd`).
  let periodEnd = -1;
  let periodOff = 0;
  while (ip < end) {
    // A back reference needs 3 bytes to match: the last two are always literals.
    if (ip + 2 < end) {
      let ref: number;
      let off: number;
      if (ip < periodEnd) {
        off = periodOff;
        ref = ip - off - 1;
      } else {
        const h = (Math.imul((src[ip] << 16) | (src[ip + 1] << 8) | src[ip + 2], 0x9e3779b1) >>> (32 - HLOG));
        ref = table[h];
        table[h] = ip;
        off = ip - ref - 1;
      }
      if (ip < periodEnd || (ref >= start && off >= 0 && off < MAX_OFF && src[ref] === src[ip] && src[ref + 1] === src[ip + 1] && src[ref + 2] === src[ip + 2])) {
        let maxlen = end - ip;
        if (maxlen > MAX_REF) maxlen = MAX_REF;
        let len = ip < periodEnd ? maxlen : 3;
        while (len < 16 && len < maxlen && src[ref + len] === src[ip + len]) len++;
        if (len === 16 && maxlen > 32 && src instanceof Buffer) {
          // A long match at a short distance is usually a run (or a short
          // pattern repeated) that goes on to the end: one native compare of
          // the whole rest lets every item after this one skip its compare
          // (about 16 per 4 KiB run). Otherwise the rest of this match is
          // compared natively at once, as it usually matches whole.
          if (maxlen < end - ip && off < MAX_REF && src.compare(src, ref + 16, ref + (end - ip), ip + 16, end) === 0) {
            periodEnd = end;
            periodOff = off;
            len = maxlen;
          } else if (src.compare(src, ref + 16, ref + maxlen, ip + 16, ip + maxlen) === 0) {
            len = maxlen;
          }
        }
        while (len < maxlen && src[ref + len] === src[ip + len]) len++;
        const code = len - 2;
        // The item (2 or 3 bytes) must fit where it goes: after the literal
        // run, or over that run's length byte when the run is empty. The next
        // run's length byte is only reserved: a literal written after it, or
        // the end taking it back, settles whether it fits.
        if ((lit > 0 ? op : op - 1) + (code < 7 ? 2 : 3) > dstEnd) return 0;
        // Close the literal run (or take back its length byte when it is empty).
        if (lit > 0) dst[op - lit - 1] = lit - 1;
        else op--;
        lit = 0;
        if (code < 7) {
          dst[op++] = (off >>> 8) | (code << 5);
        } else {
          dst[op++] = (off >>> 8) | (7 << 5);
          dst[op++] = code - 7;
        }
        dst[op++] = off & 0xff;
        op++;
        ip += len;
        continue;
      }
    }
    if (op >= dstEnd) return 0;
    dst[op++] = src[ip++];
    if (++lit === MAX_LIT) {
      dst[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  if (lit > 0) dst[op - lit - 1] = lit - 1;
  else op--;
  return op - dstStart;
}

/** Scratch for lzfCompress. */
export function newTable(): Int32Array {
  return new Int32Array(1 << HLOG).fill(-1 << 30);
}

/**
 * Decompresses src[start, end) into dst[dstStart, dstStart + len), which it
 * must fill exactly. Throws LzfError on a stream that is not valid LZF or
 * does not decompress to exactly `len` bytes.
 */
export function lzfDecompress(src: Uint8Array, start: number, end: number, dst: Uint8Array, dstStart: number, len: number): void {
  let ip = start;
  let op = dstStart;
  const outEnd = dstStart + len;
  while (ip < end) {
    let ctrl = src[ip++];
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outEnd) throw new LzfError('LZF data longer than its declared length');
      if (ip + ctrl > end) throw new LzfError('LZF literal run past the end of the input');
      const stop = ip + ctrl;
      // Four bytes a step, then the rest: a third fewer loop steps for a load's millions of short runs.
      for (; ip + 4 <= stop; ip += 4, op += 4) {
        const a = src[ip], b = src[ip + 1], c = src[ip + 2], d = src[ip + 3];
        dst[op] = a; dst[op + 1] = b; dst[op + 2] = c; dst[op + 3] = d;
      }
      while (ip < stop) dst[op++] = src[ip++];
      continue;
    }
    let n = ctrl >>> 5;
    if (n === 7) {
      if (ip >= end) throw new LzfError('LZF item cut at the end of the input');
      n += src[ip++];
    }
    if (ip >= end) throw new LzfError('LZF item cut at the end of the input');
    const ref = op - ((ctrl & 0x1f) << 8) - src[ip++] - 1;
    n += 2;
    if (ref < dstStart) throw new LzfError('LZF back reference before the start of the output');
    if (op + n > outEnd) throw new LzfError('LZF data longer than its declared length');
    // The reference may overlap what it writes (a run): four bytes a step only
    // when it starts at least four back, so that a step never reads its own bytes.
    let from = ref;
    const stop = op + n;
    // A run of one byte repeated (what long runs compress to) is a fill; a reference
    // that does not overlap what it writes is a copy: both native, not a byte loop.
    if (op - from === 1) {
      dst.fill(dst[from], op, stop);
      op = stop;
      continue;
    }
    if (n >= 64 && op - from >= n) {
      dst.copyWithin(op, from, from + n);
      op = stop;
      continue;
    }
    if (op - from >= 4) {
      for (; op + 4 <= stop; op += 4, from += 4) {
        const a = dst[from], b = dst[from + 1], c = dst[from + 2], d = dst[from + 3];
        dst[op] = a; dst[op + 1] = b; dst[op + 2] = c; dst[op + 3] = d;
      }
    }
    while (op < stop) dst[op++] = dst[from++];
  }
  if (op !== outEnd) throw new LzfError(`LZF data decompressed to ${op - dstStart} bytes, ${len} declared`);
}
