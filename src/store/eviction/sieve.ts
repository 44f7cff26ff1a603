// allkeys-sieve / volatile-sieve: SIEVE (Zhang et al., NSDI 2024). Items sit
// in one queue in insertion order; a hit only sets the item's visited bit.
// To evict, a hand moves from the oldest item towards the newest: a visited
// item loses its bit and stays where it is, the first unvisited one is the
// victim, and the hand stays there for next time, wrapping to the oldest
// item after the newest. New items are examined soon after they arrive, so
// one-hit wonders leave quickly, while popular ones survive laps.
//
// volatile-sieve walks the same queue skipping keys without a TTL. When few
// keys have one (under 1 in 8), walking past the others would cost too much:
// it then samples keys with a TTL and takes the first unvisited one,
// clearing the bits it passes (CLOCK on a sample).

import type { EvictionPolicy, PolicyView } from './policy.js';

const SAMPLE_TRIES = 32;

export function createSievePolicy(ks: PolicyView, volatileOnly: boolean): EvictionPolicy {
  const items = ks.items;
  let hand = 0;

  /** A key with a TTL picked uniformly over every database's. */
  const randomVolatile = (total: number): number => {
    let i = Math.floor(Math.random() * total);
    for (const t of ks.tables) {
      if (i < t.volatileSize) return t.volatileAt(i);
      i -= t.volatileSize;
    }
    return 0;
  };

  const sampledVolatile = (total: number): number => {
    let fallback = 0;
    for (let k = 0; k < SAMPLE_TRIES; k++) {
      const ref = randomVolatile(total);
      if (ref === 0 || ks.isPinned(ref)) continue;
      if (!items.visited(ref)) return ref;
      items.clearVisited(ref);
      fallback = ref;
    }
    return fallback;
  };

  return {
    name: volatileOnly ? 'volatile-sieve' : 'allkeys-sieve',
    volatileOnly,
    victim(): number {
      const n = ks.itemCount;
      if (n === 0) return 0;
      if (volatileOnly) {
        const v = ks.volatileCount;
        if (v === 0) return 0;
        if (v * 8 < n) return sampledVolatile(v);
      }
      let h = hand !== 0 ? hand : ks.queues.tail;
      // Two laps at most: the first clears every bit, the second must find a victim.
      for (let steps = 2 * n + 1; steps > 0; steps--) {
        if (h === 0) h = ks.queues.tail;
        const newer = ks.queues.newer(h);
        if ((volatileOnly && items.expireAt(h) === 0) || ks.isPinned(h)) {
          h = newer;
          continue;
        }
        if (items.visited(h)) {
          items.clearVisited(h);
          h = newer;
          continue;
        }
        hand = newer;
        return h;
      }
      return 0;
    },
    forget(ref: number): void {
      if (ref === hand) hand = ks.queues.newer(ref);
    },
    moved(from: number, to: number): void {
      if (hand === from) hand = to;
    },
  };
}
