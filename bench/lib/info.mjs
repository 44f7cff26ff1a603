// Reading a RESP server's INFO fields (used_memory, evicted_keys, ...) over
// a short-lived connection of its own.

import net from 'node:net';

/**
 * INFO <section>, parsed into its "name:value" fields.
 * @param {number} port
 * @param {string} section  e.g. "memory", "stats"
 * @param {number} [timeoutMs]
 * @returns {Promise<Record<string, string>>}
 */
export function info(port, section, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    /** @type {Buffer[]} */
    const parts = [];
    let size = 0;
    const finish = (/** @type {Error|null} */ err, /** @type {Record<string, string>} */ fields = {}) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err); else resolve(fields);
    };
    const timer = setTimeout(() => finish(new Error(`INFO ${section} timed out`)), timeoutMs);
    sock.on('error', (e) => finish(e));
    sock.on('connect', () => sock.write(`*2\r\n$4\r\nINFO\r\n$${section.length}\r\n${section}\r\n`));
    sock.on('data', (d) => {
      parts.push(d);
      size += d.length;
      const buf = Buffer.concat(parts, size);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      if (buf[0] !== 36 /* $ */) {
        finish(new Error(`INFO ${section}: ${buf.subarray(0, eol).toString('latin1')}`));
        return;
      }
      const len = Number(buf.subarray(1, eol).toString('latin1'));
      if (buf.length < eol + 2 + len + 2) return;
      const text = buf.subarray(eol + 2, eol + 2 + len).toString('utf8');
      /** @type {Record<string, string>} */
      const fields = {};
      for (const line of text.split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0 && !line.startsWith('#')) fields[line.slice(0, i)] = line.slice(i + 1);
      }
      finish(null, fields);
    });
  });
}

/**
 * A numeric INFO field, or null when the server does not report it.
 * @param {Record<string, string>} fields
 * @param {string} name
 */
export function infoNumber(fields, name) {
  if (!(name in fields)) return null;
  const v = Number(fields[name]);
  return Number.isFinite(v) ? v : null;
}
