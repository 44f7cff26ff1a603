// The eviction policies by their maxmemory-policy name.

import type { EvictionPolicy, PolicyFactory, PolicySettings, PolicyView } from './policy.js';
import { createLruPolicy } from './lru.js';
import { createLfuPolicy } from './lfu.js';
import { createRandomPolicy } from './random.js';
import { createTtlPolicy } from './ttl.js';
import { createSievePolicy } from './sieve.js';
import { createS3FifoPolicy } from './s3fifo.js';

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

export const NO_EVICTION: EvictionPolicy = { name: 'noeviction', volatileOnly: false, victim: () => 0 };

export function createPolicy(name: string, view: PolicyView, settings: PolicySettings): EvictionPolicy {
  if (name === 'noeviction') return NO_EVICTION;
  const dash = name.indexOf('-');
  const scope = name.slice(0, dash);
  const factory = FAMILIES[name.slice(dash + 1)];
  if (factory === undefined || (scope !== 'allkeys' && scope !== 'volatile') || !POLICY_NAMES.includes(name)) {
    throw new Error(`unknown maxmemory-policy ${name}`);
  }
  return factory(view, scope === 'volatile', settings);
}
