// A growable array of 32-bit refs in segments of 64K entries, so that growing
// never copies more than one segment: a table with millions of keys with a
// TTL adds a segment where a single array would copy itself whole.

const SEG_BITS = 16;
const SEG = 1 << SEG_BITS;
const FIRST = 16;

export class RefArray {
  private segs: Uint32Array[] = [new Uint32Array(FIRST)];
  length = 0;
  /** Bytes of all segments. */
  bytes = FIRST * 4;

  get(i: number): number {
    return this.segs[i >>> SEG_BITS][i & (SEG - 1)];
  }

  set(i: number, v: number): void {
    this.segs[i >>> SEG_BITS][i & (SEG - 1)] = v;
  }

  /** Bytes the next push adds (0 when there is room). */
  get growthBytes(): number {
    const i = this.length;
    const s = i >>> SEG_BITS;
    if (s === this.segs.length) return SEG * 4;
    if (s === 0 && i === this.segs[0].length) return i * 4;
    return 0;
  }

  /** Makes room for one more entry now; returns the bytes added. */
  ensureRoom(): number {
    const i = this.length;
    const s = i >>> SEG_BITS;
    const before = this.bytes;
    if (s === this.segs.length) {
      this.segs.push(new Uint32Array(SEG));
      this.bytes += SEG * 4;
    } else if (s === 0 && i === this.segs[0].length) {
      // The first segment doubles up to a full one: small tables stay small.
      const grown = new Uint32Array(i * 2);
      grown.set(this.segs[0]);
      this.bytes += grown.byteLength - this.segs[0].byteLength;
      this.segs[0] = grown;
    }
    return this.bytes - before;
  }

  /** Appends `v`; returns its index. */
  push(v: number): number {
    const i = this.length;
    this.ensureRoom();
    this.set(i, v);
    this.length++;
    return i;
  }

  /** Removes and returns the last entry; a segment goes once half of the one before it is free too. */
  pop(): number {
    const v = this.get(--this.length);
    const n = this.segs.length;
    if (n > 1 && this.length < (n - 1) * SEG - SEG / 2) {
      this.segs.pop();
      this.bytes -= SEG * 4;
    }
    return v;
  }

  clear(): void {
    this.segs = [new Uint32Array(FIRST)];
    this.length = 0;
    this.bytes = FIRST * 4;
  }
}
