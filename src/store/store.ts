// The store: every database's keys and values in one keyspace with one
// memory budget. Store and Db (db.ts) are its whole API: the databases and
// what spans them (the eviction policy, maxmemory, FLUSHALL, SWAPDB, the
// clock, memory figures) here, one database's keys there. Nothing above
// store/ reaches past these two files, types.ts and errors.ts.

import { Db, type DbContext } from './db.js';
import { KeyIndex } from './key-index.js';
import { Keyspace } from './keyspace.js';
import { BlockPool, type BlockPoolStats } from './block-pool.js';
import { createPolicy, POLICY_NAMES } from './eviction/registry.js';
import { ActiveExpireCycle } from './active-expire.js';
import type { LfuParams } from './lfu-counter.js';
import type { SlabClassStats } from './slabs.js';
import type { KeyspaceStats } from './types.js';

export { ActiveExpireCycle, POLICY_NAMES };
export type { LfuParams };

export interface StoreHooks {
  /**
   * Bytes counted against maxmemory besides the store's own (client buffers,
   * the shared reply buffer): the store grows only into what is left.
   */
  outsideBytes(): number;
  /** WATCH: see DbContext. */
  keyModified(db: Db, key: Buffer): void;
  dbModified(db: Db, replacedWith?: Db): void;
  /** Entry `h` of `db` is about to be evicted. */
  evicting(db: Db, h: number): void;
  /**
   * Instead of evicting entry `h` (a value in a large block), give back part
   * of it (kv-tail-trim); true when it did. It may not allocate chunks.
   */
  trim(db: Db, h: number): boolean;
}

/** Where the store's bytes are (INFO memory, MEMORY STATS, /metrics and the status page read them from Server.memoryReport). */
export interface StoreMemory {
  /** Everything below, counted against maxmemory. */
  used: number;
  /** Slab pages held. */
  pages: number;
  /** Chunk bytes in those pages that hold no item. */
  idleChunks: number;
  /** The indexes' arrays, the policy's, and the allocator's bookkeeping. */
  index: number;
  /** The allocator's bookkeeping alone (part of index). */
  allocatorMeta: number;
  /** Blocks of values too big for a chunk. */
  large: number;
}

/** A size class in use, for INFO slabs, /metrics and the status page. */
export interface SlabClassReport extends SlabClassStats {
  /** Bytes of the class's slabs. */
  bytes: number;
  evictions: number;
}

export interface SlabReport {
  pageSize: number;
  unitSize: number;
  classCount: number;
  pages: number;
  emptyPages: number;
  maxChunk: number;
  idleChunkBytes: number;
  largeValues: number;
  largeBytes: number;
  items: number;
  evictions: number;
  /** Values shortened instead of evicted (kv-tail-trim). */
  trims: number;
  classes: SlabClassReport[];
}

export class Store implements DbContext {
  readonly dbs: Db[] = [];
  readonly stats: KeyspaceStats = { keyspaceHits: 0, keyspaceMisses: 0, expiredKeys: 0, evictedKeys: 0 };
  /**
   * The clock commands see: read once per read batch and by the cron (Redis
   * too caches its mstime), so every lookup of a command, of a whole EXEC or
   * of a pipeline, agrees on "now".
   */
  clock = Date.now();
  /** maxmemory: 0 for none. The check runs on every allocation. */
  private maxmemory = 0;
  private readonly ks: Keyspace;
  /** The databases' indexes by id, and the database using each now (SWAPDB exchanges them). */
  private readonly indexes: KeyIndex[] = [];
  private readonly dbOfIndex: Db[] = [];
  private policyName = 'noeviction';
  private samples = 5;

