// WATCH bookkeeping: which clients watch which keys, and marking them dirty
// when a watched key (or its whole db) changes, so that their EXEC fails.
// The store tells of every change (Db's events), so no command has to.

import type { Db } from '../store/db.js';

export interface WatchedKey {
  db: Db;
  key: Buffer;
  /** Whether the key was already logically expired when watched. */
  expired: boolean;
}

/** A connection as WATCH sees it. */
export interface Watcher {
  watched: WatchedKey[];
  /** A watched key changed: EXEC must fail. */
  dirtyCas: boolean;
}

export class WatchRegistry {
  /** Per db: latin1 key -> connections watching it. */
  private readonly byDb = new Map<Db, Map<string, Set<Watcher>>>();

  /** `expired`: the key exists but its time has passed (Redis treats it as absent). */
  watch(c: Watcher, db: Db, key: Buffer, expired: boolean): void {
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

  unwatchAll(c: Watcher): void {
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

  /** `key` of `db` changed (called only when the db has watchers). */
  touch(db: Db, key: Buffer): void {
    const set = this.byDb.get(db)?.get(key.toString('latin1', 0, key.length));
    if (!set) return;
    const gone = db.peekExpireAt(key) < 0;
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
    const clients = new Set<Watcher>();
    for (const set of keys.values()) for (const c of set) clients.add(c);
    for (const c of clients) {
      for (const w of c.watched) {
        if (w.db !== db) continue;
        const existsNow = db.peekExpireAt(w.key) >= 0;
        const existsAfter = replacedWith !== undefined && replacedWith.peekExpireAt(w.key) >= 0;
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
