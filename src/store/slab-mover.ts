// The page mover: taking memory back from a size class by emptying a run of
// units (moving its live chunks into free chunks of their class elsewhere)
// so that another class, or the system, gets it. It only chooses what to
// empty, reading the allocator's slab directory; the allocator empties it
// (SlabAllocator.evacuate) and the caller moves each chunk (memcached keeps
// its slab mover apart from slabs.c the same way). Pinned chunks (handles a
// command holds, leases) are never moved, so a run holding one is skipped.

import { NONE, UNITS_PER_PAGE, type ChunkMover, type SlabAllocator } from './slabs.js';

export class SlabMover {
  constructor(private readonly slabs: SlabAllocator) {}

  /**
   * Frees `need` aligned units without losing a chunk, the cheap way: the
   * class with the most idle chunks, if it has at least a slab's worth (so
   * its emptiest slab surely fits into the others) and slabs of at least
   * `need` units, gives its emptiest slab. Returns whether units were freed.
   */
  reclaimFromIdleClass(need: number, move: ChunkMover, pinned: ArrayLike<number> = []): boolean {
    const slabs = this.slabs;
    let best = NONE;
    let bestRatio = 1;
    for (let c = 0; c < slabs.classCount; c++) {
      if (slabs.unitsPerSlab[c] < need || slabs.firstPartial(c) === NONE) continue;
      const r = slabs.free(c) / slabs.perSlab[c];
      if (r >= bestRatio) {
        best = c;
        bestRatio = r;
      }
    }
    if (best === NONE) return false;
    const s = this.emptiestSlab(best, pinned);
    return s !== NONE && slabs.evacuate(s, slabs.unitsPerSlab[best], move);
  }

  /**
   * Frees `need` aligned units without losing a chunk, the thorough way: the
   * run whose live chunks fit into free chunks of their classes elsewhere,
   * moving the fewest. Scans every page.
   */
  reclaimRun(need: number, move: ChunkMover, pinned: ArrayLike<number> = []): boolean {
    const first = this.cheapestRun(need, false, pinned);
    return first !== NONE && this.slabs.evacuate(first, need, move);
  }

  /** Empties a whole page by moving its chunks into free chunks elsewhere; true when one became empty. */
  reclaimPage(move: ChunkMover, pinned: ArrayLike<number> = []): boolean {
    const first = this.cheapestRun(UNITS_PER_PAGE, true, pinned);
    return first !== NONE && this.slabs.evacuate(first, this.slabs.unitsOf(Math.floor(first / UNITS_PER_PAGE)), move);
  }

  /** Whether one of `refs` lies in the units [first, first + units). */
  private holdsAny(first: number, units: number, refs: ArrayLike<number>): boolean {
    const shift = this.slabs.unitShift;
    for (let i = 0; i < refs.length; i++) {
      const u = refs[i] >>> shift;
      if (u >= first && u < first + units) return true;
    }
    return false;
  }

  private emptiestSlab(cls: number, pinned: ArrayLike<number>): number {
    const slabs = this.slabs;
    let best = NONE;
    let bestLive = Infinity;
    for (let s = slabs.firstPartial(cls); s !== NONE; s = slabs.nextPartial(s)) {
      if (slabs.slabLive(s) < bestLive && !this.holdsAny(s, slabs.unitsPerSlab[cls], pinned)) {
        best = s;
        bestLive = slabs.slabLive(s);
      }
    }
    return best;
  }

  /**
   * The aligned run of `want` units that can be emptied by moving its live
   * chunks into free chunks of their classes outside it, moving the fewest;
   * NONE when there is none. `wholePages`: runs are whole pages, whatever
   * their size (a short last page included), that are not already empty.
   */
  private cheapestRun(want: number, wholePages: boolean, pinned: ArrayLike<number>): number {
    if (want === 1 && !wholePages) return this.cheapestSlab(pinned);
    const slabs = this.slabs;
    let best = NONE;
    let bestCost = Infinity;
    const liveIn = new Map<number, number>();
    const freeIn = new Map<number, number>();
    for (let p = 1; p < slabs.pageSlots; p++) {
      if (!slabs.hasPage(p) || (wholePages && slabs.pageIsEmpty(p))) continue;
      const pageUnits = slabs.unitsOf(p);
      const units = wholePages ? pageUnits : want;
      for (let pos = 0; pos + units <= pageUnits; pos += units) {
        const first = p * UNITS_PER_PAGE + pos;
        // Slabs are aligned runs too: one bigger than this run covers it and cannot be split.
        const owner = slabs.unitOwner(first);
        if (owner !== NONE && (owner !== first || slabs.unitsPerSlab[slabs.slabClass(owner)] > units)) continue;
        if (this.holdsAny(first, units, pinned)) continue;
        liveIn.clear();
        freeIn.clear();
        let cost = 0;
        for (let u = first; u < first + units; u++) {
          if (slabs.unitOwner(u) !== u) continue;
          const c = slabs.slabClass(u);
          const live = slabs.slabLive(u);
          cost += live;
          liveIn.set(c, (liveIn.get(c) ?? 0) + live);
          freeIn.set(c, (freeIn.get(c) ?? 0) + slabs.perSlab[c] - live);
        }
        if (cost >= bestCost) continue;
        let fits = true;
        for (const [c, live] of liveIn) if (live > slabs.free(c) - (freeIn.get(c) as number)) fits = false;
        if (fits) {
          best = first;
          bestCost = cost;
        }
      }
    }
    return best;
  }

  /**
   * cheapestRun for one unit: a one-unit slab (any free unit would have been
   * taken already) whose live chunks fit into its class's free chunks in
   * other slabs. Only slabs with free chunks can be the cheapest, so the
   * classes' partial lists are enough.
   */
  private cheapestSlab(pinned: ArrayLike<number>): number {
    const slabs = this.slabs;
    let best = NONE;
    let bestLive = Infinity;
    for (let c = 0; c < slabs.classCount; c++) {
      if (slabs.unitsPerSlab[c] !== 1) continue;
      const free = slabs.free(c);
      const per = slabs.perSlab[c];
      for (let s = slabs.firstPartial(c); s !== NONE; s = slabs.nextPartial(s)) {
        const live = slabs.slabLive(s);
        if (live < bestLive && live <= free - (per - live) && !this.holdsAny(s, 1, pinned)) {
          best = s;
          bestLive = live;
        }
      }
    }
    return best;
  }
}
