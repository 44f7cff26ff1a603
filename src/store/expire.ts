// Active expiry: keys nobody touches again are reclaimed by sampling keys with
// a TTL, as Redis's activeExpireCycle does. Each db's keys with a TTL are
// walked with a cursor, KEYS_PER_LOOP at a time, so every one is checked
// within a bounded number of cycles; a db is sampled again at once while
// more than ACCEPTABLE_STALE of a sample had expired. The whole call is
// bounded in time, and the next call resumes with the db where it stopped.

import type { Db } from './db.js';

const KEYS_PER_LOOP = 20;
const ACCEPTABLE_STALE = 0.1;
/** Dbs visited per call when there are many (Redis's CRON_DBS_PER_CALL). */
const DBS_PER_CALL = 16;
/** Check the clock every this many sample loops. */
const LOOPS_PER_TIME_CHECK = 16;

interface CycleState {
  nextDb: number;
  cursors: WeakMap<Db, number>;
}

const states = new WeakMap<Db[], CycleState>();

function stateOf(dbs: Db[]): CycleState {
  let s = states.get(dbs);
  if (!s) {
    s = { nextDb: 0, cursors: new WeakMap() };
    states.set(dbs, s);
  }
  return s;
}

/** Runs one cycle over the dbs. Returns the number of keys expired. */
export function activeExpireCycle(dbs: Db[], now: () => number, budgetMs: number): number {
  const start = performance.now();
  const state = stateOf(dbs);
  const n = dbs.length;
  if (n === 0) return 0;
  let expired = 0;
  let loops = 0;
  const perCall = Math.min(n, DBS_PER_CALL);
  for (let d = 0; d < perCall; d++) {
    const db = dbs[state.nextDb % n];
    state.nextDb = (state.nextDb + 1) % n;
    let cursor = state.cursors.get(db) ?? 0;
    for (;;) {
      const t = db.table;
      const size = t.volatileSize;
      if (size === 0) break;
      const sample = Math.min(size, KEYS_PER_LOOP);
      const clock = now();
      let hit = 0;
      for (let i = 0; i < sample; i++) {
        if (cursor >= t.volatileSize) {
          cursor = 0;
          if (t.volatileSize === 0) break;
        }
        const h = t.volatileAt(cursor);
        const at = t.expireAt(h);
        if (at !== 0 && at <= clock) {
          // Removal moves the last volatile entry into this position: look at it next.
          db.expire(h);
          hit++;
        } else {
          cursor++;
        }
      }
      expired += hit;
      if (hit <= sample * ACCEPTABLE_STALE) break;
      if (++loops % LOOPS_PER_TIME_CHECK === 0 && performance.now() - start > budgetMs) {
        state.cursors.set(db, cursor);
        // Resume with this db next time: it still has a backlog.
        state.nextDb = (state.nextDb + n - 1) % n;
        return expired;
      }
    }
    state.cursors.set(db, cursor);
  }
  return expired;
}
