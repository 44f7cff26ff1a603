// Replaying a trace against a RESP server as a read-through cache would:
// GET each requested key, and on a miss SET it with its value. A plain socket
// writing RESP and parsing the replies byte by byte (no client library: the
// replay must outrun the servers), pipelined in batches: one write carries
// the SETs for the previous batch's misses, then the next batch's GETs. The
// server runs one connection's commands in order, so every GET still sees
// the SETs of the misses before it.

import net from 'node:net';

/** @typedef {import('./trace.mjs').Stream} Stream */

/**
 * @typedef {object} Segment
 * @property {Stream} stream    Where the requested keys come from.
 * @property {number} count     How many requests.
 * @property {boolean} measure  Whether its GETs count in the hit ratio.
 *
 * @typedef {object} ReplayResult
 * @property {number} requests         Every GET sent.
 * @property {number} measuredGets
 * @property {number} measuredHits
 * @property {number} measuredSeconds  Wall time of the measured segments.
 * @property {number} seconds          Wall time of the whole replay.
 * @property {number} sets             SETs answered +OK.
 * @property {number} setErrors        SETs answered with an error (-OOM under noeviction).
 * @property {number} getErrors
 * @property {string|null} firstError  The first error reply, for the log.
 */

// Reply kinds.
const HIT = 1;
const NIL = 2;
const STATUS = 3;
const ERROR = 4;

// Reply parser states.
const TYPE = 0;
const LINE = 1;
const LEN = 2;
const BULK = 3;

/** Writes a non-negative integer's decimal digits at `o`; returns the new offset. */
function writeInt(buf, o, n) {
  if (n < 10) { buf[o] = 48 + n; return o + 1; }
  const s = String(n);
  for (let i = 0; i < s.length; i++) buf[o + i] = s.charCodeAt(i);
  return o + s.length;
}

/**
 * Replays `segments` in order on one connection.
 * @param {number} port
 * @param {Segment[]} segments
 * @param {{ batch?: number, timeoutMs?: number }} [o]  `batch`: GETs per write (default 64).
 * @returns {Promise<ReplayResult>}
 */
