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
//
// A big value (a 32 MiB tensor) is not written in one go, which would stall
// commands for tens of milliseconds: its block is held unchanged the way a
// queued reply holds it (readers: a write copies the block first, a delete
// leaves it to us), and its bytes go out a piece per slice. Records that come
// meanwhile queue up in memory behind it, in order. Memory: the writer's
// buffer, the records queued behind a big value, and big values deleted or
// rewritten before they were written out (counted as copy-on-write).

import { closeSync, fsync, openSync, unlinkSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Store } from '../store/store.js';
import { ValueType, type ByteSpan } from '../store/types.js';
import { MemorySink, RdbWriter } from './rdb-writer.js';
import { FileSink, tempPath, writeEntryHead, writeHead, writeValueBody, type SaveOptions } from './rdb-save.js';
import { tensorDumpForm, writeTensorHead } from './tensor-codec.js';
import { MODULE_OP_EOF } from './rdb-format.js';

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
 * The walk's share of the event loop: a slice lasts 12% of the time the
 * loop spent serving since the last one (at most MAX_SLICE_MS), so commands
 * keep about 89% of the CPU while a BGSAVE runs (the writes' copies of old
 * values come out of the rest: at a fifth, SET P16 kept 0.75-0.97 of its
 * rate from one run to the next against a 0.8 target); on an idle loop (no
 * command since the last slice) slices run back to back and the save goes at
 * nearly full speed. A slice is short (MAX_SLICE_MS) because a PING that
 * arrives during one waits for its end.
 */
const WALK_SHARE = 0.12;
const MIN_SLICE_MS = 0.02;
const MAX_SLICE_MS = 0.25;
/**
 * Bytes per write to the file: each is a synchronous write (to the page
 * cache), which on one core stalls commands less than a write on the thread
 * pool competing with them (measured: PING p99 2-5 ms against 8-15 ms).
 */
