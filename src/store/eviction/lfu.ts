// allkeys-lfu / volatile-lfu: evict the key with the lowest logarithmic
// access counter (after its decay), ties going to the one idle longest.

import type { Keyspace } from '../keyspace.js';
import type { EvictionPolicy, PolicySettings } from './policy.js';
import { SampledPolicy } from './pool.js';

export function createLfuPolicy(ks: Keyspace, volatileOnly: boolean, settings: PolicySettings): EvictionPolicy {
  return new SampledPolicy(volatileOnly ? 'volatile-lfu' : 'allkeys-lfu', volatileOnly, ks, settings,
    // The counter decides; idle time (in whole minutes under LFU) breaks ties.
    (ref, now) => (255 - ks.lfuCounter(ref, now)) * 2 ** 32 + Math.min(ks.idleMs(ref, now), 2 ** 32 - 1));
}
