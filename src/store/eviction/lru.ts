// allkeys-lru / volatile-lru: evict the key idle the longest, approximated by
// sampling as Redis does, but with a clock of 1/256 s instead of Redis's
// 1 s, so recency is still told apart when the cache turns over in seconds.

import type { EvictionPolicy, PolicySettings, PolicyView } from './policy.js';
import { SampledPolicy } from './pool.js';

export function createLruPolicy(ks: PolicyView, volatileOnly: boolean, settings: PolicySettings): EvictionPolicy {
  return new SampledPolicy(volatileOnly ? 'volatile-lru' : 'allkeys-lru', volatileOnly, ks, settings, (ref, now) => ks.access.idleMs(ref, now));
}
