// The thread behind BlockPool (block-pool.ts): for each block it is sent, it
// takes the block (QUEUED → FAULTING) unless the pool claimed or dropped it
// first, writes a zero into every page, and marks it FAULTED, waking a taker
// that waits for it. The pages are fresh (zero), so the writes change no byte.

import { parentPort } from 'node:worker_threads';
import { FAULTED, FAULTING, QUEUED } from './block-pool.js';

const PAGE = 4096;
let state: Int32Array | null = null;

parentPort!.on('message', (m: { state?: SharedArrayBuffer; sab?: SharedArrayBuffer; slot?: number; tag?: number }) => {
  if (m.state !== undefined) {
    state = new Int32Array(m.state);
    return;
  }
  const { sab, slot, tag } = m as { sab: SharedArrayBuffer; slot: number; tag: number };
  if (state === null || Atomics.compareExchange(state, slot, tag + QUEUED, tag + FAULTING) !== tag + QUEUED) return;
  const bytes = new Uint8Array(sab);
  for (let i = 0; i < bytes.length; i += PAGE) bytes[i] = 0;
  Atomics.store(state, slot, tag + FAULTED);
  Atomics.notify(state, slot);
});
