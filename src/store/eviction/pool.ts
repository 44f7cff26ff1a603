// Sampled eviction, as Redis approximates LRU, LFU and TTL: each choice
// samples maxmemory-samples keys of every database into a pool of the 16
// best candidates seen so far, kept sorted by score, and evicts the best one
// that still exists. A policy of this kind is only its score function.

import type { EvictionPolicy, PolicySettings, PolicyView } from './policy.js';

const POOL_SIZE = 16;
/** Sampling rounds before giving up when every candidate is pinned or gone. */
const MAX_ROUNDS = 16;
/** Rounds that sample nothing at all (a sparse table) before giving up. */
const MAX_DRY_ROUNDS = 4096;

/** Higher scores are evicted first. */
export type ScoreFn = (ref: number, nowMs: number) => number;

export class SampledPolicy implements EvictionPolicy {
  // Pool entries, ascending by score: the best candidate is the last one.
  private readonly refs = new Uint32Array(POOL_SIZE);
  private readonly scores = new Float64Array(POOL_SIZE);
  /** Each candidate's key hash: a chunk freed and reused by another key is not mistaken for it. */
  private readonly hashes = new Uint32Array(POOL_SIZE);
  private count = 0;
  private readonly picked: number[] = [];

  constructor(
    readonly name: string,
    readonly volatileOnly: boolean,
    private readonly ks: PolicyView,
    private readonly settings: PolicySettings,
    private readonly score: ScoreFn,
  ) {}

  victim(): number {
    const ks = this.ks;
    for (let round = 0, dry = 0; round < MAX_ROUNDS; round++) {
      if ((this.volatileOnly ? ks.volatileCount : ks.itemCount) === 0) return 0;
      // A sparse table (many keys just evicted, not shrunk yet) may give empty samples: they do not count.
      if (this.populate() === 0 && this.count === 0 && ++dry < MAX_DRY_ROUNDS) {
        round--;
        continue;
      }
      while (this.count > 0) {
        const i = --this.count;
        const ref = this.refs[i];
        if (this.stillValid(ref, this.hashes[i])) return ref;
      }
    }
    return 0;
  }

  /** A pooled item is being freed: its ref leaves the pool (the chunk may soon hold something else). */
  forget(ref: number): void {
    for (let i = 0; i < this.count; i++) {
      if (this.refs[i] !== ref) continue;
      this.refs.copyWithin(i, i + 1, this.count);
      this.scores.copyWithin(i, i + 1, this.count);
      this.hashes.copyWithin(i, i + 1, this.count);
      this.count--;
      return;
    }
  }

  moved(from: number, to: number): void {
    for (let i = 0; i < this.count; i++) if (this.refs[i] === from) this.refs[i] = to;
  }

  private keyHash(ref: number): number {
    return this.ks.items.keyHash(ref, 0);
  }

  private stillValid(ref: number, hash: number): boolean {
    const ks = this.ks;
    if (!ks.isLive(ref) || ks.isPinned(ref) || this.keyHash(ref) !== hash) return false;
    return !this.volatileOnly || ks.items.expireAt(ref) !== 0;
  }

  /** Samples every table into the pool; returns how many items were sampled. */
  private populate(): number {
    const ks = this.ks;
    const now = ks.now();
    const picked = this.picked;
    let sampled = 0;
    for (const t of ks.tables) {
      picked.length = 0;
      sampled += t.sample(this.settings.samples, this.volatileOnly, picked);
      for (const ref of picked) {
        if (ks.isPinned(ref) || this.inPool(ref)) continue;
        this.insert(ref, this.score(ref, now));
      }
    }
    return sampled;
  }

  private inPool(ref: number): boolean {
    for (let i = 0; i < this.count; i++) if (this.refs[i] === ref) return true;
    return false;
  }

  /** Inserts in score order; when full, only a candidate better than the worst gets in (the worst drops). */
  private insert(ref: number, score: number): void {
    let i = 0;
    while (i < this.count && this.scores[i] < score) i++;
    if (this.count === POOL_SIZE) {
      if (i === 0) return;
      // Drop the worst (index 0) and shift the lower part down.
      i--;
      this.refs.copyWithin(0, 1, i + 1);
      this.scores.copyWithin(0, 1, i + 1);
      this.hashes.copyWithin(0, 1, i + 1);
    } else {
      this.refs.copyWithin(i + 1, i, this.count);
      this.scores.copyWithin(i + 1, i, this.count);
      this.hashes.copyWithin(i + 1, i, this.count);
      this.count++;
    }
    this.refs[i] = ref;
    this.scores[i] = score;
    this.hashes[i] = this.keyHash(ref);
  }
}
