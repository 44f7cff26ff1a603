// A minimal RESP client for differential tests: sends commands as multibulk
// frames (or raw bytes) and returns replies parsed without any interpretation,
// so kvslab's and Redis's answers can be compared as they are on the wire.

import net from 'node:net';
import RedisParser from 'redis-parser';

export type Reply = Buffer | number | null | Reply[] | { error: string };

export function encodeCommand(argv: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export class RawClient {
  private readonly socket: net.Socket;
  private readonly parser: RedisParser;
  private readonly waiting: ((r: Reply) => void)[] = [];
  private closedWaiters: (() => void)[] = [];
  closed = false;
  /** Raw bytes received, for tests that look at the wire format. */
  received: Buffer[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.parser = new RedisParser({
      returnBuffers: true,
      returnReply: (r: unknown) => this.deliver(r as Reply),
      returnError: (e: Error) => this.deliver({ error: e.message }),
    });
    socket.on('data', (d) => {
      this.received.push(d);
      this.parser.execute(d);
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.closedWaiters) w();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((res, rej) => {
      const s = net.connect(port, '127.0.0.1', () => res(new RawClient(s)));
      s.once('error', rej);
    });
  }

  private deliver(r: Reply): void {
    const w = this.waiting.shift();
    if (w) w(r);
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

/** Renders a reply as readable text for assertion messages and comparisons. */
export function show(r: Reply): unknown {
  if (r === null || typeof r === 'number') return r;
  if (Buffer.isBuffer(r)) return r.toString('latin1');
  if (Array.isArray(r)) return r.map(show);
  return { error: r.error };
}
