// The slab allocator. It knows nothing of keys, items or eviction, only of
// chunks of bytes (memcached keeps slabs.c apart from items.c the same way).
//
// Memory comes in pages: ArrayBuffers of slab-page-size bytes, obtained one
// at a time while the budget allows. A page is cut into 16 units; a slab is
// an aligned run of 1, 2, 4, 8 or 16 units given to one size class and cut
// into that class's chunks. Classes grow by slab-growth-factor from
// MIN_CHUNK bytes up to half a page. Small classes take one-unit slabs, so a
// class holds at most one unit of idle chunks and memory moves between
// classes a unit at a time; a class takes bigger slabs only when one unit
// would hold fewer than 8 of its chunks.
//
// A chunk is named by a 32-bit ref: page index << pageShift | byte offset / 8.
// Ref 0 is never a chunk (page index 0 is never used), so 0 means "none".
// With 8-byte granularity, 32 bits address 32 GiB of pages whatever their size.
//
// Chunks are handed out from a slab by a bump index first, then from the
// slab's free list (the next ref is kept in a free chunk's first 4 bytes, the
// only bytes of a freed chunk the allocator writes). A slab whose last chunk
// is freed gives its units back at once. A bitmap per slab marks the chunks
// in use, so a slab's live chunks can be walked when it is emptied to give
// its units to another class (evacuation: the caller moves each live chunk
// elsewhere, the allocator never moves bytes on its own). Which run to empty
// is the page mover's choice (slab-mover.ts), made from the slab directory
// this class exposes.

export const UNITS_PER_PAGE = 16;
/** Smallest chunk: a 21-byte item header plus a short key and value (memcached's -n is 48 too). */
export const MIN_CHUNK = 48;
const ALIGN = 8;
/** Classes take one unit per slab when it holds at least this many chunks. */
const MIN_CHUNKS_PER_SLAB = 8;
export const NONE = -1;

/** Asked before a new page is allocated: may the store grow by `bytes`? */
export type GrowthCheck = (bytes: number) => boolean;

/** Moves the live chunk `ref` elsewhere (and frees it); false when it could not. */
export type ChunkMover = (ref: number) => boolean;

export interface SlabClassStats {
  cls: number;
  chunkSize: number;
  chunksPerSlab: number;
  unitsPerSlab: number;
  slabs: number;
  used: number;
  free: number;
}

/**
 * Chunk sizes MIN_CHUNK * factor^i, each rounded up to 8 bytes, up to `max`.
 * Compounding the exact sequence (memcached compounds the rounded size,
 * which drifts upwards) keeps neighbouring classes `factor` apart.
 */
export function classSizes(factor: number, max: number): number[] {
  const sizes: number[] = [];
  for (let exact = MIN_CHUNK; ; exact *= factor) {
    const size = Math.ceil(exact / ALIGN) * ALIGN;
    if (size >= max) break;
    if (size > sizes[sizes.length - 1] || sizes.length === 0) sizes.push(size);
  }
  sizes.push(max);
  return sizes;
}

/** Units a slab of chunks of `size` bytes takes: one, or as many as hold MIN_CHUNKS_PER_SLAB (up to a page). */
function unitsFor(size: number, unitSize: number): number {
  let units = 1;
  while (units < UNITS_PER_PAGE && (units * unitSize) / size < MIN_CHUNKS_PER_SLAB) units *= 2;
  return units;
}

/**
 * Each chunk size widened to the largest that still cuts its slab into as
 * many chunks (2136 B chunks fit 30 to a 64 KiB unit with 1456 B left over;
 * 2184 B chunks fit 30 too): items a little larger then take the class, not
 * the next one up. A class the widening reaches or passes is dropped.
 */
function fitToSlabs(sizes: number[], unitSize: number): number[] {
  const out: number[] = [];
  for (const size of sizes) {
    const bytes = unitsFor(size, unitSize) * unitSize;
    const wide = Math.floor(bytes / Math.floor(bytes / size) / ALIGN) * ALIGN;
    if (out.length > 0 && size <= out[out.length - 1]) continue;
    out.push(Math.max(size, wide));
  }
  return out;
}

