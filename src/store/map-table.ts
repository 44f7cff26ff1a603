// A KeyTable on a JS Map, the stand-in until the slab allocator lands.
//
// Entries sit in a slot array so handles are small integers. Freed slots are
// reused; the array is trimmed when its tail empties. After mass deletes the
// array can be mostly holes, which would make random sampling and SCAN slow,
// so it is compacted by moving the top entry into a hole. SCAN walks slots
// from the top down: an entry only ever moves *down*, so one that has not
// been visited yet stays ahead of the cursor, and the guarantee that every
// entry present for the whole scan is returned holds across compaction.
// Keys with a TTL are also kept in a dense array so the active expiry cycle
// can sample them in O(1).

import { KeyTable, ValueType } from './keytable.js';
import { HashIndex } from './hash-index.js';

/** Rough per-entry overhead of this representation, for memory accounting. */
const ENTRY_OVERHEAD = 96;
/** Below this many slots, holes are not worth compacting. */
const COMPACT_MIN_SLOTS = 64;

class Entry {
  constructor(
    public key: Buffer,
    public value: Buffer,
    public type: ValueType,
    public atime: number,
    public slot: number,
  ) {}
  expireAt = 0;
  /** Exact expiry when it is beyond 2^53 (expireAt then holds the nearest double). */
  expireBig: bigint | null = null;
  freq = 5; // LFU_INIT_VAL, as in Redis
  volatileIndex = -1;
}


export class MapKeyTable implements KeyTable {
  /** Key bytes -> entry; no string per lookup. */
  private index = new HashIndex<Entry>((e) => e.key);
  private slots: (Entry | null)[] = [];
  /** Holes below slots.length; may also hold stale indexes >= length (skipped on pop). */
  private free: number[] = [];
  private volatile: Entry[] = [];
  usedBytes = 0;

  get size(): number { return this.index.size; }
  get volatileSize(): number { return this.volatile.length; }

  find(key: Buffer): number {
    const e = this.index.get(key);
    return e === undefined ? -1 : e.slot;
  }

  private at(h: number): Entry { return this.slots[h] as Entry; }
  key(h: number): Buffer { return this.at(h).key; }
  value(h: number): Buffer { return this.at(h).value; }
  type(h: number): ValueType { return this.at(h).type; }
  expireAt(h: number): number { return this.at(h).expireAt; }
  accessTime(h: number): number { return this.at(h).atime; }
  freq(h: number): number { return this.at(h).freq; }
  setFreq(h: number, f: number): void { this.at(h).freq = f; }

  touch(h: number, now: number): void { this.at(h).atime = now; }

  setExpireAt(h: number, at: number): void {
    const e = this.at(h);
    if (at !== 0 && e.volatileIndex < 0) {
      e.volatileIndex = this.volatile.length;
      this.volatile.push(e);
    } else if (at === 0 && e.volatileIndex >= 0) {
      this.dropVolatile(e);
    }
    e.expireAt = at;
    e.expireBig = null;
  }

  expireAtExact(h: number): bigint {
    const e = this.at(h);
    return e.expireBig ?? BigInt(e.expireAt);
  }

  setExpireAtExact(h: number, at: bigint): void {
    const n = Number(at);
    this.setExpireAt(h, n);
    if (!Number.isSafeInteger(n)) this.at(h).expireBig = at;
  }

  private dropVolatile(e: Entry): void {
    const last = this.volatile.pop() as Entry;
    if (last !== e) {
      last.volatileIndex = e.volatileIndex;
      this.volatile[e.volatileIndex] = last;
    }
    e.volatileIndex = -1;
  }

  insert(key: Buffer, type: ValueType, value: Buffer, expireAt: number, now: number): number {
    let slot = -1;
    while (this.free.length > 0) {
      const s = this.free.pop() as number;
      if (s < this.slots.length) {
        slot = s;
        break;
      }
    }
    if (slot < 0) {
      slot = this.slots.length;
      this.slots.push(null);
    }
    // Copies: the arguments are views into the client's read buffer.
    const e = new Entry(Buffer.from(key), Buffer.from(value), type, now, slot);
    this.slots[slot] = e;
    this.index.set(e.key, e);
    if (expireAt !== 0) this.setExpireAt(slot, expireAt);
    this.usedBytes += key.length + value.length + ENTRY_OVERHEAD;
    return slot;
  }

