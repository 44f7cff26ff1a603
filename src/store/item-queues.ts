// The queues every item is in, by insertion order (newest at the head,
// oldest at the tail): the first queue, and a second one, the main queue,
// for a policy that keeps one (S3-FIFO). Links live in the items' headers
// (items.ts), so a queue is only its two ends and a count.

import { ITEM_MAIN, type Items } from './items.js';

export class ItemQueues {
  head = 0;
  tail = 0;
  count = 0;
  mainHead = 0;
  mainTail = 0;
  mainCount = 0;

  constructor(private readonly items: Items) {}

  /** The next newer item in ref's queue, 0 at the head (SIEVE's hand moves this way). */
  newer(ref: number): number {
    return this.items.newer(ref);
  }

  /** Links an item at the head of the first queue, or of the main queue. */
  link(ref: number, main: boolean): void {
    const items = this.items;
    items.setFlag(ref, ITEM_MAIN, main);
    const head = main ? this.mainHead : this.head;
    items.setOlder(ref, head);
    items.setNewer(ref, 0);
    if (head !== 0) items.setNewer(head, ref);
    else if (main) this.mainTail = ref;
    else this.tail = ref;
    if (main) {
      this.mainHead = ref;
      this.mainCount++;
    } else {
      this.head = ref;
      this.count++;
    }
  }

  unlink(ref: number): void {
    const items = this.items;
    const older = items.older(ref);
    const newer = items.newer(ref);
    const main = items.inMain(ref);
    this.pointNeighbours(older, newer, main, newer, older);
    if (main) this.mainCount--;
    else this.count--;
  }

  /** Moves an item to the head of the first or the main queue (S3-FIFO's promotion and reinsertion). */
  requeue(ref: number, main: boolean): void {
    this.unlink(ref);
    this.link(ref, main);
  }

  /** Item `from` was copied to `to`, links included: its neighbours (or the ends) now name `to`. */
  replace(to: number): void {
    const items = this.items;
    this.pointNeighbours(items.older(to), items.newer(to), items.inMain(to), to, to);
  }

  /** Puts the main queue's items back at the old end of the first (a policy without a main queue took over). */
  mergeMain(): void {
    if (this.mainCount === 0) return;
    const items = this.items;
    for (let r = this.mainHead; r !== 0; r = items.older(r)) items.setFlag(r, ITEM_MAIN, false);
    if (this.tail !== 0) {
      items.setNewer(this.mainHead, this.tail);
      items.setOlder(this.tail, this.mainHead);
    } else {
      this.head = this.mainHead;
    }
    this.tail = this.mainTail;
    this.count += this.mainCount;
    this.mainHead = this.mainTail = this.mainCount = 0;
  }

  reset(): void {
    this.head = this.tail = this.count = 0;
    this.mainHead = this.mainTail = this.mainCount = 0;
  }

  /**
   * In an item's queue, its older neighbour (or the tail, when it has none)
   * now names `fromOlder`, and its newer one (or the head) `fromNewer`.
   */
  private pointNeighbours(older: number, newer: number, main: boolean, fromOlder: number, fromNewer: number): void {
    const items = this.items;
    if (older !== 0) items.setNewer(older, fromOlder);
    else if (main) this.mainTail = fromOlder;
    else this.tail = fromOlder;
    if (newer !== 0) items.setOlder(newer, fromNewer);
    else if (main) this.mainHead = fromNewer;
    else this.head = fromNewer;
  }
}
