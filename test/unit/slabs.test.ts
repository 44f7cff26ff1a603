// The slab allocator on its own (src/store/slabs.ts), against a model of the
// live chunks: a Map from ref to its class and a marker written into the
// chunk. Every step checks that no ref is handed out twice while live, that
// chunks never overlap and keep their bytes, that free chunks are used before
// new slabs are cut, that the allocator's own bookkeeping (check()) holds and
// that the pages stay within the budget the growth callback enforces.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIN_CHUNK, SlabAllocator, UNITS_PER_PAGE, classSizes } from '../../src/store/slabs.js';
import { SlabMover } from '../../src/store/slab-mover.js';

const KB = 1024;
const PAGE = 64 * KB;
const UNIT = PAGE / UNITS_PER_PAGE;

interface Live {
  cls: number;
  marker: number;
}

/** An allocator whose pages may total at most `budget` bytes (0: no limit). */
function makeAllocator(budget: number, factor = 1.25, pageSize = PAGE): SlabAllocator {
  const slab: SlabAllocator = new SlabAllocator(pageSize, factor, (bytes) => budget === 0 || slab.pageBytes + bytes <= budget);
  return slab;
}

function pageOf(slab: SlabAllocator, ref: number): number { return ref >>> slab.pageShift; }
function offsetOf(slab: SlabAllocator, ref: number): number { return (ref & slab.offsetMask) * 8; }

/** Writes `marker` at bytes 4-7 and in the last 4 bytes of the chunk (bytes 0-3 belong to the free list once freed). */
function writeMarker(slab: SlabAllocator, ref: number, marker: number): void {
  const buf = slab.bufs[pageOf(slab, ref)] as Buffer;
  const off = offsetOf(slab, ref);
  const size = slab.chunkSize(ref);
  buf.writeUInt32LE(marker, off + 4);
  buf.writeUInt32LE((marker ^ 0xa5a5a5a5) >>> 0, off + size - 4);
}

function readMarker(slab: SlabAllocator, ref: number): [number, number] {
  const buf = slab.bufs[pageOf(slab, ref)] as Buffer;
  const off = offsetOf(slab, ref);
  const size = slab.chunkSize(ref);
  return [buf.readUInt32LE(off + 4), (buf.readUInt32LE(off + size - 4) ^ 0xa5a5a5a5) >>> 0];
}

/** Every invariant the model can see; returns the first violation, or null. */
function verify(slab: SlabAllocator, live: Map<number, Live>, budget: number, full = true): string | null {
  const err = slab.check();
  if (err !== null) return `check(): ${err}`;
  if (budget > 0 && slab.pageBytes > budget) return `pageBytes ${slab.pageBytes} over the budget ${budget}`;
  if (slab.pageBytes % slab.unitSize !== 0) return `pageBytes ${slab.pageBytes} not a whole number of units`;
  if (slab.pageCount * slab.pageSize < slab.pageBytes) return `${slab.pageCount} pages cannot hold ${slab.pageBytes} bytes`;
  if (budget > 0 && slab.pageCount > Math.ceil(budget / slab.pageSize)) return `${slab.pageCount} pages for a budget of ${budget}`;
  if (slab.emptyPages < 0 || slab.emptyPages > slab.pageCount) return `emptyPages ${slab.emptyPages} of ${slab.pageCount}`;
  let held = 0;
  for (let p = 1; p < slab.bufs.length; p++) if (slab.bufs[p] !== undefined) held += (slab.bufs[p] as Buffer).length;
  if (held !== slab.pageBytes) return `pages hold ${held} bytes, pageBytes says ${slab.pageBytes}`;
  const perClass = new Map<number, number>();
  for (const [ref, { cls, marker }] of live) {
    if (!slab.isLive(ref)) return `live ref ${ref} not marked live`;
    if (slab.classOf(ref) !== cls) return `ref ${ref} of class ${cls} reports class ${slab.classOf(ref)}`;
    const [a, b] = readMarker(slab, ref);
    if (a !== marker || b !== marker) return `ref ${ref}: marker ${marker} became ${a}/${b}`;
    perClass.set(cls, (perClass.get(cls) ?? 0) + 1);
  }
  for (let c = 0; c < slab.classCount; c++) {
    const n = perClass.get(c) ?? 0;
    if (slab.used(c) !== n) return `class ${c}: used ${slab.used(c)}, model ${n}`;
    if (slab.free(c) !== slab.slabs(c) * slab.perSlab[c] - n) return `class ${c}: free ${slab.free(c)} inconsistent`;
  }
  if (full) {
    const ranges = [...live.keys()]
      .map((ref) => ({ ref, page: pageOf(slab, ref), start: offsetOf(slab, ref), end: offsetOf(slab, ref) + slab.chunkSize(ref) }))
      .sort((x, y) => x.page - y.page || x.start - y.start);
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i];
      const buf = slab.bufs[r.page];
      if (buf === undefined || r.end > buf.length) return `ref ${r.ref} ends at ${r.end}, beyond its page`;
      if (i > 0 && ranges[i - 1].page === r.page && ranges[i - 1].end > r.start) return `refs ${ranges[i - 1].ref} and ${r.ref} overlap`;
    }
  }
  return null;
}