  replace(h: number, type: ValueType, value: Buffer, now: number): number {
    const e = this.at(h);
    this.usedBytes += value.length - e.value.length;
    // Same size (the common overwrite in a cache): reuse the bytes, allocate nothing.
    if (value.length === e.value.length) value.copy(e.value);
    else e.value = Buffer.from(value);
    e.type = type;
    e.atime = now;
    return h;
  }

  rename(h: number, key: Buffer): number {
    const e = this.at(h);
    this.index.delete(e.key);
    this.usedBytes += key.length - e.key.length;
    e.key = Buffer.from(key);
    this.index.set(e.key, e);
    return h;
  }

  remove(h: number): void {
    const e = this.at(h);
    this.index.delete(e.key);
    if (e.volatileIndex >= 0) this.dropVolatile(e);
    this.slots[h] = null;
    // Only the tail is trimmed here: moving entries would break live handles.
    if (h === this.slots.length - 1) this.trim();
    else this.free.push(h);
    this.usedBytes -= e.key.length + e.value.length + ENTRY_OVERHEAD;
  }

  clear(): void {
    // Fresh containers so the old ones' memory goes back at once.
    this.index = new HashIndex<Entry>((e) => e.key);
    this.slots = [];
    this.free = [];
    this.volatile = [];
    this.usedBytes = 0;
  }

  scan(cursor: number, visit: (h: number) => void): number {
    this.densify();
    // The cursor is one past the next slot to visit; 0 (or beyond the end) starts at the top.
    const n = this.slots.length;
    const i = (cursor <= 0 || cursor > n ? n : cursor) - 1;
    if (i < 0) return 0;
    if (this.slots[i] !== null) visit(i);
    return i;
  }

  randomEntry(): number {
    if (this.index.size === 0) return -1;
    // At least half the slots are live after densify, so this ends quickly.
    this.densify();
    for (;;) {
      const i = Math.floor(Math.random() * this.slots.length);
      if (this.slots[i] !== null) return i;
    }
  }

  randomVolatile(): number {
    if (this.volatile.length === 0) return -1;
    return this.volatile[Math.floor(Math.random() * this.volatile.length)].slot;
  }

  volatileAt(i: number): number {
    return this.volatile[i].slot;
  }

  entryBytes(h: number): number {
    const e = this.at(h);
    return e.key.length + e.value.length + ENTRY_OVERHEAD;
  }

  compactStep(work: number): boolean {
    for (let i = 0; i < work && this.sparse(); i++) if (!this.moveTopDown()) break;
    // Stale free indexes pile up when the tail is trimmed; drop them now and then.
    if (this.free.length > 2 * this.slots.length + COMPACT_MIN_SLOTS) {
      const n = this.slots.length;
      this.free = this.free.filter((s) => s < n);
    }
    return this.sparse();
  }

  /** Test hook: slot array length (live entries plus holes). */
  get slotCount(): number { return this.slots.length; }

  private sparse(): boolean {
    return this.slots.length > COMPACT_MIN_SLOTS && this.index.size * 2 < this.slots.length;
  }

  /** Compacts until at least half the slots are live. Amortized against the deletes that made the holes. */
  private densify(): void {
    while (this.sparse() && this.moveTopDown());
  }

  /** Moves the top entry into a hole below it; the tail is then trimmed. */
  private moveTopDown(): boolean {
    let hole = -1;
    while (this.free.length > 0) {
      const s = this.free.pop() as number;
      if (s < this.slots.length) {
        hole = s;
        break;
      }
    }
    if (hole < 0) return false;
    const top = this.slots.length - 1;
    const e = this.slots[top] as Entry;
    this.slots[hole] = e;
    e.slot = hole;
    this.slots[top] = null;
    this.trim();
    return true;
  }

  /** Drops empty slots from the end, keeping the invariant that the top slot is live. */
  private trim(): void {
    const slots = this.slots;
    let n = slots.length;
    while (n > 0 && slots[n - 1] === null) n--;
    slots.length = n;
    if (n === 0) this.free.length = 0;
  }
}
