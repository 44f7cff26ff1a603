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

export class ActiveExpireCycle {
  /** Off with DEBUG SET-ACTIVE-EXPIRE 0 (tests observe lazy expiry alone). */
  enabled = true;
  private nextDb = 0;
  /** Per db: where its walk of the keys with a TTL resumes. */
  private readonly cursors: number[];

  constructor(private readonly dbs: readonly Db[]) {
    this.cursors = new Array<number>(dbs.length).fill(0);
  }

  /** Runs one cycle over the dbs for at most about `budgetMs`. `now` reads the clock afresh. Returns the keys expired. */
  run(now: () => number, budgetMs: number): number {
    const dbs = this.dbs;
    const n = dbs.length;
    if (!this.enabled || n === 0) return 0;
    const start = performance.now();
    let expired = 0;
    let loops = 0;
    const perCall = Math.min(n, DBS_PER_CALL);
    for (let d = 0; d < perCall; d++) {
      const i = this.nextDb % n;
      const db = dbs[i];
      this.nextDb = (this.nextDb + 1) % n;
      let cursor = this.cursors[i];
      for (;;) {
        const size = db.volatileSize;
        if (size === 0) break;
        const sample = Math.min(size, KEYS_PER_LOOP);
        const clock = now();
        let hit = 0;
        for (let k = 0; k < sample; k++) {
          if (cursor >= db.volatileSize) {
            cursor = 0;
            if (db.volatileSize === 0) break;
          }
          const h = db.volatileAt(cursor);
          const at = db.expireAt(h);
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
          this.cursors[i] = cursor;
          // Resume with this db next time: it still has a backlog.
          this.nextDb = (this.nextDb + n - 1) % n;
          return expired;
        }
      }
      this.cursors[i] = cursor;
    }
    return expired;
  }
}
