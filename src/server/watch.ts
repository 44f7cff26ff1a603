// WATCH bookkeeping: which clients watch which keys, and marking them dirty
// when a watched key (or its whole db) changes, so their EXEC fails.

import type { Db } from '../store/db.js';
import type { Client } from './client.js';

export class WatchRegistry {
  /** Per db: latin1 key -> clients watching it. */
  private readonly byDb = new Map<Db, Map<string, Set<Client>>>();

  /** `expired`: the key exists but its time has passed (Redis treats it as absent). */
  watch(c: Client, db: Db, key: Buffer, expired: boolean): void {
    const k = key.toString('latin1', 0, key.length);
    let keys = this.byDb.get(db);
    if (!keys) {
      keys = new Map();
      this.byDb.set(db, keys);
    }
    let set = keys.get(k);
    if (!set) {
      set = new Set();
      keys.set(k, set);
    }
    if (set.has(c)) return;
    set.add(c);
    db.watchers++;
    c.watched.push({ db, key: Buffer.from(key), expired });
  }

  unwatchAll(c: Client): void {
    for (const w of c.watched) {
      const keys = this.byDb.get(w.db);
      const k = w.key.toString('latin1', 0, w.key.length);
      const set = keys?.get(k);
      if (set?.delete(c)) {
        w.db.watchers--;
        if (set.size === 0) keys!.delete(k);
      }
    }
    c.watched = [];
    c.dirtyCas = false;
  }

  touch(db: Db, key: Buffer): void {
    const set = this.byDb.get(db)?.get(key.toString('latin1', 0, key.length));
    if (!set) return;
    const gone = db.table.find(key) < 0;
    for (const c of set) {
      // A key already expired when watched, now deleted: logically nothing changed.
      const w = gone ? c.watched.find((x) => x.db === db && x.key.equals(key)) : undefined;
      if (w?.expired) {
        w.expired = false;
        continue;
      }
      c.dirtyCas = true;
    }
  }

  /**
   * A whole db is about to change (FLUSHDB, FLUSHALL, SWAPDB): as Redis does,
   * dirty a watcher only if its key exists in `db` now or will exist after
   * (in `replacedWith`, the db whose contents `db` receives on SWAPDB).
   */
  touchDb(db: Db, replacedWith?: Db): void {
    const keys = this.byDb.get(db);
    if (!keys) return;
    const clients = new Set<Client>();
    for (const set of keys.values()) for (const c of set) clients.add(c);
    for (const c of clients) {
      for (const w of c.watched) {
        if (w.db !== db) continue;
        const existsNow = db.table.find(w.key) >= 0;
        const existsAfter = replacedWith !== undefined && replacedWith.table.find(w.key) >= 0;
        if (!existsNow && !existsAfter) continue;
        // A key already expired when watched that is simply dropped changes nothing.
        if (w.expired && !existsAfter) {
          w.expired = false;
          continue;
        }
        c.dirtyCas = true;
      }
    }
  }
}
