// A KeyTable on a JS Map, the stand-in until the slab allocator lands.
// Entries sit in a slot array so handles are small integers and SCAN can walk
// slots: a slot is never moved while its key lives, so a key present for the
// whole scan is always visited. Keys with a TTL are also kept in a dense array
// so the active expiry cycle can sample them in O(1).

import { KeyTable, ValueType } from './keytable.js';

/** Rough per-entry overhead of this representation, for memory accounting. */
const ENTRY_OVERHEAD = 96;

class Entry {
  constructor(
    public key: Buffer,
    public value: Buffer,
    public type: ValueType,
    public expireAt: number,
    public atime: number,
    public slot: number,
  ) {}
  freq = 5; // LFU_INIT_VAL, as in Redis
  volatileIndex = -1;
}

export class MapKeyTable implements KeyTable {
  private readonly index = new Map<string, Entry>();
  private readonly slots: (Entry | null)[] = [];
  private readonly freeSlots: number[] = [];
  private readonly volatile: Entry[] = [];
  usedBytes = 0;

  get size(): number { return this.index.size; }
  get volatileSize(): number { return this.volatile.length; }

  // latin1 maps each byte to one UTF-16 unit, so the Map key is binary-exact.
  find(key: Buffer): number {
    const e = this.index.get(key.toString('latin1', 0, key.length));
    return e === undefined ? -1 : e.slot;
  }

  private at(h: number): Entry { return this.slots[h] as Entry; }
  key(h: number): Buffer { return this.at(h).key; }
  value(h: number): Buffer { return this.at(h).value; }
  type(h: number): ValueType { return this.at(h).type; }
  expireAt(h: number): number { return this.at(h).expireAt; }
  accessTime(h: number): number { return this.at(h).atime; }
  freq(h: number): number { return this.at(h).freq; }

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
    const slot = this.freeSlots.length > 0 ? (this.freeSlots.pop() as number) : this.slots.length;
    // Copies: the arguments are views into the client's read buffer.
    const e = new Entry(Buffer.from(key), Buffer.from(value), type, 0, now, slot);
    if (slot === this.slots.length) this.slots.push(e);
    else this.slots[slot] = e;
    this.index.set(key.toString('latin1', 0, key.length), e);
    if (expireAt !== 0) this.setExpireAt(slot, expireAt);
    this.usedBytes += key.length + value.length + ENTRY_OVERHEAD;
    return slot;
  }

  replace(h: number, type: ValueType, value: Buffer, now: number): number {
    const e = this.at(h);
    this.usedBytes += value.length - e.value.length;
    e.value = Buffer.from(value);
    e.type = type;
    e.atime = now;
    return h;
  }

  remove(h: number): void {
    const e = this.at(h);
    this.index.delete(e.key.toString('latin1', 0, e.key.length));
    if (e.volatileIndex >= 0) this.dropVolatile(e);
    this.slots[h] = null;
    this.freeSlots.push(h);
    this.usedBytes -= e.key.length + e.value.length + ENTRY_OVERHEAD;
  }

  clear(): void {
    this.index.clear();
    this.slots.length = 0;
    this.freeSlots.length = 0;
    this.volatile.length = 0;
    this.usedBytes = 0;
  }

  scan(cursor: number, visit: (h: number) => void): number {
    // One step covers a run of slots; the caller calls again until COUNT is met.
    const end = Math.min(cursor + 10, this.slots.length);
    for (let i = cursor; i < end; i++) if (this.slots[i] !== null) visit(i);
    return end >= this.slots.length ? 0 : end;
  }

  randomEntry(): number {
    if (this.index.size === 0) return -1;
    // Slots are at least half full after compaction, so this ends quickly.
    if (this.slots.length > 64 && this.index.size * 4 < this.slots.length) this.compact();
    for (;;) {
      const i = Math.floor(Math.random() * this.slots.length);
      if (this.slots[i] !== null) return i;
    }
  }

  randomVolatile(): number {
    if (this.volatile.length === 0) return -1;
    return this.volatile[Math.floor(Math.random() * this.volatile.length)].slot;
  }

  entryBytes(h: number): number {
    const e = this.at(h);
    return e.key.length + e.value.length + ENTRY_OVERHEAD;
  }

  /** Trims trailing free slots so random sampling stays fast after mass deletes. */
  private compact(): void {
    while (this.slots.length > 0 && this.slots[this.slots.length - 1] === null) this.slots.pop();
    const n = this.slots.length;
    for (let i = this.freeSlots.length - 1; i >= 0; i--) {
      if (this.freeSlots[i] >= n) {
        this.freeSlots[i] = this.freeSlots[this.freeSlots.length - 1];
        this.freeSlots.pop();
      }
    }
  }
}
