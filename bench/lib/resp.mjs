// A small RESP2 connection for the suites that drive servers themselves
// (tensor): commands out as multibulk frames (or pre-encoded bytes), replies
// parsed in order. Bulk replies are kept as the chunks they arrived in until
// complete, so megabyte replies cost one concat, not one per read.

import net from 'node:net';

/** @param {Array<string|Buffer>} argv */
export function encode(argv) {
  const parts = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export class RespConn {
  /** @param {net.Socket} socket */
  constructor(socket) {
    this.socket = socket;
    /** @type {Buffer} */
    this.buf = Buffer.alloc(0);
    /** @type {Array<{ resolve: (v: any) => void, reject: (e: Error) => void }>} */
    this.waiting = [];
    socket.setNoDelay(true);
    /** Reads held back until a long bulk reply is complete, and their total with `buf`. */
    this.pending = /** @type {Buffer[]} */ ([]);
    this.have = 0;
    this.need = 0;
    socket.on('data', (d) => {
      if (this.need > 0) {
        this.pending.push(d);
        this.have += d.length;
        if (this.have < this.need) return;
        this.buf = Buffer.concat([this.buf, ...this.pending]);
        this.pending = [];
        this.need = 0;
      } else {
        this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      }
      this.drain();
    });
    const fail = (e) => { for (const w of this.waiting.splice(0)) w.reject(e); };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** @param {number} port @returns {Promise<RespConn>} */
  static connect(port) {
    return new Promise((res, rej) => {
      const s = net.connect(port, '127.0.0.1', () => res(new RespConn(s)));
      s.once('error', rej);
    });
  }

  drain() {
    let pos = 0;
    for (;;) {
      const r = parse(this.buf, pos);
      if (r === null) break;
      pos = r.end;
      const w = this.waiting.shift();
      if (w) {
        if (r.value instanceof Error) w.reject(r.value);
        else w.resolve(r.value);
      }
    }
    this.buf = pos === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
    // A long bulk reply under way: wait for all of it before parsing again.
    if (this.buf.length > 0 && this.buf[0] === 0x24) {
      const eol = this.buf.indexOf('\r\n');
      if (eol > 0) {
        const n = Number(this.buf.toString('latin1', 1, eol));
        if (n > 65536) {
          this.need = eol + 2 + n + 2;
          this.have = this.buf.length;
        }
      }
    }
  }

  /** Sends one command; resolves with its reply (an error reply rejects). @param {Array<string|Buffer>} argv */
  call(...argv) {
    return this.send(encode(argv), 1).then((r) => r[0]);
  }

  /** Sends pre-encoded bytes holding `n` commands; resolves with their replies. @param {Buffer} bytes @param {number} n */
  send(bytes, n) {
    const ps = [];
    for (let i = 0; i < n; i++) ps.push(new Promise((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.socket.write(bytes);
    return Promise.all(ps);
  }

  close() {
    this.socket.destroy();
  }
}

/**
 * One reply from `pos`, or null when incomplete.
 * @param {Buffer} b @param {number} pos
 * @returns {{ value: any, end: number } | null}
 */
function parse(b, pos) {
  if (pos >= b.length) return null;
  const eol = b.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = b[pos];
  const line = b.toString('latin1', pos + 1, eol);
  switch (type) {
    case 0x2b: return { value: line, end: eol + 2 }; // +
    case 0x2d: return { value: new Error(line), end: eol + 2 }; // -
    case 0x3a: return { value: Number(line), end: eol + 2 }; // :
    case 0x24: { // $
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      if (eol + 2 + n + 2 > b.length) return null;
      return { value: b.subarray(eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
    }
    case 0x2a: { // *
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      const out = [];
      let p = eol + 2;
      for (let i = 0; i < n; i++) {
        const r = parse(b, p);
        if (r === null) return null;
        out.push(r.value);
        p = r.end;
      }
      return { value: out, end: p };
    }
    default: throw new Error(`unexpected reply byte ${type}`);
  }
}
