// Redis's LFU counter: an 8-bit logarithmic access counter that grows with
// probability 1/((counter - LFU_INIT_VAL) * lfu-log-factor + 1) and decays by
// one per lfu-decay-time minutes without access.

export const LFU_INIT_VAL = 5;

export interface LfuParams {
  logFactor: number;
  decayMinutes: number;
}

/** The counter after the decay due since the last access. */
export function lfuDecayed(counter: number, lastAccessMs: number, nowMs: number, p: LfuParams): number {
  if (p.decayMinutes <= 0) return counter;
  const periods = Math.floor((nowMs - lastAccessMs) / 60000 / p.decayMinutes);
  return periods > counter ? 0 : counter - periods;
}

/** The counter after one more access (decay first, then the logarithmic increment). */
export function lfuTouched(counter: number, lastAccessMs: number, nowMs: number, p: LfuParams): number {
  let c = lfuDecayed(counter, lastAccessMs, nowMs, p);
  if (c < 255) {
    const base = Math.max(0, c - LFU_INIT_VAL);
    if (Math.random() < 1 / (base * p.logFactor + 1)) c++;
  }
  return c;
}
