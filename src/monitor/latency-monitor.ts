// Redis's latency monitor: events (a slow command, a slow fast-command...)
// sampled when they take at least latency-monitor-threshold ms, at most one
// sample per second per event (the worst of that second), the last 160 kept.

/** Samples kept per event (Redis's LATENCY_TS_LEN). */
const SAMPLES = 160;

interface Series {
  time: Float64Array;
  latency: Float64Array;
  idx: number;
  max: number;
}

export interface LatencyEvent {
  event: string;
  /** Unix time (s) of the latest sample. */
  time: number;
  latest: number;
  max: number;
}

export class LatencyMonitor {
  private readonly series = new Map<string, Series>();

  /** `thresholdMs` reads latency-monitor-threshold (0: off) when a sample comes. */
  constructor(private readonly thresholdMs: () => number) {}

  /** Records `ms` for `event` if the monitor is on and the threshold reached (Redis's latencyAddSampleIfNeeded). */
  addSampleIfNeeded(event: string, ms: number): void {
    const threshold = this.thresholdMs();
    if (threshold > 0 && ms >= threshold) this.addSample(event, ms);
  }

  private addSample(event: string, ms: number): void {
    let ts = this.series.get(event);
    if (!ts) {
      ts = { time: new Float64Array(SAMPLES), latency: new Float64Array(SAMPLES), idx: 0, max: 0 };
      this.series.set(event, ts);
    }
    const now = Math.floor(Date.now() / 1000);
    if (ms > ts.max) ts.max = ms;
    const prev = (ts.idx + SAMPLES - 1) % SAMPLES;
    if (ts.time[prev] === now) {
      if (ms > ts.latency[prev]) ts.latency[prev] = ms;
      return;
    }
    ts.time[ts.idx] = now;
    ts.latency[ts.idx] = ms;
    ts.idx = (ts.idx + 1) % SAMPLES;
  }

  /** The events with samples, with their latest and highest values (LATENCY LATEST, /metrics). */
  events(): LatencyEvent[] {
    const out = [];
    for (const [event, ts] of this.series) {
      const last = (ts.idx + SAMPLES - 1) % SAMPLES;
      out.push({ event, time: ts.time[last], latest: ts.latency[last], max: ts.max });
    }
    return out;
  }

  /** An event's samples, oldest first, as [unix time, ms] (LATENCY HISTORY); empty when unknown. */
  history(event: string): [number, number][] {
    const ts = this.series.get(event);
    if (!ts) return [];
    const out: [number, number][] = [];
    // The ring starts at the slot to be written next.
    for (let j = 0; j < SAMPLES; j++) {
      const i = (ts.idx + j) % SAMPLES;
      if (ts.time[i] !== 0) out.push([ts.time[i], ts.latency[i]]);
    }
    return out;
  }

  /** Forgets the named events, or all of them; returns how many were known (LATENCY RESET). */
  reset(events?: string[]): number {
    if (events === undefined) {
      const n = this.series.size;
      this.series.clear();
      return n;
    }
    let n = 0;
    for (const e of events) if (this.series.delete(e)) n++;
    return n;
  }
}
