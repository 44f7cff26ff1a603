// volatile-ttl: evict the key whose expiry is nearest, among sampled keys
// with a TTL (there is no allkeys-ttl, as in Redis).

import type { EvictionPolicy, PolicySettings, PolicyView } from './policy.js';
import { SampledPolicy } from './pool.js';

export function createTtlPolicy(ks: PolicyView, _volatileOnly: boolean, settings: PolicySettings): EvictionPolicy {
  const items = ks.items;
  return new SampledPolicy('volatile-ttl', true, ks, settings, (ref) => -items.expireAt(ref));
}
