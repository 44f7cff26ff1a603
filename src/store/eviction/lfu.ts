// allkeys-lfu / volatile-lfu: evict the key with the lowest logarithmic
// access counter (after its decay), ties going to the one idle longest.

import type { EvictionPolicy, PolicySettings, PolicyView } from './policy.js';
import { SampledPolicy } from './pool.js';

export function createLfuPolicy(ks: PolicyView, volatileOnly: boolean, settings: PolicySettings): EvictionPolicy {
  return new SampledPolicy(volatileOnly ? 'volatile-lfu' : 'allkeys-lfu', volatileOnly, ks, settings,
    // The counter decides; idle time (in whole minutes under LFU) breaks ties.
    (ref, now) => (255 - ks.access.lfuCounter(ref, now)) * 2 ** 32 + Math.min(ks.access.idleMs(ref, now), 2 ** 32 - 1));
}
