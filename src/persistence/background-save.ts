// BGSAVE without fork. Redis forks and lets the kernel's copy-on-write pages
// keep the child's view of memory frozen; Node cannot fork, so the snapshot
// is kept by the store instead (Dragonfly's design):
//
//   - Store.beginSnapshot marks every entry there is as "yet to write"; entries
//     made later are not, so they are never written.
//   - The walk goes over each database a few buckets at a time, in slices
//     between the event loop's turns, writing the entries it finds yet to write.
//   - Before a write changes or frees an entry the walk has not reached (SET,
//     DEL, APPEND, EXPIRE, eviction, expiry, RENAME, FLUSHDB...), the store
//     hands it to `early`, which writes its old value there and then.
//
// Each entry is written once, as it was when BGSAVE began, so the file is a
// point-in-time dump. Records a write brought forward may sit among another
// database's: each group is preceded by its SELECTDB, as an RDB loader allows.
// The bytes written early are the copy-on-write figure (rdb_last_cow_size).
// Memory: the writer's 1 MiB buffer (and LZF's scratch); writes go to the file
// as the buffer fills, so a snapshot holds no more however many writes come.

import { closeSync, fsync, openSync, renameSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Store } from '../store/store.js';
import type { ByteSpan } from '../store/types.js';
import { RdbWriter } from './rdb-writer.js';
import { FileSink, tempPath, writeEntry, writeHead, type SaveOptions } from './rdb-save.js';

/** How a background save ended. */
export interface BackgroundSaveResult {
  error: Error | null;
  keys: number;
  tensorsSkipped: number;
  bytes: number;
  /** Bytes of old values written ahead of the walk because a write was about to change them. */
  cowBytes: number;
}

/**
 * The walk's share of the event loop: a slice lasts a fifth of the time the
 * loop spent serving since the last one (at most MAX_SLICE_MS), so commands
 * keep about 83% of the CPU while a BGSAVE runs; on an idle loop (a gap
 * shorter than IDLE_GAP_MS) slices run back to back and the save goes at
 * nearly full speed. A slice is short (MAX_SLICE_MS) because a PING that
 * arrives during one waits for its end.
 */
const WALK_SHARE = 0.2;
const MIN_SLICE_MS = 0.05;
const MAX_SLICE_MS = 0.25;
const IDLE_GAP_MS = 0.2;
/**
 * Bytes per write to the file: each is a synchronous write (to the page
 * cache), which on one core stalls commands less than a write on the thread
 * pool competing with them (measured: PING p99 2-5 ms against 8-15 ms).
 */
const WRITE_BYTES = 256 * 1024;
/** A slice also ends once it wrote this much (one big value is never split). */
const MAX_SLICE_BYTES = 4 * 1024 * 1024;
/** The clock is read every this many buckets. */
const STEPS_PER_CLOCK_READ = 16;

export class BackgroundSave {
  /** performance.now() at the start, for rdb_current_bgsave_time_sec. */
  readonly startedAt = performance.now();
  /** Keys written so far, and the keys there were at the start (current_save_keys_*). */
  keysDone = 0;
  readonly keysTotal: number;
  cowBytes = 0;
  private tensorsSkipped = 0;
  private readonly w: RdbWriter;
  private fd: number;
  private readonly tmp: string;
  /** The store's clock at the start: keys expired by then are left out, as a fork's child would. */
  private readonly now: number;
  /** Each database's size when the save began (RESIZEDB). */
  private readonly sizes: number[];
  private readonly volatileSizes: number[];
  /** Where the walk is: database, its cursor, whether its SELECTDB/RESIZEDB are written. */
  private db = 0;
  private cursor = 0;
  private dbOpened = false;
  /** The database of the last SELECTDB written (records follow it). */
  private selected = -1;
  /** An error met writing early (inside a command's write): the next slice ends the save with it. */
  private failure: Error | null = null;
  private timer: NodeJS.Immediate | null = null;
  private lastSliceEnd = performance.now();
  private aborted = false;
  /** The walk is over: the file is being synced and renamed. */
  private finishing = false;
  private readonly span: ByteSpan = { buf: Buffer.alloc(0), start: 0, end: 0, block: null };

  /**
   * Opens the temporary file and starts the snapshot. `done` is called once,
   * later, when the dump is in place or the save failed (a file that cannot
   * be opened too: as Redis's child would, the save starts and then fails),
   * never after abort().
   */
  constructor(
    private readonly store: Store,
    private readonly path: string,
    private readonly opts: SaveOptions,
    private readonly done: (result: BackgroundSaveResult) => void,
  ) {
    this.tmp = tempPath(path);
    this.now = store.now();
    this.sizes = store.dbs.map((db) => db.size);
    this.volatileSizes = store.dbs.map((db) => db.volatileSize);
    this.keysTotal = this.sizes.reduce((a, b) => a + b, 0);
    let fd = -1;
    try {
      fd = openSync(this.tmp, 'w', 0o644);
    } catch (e) {
      this.failure = e as Error;
    }
    this.fd = fd;
    this.w = new RdbWriter(new FileSink(fd), { ...opts, bufferSize: WRITE_BYTES });
    store.beginSnapshot(this.early);
    if (this.failure === null) {
      try {
        writeHead(this.w, opts);
      } catch (e) {
        this.failure = e as Error;
      }
    }
    this.timer = setImmediate(this.slice);
  }

