// A walk of a database's entries whose keys hash to chosen slots, one hash
// bucket per step, with no Buffer made per key: what a slot migration sends,
// what it deletes once the slots have moved, and CLUSTER COUNTKEYSINSLOT and
// GETKEYSINSLOT (kvslab keeps no per-slot index of keys). Expired entries
// not yet reclaimed are seen too, as Redis's per-slot lists hold them.

import type { Db } from '../store/db.js';
import type { ByteSpan } from '../store/types.js';
import { spanHashSlot } from './keyslot.js';

export class SlotWalk {
  private cursor = 0;
  /** The walk has been over every bucket. */
  done = false;
  private readonly span: ByteSpan = { buf: Buffer.alloc(0), start: 0, end: 0, block: null };
  private readonly found: number[] = [];

  /** `slots[s]` is 1 for each slot s whose keys the walk wants. */
  constructor(private readonly db: Db, private readonly slots: Uint8Array) {}

  /**
   * The next step: the handles of its entries in the chosen slots (the
   * walk's own array, valid until the next step; read them before writing the db).
   */
  step(): readonly number[] {
    this.found.length = 0;
    this.cursor = this.db.scanStep(this.cursor, this.visit);
    if (this.cursor === 0) this.done = true;
    return this.found;
  }

  private readonly visit = (h: number): void => {
    const k = this.db.keyInto(h, this.span);
    if (this.slots[spanHashSlot(k.buf, k.start, k.end)] === 1) this.found.push(h);
  };
}