const WRITE_BYTES = 256 * 1024;
/** A slice also ends once it wrote this much (one big value is never split). */
const MAX_SLICE_BYTES = 4 * 1024 * 1024;
/** Bytes of queued data a slice writes (about 0.3 ms with the CRC). */
const DRAIN_BYTES = 256 * 1024;
/** Values from this size on are streamed from their block a piece at a time (and written raw, not LZF). */
const STREAM_BYTES = 256 * 1024;
/** The buffer of records queued behind a big value. */
const QUEUED_WRITER_BYTES = 64 * 1024;
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
  /** The command count when the last slice began. */
  private commandsAtSlice = -1;
  private aborted = false;
  /** The walk is over: the file is being synced and renamed. */
  private finishing = false;
  private readonly span: ByteSpan = { buf: Buffer.alloc(0), start: 0, end: 0, block: null };
  /** Bytes still to go to the file, in order, while a big value streams (see the top). */
  private readonly queue: Segment[] = [];

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
    private readonly commands: () => number,
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

  /**
   * Memory the save holds that the store no longer counts: records queued
   * behind a big value, and old values a write changed or freed before they
   * were written out. It counts against maxmemory (see Server.usedMemory),
   * so a snapshot never takes the dataset past the budget.
   */
  get heldBytes(): number {
    let n = 0;
    for (const seg of this.queue) {
      if (seg.kind === 'stream') n += seg.left;
      else n += seg.data !== null ? seg.data.length - seg.at : seg.w.written;
    }
    return n;
  }

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
    this.releaseQueue();
    this.closeAndRemove();
  }

  /** The store hands over an entry a write is about to change: its old value goes in now. */
  private readonly early = (dbId: number, h: number): void => {
    if (this.failure !== null) return;
    try {
      this.cowBytes += this.write(dbId, h, true);
    } catch (e) {
      // Not thrown into the command that made the write: the save fails at its next slice.
      this.failure = e as Error;
    }
  };

  private readonly visit = (h: number): void => { this.write(this.db, h, false); };

  /**
   * Where records go now: the file, or, while bytes are queued, the queue's
   * last segment of gathered records (a new one after a streaming value).
   */
  private target(): RdbWriter {
    const last = this.queue[this.queue.length - 1];
    if (last === undefined) return this.w;
    if (last.kind === 'records' && !last.sealed) return last.w;
    const sink = new MemorySink();
    // The file's writer checksums these bytes as they pass through it.
    const w = new RdbWriter(sink, { compression: this.opts.compression, checksum: false, bufferSize: QUEUED_WRITER_BYTES });
    this.queue.push({ kind: 'records', sink, w, sealed: false, data: null, at: 0 });
    return w;
  }

  /**
   * One entry's records (a big value queued to stream); returns the bytes it
   * takes in the dump. `early`: a write is about to change or free it, so a
   * block held for it is the save's alone (counted in heldBytes).
   */
  private write(dbId: number, h: number, early: boolean): number {
    const w = this.target();
    if (this.selected !== dbId) {
      w.selectDb(dbId);
      this.selected = dbId;
    }
    const before = w.written;
    const db = this.store.dbs[dbId];
    const type = writeEntryHead(w, db, h, this.now, this.opts, this.span);
    if (type === false) return 0;
    if (type === null) {
      this.tensorsSkipped++;
      return 0;
    }
    this.keysDone++;
    const value = db.valueSpanInto(h, this.span);
    const block = value.block;
    if (block === null || value.end - value.start < STREAM_BYTES) {
      writeValueBody(w, type, value);
      return w.written - before;
    }
    // Held unchanged until written out: a write to it copies the block first.
    block.readers++;
    const parts: Part[] = [];
    let total: number;
    let suffix: Buffer | null = null;
    if (type === ValueType.KvTensor) {
      const form = tensorDumpForm(value.buf, value.start);
      writeTensorHead(w);
      form.parts((buf, start, end) => { parts.push([buf, start, end]); });
      total = form.total;
      // moduleEnd(): MODULE_OP_EOF as a length, one byte (it is below 64).
      suffix = Buffer.of(MODULE_OP_EOF);
    } else {
      parts.push([value.buf, value.start, value.end]);
      total = value.end - value.start;
    }
    w.length(total);
    this.queue.push({ kind: 'stream', parts, part: 0, at: parts[0]?.[1] ?? 0, block, suffix, left: early ? total : 0 });
    return w.written - before + total + (suffix?.length ?? 0);
  }

  /** Writes queued bytes to the file until `bytes` are out or the queue is empty; true when it is. */
  private drain(bytes: number): boolean {
    const out = this.w;
    const until = out.written + bytes;
    while (this.queue.length > 0 && out.written < until) {
      const seg = this.queue[0];
      if (seg.kind === 'records') {
        if (seg.data === null) {
          // From now on records go behind it: it is read as it stands.
          seg.sealed = true;
          seg.w.flush();
          seg.data = seg.sink.take();
        }
        const n = Math.min(seg.data.length - seg.at, until - out.written);
        out.bytes(seg.data, seg.at, seg.at + n);
        seg.at += n;
        if (seg.at === seg.data.length) this.queue.shift();
        continue;
      }
      if (seg.part < seg.parts.length) {
        const [buf, , end] = seg.parts[seg.part];
        const n = Math.min(end - seg.at, Math.max(1, until - out.written));
        out.bytes(buf, seg.at, seg.at + n);
        seg.at += n;
        seg.left = Math.max(0, seg.left - n);
        if (seg.at === end && ++seg.part < seg.parts.length) seg.at = seg.parts[seg.part][1];
        continue;
      }
      if (seg.suffix !== null) out.bytes(seg.suffix);
      seg.block.readers--;
      this.queue.shift();
    }
    return this.queue.length === 0;
  }

  /** Lets go of the blocks still queued (a save that stops): writes to them need not copy any more. */
  private releaseQueue(): void {
    for (const seg of this.queue) if (seg.kind === 'stream') seg.block.readers--;
    this.queue.length = 0;
  }

  private readonly slice = (): void => {
    this.timer = null;
    if (this.failure !== null) return this.fail(this.failure);
    const start = performance.now();
    const gap = start - this.lastSliceEnd;
    // Idle means no command ran since the last slice: a loop that turns round fast under load is not idle.
    const commands = this.commands();
    const idle = commands === this.commandsAtSlice;
    this.commandsAtSlice = commands;
    const budget = idle ? MAX_SLICE_MS : Math.min(MAX_SLICE_MS, Math.max(MIN_SLICE_MS, gap * WALK_SHARE));
    const until = start + budget;
    const bytesUntil = this.w.written + MAX_SLICE_BYTES;
    const store = this.store;
    const count = store.dbs.length;
    let steps = 0;
    try {
      while (this.db < count || this.queue.length > 0) {
        // Queued bytes first: the walk goes on behind them.
        if (this.queue.length > 0) {
          if (!this.drain(DRAIN_BYTES)) break;
          if (performance.now() >= until) break;
          continue;
        }
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
    if (this.db >= count && this.queue.length === 0) return this.finish();
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
    // Off the event loop too: the rename frees the old dump's blocks (5 ms for 26 MB measured here).
    await rename(this.tmp, this.path);
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private fail(err: Error): void {
    this.store.endSnapshot(false);
    this.releaseQueue();
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

/** A run of bytes to write: buf[start, end). */
type Part = [Uint8Array, number, number];

/** What waits to be written while a big value streams. */
type Segment =
  /** Records gathered in memory; `data` is what they came to once sealed, read from `at`. */
  | { kind: 'records'; sink: MemorySink; w: RdbWriter; sealed: boolean; data: Buffer | null; at: number }
  /** A big value's bytes, read from its held block: parts[part] from `at`, then `suffix`. */
  | { kind: 'stream'; parts: Part[]; part: number; at: number; block: HeldBlock; suffix: Buffer | null; left: number };

/** A store block held unchanged while its bytes are written (its `readers` raised). */
type HeldBlock = NonNullable<ByteSpan['block']>;

function removeFile(path: string): void {
  try { unlinkSync(path); } catch { /* gone already */ }
}
