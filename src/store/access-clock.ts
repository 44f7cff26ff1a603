// An item's access field, read by the eviction policy in force. Under an LFU
// policy it holds minutes since start-up and the LFU counter, otherwise ticks
// of 1/256 s; like Redis's lru field it changes meaning with the policy, and
// after a switch the old values read as noise until keys are touched again.

import type { Items } from './items.js';
import { LFU_INIT_VAL, type LfuParams, lfuDecayed, lfuIncremented } from './lfu-counter.js';

const TICKS_PER_MS = 256 / 1000;

export class AccessClock {
  /** LFU parameters while an LFU policy is set (the counters are kept up only then, as in Redis). */
  lfu: LfuParams | null = null;
  /** `epoch` is the store's clock at start: times before it would wrap to the far future. */
  constructor(private readonly items: Items, private readonly epoch: number) {}

  ticksAt(ms: number): number {
    return Math.floor((ms - this.epoch) * TICKS_PER_MS) >>> 0;
  }

  private minutesAt(ms: number): number {
    return Math.floor((ms - this.epoch) / 60000) & 0xffffff;
  }

  /** The access field of an item accessed now (a new item: counter at its initial value). */
  fresh(nowMs: number, counter = LFU_INIT_VAL): number {
    return this.lfu === null ? this.ticksAt(nowMs) : ((this.minutesAt(nowMs) << 8) | counter) >>> 0;
  }

  /** Records an access: the time, the LFU counter under an LFU policy, SIEVE's visited bit. */
  touch(ref: number, nowMs: number): void {
    const items = this.items;
    const lfu = this.lfu;
    if (lfu === null) items.setAccess(ref, this.ticksAt(nowMs));
    else items.setAccess(ref, this.fresh(nowMs, lfuIncremented(this.lfuCounter(ref, nowMs), lfu)));
    items.markVisited(ref);
  }

  /**
   * Sets an item's access data from a dump (Redis's objectSetLRUOrLFU): the
   * LFU counter under an LFU policy, the idle time otherwise; -1 leaves the
   * fresh value the item was made with.
   */
  restore(ref: number, nowMs: number, idleSeconds: number, freq: number): void {
    if (this.lfu !== null) {
      if (freq >= 0) this.items.setAccess(ref, this.fresh(nowMs, Math.min(255, freq)));
    } else if (idleSeconds >= 0) {
      this.items.setAccess(ref, this.ticksAt(nowMs - idleSeconds * 1000));
    }
  }

  /** Milliseconds since item `ref` was last accessed (minute resolution under LFU). */
  idleMs(ref: number, nowMs: number): number {
    const a = this.items.access(ref);
    if (this.lfu === null) return ((this.ticksAt(nowMs) - a) >>> 0) / TICKS_PER_MS;
    return (((this.minutesAt(nowMs) - (a >>> 8)) & 0xffffff) * 60000);
  }

  /** The LFU counter after the decay due by now (meaningful under an LFU policy). */
  lfuCounter(ref: number, nowMs: number): number {
    const counter = this.items.access(ref) & 0xff;
    return this.lfu === null ? counter : lfuDecayed(counter, this.idleMs(ref, nowMs) / 60000, this.lfu);
  }
}
