// allkeys-random / volatile-random: evict a key picked at random, taking the
// databases in turn as Redis does.

import type { EvictionPolicy, PolicyView } from './policy.js';

/** Picks per database before moving on when the picks are pinned. */
const TRIES = 16;

export function createRandomPolicy(ks: PolicyView, volatileOnly: boolean): EvictionPolicy {
  let next = 0;
  return {
    name: volatileOnly ? 'volatile-random' : 'allkeys-random',
    volatileOnly,
    victim(): number {
      const tables = ks.tables;
      for (let i = 0; i < tables.length; i++) {
        const t = tables[next++ % tables.length];
        if ((volatileOnly ? t.volatileSize : t.size) === 0) continue;
        for (let k = 0; k < TRIES; k++) {
          const ref = volatileOnly ? t.randomVolatile() : t.randomEntry();
          if (!ks.isPinned(ref)) return ref;
        }
      }
      return 0;
    },
  };
}
