// allkeys-s3fifo: S3-FIFO (Yang et al., SOSP 2023). New items enter a small
// FIFO queue (a tenth of the items); most are read once or never and leave
// from there quickly. One read while in the small queue earns a place in the
// main FIFO queue, where an item is kept for as long as it is read: at the
// tail, each read since it last got there buys it one more trip (up to 3).
// The keys of items evicted from the small queue are remembered in a ghost
// table, so one that comes back goes straight to the main queue. Hits only
// count (two bits in the item); all queue work happens at eviction time.
//
// The ghost is one 32-bit key hash per slot, as many slots as items, slots
// chosen by the hash: a newer ghost overwrites an older one, so a ghost lives
// for about as many evictions as the cache holds items, as the paper's ghost
// queue (sized like the main queue) does.

import type { EvictionPolicy, PolicyView } from './policy.js';

/** The small queue's share of the items. */
const SMALL_SHARE = 0.1;
const MIN_GHOST = 1024;

export function createS3FifoPolicy(ks: PolicyView): EvictionPolicy {
  const items = ks.items;
  const seed = ks.seed ^ 0x9e3779b9;
  let ghost = new Uint32Array(MIN_GHOST);
  ks.chargeMetadata(ghost.byteLength);

  const keyHash = (ref: number): number => (items.keyHash(ref, seed) | 1) >>> 0;

  /** Keeps about one ghost slot per item (a resize forgets the ghosts, which only costs a few promotions). */
  const fitGhost = (): void => {
    let n = MIN_GHOST;
    while (n < ks.itemCount) n *= 2;
    if (n === ghost.length || (n < ghost.length && n * 4 > ghost.length)) return;
    if (n > ghost.length && !ks.canGrow(n * 4 - ghost.byteLength)) return;
    ks.chargeMetadata(n * 4 - ghost.byteLength);
    ghost = new Uint32Array(n);
  };

  return {
    name: 'allkeys-s3fifo',
    volatileOnly: false,
    usesMainQueue: true,
    inserted(ref: number): void {
      const h = keyHash(ref);
      const i = h & (ghost.length - 1);
      if (ghost[i] === h) {
        ghost[i] = 0;
        ks.queues.requeue(ref, true);
      }
    },
    victim(): number {
      // Every item can be looked at a few times (promotions, reinsertions) before one must go.
      // Pinned items met in a row at the small queue's tail: once they are all of it, main's turn.
      let pinnedRun = 0;
      for (let steps = 4 * ks.itemCount + 4; steps > 0; steps--) {
        const fromSmall = ks.queues.count > pinnedRun && (ks.queues.count >= ks.itemCount * SMALL_SHARE || ks.queues.mainCount === 0);
        const t = fromSmall ? ks.queues.tail : ks.queues.mainTail;
        if (t === 0) return 0;
        const hits = items.hits(t);
        if (ks.isPinned(t)) {
          if (fromSmall) pinnedRun++;
          ks.queues.requeue(t, !fromSmall);
          continue;
        }
        if (fromSmall) pinnedRun = 0;
        if (fromSmall) {
          if (hits > 0) {
            items.setHits(t, 0);
            ks.queues.requeue(t, true);
            continue;
          }
          fitGhost();
          const h = keyHash(t);
          ghost[h & (ghost.length - 1)] = h;
          return t;
        }
        if (hits > 0) {
          items.setHits(t, hits - 1);
          ks.queues.requeue(t, true);
          continue;
        }
        return t;
      }
      return 0;
    },
    dispose(): void {
      ks.chargeMetadata(-ghost.byteLength);
    },
  };
}
