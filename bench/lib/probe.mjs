// A latency probe: one connection sending PING, one at a time, each as soon
// as the previous reply is in plus a short pause, recording every round trip.
// It runs in a worker thread so that the bulk load this process drives at
// the same time (on the same client core) does not hold up its event loop
// and pass its own delays off as the server's.

import net from 'node:net';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/**
 * Starts probing the RESP server on `port`; stop() ends it and returns every
 * round-trip time, in ms, in the order they were taken.
 * @param {number} port
 * @param {{ pauseMs?: number }} [o]  pause between a reply and the next PING (default 1)
 * @returns {Promise<{ stop: () => Promise<Float64Array> }>}
 */
export async function startProbe(port, { pauseMs = 1 } = {}) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { port, pauseMs } });
  /** @type {Promise<Float64Array>} */
  const result = new Promise((resolve, reject) => {
    worker.on('message', (m) => {
      if (m.type === 'done') resolve(new Float64Array(m.latencies));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`latency probe exited (${code}) before it was stopped`)));
  });
  // Connected and answered once before the caller starts its load.
  await new Promise((resolve, reject) => {
    worker.on('message', (m) => { if (m.type === 'ready') resolve(undefined); });
    result.catch(reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      // It answers after the PING in flight comes back: a server that hangs must not hang the suite.
      let timer;
      const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('latency probe: no answer to the last PING within 30 s')), 30_000);
      });
      try {
        return await Promise.race([result, late]);
      } finally {
        clearTimeout(timer);
        await worker.terminate();
      }
    },
  };
}

/**
 * The value below which `q` of the sorted samples fall (nearest rank).
 * @param {Float64Array} sorted  ascending
 * @param {number} q  in [0, 1]
 */
export function quantile(sorted, q) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function probeLoop() {
  const { port, pauseMs } = workerData;
  const PING = Buffer.from('*1\r\n$4\r\nPING\r\n', 'latin1');
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  let sentAt = 0n;
  let stopping = false;
  let started = false;
  let pending = '';
  const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
  let reported = false;
  const report = () => {
    if (reported) return;
    reported = true;
    parentPort?.postMessage({ type: 'done', latencies: latencies.slice(0, n).buffer });
    sock.destroy();
  };
  const send = () => {
    if (stopping) {
      report();
      return;
    }
    sentAt = process.hrtime.bigint();
    sock.write(PING);
  };
  sock.on('connect', send);
  sock.on('data', (d) => {
    const now = process.hrtime.bigint();
    pending += d.toString('latin1');
    if (!pending.includes('\r\n')) return;
    if (!pending.startsWith('+PONG')) throw new Error(`PING answered ${pending.trim()}`);
    pending = '';
    if (!started) {
      // The first PING only tells the caller the connection is up: not a sample.
      started = true;
      parentPort?.postMessage({ type: 'ready' });
      setTimeout(send, pauseMs);
      return;
    }
    if (n === latencies.length) {
      const bigger = new Float64Array(n * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[n++] = Number(now - sentAt) / 1e6;
    setTimeout(send, pauseMs);
  });
  sock.on('error', (e) => { throw e; });
  // The server went away: what was measured until then still counts.
  sock.on('close', () => { if (started) report(); });
  parentPort?.on('message', (m) => { if (m === 'stop') stopping = true; });
}

if (!isMainThread && workerData?.port) probeLoop();