  /** Bytes of the dump written so far. */
  get bytes(): number { return this.w.written; }

  /**
   * Stops the save and removes the temporary file (SHUTDOWN, FLUSHALL, a
   * SAVE of its own); `done` is not called. The previous dump stays.
   */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    if (this.timer !== null) clearImmediate(this.timer);
    this.timer = null;
    // While finishing, the fsync callback sees `aborted` and cleans up.
    if (this.finishing) return;
    this.store.endSnapshot(false);
    this.closeAndRemove();
  }

  /** The store hands over an entry a write is about to change: its old value goes in now. */
  private readonly early = (dbId: number, h: number): void => {
    if (this.failure !== null) return;
    try {
      if (this.selected !== dbId) {
        this.w.selectDb(dbId);
        this.selected = dbId;
      }
      const before = this.w.written;
      this.write(dbId, h);
      this.cowBytes += this.w.written - before;
    } catch (e) {
      // Not thrown into the command that made the write: the save fails at its next slice.
      this.failure = e as Error;
    }
  };

  private write(dbId: number, h: number): void {
    const kept = writeEntry(this.w, this.store.dbs[dbId], h, this.now, this.opts, this.span);
    if (kept) this.keysDone++;
    else if (kept === null) this.tensorsSkipped++;
  }

  private readonly visit = (h: number): void => this.write(this.db, h);

  private readonly slice = (): void => {
    this.timer = null;
    if (this.failure !== null) return this.fail(this.failure);
    const start = performance.now();
    const gap = start - this.lastSliceEnd;
    const budget = gap < IDLE_GAP_MS ? MAX_SLICE_MS : Math.min(MAX_SLICE_MS, Math.max(MIN_SLICE_MS, gap * WALK_SHARE));
    const until = start + budget;
    const bytesUntil = this.w.written + MAX_SLICE_BYTES;
    const store = this.store;
    const count = store.dbs.length;
    let steps = 0;
    try {
      while (this.db < count) {
        if (!this.dbOpened) {
          if (this.sizes[this.db] === 0) {
            this.db++;
            continue;
          }
          this.w.selectDb(this.db);
          this.w.resizeDb(this.sizes[this.db], this.volatileSizes[this.db]);
          this.selected = this.db;
          this.dbOpened = true;
        } else if (this.selected !== this.db) {
          // Writes brought another database's records forward since the last step.
          this.w.selectDb(this.db);
          this.selected = this.db;
        }
        this.cursor = store.snapshotStep(this.db, this.cursor, this.visit);
        if (this.cursor === 0) {
          this.db++;
          this.dbOpened = false;
        }
        if (this.w.written >= bytesUntil) break;
        if (++steps % STEPS_PER_CLOCK_READ === 0 && performance.now() >= until) break;
      }
    } catch (e) {
      return this.fail(e as Error);
    }
    if (this.db >= count) return this.finish();
    this.lastSliceEnd = performance.now();
    this.timer = setImmediate(this.slice);
  };

  /**
   * The walk is done: the trailer, then fsync, close, rename and the
   * directory's fsync, each waited for off the event loop (an fsync can take
   * tens of milliseconds: a PING must not wait for it).
   */
  private finish(): void {
    try {
      this.w.end();
    } catch (e) {
      return this.fail(e as Error);
    }
    this.store.endSnapshot(true);
    this.finishing = true;
    void this.commit().then(
      () => { if (!this.aborted) this.report(null); },
      (e: Error) => {
        this.closeAndRemove();
        if (!this.aborted) this.report(e);
      },
    );
  }

  private async commit(): Promise<void> {
    const fd = this.fd;
    await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
    if (this.aborted) return this.closeAndRemove();
    closeSync(fd);
    this.fd = -1;
    renameSync(this.tmp, this.path);
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private fail(err: Error): void {
    this.store.endSnapshot(false);
    this.closeAndRemove();
    this.report(err);
  }

  /** The temporary file goes; the previous dump stays. */
  private closeAndRemove(): void {
    if (this.fd >= 0) {
      try { closeSync(this.fd); } catch { /* closed already */ }
      this.fd = -1;
    }
    removeFile(this.tmp);
  }

  private report(error: Error | null): void {
    this.done({ error, keys: this.keysDone, tensorsSkipped: this.tensorsSkipped, bytes: this.w.written, cowBytes: this.cowBytes });
  }
}

function removeFile(path: string): void {
  try { unlinkSync(path); } catch { /* gone already */ }
}