describe('classSizes and classFor', () => {
  it('sizes are 8-aligned, increase by at most the factor, follow the exact geometric sequence and end at the maximum', () => {
    fc.assert(fc.property(
      fc.double({ min: 1.01, max: 4, noNaN: true }),
      fc.constantFrom(32 * KB, 512 * KB, 32 * 1024 * KB),
      (factor, max) => {
        const sizes = classSizes(factor, max);
        expect(sizes[0]).toBe(MIN_CHUNK);
        expect(sizes[sizes.length - 1]).toBe(max);
        // The reference: exact MIN_CHUNK * factor^i rounded up to 8, deduplicated, below max.
        const expected: number[] = [];
        for (let exact = MIN_CHUNK; ; exact *= factor) {
          const s = Math.ceil(exact / 8) * 8;
          if (s >= max) break;
          if (expected.length === 0 || s > expected[expected.length - 1]) expected.push(s);
        }
        expected.push(max);
        expect(sizes).toEqual(expected);
        for (let i = 1; i < sizes.length; i++) {
          expect(sizes[i] % 8).toBe(0);
          expect(sizes[i]).toBeGreaterThan(sizes[i - 1]);
          if (i < sizes.length - 1) expect(sizes[i]).toBeLessThanOrEqual(Math.ceil((sizes[i - 1] * factor) / 8) * 8);
        }
      },
    ), { numRuns: 200 });
  });

  it('classes of neighbouring sizes stay the factor apart instead of drifting (no compounding of rounded sizes)', () => {
    const sizes = classSizes(1.25, 512 * KB);
    // Compounding rounded sizes (memcached) would give a larger size here.
    expect(sizes[20]).toBe(Math.ceil((MIN_CHUNK * 1.25 ** 20) / 8) * 8);
  });

  // Regression (fixed), with slab-growth-factor 1.01 (the config allows 1.01..4): more than
  // 256 classes hold at most 4 KiB, and the byte-wide size lookup wraps, so
  // classFor(4000) answers class 0 (48-byte chunks).
  it('classFor answers the smallest class holding n bytes, for every growth factor the config allows', () => {
    for (const factor of [1.01, 1.02, 1.05, 1.1, 1.25, 2, 4]) {
      const slab = makeAllocator(0, factor);
      const sizes = slab.sizes;
      const bad: number[] = [];
      for (let n = 1; n <= slab.maxChunk; n += n < 8192 ? 1 : 7) {
        const c = slab.classFor(n);
        if (!(c >= 0 && sizes[c] >= n && (c === 0 || sizes[c - 1] < n))) bad.push(n);
      }
      expect(slab.classFor(slab.maxChunk + 1)).toBe(-1);
      expect(bad.slice(0, 3), `factor ${factor}: classFor wrong for ${bad.length} sizes, first ${bad.slice(0, 3).join(', ')}`).toEqual([]);
    }
  });

  it('slabs have 1..16 units and at least 8 chunks unless they take a whole page', () => {
    for (const pageSize of [PAGE, 1024 * KB]) {
      const slab = makeAllocator(0, 1.25, pageSize);
      for (let c = 0; c < slab.classCount; c++) {
        const units = slab.unitsPerSlab[c];
        expect([1, 2, 4, 8, 16]).toContain(units);
        expect(slab.perSlab[c]).toBe(Math.floor((units * slab.unitSize) / slab.sizes[c]));
        if (units < 16) expect(slab.perSlab[c]).toBeGreaterThanOrEqual(8);
        if (units > 1) expect(((units / 2) * slab.unitSize) / slab.sizes[c]).toBeLessThan(8);
      }
    }
  });

  it('rejects a page size that is not a power of two of at least 64kb', () => {
    expect(() => new SlabAllocator(32 * KB, 1.25, () => true)).toThrow();
    expect(() => new SlabAllocator(96 * KB, 1.25, () => true)).toThrow();
    expect(() => new SlabAllocator(PAGE, 1.25, () => true)).not.toThrow();
  });
});