export class SlabAllocator {
  readonly pageSize: number;
  readonly unitSize: number;
  /** Bits of a ref that hold the offset (in 8-byte steps) within its page. */
  readonly pageShift: number;
  /** ref >>> unitShift is the index of the unit holding the chunk (page * 16 + unit). */
  readonly unitShift: number;
  readonly offsetMask: number;
  readonly maxPages: number;

  /** Page memory by page index; undefined for unused indexes. */
  readonly bufs: (Buffer | undefined)[] = [undefined];
  readonly words: (Uint32Array | undefined)[] = [undefined];

  // Size classes.
  readonly sizes: number[];
  readonly perSlab: Int32Array;
  readonly unitsPerSlab: Int32Array;
  private readonly classSlabs: Int32Array;
  private readonly classLive: Float64Array;
  private readonly partialHead: Int32Array;
  /** Size lookup: class of an item of n bytes is sizeIndex[ceil(n / 8)] for n up to 4 KiB. */
  private readonly smallLookup: Uint16Array;

  // Per unit (index page * 16 + unit). A slab is named by its first unit.
  private unitSlab: Int32Array;
  private sClass: Int16Array;
  private sLive: Int32Array;
  private sBump: Int32Array;
  private sFree: Uint32Array;
  private sNext: Int32Array;
  private sPrev: Int32Array;
  private bitmap: Uint32Array;
  /** Bitmap words per slab. */
  private readonly bitWords: number;

  // Per page: free units as a 16-bit mask (1 = free); pages with free units are listed.
  private pageFree: Uint16Array;
  private openPages: number[] = [];
  private openPos: Int32Array;
  private freeIndexes: number[] = [];
  /** Pages held, how many of them are wholly free, and their bytes. */
  pageCount = 0;
  emptyPages = 0;
  pageBytes = 0;
  /**
   * Units each page has: 16, except a last page cut short to what the budget
   * had room for, so that the budget is used to the unit, not to the page.
   */
  private pageUnits: Uint8Array;

  /** Units being emptied: their slabs take no chunks back and are not released until the end. */
  private drainLo = NONE;
  private drainHi = NONE;
  /** Units a page evacuation is emptying: no new slab may take them meanwhile. */
  private reservedPage = 0;
  private reservedMask = 0;

  constructor(pageSize: number, growthFactor: number, private readonly mayGrow: GrowthCheck) {
    if (!Number.isInteger(Math.log2(pageSize)) || pageSize < 64 * 1024) throw new Error('slab-page-size must be a power of two of at least 64kb');
    this.pageSize = pageSize;
    this.unitSize = pageSize / UNITS_PER_PAGE;
    this.pageShift = Math.log2(pageSize) - 3;
    this.unitShift = this.pageShift - 4;
    this.offsetMask = (1 << this.pageShift) - 1;
    this.maxPages = Math.min(2 ** (32 - this.pageShift) - 1, 2 ** 20);

    this.sizes = fitToSlabs(classSizes(growthFactor, pageSize / 2), this.unitSize);
    const n = this.sizes.length;
    this.perSlab = new Int32Array(n);
    this.unitsPerSlab = new Int32Array(n);
    for (let c = 0; c < n; c++) {
      const units = unitsFor(this.sizes[c], this.unitSize);
      this.unitsPerSlab[c] = units;
      this.perSlab[c] = Math.floor((units * this.unitSize) / this.sizes[c]);
    }
    this.classSlabs = new Int32Array(n);
    this.classLive = new Float64Array(n);
    this.partialHead = new Int32Array(n).fill(NONE);
    this.smallLookup = new Uint16Array(4096 / ALIGN + 1);
    for (let i = 0, c = 0; i < this.smallLookup.length; i++) {
      while (this.sizes[c] < i * ALIGN) c++;
      this.smallLookup[i] = c;
    }
    this.bitWords = Math.ceil(Math.floor(this.unitSize / MIN_CHUNK) / 32);

    const units = 16 * UNITS_PER_PAGE;
    this.unitSlab = new Int32Array(units).fill(NONE);
    this.sClass = new Int16Array(units).fill(NONE);
    this.sLive = new Int32Array(units);
    this.sBump = new Int32Array(units);
    this.sFree = new Uint32Array(units);
    this.sNext = new Int32Array(units).fill(NONE);
    this.sPrev = new Int32Array(units).fill(NONE);
    this.bitmap = new Uint32Array(units * this.bitWords);
    this.pageFree = new Uint16Array(16);
    this.pageUnits = new Uint8Array(16);
    this.openPos = new Int32Array(16).fill(NONE);
    this.countMetadata();
  }