  constructor(pageSize: number, growthFactor: number, databases: number, private readonly hooks: StoreHooks) {
    this.ks = new Keyspace(pageSize, growthFactor, {
      mayGrow: (bytes) => this.maxmemory === 0 || this.ks.usedBytes + hooks.outsideBytes() + bytes <= this.maxmemory,
      evicting: (index, ref) => {
        this.stats.evictedKeys++;
        hooks.evicting(this.dbOfIndex[index], ref);
      },
      trim: (index, ref) => hooks.trim(this.dbOfIndex[index], ref),
      now: () => this.clock,
    });
    for (let i = 0; i < databases; i++) {
      const index = new KeyIndex(this.ks, i);
      this.ks.tables.push(index);
      this.indexes.push(index);
      const db = new Db(i, index, this.ks, this);
      this.dbs.push(db);
      this.dbOfIndex.push(db);
    }
  }

  /** Keys changed since start (Redis's dirty counter): a snapshot remembers where it was. */
  changes = 0;

  // DbContext
  now(): number { return this.clock; }

  keyModified(db: Db, key: Buffer): void {
    this.changes++;
    this.hooks.keyModified(db, key);
  }

  unwatchedKeyModified(): void {
    this.changes++;
  }

  dbModified(db: Db, replacedWith?: Db): void {
    this.changes += db.size;
    this.hooks.dbModified(db, replacedWith);
  }

  /** Handles pinned by the last command may be evicted and moved again (dispatch, before each command). */
  unpinAll(): void {
    this.ks.pins.unpinAll();
  }

  // ---------------------------------------------------------------------------
  // Policy and budget

  /** maxmemory-policy and maxmemory-samples (a new policy starts from what the items' headers hold). */
  setPolicy(name: string, samples: number): void {
    this.policyName = name;
    this.samples = samples;
    this.ks.setPolicy(createPolicy(name, this.ks, { samples }));
  }

  /** LFU parameters while an LFU policy is in force (the counters are kept up only then), else null. */
  setLfu(params: LfuParams | null): void {
    this.ks.access.lfu = params;
  }

  get lfuTracked(): boolean { return this.ks.access.lfu !== null; }

  /** The access data a snapshot keeps per key, as Redis: idle time under an LRU policy, the counter under an LFU one. */
  get accessHints(): 'lru' | 'lfu' | null {
    if (this.policyName.endsWith('-lru')) return 'lru';
    if (this.policyName.endsWith('-lfu')) return 'lfu';
    return null;
  }

  /** A new maxmemory; the caller frees memory down to it (the store has no say over client buffers). */
  setMaxmemory(bytes: number): void {
    this.maxmemory = bytes;
    // With a budget, idle pages are kept for reuse; without one they go back to the system.
    this.ks.slabs.holdEmptyPages = bytes > 0;
  }

  /** Values shortened instead of evicted (kv-tail-trim). */
  get trims(): number { return this.ks.trims; }

  /** Bytes the store holds, counted against maxmemory. */
  get usedBytes(): number { return this.ks.usedBytes; }

  /** Gives back one page without evicting (an empty one, or one emptied by compaction); false when none. */
  releaseIdle(): boolean { return this.ks.releaseIdle(); }

  /** Evicts (or trims) the policy's next victim; false when there is none. */
  evictOne(): boolean { return this.ks.evictOne(); }

  /** Gives every empty page back (MEMORY PURGE). */
  dropEmptyPages(): void {
    const slabs = this.ks.slabs;
    while (slabs.emptyPages > 0 && slabs.dropEmptyPage());
  }

  /** Bytes let go of since the last call (they return to the system once the runtime collects them). */
  takeDroppedBytes(): number { return this.ks.takeDroppedBytes(); }

  // ---------------------------------------------------------------------------
  // Snapshots: a point-in-time walk of every database without fork (BGSAVE)

  /**
   * Starts a snapshot of every database as it is now. The caller walks it with
   * snapshotStep; before a write changes or frees an entry the walk has not
   * reached yet, `early` gets it first (database id, handle), so that the
   * caller writes the old value. Entries made later are never visited. Ids
   * are those the databases had now (a SWAPDB during the walk moves nothing).
   * `early` reads by handle only: it must not write the store.
   */
  beginSnapshot(early: (dbId: number, h: number) => void): void {
    const dbOfIndex = this.dbOfIndex.map((db) => db.id);
    this.snapshotIndexes = this.dbs.map((db) => this.indexes[db.indexId]);
    this.ks.beginSnapshot((index, ref) => early(dbOfIndex[index], ref));
  }

