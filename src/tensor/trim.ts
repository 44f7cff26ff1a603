// kv-tail-trim: under memory pressure a tensor the eviction policy picked
// gives back the tail of its sequence instead of going whole. A shorter
// cached prefix still saves an engine its prefill up to there; a missing key
// saves nothing. Each trim keeps the first half of the committed tokens
// (whole blocks of TRIM_BLOCK); below one block the key is evicted as usual.

import type { Db } from '../store/db.js';
import { layerLength, minLength, moveStreams, readTensor, setLayerLength, valueBytes } from './layout.js';

/** Tokens are trimmed in multiples of this (vLLM's block size). */
const TRIM_BLOCK = 16;

/** Halves tensor `h` (whose value is in a large block); false when it is too short to trim. */
export function trimTail(db: Db, h: number): boolean {
  const span = db.valueSpan(h);
  const t = readTensor(span.buf, span.start);
  const keep = Math.floor(minLength(span.buf, span.start, 0, t.layers) / 2 / TRIM_BLOCK) * TRIM_BLOCK;
  if (keep < TRIM_BLOCK || keep >= t.capacity) return false;
  // writable copies the block first when a queued reply still reads it (memory outside the slabs).
  const w = db.writable(h);
  for (let l = 0; l < t.layers; l++) if (layerLength(w.buf, w.start, l) > keep) setLayerLength(w.buf, w.start, l, keep);
  moveStreams(w.buf, w.start, t, keep);
  return db.shrinkLarge(h, valueBytes(t, t.metaLen, keep)) > 0;
}
