// allkeys-lfu / volatile-lfu: evict the key with the lowest logarithmic
// access counter (after its decay), ties going to the one idle longest.

import type { Keyspace } from '../keyspace.js';
import { lfuDecayed } from '../lfu.js';
import type { EvictionPolicy, PolicySettings } from './policy.js';
import { SampledPolicy } from './pool.js';

export function createLfuPolicy(ks: Keyspace, volatileOnly: boolean, settings: PolicySettings): EvictionPolicy {
  const items = ks.items;
  return new SampledPolicy(volatileOnly ? 'volatile-lfu' : 'allkeys-lfu', volatileOnly, ks, settings, (ref, now) => {
    const idle = ks.idleMs(ref, now);
    const counter = ks.lfu === null ? items.freq(ref) : lfuDecayed(items.freq(ref), now - idle, now, ks.lfu);
    // The counter decides; idle time (below one counter step) breaks ties.
    return (255 - counter) * 2 ** 32 + Math.min(idle, 2 ** 32 - 1);
  });
}
