// Big blocks faulted in ahead by a second thread. On this kind of machine a
// fresh page costs microseconds to fault in (the VM backs it on first touch),
// so filling a new 32 MiB block is dominated by its 8,192 faults, not by the
// copy; two threads fault in parallel, one thread alone cannot go faster.
// While a big load runs (the dump at start), blocks of the size last asked
// for are allocated here as SharedArrayBuffers and a thread writes one byte
// of every page of each; the taker gets a block the thread has finished, or
// else claims one it has not started (and faults it in itself, in parallel
// with the thread's), or else waits for the one the thread is on.
//
// Each queued block has a word in `state`: generation × 4 + phase. A
// generation is never reused, so the thread's message about a block that was
// claimed or dropped meanwhile fails its compare-and-swap and is ignored;
// that is what keeps the thread's writes out of a block that holds data.
//
// The pool knows block sizes only: nothing of keys or values.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Phases of a queued block (the low two bits of its state word). */
export const QUEUED = 0;
export const FAULTING = 1;
export const FAULTED = 2;
/** Taken untouched by the taker, or dropped: the thread leaves it alone. */
export const CLAIMED = 3;

/** Smaller blocks are not worth a thread's round trip; bigger ones are too much to hold ahead. */
export const MIN_BLOCK = 1024 * 1024;
export const MAX_BLOCK = 64 * 1024 * 1024;
const MAX_QUEUED = 8;
/** State words, used round robin; a block's generation tells two uses of a word apart. */
const SLOTS = 64;
/** Faulting one block in takes milliseconds; a thread that takes this long is not working. */
const WAIT_MS = 2000;

interface Queued { slot: number; tag: number; sab: SharedArrayBuffer }

export interface BlockPoolStats {
  /** Blocks handed out already faulted in by the thread, claimed untouched, waited for. */
  faulted: number;
  claimed: number;
  waited: number;
}

export class BlockPool {
  private readonly state = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
  private queue: Queued[] = [];
  private size = 0;
  private depth = 0;
  private generation = 0;
  private nextSlot = 0;
  readonly stats: BlockPoolStats = { faulted: 0, claimed: 0, waited: 0 };

  private constructor(private readonly worker: Worker, private readonly aheadBytes: number) {
    // The thread must never keep the process up, nor bring it down.
    worker.unref();
    worker.on('error', () => this.close());
  }

  /**
   * A pool holding at most `aheadBytes` of blocks ahead, or null where it would
   * not help: a process limited to one core (taskset), or the in-process test
   * runs of the .ts sources, which have no built worker.
   */
  static start(aheadBytes: number): BlockPool | null {
    if (availableParallelism() < 2 || aheadBytes < MIN_BLOCK) return null;
    const file = new URL('./block-fault-worker.js', import.meta.url);
    if (!existsSync(file)) return null;
    try {
      const pool = new BlockPool(new Worker(file), aheadBytes);
      pool.worker.postMessage({ state: pool.state.buffer });
      return pool;
    } catch {
      return null;
    }
  }

  /**
   * A block of exactly `size` bytes, its pages faulted in, or null: the size is
   * outside what the pool holds, or it was not the size asked for last (the
   * pool now prepares that size, so a run of equal blocks is served from the second on).
   */
  take(size: number): Buffer | null {
    if (size < MIN_BLOCK || size > MAX_BLOCK || this.depth < 0) return null;
    if (size !== this.size) {
      this.retarget(size);
      return null;
    }
    const block = this.pick();
    this.refill();
    return block === null ? null : Buffer.from(block.sab);
  }

  /** Drops what is queued and ends the thread; `take` answers null from then on. */
  close(): void {
    this.drop();
    this.depth = -1;
    void this.worker.terminate();
  }

  private pick(): Queued | null {
    const q = this.queue;
    for (let i = 0; i < q.length; i++) {
      if (Atomics.load(this.state, q[i].slot) === q[i].tag + FAULTED) {
        this.stats.faulted++;
        return q.splice(i, 1)[0];
      }
    }
    // None finished: the newest untouched one, so the thread keeps working from the oldest.
    for (let i = q.length - 1; i >= 0; i--) {
      if (Atomics.compareExchange(this.state, q[i].slot, q[i].tag + QUEUED, q[i].tag + CLAIMED) === q[i].tag + QUEUED) {
        this.stats.claimed++;
        return q.splice(i, 1)[0];
      }
    }
    // Every block is the one the thread is faulting in (or none is queued).
    const head = q.shift();
    if (head === undefined) return null;
    this.stats.waited++;
    if (Atomics.wait(this.state, head.slot, head.tag + FAULTING, WAIT_MS) === 'timed-out') {
      // A thread this slow (or gone) may still write into the block: it is never handed out.
      this.close();
      return null;
    }
    return head;
  }

  private retarget(size: number): void {
    this.drop();
    this.size = size;
    this.depth = Math.max(1, Math.min(MAX_QUEUED, Math.floor(this.aheadBytes / size)));
    this.refill();
  }

  private refill(): void {
    while (this.queue.length < this.depth) {
      const slot = this.nextSlot;
      this.nextSlot = (slot + 1) % SLOTS;
      // Generations wrap long after any message about an old one was handled.
      this.generation = (this.generation + 1) & 0x1fffffff;
      const tag = this.generation * 4;
      Atomics.store(this.state, slot, tag + QUEUED);
      const sab = new SharedArrayBuffer(this.size);
      this.queue.push({ slot, tag, sab });
      this.worker.postMessage({ sab, slot, tag });
    }
  }

  /** Claims every queued block so the thread skips those it has not reached, and forgets them. */
  private drop(): void {
    for (const b of this.queue) Atomics.compareExchange(this.state, b.slot, b.tag + QUEUED, b.tag + CLAIMED);
    this.queue = [];
  }
}
