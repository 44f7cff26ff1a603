// Per-command latency histograms (LATENCY HISTOGRAM, /metrics): dispatch
// counts every call in the bucket of its duration.

/**
 * Upper bounds (µs, inclusive) of the buckets, as LATENCY HISTOGRAM labels
 * them. Redis keeps an hdr_histogram of ns (2 significant figures) and
 * reports it at powers of two from 1024 ns: the label of step k is the
 * highest value equivalent to 2^(10+k) ns, in whole µs. A call of d µs falls
 * in the first step whose label is >= d, so counting calls per step is the
 * same histogram, kept as 21 counters.
 */
export const BUCKET_US: Int32Array = (() => {
  const b = new Int32Array(21);
  for (let k = 0; k < b.length; k++) b[k] = Math.floor((2 ** (10 + k) + 2 ** (k + 3) - 1) / 1000);
  return b;
})();
const LAST_BUCKET = BUCKET_US.length - 1;

/** Counts one call of `us` microseconds in `hist`. */
export function recordLatency(hist: Float64Array, us: number): void {
  const d = us | 0;
  // 2^m <= d < 2^(m+1): the bucket is m or m+1 (labels run about 4% over 2^k).
  let k = 31 - Math.clz32(d | 1);
  if (d > BUCKET_US[k]) k++;
  hist[k > LAST_BUCKET ? LAST_BUCKET : k]++;
}

export function newHistogram(): Float64Array {
  return new Float64Array(BUCKET_US.length);
}