  get classCount(): number { return this.sizes.length; }
  get maxChunk(): number { return this.sizes[this.sizes.length - 1]; }
  /** Bytes of the allocator's own bookkeeping arrays. */
  get metadataBytes(): number {
    return this.metadata;
  }

  /** The bookkeeping arrays' bytes, summed when they grow (the budget check reads it on every allocation). */
  private metadata = 0;

  private countMetadata(): void {
    this.metadata = this.unitSlab.byteLength + this.sClass.byteLength + this.sLive.byteLength + this.sBump.byteLength
      + this.sFree.byteLength + this.sNext.byteLength + this.sPrev.byteLength + this.bitmap.byteLength
      + this.pageFree.byteLength + this.openPos.byteLength + this.pageUnits.byteLength;
  }

  /** The class whose chunks hold `bytes`, or -1 when larger than the largest chunk. */
  classFor(bytes: number): number {
    if (bytes <= 4096) return this.smallLookup[(bytes + ALIGN - 1) >>> 3];
    const sizes = this.sizes;
    let lo = 0;
    let hi = sizes.length - 1;
    if (bytes > sizes[hi]) return -1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sizes[mid] >= bytes) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Size of the chunk `ref` (of the class of its slab). */
  chunkSize(ref: number): number {
    return this.sizes[this.sClass[this.unitSlab[ref >>> this.unitShift]]];
  }

  classOf(ref: number): number {
    return this.sClass[this.unitSlab[ref >>> this.unitShift]];
  }

  /** Live and free chunks of a class (free counts chunks never handed out yet). */
  used(cls: number): number { return this.classLive[cls]; }
  free(cls: number): number { return this.classSlabs[cls] * this.perSlab[cls] - this.classLive[cls]; }
  slabs(cls: number): number { return this.classSlabs[cls]; }

  /** A chunk of class `cls`, or 0 when the class is full and no slab can be added within the budget. */
  alloc(cls: number): number {
    let s = this.partialHead[cls];
    if (s === NONE) {
      s = this.newSlab(cls);
      if (s === NONE) return 0;
    }
    let ref = this.sFree[s];
    let index: number;
    if (ref !== 0) {
      this.sFree[s] = (this.words[ref >>> this.pageShift] as Uint32Array)[(ref & this.offsetMask) << 1];
      index = this.chunkIndex(s, ref);
    } else {
      index = this.sBump[s]++;
      ref = this.chunkRef(s, index);
    }
    this.bitmap[s * this.bitWords + (index >>> 5)] |= 1 << (index & 31);
    this.classLive[cls]++;
    if (++this.sLive[s] === this.perSlab[cls]) this.unlinkPartial(s);
    return ref;
  }

  /** Gives a chunk back. Its first 4 bytes are overwritten; the rest stay as they were until reused. */
  release(ref: number): void {
    const s = this.unitSlab[ref >>> this.unitShift];
    const cls = this.sClass[s];
    const index = this.chunkIndex(s, ref);
    const w = s * this.bitWords + (index >>> 5);
    const bit = 1 << (index & 31);
    if ((this.bitmap[w] & bit) === 0) throw new Error(`slab: chunk ${ref} freed twice`);
    this.bitmap[w] &= ~bit;
    (this.words[ref >>> this.pageShift] as Uint32Array)[(ref & this.offsetMask) << 1] = this.sFree[s];
    this.sFree[s] = ref;
    this.classLive[cls]--;
    const wasFull = this.sLive[s] === this.perSlab[cls];
    const draining = s >= this.drainLo && s < this.drainHi;
    if (--this.sLive[s] === 0 && !draining) this.releaseSlab(s);
    else if (wasFull && !draining) this.linkPartial(s);
  }