describe('alloc and release', () => {
  it('hands out distinct chunks of the class, reuses a freed one first, and leaves a freed chunk alone past its first 4 bytes', () => {
    const slab = makeAllocator(0);
    const cls = slab.classFor(100);
    const a = slab.alloc(cls);
    const b = slab.alloc(cls);
    const c = slab.alloc(cls);
    expect(new Set([a, b, c]).size).toBe(3);
    for (const r of [a, b, c]) {
      expect(r).not.toBe(0);
      expect(slab.classOf(r)).toBe(cls);
      expect(slab.chunkSize(r)).toBe(slab.sizes[cls]);
    }
    const buf = slab.bufs[pageOf(slab, b)] as Buffer;
    const off = offsetOf(slab, b);
    buf.fill(0x5a, off, off + slab.chunkSize(b));
    slab.release(b);
    expect(slab.isLive(b)).toBe(false);
    expect(buf.subarray(off + 4, off + slab.chunkSize(b)).every((x) => x === 0x5a)).toBe(true);
    expect(slab.alloc(cls)).toBe(b);
    expect(slab.slabs(cls)).toBe(1);
    expect(() => { slab.release(c); slab.release(c); }).toThrow(/freed twice/);
    expect(slab.check()).toBeNull();
  });

  it('a slab whose last chunk is freed gives its units back; without holdEmptyPages the page goes too', () => {
    const slab = makeAllocator(0);
    const cls = slab.classFor(200);
    const refs = Array.from({ length: slab.perSlab[cls] + 3 }, () => slab.alloc(cls));
    expect(slab.slabs(cls)).toBe(2);
    expect(slab.pageCount).toBe(1);
    for (const r of refs) slab.release(r);
    expect(slab.slabs(cls)).toBe(0);
    expect(slab.pageCount).toBe(0);
    expect(slab.pageBytes).toBe(0);
    expect(slab.check()).toBeNull();
  });

  it('with holdEmptyPages, emptied pages stay for any class until dropEmptyPage', () => {
    const slab = makeAllocator(0);
    slab.holdEmptyPages = true;
    const big = slab.classFor(20 * KB); // whole-page slabs
    const refs = Array.from({ length: 3 * slab.perSlab[big] }, () => slab.alloc(big));
    expect(slab.pageCount).toBe(3);
    for (const r of refs) slab.release(r);
    expect(slab.pageCount).toBe(3);
    expect(slab.emptyPages).toBe(3);
    const small = slab.alloc(0);
    expect(slab.pageCount).toBe(3);
    expect(slab.emptyPages).toBe(2);
    expect(slab.dropEmptyPage()).toBe(true);
    expect(slab.dropEmptyPage()).toBe(true);
    expect(slab.dropEmptyPage()).toBe(false);
    expect(slab.pageCount).toBe(1);
    expect(slab.isLive(small)).toBe(true);
    expect(slab.check()).toBeNull();
  });

  it('a budget that is not a multiple of the page size gets a short last page, used to the unit', () => {
    for (const extraUnits of [1, 3, 5, 10, 15]) {
      const budget = 2 * PAGE + extraUnits * UNIT + 1000; // 1000 bytes: not even a whole unit
      const slab = makeAllocator(budget);
      const live = new Map<number, Live>();
      let marker = 1;
      for (;;) {
        const r = slab.alloc(0);
        if (r === 0) break;
        writeMarker(slab, r, marker);
        live.set(r, { cls: 0, marker: marker++ });
      }
      expect(slab.pageCount).toBe(3);
      expect(slab.pageBytes).toBe(2 * PAGE + extraUnits * UNIT);
      expect(live.size).toBe((32 + extraUnits) * slab.perSlab[0]);
      const lastPage = Math.max(...[...live.keys()].map((r) => pageOf(slab, r)));
      expect((slab.bufs[lastPage] as Buffer).length).toBe(extraUnits * UNIT);
      expect(verify(slab, live, budget)).toBeNull();
      // Multi-unit classes take the short page only where an aligned run fits.
      for (const r of [...live.keys()].filter((x) => pageOf(slab, x) === lastPage)) {
        slab.release(r);
        live.delete(r);
      }
      slab.holdEmptyPages = true;
      const cls8 = slab.classFor(3000); // 8-unit slabs
      expect(slab.unitsPerSlab[cls8]).toBe(8);
      const r8 = slab.alloc(cls8);
      if (extraUnits >= 8) {
        expect(r8).not.toBe(0);
        expect(pageOf(slab, r8)).toBe(lastPage);
      } else {
        expect(r8).toBe(0);
      }
      expect(slab.pageBytes).toBeLessThanOrEqual(budget);
      expect(slab.check()).toBeNull();
    }
  });

  it('alloc fails (returns 0) only when the class has no free chunk and the budget has no room for its slab', () => {
    const budget = 3 * PAGE + 2 * UNIT;
    const slab = makeAllocator(budget);
    const cls16 = slab.classFor(20 * KB);
    const a = slab.alloc(cls16);
    const b = slab.alloc(cls16);
    expect(a).not.toBe(0);
    while (slab.alloc(cls16) !== 0);
    expect(slab.free(cls16)).toBe(0);
    expect(slab.pageCount).toBe(3);
    // No whole page left, but two units: a one-unit class still gets a short page.
    expect(slab.alloc(0)).not.toBe(0);
    expect(slab.pageBytes).toBe(budget);
    slab.release(b);
    expect(slab.alloc(cls16)).toBe(b);
    expect(slab.check()).toBeNull();
  });
});