export async function replay(port, segments, { batch = 64, timeoutMs = 600_000 } = {}) {
  const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((res, rej) => {
    sock.once('connect', res);
    sock.once('error', rej);
  });

  const maxSize = Math.max(...segments.map((s) => s.stream.keys.maxSize));
  const maxName = Math.max(...segments.map((s) => s.stream.keys.prefix.length + String(s.stream.keys.n - 1).length));
  // Written from this one buffer: values are slices of it, never allocated per request.
  const value = Buffer.alloc(maxSize, 'v');
  const cap = batch * (maxSize + maxName + 64) + batch * (maxName + 32);
  const out = [Buffer.allocUnsafe(cap), Buffer.allocUnsafe(cap)];
  let which = 0;

  // Parser state, kept across reads.
  const kinds = new Uint8Array(batch * 2);
  let expected = 0;
  let got = 0;
  let state = TYPE;
  let kind = 0;
  let len = 0;
  let neg = false;
  let left = 0;
  let errText = '';
  /** @type {string|null} */
  let firstError = null;
  /** @type {((v?: unknown) => void)|null} */
  let wake = null;
  /** @type {Error|null} */
  let broken = null;

  const fail = (e) => {
    if (!broken) broken = e;
    if (wake) wake();
  };
  sock.on('error', fail);
  sock.on('close', () => fail(new Error(`connection closed after ${got}/${expected} replies of a batch`)));
  const timer = setTimeout(() => { fail(new Error(`replay did not finish within ${timeoutMs / 1000} s`)); sock.destroy(); }, timeoutMs);

  const done = (k) => {
    if (got >= expected) { fail(new Error('more replies than commands')); return; }
    kinds[got++] = k;
    state = TYPE;
  };
  sock.on('data', (buf) => {
    const n = buf.length;
    for (let i = 0; i < n;) {
      const b = buf[i];
      switch (state) {
        case TYPE:
          i++;
          if (b === 36 /* $ */) { state = LEN; len = 0; neg = false; } else {
            kind = b === 45 /* - */ ? ERROR : STATUS; // + and : are statuses here
            errText = '';
            state = LINE;
          }
          break;
        case LINE:
          i++;
          if (b === 10) {
            if (kind === ERROR && firstError === null) firstError = errText.trim();
            done(kind);
          } else if (kind === ERROR && errText.length < 200) errText += String.fromCharCode(b);
          break;
        case LEN:
          i++;
          if (b >= 48 && b <= 57) len = len * 10 + b - 48;
          else if (b === 45) neg = true;
          else if (b === 10) {
            if (neg) done(NIL); else { state = BULK; left = len + 2; }
          }
          break;
        case BULK: {
          const take = Math.min(left, n - i);
          i += take;
          left -= take;
          if (left === 0) done(HIT);
          break;
        }
        default:
          break;
      }
      if (broken) return;
    }
    if (got === expected && wake) wake();
  });

  /** Writes `len` bytes of the current buffer and waits for `count` replies. */
  const roundTrip = async (length, count) => {
    if (broken) throw broken;
    expected = count;
    got = 0;
    const ready = new Promise((res) => { wake = res; });
    sock.write(out[which].subarray(0, length));
    which ^= 1;
    await ready;
    wake = null;
    if (broken) throw broken;
  };

  const r = /** @type {ReplayResult} */ ({
    requests: 0, measuredGets: 0, measuredHits: 0, measuredSeconds: 0, seconds: 0, sets: 0, setErrors: 0, getErrors: 0, firstError: null,
  });
  const t0 = performance.now();
  // Misses of the last batch: their SETs lead the next write.
  let missKeys = /** @type {import('./trace.mjs').KeySet|null} */ (null);
  const missIds = new Uint32Array(batch);
  let nMiss = 0;
  const ids = new Uint32Array(batch);
  // Last batch each key was missed in: a repeat within the batch would have
  // found it set by the read-through, so it counts as a hit.
  const stamps = new Map();
  let batchNo = 0;

  try {
    for (let si = 0; si <= segments.length; si++) {
      const seg = segments[si];
      const keys = seg?.stream.keys ?? null;
      let stamp = keys ? stamps.get(keys) : null;
      if (keys && !stamp) { stamp = new Uint32Array(keys.n); stamps.set(keys, stamp); }
      const started = performance.now();
      let remaining = seg ? seg.count : 0;
      // One more pass after the last segment flushes the final SETs.
      while (remaining > 0 || (!seg && nMiss > 0)) {
        const buf = out[which];
        let o = 0;
        for (let k = 0; k < nMiss; k++) {
          const mk = /** @type {import('./trace.mjs').KeySet} */ (missKeys);
          const id = missIds[k];
          const a = mk.nameStart[id];
          const e = mk.nameStart[id + 1];
          const size = mk.sizes[id];
          o += buf.write('*3\r\n$3\r\nSET\r\n$', o, 'latin1');
          o = writeInt(buf, o, e - a);
          buf[o++] = 13; buf[o++] = 10;
          o += mk.names.copy(buf, o, a, e);
          buf[o++] = 13; buf[o++] = 10; buf[o++] = 36;
          o = writeInt(buf, o, size);
          buf[o++] = 13; buf[o++] = 10;
          o += value.copy(buf, o, 0, size);
          buf[o++] = 13; buf[o++] = 10;
        }
        const nGet = seg ? Math.min(batch, remaining) : 0;
        for (let k = 0; k < nGet; k++) {
          const id = /** @type {Segment} */ (seg).stream.next();
          ids[k] = id;
          const a = /** @type {any} */ (keys).nameStart[id];
          const e = /** @type {any} */ (keys).nameStart[id + 1];
          o += buf.write('*2\r\n$3\r\nGET\r\n$', o, 'latin1');
          o = writeInt(buf, o, e - a);
          buf[o++] = 13; buf[o++] = 10;
          o += /** @type {any} */ (keys).names.copy(buf, o, a, e);
          buf[o++] = 13; buf[o++] = 10;
        }
        const nSet = nMiss;
        await roundTrip(o, nSet + nGet);
        for (let k = 0; k < nSet; k++) {
          if (kinds[k] === ERROR) r.setErrors++; else r.sets++;
        }
        nMiss = 0;
        missKeys = keys;
        batchNo++;
        let hits = 0;
        for (let k = 0; k < nGet; k++) {
          const kd = kinds[nSet + k];
          const id = ids[k];
          if (kd === HIT) hits++;
          else if (kd === NIL) {
            if (/** @type {Uint32Array} */ (stamp)[id] === batchNo) hits++;
            else {
              /** @type {Uint32Array} */ (stamp)[id] = batchNo;
              missIds[nMiss++] = id;
            }
          } else r.getErrors++;
        }
        r.requests += nGet;
        remaining -= nGet;
        if (seg?.measure) {
          r.measuredGets += nGet;
          r.measuredHits += hits;
        }
      }
      if (seg?.measure) r.measuredSeconds += (performance.now() - started) / 1000;
    }
  } finally {
    clearTimeout(timer);
    sock.removeAllListeners('close');
    sock.destroy();
  }
  r.seconds = (performance.now() - t0) / 1000;
  r.firstError = firstError;
  return r;
}
