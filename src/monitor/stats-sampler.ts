// Figures INFO derives from the counters over time, as Redis's cron does: the
// instantaneous rates (commands and network bytes per second over the last
// 1.6 s, sampled every 100 ms) and the highest used_memory seen.

const SAMPLES = 16;
const SAMPLE_PERIOD_MS = 100;

/** The running totals the rates come from. */
export interface Totals {
  commands: number;
  netIn: number;
  netOut: number;
}

export class StatsSampler {
  private readonly ops: number[] = [];
  private readonly netIn: number[] = [];
  private readonly netOut: number[] = [];
  private last: { at: number; totals: Totals } | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The highest used_memory seen (since start or CONFIG RESETSTAT). */
  peakMemory = 0;

  constructor(
    private readonly totals: () => Totals,
    private readonly usedMemory: () => number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sample(), SAMPLE_PERIOD_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private sample(): void {
    const now = Date.now();
    const t = this.totals();
    if (this.last && now > this.last.at) {
      const dt = (now - this.last.at) / 1000;
      push(this.ops, (t.commands - this.last.totals.commands) / dt);
      push(this.netIn, (t.netIn - this.last.totals.netIn) / dt);
      push(this.netOut, (t.netOut - this.last.totals.netOut) / dt);
    }
    this.last = { at: now, totals: { ...t } };
    this.trackPeak();
  }

  /** The current used_memory, recorded as the peak when higher. */
  trackPeak(): number {
    const used = this.usedMemory();
    if (used > this.peakMemory) this.peakMemory = used;
    return used;
  }

  /** instantaneous_ops_per_sec. */
  get opsPerSec(): number { return Math.round(mean(this.ops)); }
  /** instantaneous_input_kbps / output_kbps. */
  get inputKbps(): number { return mean(this.netIn) / 1024; }
  get outputKbps(): number { return mean(this.netOut) / 1024; }

  /** CONFIG RESETSTAT: the peak starts again from the current figure, the rates from nothing. */
  reset(): void {
    this.peakMemory = this.usedMemory();
    this.ops.length = 0;
    this.netIn.length = 0;
    this.netOut.length = 0;
    this.last = null;
  }
}

function push(a: number[], v: number): void {
  // CONFIG RESETSTAT can make a delta negative once.
  a.push(Math.max(0, v));
  if (a.length > SAMPLES) a.shift();
}

function mean(a: number[]): number {
  return a.length === 0 ? 0 : a.reduce((x, y) => x + y, 0) / a.length;
}