type Op =
  | { kind: 'alloc'; cls: number; count: number }
  | { kind: 'free'; pick: number; count: number }
  | { kind: 'idle'; need: number; refuse: number }
  | { kind: 'run'; need: number; refuse: number }
  | { kind: 'page'; refuse: number }
  | { kind: 'drop' };

describe('random alloc/free/evacuation sequences against a model', () => {
  const probe = makeAllocator(0);
  // Classes with 1, 2, 4, 8 and 16 units per slab.
  const classes = [48, 100, 300, 700, 1500, 3000, 10000, 30000].map((n) => probe.classFor(n));
  const needs = [1, 2, 4, 8, 16];

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('alloc' as const), cls: fc.constantFrom(...classes), count: fc.integer({ min: 1, max: 40 }) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat(), count: fc.integer({ min: 1, max: 40 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('idle' as const), need: fc.constantFrom(...needs), refuse: fc.integer({ min: 0, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('run' as const), need: fc.constantFrom(...needs), refuse: fc.integer({ min: 0, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('page' as const), refuse: fc.integer({ min: 0, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const) }) },
  );

  function run(ops: Op[], budgetUnits: number, hold: boolean): void {
    const budget = budgetUnits * UNIT + 123;
    const slab = makeAllocator(budget);
    slab.holdEmptyPages = hold;
    const live = new Map<number, Live>();
    let nextMarker = 1;
    const fail = (step: number, msg: string) => { throw new Error(`step ${step} (${JSON.stringify(ops[step])}): ${msg}`); };

    /** A mover as the keyspace's: a chunk of the same class, the bytes copied, the old chunk released. */
    const mover = (refused: Set<number>, moved: number[]) => (ref: number): boolean => {
      const entry = live.get(ref);
      if (entry === undefined || !slab.isLive(ref)) throw new Error(`mover called with ${ref}, which is not a live chunk`);
      if (refused.has(ref)) return false;
      const to = slab.alloc(entry.cls);
      if (to === 0) return false;
      if (live.has(to)) throw new Error(`mover got live ref ${to}`);
      const size = slab.chunkSize(ref);
      const from = slab.bufs[pageOf(slab, ref)] as Buffer;
      from.copy(slab.bufs[pageOf(slab, to)] as Buffer, offsetOf(slab, to), offsetOf(slab, ref), offsetOf(slab, ref) + size);
      slab.release(ref);
      live.delete(ref);
      live.set(to, entry);
      moved.push(ref);
      return true;
    };
    const refusedSet = (n: number): Set<number> => {
      // Refuse every n-th live chunk (n = 0: none).
      const s = new Set<number>();
      if (n === 0) return s;
      let i = 0;
      for (const ref of live.keys()) if (i++ % (n + 1) === 0) s.add(ref);
      return s;
    };

    ops.forEach((op, step) => {
      switch (op.kind) {
        case 'alloc': {
          for (let i = 0; i < op.count; i++) {
            const freeBefore = slab.free(op.cls);
            const slabsBefore = slab.slabs(op.cls);
            const pagesBefore = slab.pageCount;
            const bytesBefore = slab.pageBytes;
            const ref = slab.alloc(op.cls);
            if (ref === 0) {
              if (freeBefore !== 0) fail(step, `alloc failed with ${freeBefore} free chunks in the class`);
              if (bytesBefore + slab.unitsPerSlab[op.cls] * UNIT <= budget && slab.emptyPages === 0) {
                fail(step, `alloc failed with room in the budget for a new page (${bytesBefore} of ${budget})`);
              }
              break;
            }
            if (live.has(ref)) fail(step, `ref ${ref} handed out twice`);
            if (freeBefore > 0 && (slab.slabs(op.cls) !== slabsBefore || slab.pageCount !== pagesBefore)) {
              fail(step, 'a new slab was cut while the class had free chunks');
            }
            if (slab.classOf(ref) !== op.cls) fail(step, `ref ${ref} of class ${slab.classOf(ref)}, asked ${op.cls}`);
            writeMarker(slab, ref, nextMarker);
            live.set(ref, { cls: op.cls, marker: nextMarker++ });
          }
          break;
        }
        case 'free': {
          const refs = [...live.keys()];
          for (let i = 0; i < op.count && i < refs.length; i++) {
            const ref = refs[(op.pick + i * 7919) % refs.length];
            if (!live.has(ref)) continue;
            slab.release(ref);
            live.delete(ref);
            if (slab.isLive(ref)) fail(step, `ref ${ref} still live after release`);
          }
          break;
        }
        case 'idle':
        case 'run':
        case 'page': {
          const refused = refusedSet(op.refuse);
          const moved: number[] = [];
          const before = new Map(live);
          const pagesBefore = slab.pageCount;
          const emptyBefore = slab.emptyPages;
          const unitsBefore = unitsHeld(slab);
          const move = mover(refused, moved);
          const ok = op.kind === 'idle' ? new SlabMover(slab).reclaimFromIdleClass(op.need, move)
            : op.kind === 'run' ? new SlabMover(slab).reclaimRun(op.need, move)
            : new SlabMover(slab).reclaimPage(move);
          // Refused chunks stay where they were, with their bytes.
          for (const r of refused) if (before.has(r) && !live.has(r)) fail(step, `refused chunk ${r} was dropped`);
          // Every chunk is still there (moved or not), with its marker.
          if (live.size !== before.size) fail(step, `${before.size} chunks before, ${live.size} after`);
          if (slab.pageCount > pagesBefore) fail(step, 'evacuation added a page');
          if (ok) {
            if (op.kind === 'idle' && unitsHeld(slab) > unitsBefore - op.need) fail(step, `idle reclaim freed fewer than ${op.need} units`);
            if (op.kind === 'page' && !(slab.emptyPages > emptyBefore || slab.pageCount < pagesBefore)) fail(step, 'reclaimPage succeeded but no page is empty');
            if (op.kind === 'run' || op.kind === 'idle') {
              // A slab of `need` units now fits without a new page.
              const cls = classes.find((c) => slab.unitsPerSlab[c] === op.need && slab.free(c) === 0);
              if (cls !== undefined) {
                // (Without holdEmptyPages an emptied page was given back: the slab may take a new one in its place.)
                const r = slab.alloc(cls);
                if (r === 0 || slab.pageCount > pagesBefore) fail(step, `after ${op.kind} reclaim of ${op.need} units, a ${op.need}-unit slab needed a new page`);
                writeMarker(slab, r, nextMarker);
                live.set(r, { cls, marker: nextMarker++ });
              }
            }
          } else if (slab.emptyPages > emptyBefore) {
            fail(step, `a failed ${op.kind} reclaim emptied a page`);
          }
          break;
        }
        case 'drop': {
          const pages = slab.pageCount;
          const empty = slab.emptyPages;
          const dropped = slab.dropEmptyPage();
          if (dropped !== (empty > 0)) fail(step, `dropEmptyPage ${dropped} with ${empty} empty pages`);
          if (dropped && slab.pageCount !== pages - 1) fail(step, 'dropEmptyPage did not drop a page');
          break;
        }
      }
      const err = verify(slab, live, budget, step % 8 === 0 || step === ops.length - 1);
      if (err !== null) fail(step, err);
    });
    // Everything freed: nothing live, and without holdEmptyPages no page left.
    for (const ref of [...live.keys()]) {
      slab.release(ref);
      live.delete(ref);
    }
    expect(verify(slab, live, budget)).toBeNull();
    for (let c = 0; c < slab.classCount; c++) expect(slab.slabs(c)).toBe(0);
    if (!hold) expect(slab.pageCount).toBe(0);
    else expect(slab.emptyPages).toBe(slab.pageCount);
  }

  function unitsHeld(slab: SlabAllocator): number {
    let n = 0;
    for (let c = 0; c < slab.classCount; c++) n += slab.slabs(c) * slab.unitsPerSlab[c];
    return n;
  }

  it('no ref twice, no overlap, bytes intact, check() and the budget hold (pages held when empty)', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 120 }), fc.integer({ min: 20, max: 110 }), (ops, budgetUnits) => {
      run(ops, budgetUnits, true);
    }), { numRuns: 150 });
  });

  it('the same with empty pages given back at once', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 120 }), fc.integer({ min: 20, max: 110 }), (ops, budgetUnits) => {
      run(ops, budgetUnits, false);
    }), { numRuns: 100 });
  });
});

