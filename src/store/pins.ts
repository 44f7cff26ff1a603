// Items the store must neither evict nor move: the ones a command holds
// handles to (pinned until the next command starts), and those a client
// leased with KV.PIN (until a time on the store's clock), so that a client
// that found them can read them next. A leased item is not moved either, so
// its ref stays its name until a write moves it (the keyspace carries the
// lease along) or it is freed.

export class Pins {
  private refs = new Uint32Array(16);
  private count = 0;
  private readonly leases = new Map<number, number>();

  /** `now` is the store's clock, in ms. */
  constructor(private readonly now: () => number) {}

  pin(ref: number): void {
    if (this.count === this.refs.length) {
      const p = new Uint32Array(this.refs.length * 2);
      p.set(this.refs);
      this.refs = p;
    }
    this.refs[this.count++] = ref;
  }

  unpinAll(): void {
    this.count = 0;
  }

  /** The refs pinned by the current command (a view: valid until the next pin). */
  pinned(): Uint32Array {
    return this.refs.subarray(0, this.count);
  }

  isPinned(ref: number): boolean {
    for (let i = 0; i < this.count; i++) if (this.refs[i] === ref) return true;
    return this.leases.size !== 0 && this.leased(ref);
  }

  /** Keeps item `ref` from eviction until `untilMs` (a later lease wins). */
  lease(ref: number, untilMs: number): void {
    const cur = this.leases.get(ref);
    if (cur === undefined || cur < untilMs) this.leases.set(ref, untilMs);
  }

  get leaseCount(): number { return this.leases.size; }

  private leased(ref: number): boolean {
    const until = this.leases.get(ref);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.leases.delete(ref);
    return false;
  }

  /** Item `from` now lives at `to`: its pins and lease follow it. */
  moved(from: number, to: number): void {
    for (let i = 0; i < this.count; i++) if (this.refs[i] === from) this.refs[i] = to;
    if (this.leases.size === 0) return;
    const until = this.leases.get(from);
    if (until === undefined) return;
    this.leases.delete(from);
    this.leases.set(to, until);
  }

  /** Item `ref` is freed: its lease goes (the chunk may soon hold another item). */
  freed(ref: number): void {
    if (this.leases.size !== 0) this.leases.delete(ref);
  }

  reset(): void {
    this.count = 0;
    this.leases.clear();
  }
}
