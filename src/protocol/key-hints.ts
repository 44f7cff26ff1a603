// Where the keys of a pipelined read are, found ahead of parsing: for each
// complete multibulk frame of the read, in order, the bytes of its second
// argument (the key of GET, SET, INCR and most commands). The connection has
// the store read the buckets of all of them at once (Db.prefetch) before the
// commands run one by one: their cache misses then overlap instead of coming
// one after another, which at a million keys is most of a GET's store time.
//
// A hint only: the scan stops at the first thing that is not the plain shape
// ("*<1-9>\r\n" then "$<len>\r\n<bytes>\r\n" per argument), and the request
// reader checks everything again. A second argument that is not a key costs
// one useless read of a bucket.

/** Fills starts[i], ends[i] (i < result) with the second argument of each complete frame from buf[off]. */
export function scanKeyHints(buf: Buffer, off: number, starts: Uint32Array, ends: Uint32Array): number {
  const len = buf.length;
  const max = starts.length;
  let n = 0;
  let i = off;
  while (n < max && i + 4 <= len && buf[i] === 0x2a && buf[i + 2] === 0x0d) {
    const argc = buf[i + 1] - 0x30;
    if (argc < 1 || argc > 9) break;
    i += 4;
    let keyStart = -1;
    let keyEnd = -1;
    for (let a = 0; a < argc; a++) {
      if (i >= len || buf[i] !== 0x24) return n;
      let j = i + 1;
      let blen = 0;
      for (; j < len; j++) {
        const c = buf[j] - 0x30;
        if (c < 0 || c > 9) break;
        blen = blen * 10 + c;
      }
      // "$<digits>\r\n", then the bytes and their CRLF, all in this read.
      if (j === i + 1 || j - i > 10 || j + 2 + blen + 2 > len || buf[j] !== 0x0d) return n;
      i = j + 2;
      if (a === 1) {
        keyStart = i;
        keyEnd = i + blen;
      }
      i += blen + 2;
    }
    if (keyStart >= 0) {
      starts[n] = keyStart;
      ends[n] = keyEnd;
      n++;
    }
  }
  return n;
}