describe('evacuation', () => {
  /** A budget-bound allocator filled with chunks of `cls`, every other one freed: lots of idle chunks. */
  function fragmented(cls: number, pages: number) {
    const budget = pages * PAGE;
    const slab = makeAllocator(budget);
    slab.holdEmptyPages = true;
    const live = new Map<number, Live>();
    let marker = 1;
    for (;;) {
      const r = slab.alloc(cls);
      if (r === 0) break;
      writeMarker(slab, r, marker);
      live.set(r, { cls, marker: marker++ });
    }
    let i = 0;
    for (const r of [...live.keys()]) {
      if (i++ % 2 === 0) {
        slab.release(r);
        live.delete(r);
      }
    }
    return { slab, live, budget };
  }

  function copyingMover(slab: SlabAllocator, live: Map<number, Live>, refuse: (ref: number) => boolean, calls: number[]) {
    return (ref: number): boolean => {
      calls.push(ref);
      expect(slab.isLive(ref)).toBe(true);
      if (refuse(ref)) return false;
      const entry = live.get(ref) as Live;
      const to = slab.alloc(entry.cls);
      if (to === 0) return false;
      const size = slab.chunkSize(ref);
      (slab.bufs[pageOf(slab, ref)] as Buffer).copy(slab.bufs[pageOf(slab, to)] as Buffer, offsetOf(slab, to), offsetOf(slab, ref), offsetOf(slab, ref) + size);
      slab.release(ref);
      live.delete(ref);
      live.set(to, entry);
      return true;
    };
  }

  it('reclaimFromIdleClass empties the emptiest slab of the idlest class into its other slabs', () => {
    const cls = probeClass(100);
    const { slab, live, budget } = fragmented(cls, 3);
    const slabsBefore = slab.slabs(cls);
    const calls: number[] = [];
    const ok = new SlabMover(slab).reclaimFromIdleClass(1, copyingMover(slab, live, () => false, calls));
    expect(ok).toBe(true);
    expect(calls.length).toBeGreaterThan(0);
    expect(slab.slabs(cls)).toBe(slabsBefore - 1);
    expect(verify(slab, live, budget)).toBeNull();
    // The freed unit goes to another class without a new page.
    const other = probeClass(300);
    const pages = slab.pageCount;
    expect(slab.alloc(other)).not.toBe(0);
    expect(slab.pageCount).toBe(pages);
  });

  it('reclaimFromIdleClass does nothing when no class has a slab worth of idle chunks, or its slabs are too small', () => {
    const slab = makeAllocator(2 * PAGE);
    const cls = probeClass(100);
    const refs = Array.from({ length: slab.perSlab[cls] + 1 }, () => slab.alloc(cls));
    const calls: number[] = [];
    expect(new SlabMover(slab).reclaimFromIdleClass(1, (r) => { calls.push(r); return true; })).toBe(false);
    expect(calls).toEqual([]);
    for (const r of refs.slice(0, slab.perSlab[cls] - 1)) slab.release(r);
    // Idle chunks now exceed a slab, but one-unit slabs cannot give 2 units.
    expect(new SlabMover(slab).reclaimFromIdleClass(2, (r) => { calls.push(r); return true; })).toBe(false);
    expect(calls).toEqual([]);
    expect(slab.check()).toBeNull();
  });

  it('reclaimRun frees an aligned run of units by moving the fewest chunks', () => {
    const small = probeClass(100);
    const { slab, live, budget } = fragmented(small, 2);
    const calls: number[] = [];
    const ok = new SlabMover(slab).reclaimRun(4, copyingMover(slab, live, () => false, calls));
    expect(ok).toBe(true);
    expect(verify(slab, live, budget)).toBeNull();
    const cls4 = probeClass(1500);
    expect(slab.unitsPerSlab[cls4]).toBe(4);
    const pages = slab.pageCount;
    expect(slab.alloc(cls4)).not.toBe(0);
    expect(slab.pageCount).toBe(pages);
    // It moved no more than 4 units' worth of live chunks.
    expect(calls.length).toBeLessThanOrEqual(4 * Math.ceil(slab.perSlab[small] / 2));
  });

  it('reclaimPage empties a whole page, the short last one included, and dropEmptyPage gives it back', () => {
    const cls = probeClass(100);
    const budget = 2 * PAGE + 6 * UNIT;
    const slab = makeAllocator(budget);
    slab.holdEmptyPages = true;
    const live = new Map<number, Live>();
    let marker = 1;
    for (let r = slab.alloc(cls); r !== 0; r = slab.alloc(cls)) {
      writeMarker(slab, r, marker);
      live.set(r, { cls, marker: marker++ });
    }
    expect(slab.pageBytes).toBe(budget);
    // Half the short page's chunks go, a third of the others': the short page is the cheapest to empty.
    const shortPage = Math.max(...[...live.keys()].map((r) => pageOf(slab, r)));
    let k = 0;
    for (const r of [...live.keys()]) {
      if (pageOf(slab, r) === shortPage ? k++ % 2 === 0 : k++ % 3 === 0) {
        slab.release(r);
        live.delete(r);
      }
    }
    const calls: number[] = [];
    expect(new SlabMover(slab).reclaimPage(copyingMover(slab, live, () => false, calls))).toBe(true);
    expect(slab.emptyPages).toBe(1);
    expect(verify(slab, live, budget)).toBeNull();
    const emptied = [...Array(slab.bufs.length).keys()].filter((p) => p > 0 && slab.bufs[p] !== undefined && ![...live.keys()].some((r) => pageOf(slab, r) === p));
    expect(emptied).toEqual([shortPage]);
    const bytes = slab.pageBytes;
    expect(slab.dropEmptyPage()).toBe(true);
    expect(slab.pageBytes).toBe(bytes - 6 * UNIT);
    expect(slab.pageCount).toBe(2);
    expect(verify(slab, live, slab.pageBytes)).toBeNull();
  });

  it('a chunk the mover refuses stays where it is, with its bytes; its slab takes chunks again afterwards', () => {
    for (const kind of ['idle', 'run', 'page'] as const) {
      const cls = probeClass(100);
      const { slab, live, budget } = fragmented(cls, 2);
      const calls: number[] = [];
      let refusedRef = 0;
      const mover = copyingMover(slab, live, (ref) => {
        // Refuse the second chunk asked for.
        if (calls.length === 2) {
          refusedRef = ref;
          return true;
        }
        return false;
      }, calls);
      const ok = kind === 'idle' ? new SlabMover(slab).reclaimFromIdleClass(1, mover) : kind === 'run' ? new SlabMover(slab).reclaimRun(1, mover) : new SlabMover(slab).reclaimPage(mover);
      expect(ok, kind).toBe(false);
      expect(calls.length, kind).toBe(2); // it stops at the first refusal
      expect(live.has(refusedRef), kind).toBe(true);
      expect(slab.isLive(refusedRef), kind).toBe(true);
      expect(verify(slab, live, budget), kind).toBeNull();
      // Nothing is left draining: freeing chunks of that slab and allocating again works as usual.
      const sameSlab = [...live.keys()].filter((r) => r >>> slab.unitShift === refusedRef >>> slab.unitShift);
      for (const r of sameSlab) {
        slab.release(r);
        live.delete(r);
      }
      expect(verify(slab, live, budget), kind).toBeNull();
      const again = slab.alloc(cls);
      expect(again, kind).not.toBe(0);
      writeMarker(slab, again, 999);
      live.set(again, { cls, marker: 999 });
      expect(verify(slab, live, budget), kind).toBeNull();
    }
  });

  it('while a run is evacuated, the mover is never handed a chunk inside it', () => {
    const cls = probeClass(100);
    const { slab, live } = fragmented(cls, 2);
    const sources: number[] = [];
    const targets: number[] = [];
    const mover = (ref: number): boolean => {
      const entry = live.get(ref) as Live;
      const to = slab.alloc(entry.cls);
      if (to === 0) return false;
      sources.push(ref);
      targets.push(to);
      (slab.bufs[pageOf(slab, ref)] as Buffer).copy(slab.bufs[pageOf(slab, to)] as Buffer, offsetOf(slab, to), offsetOf(slab, ref), offsetOf(slab, ref) + slab.chunkSize(ref));
      slab.release(ref);
      live.delete(ref);
      live.set(to, entry);
      return true;
    };
    expect(new SlabMover(slab).reclaimPage(mover)).toBe(true);
    const sourcePages = new Set(sources.map((r) => pageOf(slab, r)));
    expect(sourcePages.size).toBe(1);
    for (const t of targets) expect(sourcePages.has(pageOf(slab, t))).toBe(false);
    expect(slab.check()).toBeNull();
  });
});

function probeClass(bytes: number): number {
  return makeAllocator(0).classFor(bytes);
}
