// Values too big for the largest chunk live in blocks of their own: one
// Buffer each, named by a small integer id kept in the item. A block has
// spare capacity only once it has grown (APPEND, SETRANGE), so appending to
// a large value is amortized O(1), not a copy of the whole value each time.
//
// The reply path may hand a view of a block to the socket instead of copying
// it (see ReplyWriter.addBulkSpan); `readers` counts such views still queued,
// and a write into bytes that a queued view covers copies the block first.

import type { BlockPool } from './block-pool.js';

export class LargeBlock {
  /** Views of this block queued on sockets and not yet written. */
  readers = 0;
  constructor(public buf: Buffer, public len: number) {}
}

/** Capacity for a value that grows to `len` bytes: room to double, at most 64 MiB of slack. */
export function grownCapacity(len: number): number {
  return len + Math.min(len, 64 * 1024 * 1024);
}

export class LargeStore {
  /** While set (a big load), new blocks come faulted in ahead by its thread where their size allows. */
  pool: BlockPool | null = null;
  private blocks: (LargeBlock | undefined)[] = [undefined];
  private freeIds: number[] = [];
  /** Bytes held by all blocks (their capacities). */
  bytes = 0;
  /** Bytes of blocks dropped since the keyspace last asked (they go back once collected). */
  droppedBytes = 0;
  count = 0;

  /** A new block of `capacity` bytes holding a value of `len`; returns its id. Throws RangeError when the runtime cannot allocate it. */
  add(capacity: number, len: number): number {
    const block = new LargeBlock(this.pool?.take(capacity) ?? Buffer.allocUnsafeSlow(capacity), len);
    const id = this.freeIds.length > 0 ? this.freeIds.pop() as number : this.blocks.length;
    this.blocks[id] = block;
    this.bytes += capacity;
    this.count++;
    return id;
  }

  get(id: number): LargeBlock {
    return this.blocks[id] as LargeBlock;
  }

  /** Gives block `id` a new buffer (grown, or copied because views of the old one are queued). */
  swap(id: number, buf: Buffer): void {
    const block = this.blocks[id] as LargeBlock;
    this.droppedBytes += block.buf.length;
    this.bytes += buf.length - block.buf.length;
    // Queued views keep the old buffer alive and unchanged; the new one has no readers yet.
    this.blocks[id] = new LargeBlock(buf, block.len);
  }

  remove(id: number): void {
    const block = this.blocks[id] as LargeBlock;
    this.droppedBytes += block.buf.length;
    this.bytes -= block.buf.length;
    this.count--;
    this.blocks[id] = undefined;
    this.freeIds.push(id);
  }

  clear(): void {
    this.blocks = [undefined];
    this.freeIds = [];
    this.bytes = 0;
    this.count = 0;
  }
}
