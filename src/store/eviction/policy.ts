// What an eviction policy is, and what it sees of the keyspace. A policy only
// chooses victims; it never frees anything itself, and it sees the keyspace
// through PolicyView: the queues, the databases' indexes for sampling, and
// each item's access data, but not the accounting (its own arrays are
// charged through chargeMetadata). A new policy is one file that exports a
// factory, and one line in registry.ts.
//
// The keyspace keeps, for every item and whatever the policy, what any
// policy may want: the last access time, the LFU counter, a hit count (SIEVE's
// visited bit, S3-FIFO's frequency) and the item's place in one queue of all
// items in insertion order.

export interface EvictionPolicy {
  readonly name: string;
  /** Only keys with a TTL may be evicted (the volatile-* policies). */
  readonly volatileOnly: boolean;
  /** The next item to evict, or 0 when no item may be evicted. Never a pinned item. */
  victim(): number;
  /** Item `ref` is about to be freed. */
  forget?(ref: number): void;
  /** Item `from` now lives at `to` (the allocator compacted it, or a write moved it). */
  moved?(from: number, to: number): void;
  /** Item `ref` was just inserted (linked at the head of the first queue). */
  inserted?(ref: number): void;
  /** The policy keeps items in the keyspace's main queue too (else they all go back to the first). */
  readonly usesMainQueue?: boolean;
  /** The policy is being replaced: give back what it holds. */
  dispose?(): void;
}

export interface PolicySettings {
  samples: number;
}

/** One database's index, for sampling. */
export interface TableView {
  readonly size: number;
  readonly volatileSize: number;
  /** Up to `n` items for a sample (Redis's dictGetSomeKeys); appends to `out`, returns how many. */
  sample(n: number, volatileOnly: boolean, out: number[]): number;
  /** A random item, or -1 when empty. */
  randomEntry(): number;
  /** A random item with a TTL, or -1. */
  randomVolatile(): number;
  /** The i-th item with a TTL. */
  volatileAt(i: number): number;
}

/** The keyspace's queues in insertion order (item-queues.ts). */
export interface QueueView {
  readonly tail: number;
  readonly count: number;
  readonly mainTail: number;
  readonly mainCount: number;
  newer(ref: number): number;
  requeue(ref: number, main: boolean): void;
}

/** What a policy reads and marks in an item's header (items.ts). */
export interface ItemView {
  expireAt(ref: number): number;
  hits(ref: number): number;
  setHits(ref: number, n: number): void;
  visited(ref: number): boolean;
  clearVisited(ref: number): void;
  /** A hash of the item's key: tells a candidate apart from another key reusing its chunk. */
  keyHash(ref: number, seed: number): number;
}

/** Recency and frequency of an item (access-clock.ts). */
export interface AccessView {
  idleMs(ref: number, nowMs: number): number;
  lfuCounter(ref: number, nowMs: number): number;
}

export interface PolicyView {
  readonly tables: readonly TableView[];
  readonly queues: QueueView;
  readonly items: ItemView;
  readonly access: AccessView;
  readonly itemCount: number;
  readonly volatileCount: number;
  /** A seed for hashes the policy keeps (chosen at start, as the index's). */
  readonly seed: number;
  /** The store's clock, in ms. */
  now(): number;
  /** Pinned by the running command or leased (KV.PIN): may not be evicted. */
  isPinned(ref: number): boolean;
  /** Whether `ref` is a chunk in use. */
  isLive(ref: number): boolean;
  /** Whether `bytes` more fit within the budget as it is. */
  canGrow(bytes: number): boolean;
  /** The policy's own arrays grew (or shrank, negative) by `bytes`: counted against maxmemory. */
  chargeMetadata(bytes: number): void;
}

export type PolicyFactory = (view: PolicyView, volatileOnly: boolean, settings: PolicySettings) => EvictionPolicy;
