// The slow log (SLOWLOG): the commands that took at least
// slowlog-log-slower-than µs, newest first, at most slowlog-max-len of them,
// in Redis's entry shape: id, unix time, duration in µs, the arguments (as
// the command family prepared them: cut and redacted), the client's address
// and name.

export interface SlowLogEntry {
  id: number;
  /** Unix time in seconds. */
  time: number;
  us: number;
  argv: Buffer[];
  addr: string;
  name: string;
}

export class SlowLog {
  /** Oldest first from `start`; entries before it are dropped (compacted now and then). */
  private entries: SlowLogEntry[] = [];
  private start = 0;
  private nextId = 0;

  /** `maxLen` reads slowlog-max-len when an entry comes. */
  constructor(private readonly maxLen: () => number) {}

  get length(): number {
    return this.entries.length - this.start;
  }

  push(argv: Buffer[], us: number, addr: string, name: string): void {
    this.entries.push({ id: this.nextId++, time: Math.floor(Date.now() / 1000), us, argv, addr, name });
    const max = this.maxLen();
    if (this.length > max) this.start = this.entries.length - max;
    if (this.start > 64 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }

  /** The newest `count` entries, newest first (SLOWLOG GET, /metrics, the status page). */
  newest(count = Infinity): SlowLogEntry[] {
    const out: SlowLogEntry[] = [];
    for (let i = this.entries.length - 1; i >= this.start && out.length < count; i--) out.push(this.entries[i]);
    return out;
  }

  reset(): void {
    this.entries = [];
    this.start = 0;
  }
}
