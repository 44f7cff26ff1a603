// The interface every eviction policy implements, and the registry of
// policies by their maxmemory-policy name. A new policy is one file that
// exports a factory and one line in POLICIES below.
//
// The keyspace keeps, for every item and whatever the policy, what any
// policy may want: the last access time, the LFU counter, a visited bit and
// the item's place in one queue of all items in insertion order. A policy
// only chooses victims; it never frees anything itself.

import type { Keyspace } from '../keyspace.js';
import { createLruPolicy } from './lru.js';
import { createLfuPolicy } from './lfu.js';
import { createRandomPolicy } from './random.js';
import { createTtlPolicy } from './ttl.js';
import { createSievePolicy } from './sieve.js';
import { createS3FifoPolicy } from './s3fifo.js';

export interface EvictionPolicy {
  readonly name: string;
  /** Only keys with a TTL may be evicted (the volatile-* policies). */
  readonly volatileOnly: boolean;
  /** The next item to evict, or 0 when no item may be evicted. Never a pinned item. */
  victim(): number;
  /** Item `ref` is about to be freed. */
  forget?(ref: number): void;
  /** Item `from` now lives at `to` (the allocator compacted it). */
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

export type PolicyFactory = (ks: Keyspace, volatileOnly: boolean, settings: PolicySettings) => EvictionPolicy;

/** Policy families by the part of the name after "allkeys-" / "volatile-". */
const FAMILIES: Record<string, PolicyFactory> = {
  lru: createLruPolicy,
  lfu: createLfuPolicy,
  random: createRandomPolicy,
  ttl: createTtlPolicy,
  sieve: createSievePolicy,
  s3fifo: createS3FifoPolicy,
};

/** Every maxmemory-policy name, Redis's first (in Redis's order), then kvslab's. */
export const POLICY_NAMES = [
  'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl',
  'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction',
  'allkeys-sieve', 'volatile-sieve', 'allkeys-s3fifo',
];

const NO_EVICTION: EvictionPolicy = { name: 'noeviction', volatileOnly: false, victim: () => 0 };

export function createPolicy(name: string, ks: Keyspace, settings: PolicySettings): EvictionPolicy {
  if (name === 'noeviction') return NO_EVICTION;
  const dash = name.indexOf('-');
  const scope = name.slice(0, dash);
  const factory = FAMILIES[name.slice(dash + 1)];
  if (factory === undefined || (scope !== 'allkeys' && scope !== 'volatile') || !POLICY_NAMES.includes(name)) {
    throw new Error(`unknown maxmemory-policy ${name}`);
  }
  return factory(ks, scope === 'volatile', settings);
}
