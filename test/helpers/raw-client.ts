// A minimal RESP client for differential tests: sends commands as multibulk
// frames (or raw bytes) and returns each reply parsed without interpretation,
// together with its exact bytes, so kvslab's and Redis's answers can be
// compared as they are on the wire. Understands RESP2 and RESP3.

import net from 'node:net';

export type Reply =
  | Buffer // bulk string, simple string
  | number // integer
  | null // RESP2 null bulk/array, RESP3 null
  | boolean // RESP3 boolean
  | Reply[] // array
  | { error: string }
  | { double: string }
  | { big: string }
  | { verbatim: string; format: string }
  | { map: [Reply, Reply][] }
  | { set: Reply[] }
  | { push: Reply[] };

export function encodeCommand(argv: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Parses one reply at `pos`; null when the buffer does not hold all of it yet. */
export function parseReply(buf: Buffer, pos: number): { value: Reply; end: number } | null {
  if (pos >= buf.length) return null;
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return null;
  const type = buf[pos];
  const line = buf.toString('latin1', pos + 1, nl);
  const next = nl + 2;
  const items = (n: number): { list: Reply[]; end: number } | null => {
    const list: Reply[] = [];
    let p = next;
    for (let i = 0; i < n; i++) {
      const r = parseReply(buf, p);
      if (!r) return null;
      list.push(r.value);
      p = r.end;
    }
    return { list, end: p };
  };
  switch (String.fromCharCode(type)) {
    case '+': return { value: buf.subarray(pos + 1, nl), end: next };
    case '-': return { value: { error: line }, end: next };
    case ':': return { value: Number(line), end: next };
    case '_': return { value: null, end: next };
    case ',': return { value: { double: line }, end: next };
    case '#': return { value: line === 't', end: next };
    case '(': return { value: { big: line }, end: next };
    case '$':
    case '=': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      const body = buf.subarray(next, next + n);
      const value: Reply = type === 0x3d
        ? { format: body.toString('latin1', 0, 3), verbatim: body.toString('latin1', 4) }
        : body;
      return { value, end: next + n + 2 };
    }
    case '*':
    case '~':
    case '>': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const r = items(n);
      if (!r) return null;
      const value: Reply = type === 0x2a ? r.list : type === 0x7e ? { set: r.list } : { push: r.list };
      return { value, end: r.end };
    }
    case '%':
    case '|': {
      const n = Number(line);
      const r = items(n * 2);
      if (!r) return null;
      const pairs: [Reply, Reply][] = [];
      for (let i = 0; i < r.list.length; i += 2) pairs.push([r.list[i], r.list[i + 1]]);
      // An attribute precedes the reply it annotates: return that reply.
      if (type === 0x7c) {
        const inner = parseReply(buf, r.end);
        return inner;
      }
      return { value: { map: pairs }, end: r.end };
    }
    default:
      throw new Error(`unexpected reply type byte ${type} at ${pos}`);
  }
}

export class RawClient {
  private readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  private readonly waiting: ((r: Reply) => void)[] = [];
  private closedWaiters: (() => void)[] = [];
  closed = false;
  /** Exact bytes of each reply, in order (the differential suite compares these). */
  raws: Buffer[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.drain();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.closedWaiters) w();
    });
    socket.on('error', () => {});
  }

  private drain(): void {
    let pos = 0;
    for (;;) {
      const r = parseReply(this.buf, pos);
      if (!r) break;
      this.raws.push(Buffer.from(this.buf.subarray(pos, r.end)));
      pos = r.end;
      const w = this.waiting.shift();
      if (w) w(r.value);
    }
    this.buf = this.buf.subarray(pos);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((res, rej) => {
      const s = net.connect(port, '127.0.0.1', () => res(new RawClient(s)));
      s.once('error', rej);
    });
  }

  /** Bytes of the most recent reply. */
  get lastRaw(): Buffer {
    return this.raws[this.raws.length - 1];
  }

  /** Sends one command and waits for its reply. */
  call(...argv: (string | Buffer)[]): Promise<Reply> {
    const p = new Promise<Reply>((res) => this.waiting.push(res));
    this.socket.write(encodeCommand(argv));
    return p;
  }

  /** Sends raw bytes and waits for `n` replies. */
  sendRaw(bytes: Buffer | string, n = 1): Promise<Reply[]> {
    const ps: Promise<Reply>[] = [];
    for (let i = 0; i < n; i++) ps.push(new Promise<Reply>((res) => this.waiting.push(res)));
    this.socket.write(bytes);
    return Promise.all(ps);
  }

  /** Resolves when the server closes the connection (or after `ms`). */
  waitClose(ms = 2000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((res) => {
      const t = setTimeout(() => res(false), ms);
      this.closedWaiters.push(() => { clearTimeout(t); res(true); });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Renders a reply as readable data for assertion messages and comparisons. */
export function show(r: Reply): unknown {
  if (r === null || typeof r === 'number' || typeof r === 'boolean') return r;
  if (Buffer.isBuffer(r)) return r.toString('latin1');
  if (Array.isArray(r)) return r.map(show);
  if ('map' in r) return { map: r.map.map(([k, v]) => [show(k), show(v)]) };
  if ('set' in r) return { set: r.set.map(show) };
  if ('push' in r) return { push: r.push.map(show) };
  return r;
}
