// Bulk loading: a pipelined stream of SET commands written straight to the
// server's socket from this process (which runs on the client core), with the
// replies counted as they come back. The same keys and values go to every
// server: as RESP SET to kvslab, Redis and the ceiling server, as text
// protocol `set` to memcached.

import net from 'node:net';

/**
 * @typedef {object} LoadOptions
 * @property {number} count
 * @property {string} prefix      Keys are <prefix><i zero-padded to `width`>, i in [0, count).
 * @property {number} width
 * @property {number} valueSize
 * @property {number} [timeoutMs]
 *
 * @typedef {object} LoadResult
 * @property {number} seconds   From the first byte sent to the last reply.
 * @property {number} maxGapMs  Longest wait between two reads that brought replies
 *   (a stall of the server: a rehash, a GC pause, a resize).
 */

/**
 * Loads keys in the server's own protocol.
 * @param {{ port: number, protocol: 'resp'|'memcache' }} srv
 * @param {LoadOptions} opts
 * @returns {Promise<LoadResult>}
 */
export function loadInto(srv, opts) {
  return srv.protocol === 'memcache' ? loadKeysMemcache(srv.port, opts) : loadKeys(srv.port, opts);
}

/**
 * SET <prefix><i zero-padded to `width`> <valueSize bytes> for i in [0, count), as RESP.
 * @param {number} port
 * @param {LoadOptions} opts
 * @returns {Promise<LoadResult>}
 */
export function loadKeys(port, { count, prefix, width, valueSize, timeoutMs = 600_000 }) {
  const keyLen = prefix.length + width;
  // "*3\r\n$3\r\nSET\r\n$<k>\r\n<key>\r\n$<v>\r\n<value>\r\n"; every reply is one line, +OK or an error.
  const head = Buffer.from(`*3\r\n$3\r\nSET\r\n$${keyLen}\r\n${prefix}`, 'latin1');
  const mid = Buffer.from(`\r\n$${valueSize}\r\n`, 'latin1');
  return pipelinedLoad(port, { count, width, valueSize, timeoutMs, head, mid, ok: '+', what: 'SET' });
}

/**
 * The same keys and values through memcached's text protocol:
 * "set <key> 0 0 <n>\r\n<value>\r\n", each answered "STORED\r\n".
 * @param {number} port
 * @param {LoadOptions} opts
 * @returns {Promise<LoadResult>}
 */
export function loadKeysMemcache(port, { count, prefix, width, valueSize, timeoutMs = 600_000 }) {
  const head = Buffer.from(`set ${prefix}`, 'latin1');
  const mid = Buffer.from(` 0 0 ${valueSize}\r\n`, 'latin1');
  return pipelinedLoad(port, { count, width, valueSize, timeoutMs, head, mid, ok: 'STORED\r', what: 'set' });
}

/**
 * Writes `count` commands head + zero-padded index + mid + value + CRLF in
 * 256 KiB chunks as fast as the socket takes them, and counts the one-line
 * replies; a reply that does not start with `ok` fails the load.
 * @param {number} port
 * @param {{ count: number, width: number, valueSize: number, timeoutMs: number, head: Buffer, mid: Buffer, ok: string, what: string }} o
 * @returns {Promise<LoadResult>}
 */
function pipelinedLoad(port, { count, width, valueSize, timeoutMs, head, mid, ok, what }) {
  const value = Buffer.alloc(valueSize, 'x');
  const cmdLen = head.length + width + mid.length + valueSize + 2;
  const perChunk = Math.max(1, Math.floor((256 * 1024) / cmdLen));

  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let lastReplyAt = 0n;
    let maxGap = 0n;
    const sock = net.connect({ port, host: '127.0.0.1' });
    let replies = 0;
    let partial = '';
    let failed = false;
    const fail = (e) => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      sock.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`load did not finish within ${timeoutMs / 1000} s (${replies}/${count} replies)`)), timeoutMs);
    sock.on('error', fail);
    let closed = false;
    /** @type {Promise<void>} */
    const closedP = new Promise((res) => sock.once('close', () => {
      closed = true;
      fail(new Error(`connection closed after ${replies}/${count} replies`));
      res();
    }));
    sock.on('data', (d) => {
      const text = partial + d.toString('latin1');
      const before = replies;
      let start = 0;
      for (let i = text.indexOf('\r\n'); i !== -1; i = text.indexOf('\r\n', start)) {
        if (!text.startsWith(ok, start)) {
          fail(new Error(`${what} failed: ${text.slice(start, i)}`));
          return;
        }
        replies++;
        start = i + 2;
      }
      partial = text.slice(start);
      if (replies > before) {
        const now = process.hrtime.bigint();
        if (lastReplyAt && now - lastReplyAt > maxGap) maxGap = now - lastReplyAt;
        lastReplyAt = now;
      }
      if (replies === count) {
        clearTimeout(timer);
        failed = true; // settled
        sock.destroy();
        resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, maxGapMs: Number(maxGap) / 1e6 });
      }
    });
    sock.on('connect', async () => {
      for (let i = 0; i < count && !failed && !closed;) {
        const n = Math.min(perChunk, count - i);
        const chunk = Buffer.allocUnsafe(n * cmdLen);
        let o = 0;
        for (let j = 0; j < n; j++, i++) {
          o += head.copy(chunk, o);
          o += chunk.write(String(i).padStart(width, '0'), o, 'latin1');
          o += mid.copy(chunk, o);
          o += value.copy(chunk, o);
          chunk[o++] = 13;
          chunk[o++] = 10;
        }
        if (!sock.write(chunk)) await Promise.race([new Promise((res) => sock.once('drain', res)), closedP]);
      }
    });
  });
}

/** @param {string} s */
export function lastLines(s, n = 3) {
  return s.trim().split('\n').slice(-n).join(' | ');
}
