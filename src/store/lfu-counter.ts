// Redis's LFU counter: an 8-bit logarithmic access counter that grows with
// probability 1/((counter - LFU_INIT_VAL) * lfu-log-factor + 1) and decays by
// one per lfu-decay-time minutes without access.

export const LFU_INIT_VAL = 5;

export interface LfuParams {
  logFactor: number;
  decayMinutes: number;
}

/** The counter after the decay due for `idleMinutes` without access. */
export function lfuDecayed(counter: number, idleMinutes: number, p: LfuParams): number {
  if (p.decayMinutes <= 0) return counter;
  const periods = Math.floor(idleMinutes / p.decayMinutes);
  return periods > counter ? 0 : counter - periods;
}

/** The counter after one more access: the logarithmic increment (decay is applied first by the caller). */
export function lfuIncremented(counter: number, p: LfuParams): number {
  if (counter >= 255) return counter;
  const base = Math.max(0, counter - LFU_INIT_VAL);
  return Math.random() < 1 / (base * p.logFactor + 1) ? counter + 1 : counter;
}