  /** Whether chunk `ref` is in use. */
  isLive(ref: number): boolean {
    const s = this.unitSlab[ref >>> this.unitShift];
    if (s === NONE) return false;
    const index = this.chunkIndex(s, ref);
    if (index >= this.perSlab[this.sClass[s]] || this.chunkRef(s, index) !== ref) return false;
    return (this.bitmap[s * this.bitWords + (index >>> 5)] & (1 << (index & 31))) !== 0;
  }

  /** Calls `visit` with every live chunk of a class (a bounded number of slabs when `maxSlabs` > 0). */
  forEachLive(cls: number, visit: (ref: number) => void, maxSlabs = 0): void {
    let seen = 0;
    const units = this.unitSlab.length;
    for (let s = 0; s < units; s++) {
      if (this.sClass[s] !== cls || this.unitSlab[s] !== s) continue;
      this.forEachLiveIn(s, visit);
      if (maxSlabs > 0 && ++seen >= maxSlabs) return;
    }
  }

  /** Calls `visit` with every live chunk of slab `s`. */
  forEachLiveIn(s: number, visit: (ref: number) => void): void {
    const base = s * this.bitWords;
    const count = this.sBump[s];
    for (let w = 0; w * 32 < count; w++) {
      let bits = this.bitmap[base + w];
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        visit(this.chunkRef(s, w * 32 + b));
      }
    }
  }

  // ---------------------------------------------------------------------------
  // The slab directory, read by the page mover (slab-mover.ts) to choose what
  // to empty. Slabs are named by their first unit (page * 16 + unit).

  /** The first slab on a class's list of slabs with free chunks, NONE (-1) when there is none. */
  firstPartial(cls: number): number { return this.partialHead[cls]; }
  /** The next slab on the same partial list, or NONE. */
  nextPartial(s: number): number { return this.sNext[s]; }
  /** Live chunks in slab `s`. */
  slabLive(s: number): number { return this.sLive[s]; }
  /** The class of slab `s`. */
  slabClass(s: number): number { return this.sClass[s]; }
  /** The slab unit `u` belongs to (its first unit), NONE when free. */
  unitOwner(u: number): number { return this.unitSlab[u]; }
  /** Page indexes run from 1 below this (some may be unused). */
  get pageSlots(): number { return this.bufs.length; }
  hasPage(p: number): boolean { return this.bufs[p] !== undefined; }
  /** Units page `p` has (16, or fewer for a last page cut to the budget). */
  unitsOf(p: number): number { return this.pageUnits[p]; }
  pageIsEmpty(p: number): boolean { return this.isEmpty(p); }

  /** Units in held pages that no slab uses. */
  freeUnits(): number {
    let n = 0;
    for (const p of this.openPages) {
      let m = this.pageFree[p];
      if (p === this.reservedPage) m &= ~this.reservedMask;
      while (m !== 0) {
        m &= m - 1;
        n++;
      }
    }
    return n;
  }

  /** Drops one wholly free page (its memory goes back once collected). */
  dropEmptyPage(): boolean {
    for (let i = this.openPages.length - 1; i >= 0; i--) {
      const p = this.openPages[i];
      if (this.isEmpty(p)) {
        this.releasePage(p);
        return true;
      }
    }
    return false;
  }

  /**
   * Moves every live chunk out of the slabs of the run [first, first+units)
   * and releases them (the page mover picks the run). While it runs, the
   * run's slabs hand out no chunks and its units go to no new slab, so
   * nothing moves back in. False when a chunk could not be moved.
   */
  evacuate(first: number, units: number, move: ChunkMover): boolean {
    const slabs: number[] = [];
    for (let u = first; u < first + units; u++) {
      if (this.unitSlab[u] === u) {
        slabs.push(u);
        this.unlinkPartial(u);
      }
    }
    const refs: number[] = [];
    for (const s of slabs) this.forEachLiveIn(s, (ref) => refs.push(ref));
    const page = Math.floor(first / UNITS_PER_PAGE);
    this.drainLo = first;
    this.drainHi = first + units;
    this.reservedPage = page;
    this.reservedMask = ((1 << units) - 1) << (first % UNITS_PER_PAGE);
    let ok = true;
    for (let i = 0; i < refs.length && ok; i++) ok = move(refs[i]);
    this.drainLo = this.drainHi = NONE;
    this.reservedPage = 0;
    this.reservedMask = 0;
    for (const s of slabs) {
      if (this.sLive[s] === 0) this.releaseSlab(s);
      else if (this.sLive[s] < this.perSlab[this.sClass[s]]) this.linkPartial(s);
    }
    return ok;
  }

  // ---------------------------------------------------------------------------
  // Slabs and pages.

  /** A new empty slab for the class, linked as partial; NONE when no units can be had. */
  private newSlab(cls: number): number {
    const units = this.unitsPerSlab[cls];
    let first = this.findRun(units);
    if (first === NONE) {
      const p = this.newPage(units);
      if (p === 0) return NONE;
      first = p * UNITS_PER_PAGE;
    }
    const page = Math.floor(first / UNITS_PER_PAGE);
    const wasEmpty = this.isEmpty(page);
    for (let u = first; u < first + units; u++) this.unitSlab[u] = first;
    this.setPageFree(page, this.pageFree[page] & ~(((1 << units) - 1) << (first % UNITS_PER_PAGE)));
    if (wasEmpty) this.emptyPages--;
    this.sClass[first] = cls;
    this.sLive[first] = 0;
    this.sBump[first] = 0;
    this.sFree[first] = 0;
    this.bitmap.fill(0, first * this.bitWords, (first + 1) * this.bitWords);
    this.classSlabs[cls]++;
    this.linkPartial(first);
    return first;
  }

  private releaseSlab(s: number): void {
    const cls = this.sClass[s];
    const units = this.unitsPerSlab[cls];
    this.unlinkPartial(s);
    this.classSlabs[cls]--;
    for (let u = s; u < s + units; u++) this.unitSlab[u] = NONE;
    this.sClass[s] = NONE;
    const page = Math.floor(s / UNITS_PER_PAGE);
    this.setPageFree(page, this.pageFree[page] | (((1 << units) - 1) << (s % UNITS_PER_PAGE)));
    if (this.isEmpty(page)) {
      this.emptyPages++;
      // Under a budget an empty page is kept for any class to reuse; without one it goes back.
      if (!this.holdEmptyPages) this.releasePage(page);
    }
  }

  /** Bytes of pages dropped since the keyspace last asked (they go back once collected). */
  droppedBytes = 0;

  /** When true (a maxmemory is set), empty pages are kept for reuse instead of dropped. */
  holdEmptyPages = false;

  /** First unit of a free aligned run of `units` units, preferring pages already in use. */
  private findRun(units: number): number {
    const full = (1 << units) - 1;
    let fallback = NONE;
    for (let i = 0; i < this.openPages.length; i++) {
      const p = this.openPages[i];
      let mask = this.pageFree[p];
      if (p === this.reservedPage) mask &= ~this.reservedMask;
      for (let pos = 0; pos < UNITS_PER_PAGE; pos += units) {
        if (((mask >>> pos) & full) !== full) continue;
        if (mask !== (1 << this.pageUnits[p]) - 1) return p * UNITS_PER_PAGE + pos;
        if (fallback === NONE) fallback = p * UNITS_PER_PAGE + pos;
        break;
      }
    }
    return fallback;
  }

  private isEmpty(p: number): boolean {
    return this.pageFree[p] === (1 << this.pageUnits[p]) - 1;
  }

  /**
   * A new page, empty, with at least `minUnits` units: a whole one when the
   * budget has room, else as many units as it has room for.
   */
  private newPage(minUnits: number): number {
    const p = this.freeIndexes.length > 0 ? this.freeIndexes[this.freeIndexes.length - 1] : this.bufs.length;
    if (p >= this.maxPages) return 0;
    // The per-unit arrays double when the page index passes their capacity: that counts too.
    let cap = this.pageFree.length;
    while (cap < p + 1) cap *= 2;
    const extra = this.metadataBytes * (cap / this.pageFree.length - 1);
    let units = UNITS_PER_PAGE;
    while (units >= minUnits && !this.mayGrow(units * this.unitSize + extra)) units--;
    if (units < minUnits) return 0;
    if (p !== this.bufs.length) this.freeIndexes.pop();
    const bytes = units * this.unitSize;
    let buf: Buffer;
    try {
      buf = Buffer.allocUnsafeSlow(bytes);
    } catch {
      return 0;
    }
    if (p === this.bufs.length) {
      this.bufs.push(buf);
      this.words.push(new Uint32Array(buf.buffer, buf.byteOffset, bytes / 4));
    } else {
      this.bufs[p] = buf;
      this.words[p] = new Uint32Array(buf.buffer, buf.byteOffset, bytes / 4);
    }
    this.growUnits(p + 1);
    this.pageCount++;
    this.pageBytes += bytes;
    this.emptyPages++;
    this.pageUnits[p] = units;
    for (let u = p * UNITS_PER_PAGE; u < (p + 1) * UNITS_PER_PAGE; u++) this.unitSlab[u] = NONE;
    this.pageFree[p] = 0;
    this.setPageFree(p, (1 << units) - 1);
    return p;
  }

  private releasePage(p: number): void {
    this.droppedBytes += this.pageUnits[p] * this.unitSize;
    this.setPageFree(p, 0);
    this.bufs[p] = undefined;
    this.words[p] = undefined;
    this.freeIndexes.push(p);
    this.pageCount--;
    this.pageBytes -= this.pageUnits[p] * this.unitSize;
    this.pageUnits[p] = 0;
    this.emptyPages--;
  }

  /** Keeps the open-pages list in step with a page's free mask. */
  private setPageFree(p: number, mask: number): void {
    const before = this.pageFree[p];
    this.pageFree[p] = mask;
    if (before === 0 && mask !== 0) {
      this.openPos[p] = this.openPages.length;
      this.openPages.push(p);
    } else if (before !== 0 && mask === 0) {
      const i = this.openPos[p];
      const last = this.openPages.pop() as number;
      if (last !== p) {
        this.openPages[i] = last;
        this.openPos[last] = i;
      }
      this.openPos[p] = NONE;
    }
  }

  /** Grows the per-unit and per-page arrays to hold `pages` pages. */
  private growUnits(pages: number): void {
    let n = this.pageFree.length;
    if (n >= pages) return;
    while (n < pages) n *= 2;
    const units = n * UNITS_PER_PAGE;
    const i32 = (a: Int32Array, fill: number) => { const b = new Int32Array(units).fill(fill); b.set(a); return b; };
    this.unitSlab = i32(this.unitSlab, NONE);
    this.sLive = i32(this.sLive, 0);
    this.sBump = i32(this.sBump, 0);
    this.sNext = i32(this.sNext, NONE);
    this.sPrev = i32(this.sPrev, NONE);
    const cls = new Int16Array(units).fill(NONE);
    cls.set(this.sClass);
    this.sClass = cls;
    const free = new Uint32Array(units);
    free.set(this.sFree);
    this.sFree = free;
    const bm = new Uint32Array(units * this.bitWords);
    bm.set(this.bitmap);
    this.bitmap = bm;
    const pf = new Uint16Array(n);
    pf.set(this.pageFree);
    this.pageFree = pf;
    const pu = new Uint8Array(n);
    pu.set(this.pageUnits);
    this.pageUnits = pu;
    const op = new Int32Array(n).fill(NONE);
    op.set(this.openPos);
    this.openPos = op;
    this.countMetadata();
  }

  private chunkRef(s: number, index: number): number {
    const page = Math.floor(s / UNITS_PER_PAGE);
    const offset = (s % UNITS_PER_PAGE) * this.unitSize + index * this.sizes[this.sClass[s]];
    return ((page << this.pageShift) | (offset >>> 3)) >>> 0;
  }

  private chunkIndex(s: number, ref: number): number {
    const offset = (ref & this.offsetMask) * 8 - (s % UNITS_PER_PAGE) * this.unitSize;
    return Math.floor(offset / this.sizes[this.sClass[s]]);
  }

  private linkPartial(s: number): void {
    const cls = this.sClass[s];
    const head = this.partialHead[cls];
    this.sPrev[s] = NONE;
    this.sNext[s] = head;
    if (head !== NONE) this.sPrev[head] = s;
    this.partialHead[cls] = s;
  }

  private unlinkPartial(s: number): void {
    const cls = this.sClass[s];
    const prev = this.sPrev[s];
    const next = this.sNext[s];
    if (prev !== NONE) this.sNext[prev] = next;
    else if (this.partialHead[cls] === s) this.partialHead[cls] = next;
    else return; // not linked
    if (next !== NONE) this.sPrev[next] = prev;
    this.sPrev[s] = NONE;
    this.sNext[s] = NONE;
  }

  /** Per-class figures for INFO slabs (classes with slabs only). */
  stats(): SlabClassStats[] {
    const out: SlabClassStats[] = [];
    for (let c = 0; c < this.sizes.length; c++) {
      if (this.classSlabs[c] === 0) continue;
      out.push({
        cls: c, chunkSize: this.sizes[c], chunksPerSlab: this.perSlab[c], unitsPerSlab: this.unitsPerSlab[c],
        slabs: this.classSlabs[c], used: this.classLive[c], free: this.free(c),
      });
    }
    return out;
  }

  /**
   * Checks the allocator's bookkeeping against itself (tests): every slab
   * with free chunks is on its class's partial list and no full one is, live
   * counts match the bitmaps, and page masks match the units' owners.
   * Returns the first inconsistency found, or null.
   */
  check(): string | null {
    const onList = new Set<number>();
    for (let c = 0; c < this.sizes.length; c++) {
      let n = 0;
      for (let s = this.partialHead[c]; s !== NONE; s = this.sNext[s]) {
        if (onList.has(s)) return `class ${c}: slab ${s} twice on the partial list`;
        if (this.sClass[s] !== c) return `class ${c}: slab ${s} of class ${this.sClass[s]} on its partial list`;
        onList.add(s);
        if (++n > this.unitSlab.length) return `class ${c}: partial list loops`;
      }
    }
    const slabs = new Int32Array(this.sizes.length);
    const live = new Float64Array(this.sizes.length);
    for (let u = 0; u < this.unitSlab.length; u++) {
      const p = Math.floor(u / UNITS_PER_PAGE);
      const free = (this.pageFree[p] >>> (u % UNITS_PER_PAGE)) & 1;
      if (this.bufs[p] === undefined || u % UNITS_PER_PAGE >= this.pageUnits[p]) continue;
      if ((free === 1) !== (this.unitSlab[u] === NONE)) return `unit ${u}: free bit ${free} but owner ${this.unitSlab[u]}`;
      if (this.unitSlab[u] !== u) continue;
      const c = this.sClass[u];
      slabs[c]++;
      live[c] += this.sLive[u];
      let bits = 0;
      for (let w = 0; w < this.bitWords; w++) {
        let x = this.bitmap[u * this.bitWords + w];
        while (x !== 0) {
          x &= x - 1;
          bits++;
        }
      }
      if (bits !== this.sLive[u]) return `slab ${u}: ${bits} chunks marked, ${this.sLive[u]} counted live`;
      const partial = this.sLive[u] < this.perSlab[c];
      if (partial !== onList.has(u)) return `slab ${u} (class ${c}, ${this.sLive[u]}/${this.perSlab[c]} live) ${partial ? 'missing from' : 'wrongly on'} the partial list`;
    }
    for (let c = 0; c < this.sizes.length; c++) {
      if (slabs[c] !== this.classSlabs[c]) return `class ${c}: ${slabs[c]} slabs found, ${this.classSlabs[c]} counted`;
      if (live[c] !== this.classLive[c]) return `class ${c}: ${live[c]} live chunks found, ${this.classLive[c]} counted`;
    }
    return null;
  }

  /** Drops every page and slab (FLUSHALL). */
  reset(): void {
    for (let p = 1; p < this.bufs.length; p++) {
      this.bufs[p] = undefined;
      this.words[p] = undefined;
    }
    this.bufs.length = 1;
    this.words.length = 1;
    this.freeIndexes = [];
    this.openPages = [];
    this.pageCount = 0;
    this.pageBytes = 0;
    this.emptyPages = 0;
    this.pageUnits.fill(0);
    this.unitSlab.fill(NONE);
    this.sClass.fill(NONE);
    this.sNext.fill(NONE);
    this.sPrev.fill(NONE);
    this.pageFree.fill(0);
    this.openPos.fill(NONE);
    this.classSlabs.fill(0);
    this.classLive.fill(0);
    this.partialHead.fill(NONE);
  }
}
