// Bulk loading: a pipelined stream of SET commands written straight to the
// server's socket from this process (which runs on the client core), with the
// replies counted as they come back. The same bytes go to both servers.

import net from 'node:net';

/**
 * SET <prefix><i zero-padded to `width`> <valueSize bytes> for i in [0, count).
 * @param {number} port
 * @param {{ count: number, prefix: string, width: number, valueSize: number, timeoutMs?: number }} opts
 * @returns {Promise<{ seconds: number }>}
 */
export function loadKeys(port, { count, prefix, width, valueSize, timeoutMs = 600_000 }) {
  const keyLen = prefix.length + width;
  // "*3\r\n$3\r\nSET\r\n$<k>\r\n<key>\r\n$<v>\r\n<value>\r\n"
  const head = Buffer.from(`*3\r\n$3\r\nSET\r\n$${keyLen}\r\n${prefix}`, 'latin1');
  const mid = Buffer.from(`\r\n$${valueSize}\r\n`, 'latin1');
  const value = Buffer.alloc(valueSize, 'x');
  const cmdLen = head.length + width + mid.length + valueSize + 2;
  const perChunk = Math.max(1, Math.floor((256 * 1024) / cmdLen));

  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
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
      // Every SET reply is one line: +OK or an error.
      const text = partial + d.toString('latin1');
      let start = 0;
      for (let i = text.indexOf('\r\n'); i !== -1; i = text.indexOf('\r\n', start)) {
        if (text.charCodeAt(start) !== 43 /* + */) {
          fail(new Error(`SET failed: ${text.slice(start, i)}`));
          return;
        }
        replies++;
        start = i + 2;
      }
      partial = text.slice(start);
      if (replies === count) {
        clearTimeout(timer);
        failed = true; // settled
        sock.destroy();
        resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9 });
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
