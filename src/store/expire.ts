// Active expiry: keys nobody touches again are reclaimed by sampling keys with
// a TTL, as Redis's activeExpireCycle does. Each call is bounded in time; a db
// is sampled again while more than ACCEPTABLE_STALE of its sample had expired.

import type { Db } from './db.js';

const KEYS_PER_LOOP = 20;
const ACCEPTABLE_STALE = 0.1;

/** Runs one cycle over all dbs. Returns the number of keys expired. */
export function activeExpireCycle(dbs: Db[], now: () => number, budgetMs: number): number {
  const start = performance.now();
  let expired = 0;
  for (const db of dbs) {
    for (;;) {
      const n = db.volatileSize;
      if (n === 0) break;
      const sample = Math.min(n, KEYS_PER_LOOP);
      let hit = 0;
      const t = now();
      for (let i = 0; i < sample; i++) {
        const h = db.table.randomVolatile();
        if (h < 0) break;
        const at = db.table.expireAt(h);
        if (at !== 0 && at <= t) {
          db.expire(h);
          hit++;
        }
      }
      expired += hit;
      if (hit <= sample * ACCEPTABLE_STALE) break;
      if (performance.now() - start > budgetMs) return expired;
    }
  }
  return expired;
}