  /**
   * One step of the snapshot's walk over what database `dbId` held when it
   * began: visits the entries it has yet to write (each once, marked written
   * as it goes). Returns the next cursor, 0 when that database is done.
   */
  snapshotStep(dbId: number, cursor: number, visit: (h: number) => void): number {
    return this.snapshotIndexes[dbId].snapshotScan(cursor, visit);
  }

  /**
   * Ends the snapshot. One stopped before its walk was done (an error,
   * FLUSHALL, SHUTDOWN) marks what it did not reach, so the next snapshot
   * sees every entry as yet to write.
   */
  endSnapshot(walkDone: boolean): void {
    this.ks.endSnapshot();
    if (!walkDone) for (const index of this.indexes) index.markAllWritten();
    this.snapshotIndexes = [];
  }

  /** The indexes the databases held when the running snapshot began, by database id. */
  private snapshotIndexes: KeyIndex[] = [];

  // ---------------------------------------------------------------------------
  // Databases

  /** FLUSHALL: WATCH sees every database change, then the whole arena is dropped at once. */
  /**
   * For a big load: new large blocks come faulted in ahead by a second thread
   * (block-pool.ts), at most `aheadBytes` of them held ahead. False where that
   * would not help (one core).
   */
  startPrefault(aheadBytes: number): boolean {
    this.ks.large.pool ??= BlockPool.start(aheadBytes);
    return this.ks.large.pool !== null;
  }

  /** Ends startPrefault; what the pool handed out, or null if none ran. */
  stopPrefault(): BlockPoolStats | null {
    const pool = this.ks.large.pool;
    if (pool === null) return null;
    pool.close();
    this.ks.large.pool = null;
    return pool.stats;
  }

  flushAll(): void {
    for (const db of this.dbs) this.dbModified(db);
    this.ks.reset();
    for (const index of this.indexes) index.forgetAll();
    // The policy's own state named items that are gone.
    this.setPolicy(this.policyName, this.samples);
  }

  /** SWAPDB: the two databases exchange contents; clients keep their Db objects. */
  swapDbs(a: Db, b: Db): void {
    if (a === b) return;
    this.dbModified(a, b);
    this.dbModified(b, a);
    a.exchangeIndex(b);
    this.dbOfIndex[a.indexId] = a;
    this.dbOfIndex[b.indexId] = b;
  }

  /** Incremental rehashing: about `ms` per database that is resizing (Redis's databasesCron). */
  maintain(ms: number): void {
    for (const db of this.dbs) db.maintain(ms);
  }

  // ---------------------------------------------------------------------------
  // Figures

  memory(): StoreMemory {
    const ks = this.ks;
    const slabs = ks.slabs;
    return {
      used: ks.usedBytes,
      pages: slabs.pageBytes,
      idleChunks: ks.idleChunkBytes(),
      index: ks.indexBytes + slabs.metadataBytes,
      allocatorMeta: slabs.metadataBytes,
      large: ks.large.bytes,
    };
  }

  slabs(): SlabReport {
    const ks = this.ks;
    const slabs = ks.slabs;
    return {
      pageSize: slabs.pageSize,
      unitSize: slabs.unitSize,
      classCount: slabs.classCount,
      pages: slabs.pageCount,
      emptyPages: slabs.emptyPages,
      maxChunk: slabs.maxChunk,
      idleChunkBytes: ks.idleChunkBytes(),
      largeValues: ks.large.count,
      largeBytes: ks.large.bytes,
      items: ks.itemCount,
      evictions: ks.evictions,
      trims: ks.trims,
      classes: slabs.stats().map((c) => ({ ...c, bytes: c.slabs * c.unitsPerSlab * slabs.unitSize, evictions: ks.classEvictions[c.cls] })),
    };
  }

  /** Largest idle time (ms) among the items of a class, looking at up to `maxSlabs` of its slabs (INFO slabs). */
  oldestIdleMs(cls: number, maxSlabs: number): number {
    return this.ks.oldestIdleMs(cls, this.clock, maxSlabs);
  }
}
