// A connection from this node to another, on the event loop: commands go out
// as they are handed over (pipelined, never waited for one by one), replies
// come back in order and are only counted, the first error kept. What a
// slot migration streams its keys over. Commands are encoded into one
// buffer that goes to the socket whole at the end of a batch (a write per
// argument made a request object each: the GC's work, in the profile, was
// most of a migration's time); an argument of SENT_AS_IS bytes and more
// goes as it is, not copied. The sender watches `buffered` and waits for
// 'drain' (onDrain) before it hands over more, so memory held for the peer
// stays bounded whatever the network does.

import net from 'node:net';
import { ReplyReader } from '../protocol/reply-reader.js';

/** The encoding buffer's size: a slice's commands, mostly. */
const STAGE_BYTES = 256 * 1024;
/** Arguments this big are written to the socket as they are: they must not change until sent. Smaller ones are copied at once. */
export const SENT_AS_IS = 64 * 1024;

export class PeerStream {
  private readonly socket: net.Socket;
  private readonly replies = new ReplyReader();
  /** Commands sent whose reply has not come. */
  private outstanding = 0;
  /** The first error reply or the socket's error: the stream is of no more use then. */
  failure: string | null = null;
  private waiters: (() => void)[] = [];
  private drainWaiter: (() => void) | null = null;
  private belowWaiter: { n: number; f: () => void } | null = null;
  private connected = false;
  private stage = Buffer.allocUnsafe(STAGE_BYTES);
  private staged = 0;

  constructor(readonly host: string, readonly port: number, private readonly timeoutMs: number) {
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(timeoutMs);
    this.socket.on('connect', () => { this.connected = true; this.wake(); });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('drain', () => { const w = this.drainWaiter; this.drainWaiter = null; w?.(); });
    // No reply within the timeout while some are due: the peer is stuck.
    this.socket.on('timeout', () => { if (this.outstanding > 0 || !this.connected) this.fail(`no answer from ${this.addr} in ${this.timeoutMs} ms`); });
    this.socket.on('error', (e) => this.fail(`${this.addr}: ${e.message}`));
    this.socket.on('close', () => this.fail(`${this.addr} closed the connection`));
  }

  get addr(): string { return `${this.host}:${this.port}`; }

  /** Bytes handed to the socket and not yet sent. */
  get buffered(): number { return this.socket.writableLength; }

  /** Replies still to come. */
  get pending(): number { return this.outstanding; }

  /** Runs `f`, then hands what it sent to the socket in one write. */
  batch(f: () => void): void {
    try {
      f();
    } finally {
      this.flush();
    }
  }

  /** A command (inside batch: it goes out at the batch's end). */
  send(args: readonly Buffer[]): void {
    if (this.failure !== null) return;
    this.outstanding++;
    this.header(0x2a, args.length);
    for (const a of args) {
      this.header(0x24, a.length);
      if (a.length >= SENT_AS_IS) {
        this.flush();
        this.socket.write(a);
      } else {
        this.room(a.length);
        a.copy(this.stage, this.staged);
        this.staged += a.length;
      }
      this.room(2);
      this.stage[this.staged++] = 0x0d;
      this.stage[this.staged++] = 0x0a;
    }
  }

  /** `*n\r\n` or `$n\r\n`. */
  private header(type: number, n: number): void {
    this.room(24);
    this.stage[this.staged++] = type;
    this.staged += this.stage.write(String(n), this.staged, 'latin1');
    this.stage[this.staged++] = 0x0d;
    this.stage[this.staged++] = 0x0a;
  }

  private room(n: number): void {
    if (this.staged + n > this.stage.length) this.flush();
  }

  /** What is encoded goes to the socket; a new buffer takes its place (the socket holds the old one until sent). */
  private flush(): void {
    if (this.staged === 0) return;
    this.socket.write(this.stage.subarray(0, this.staged));
    this.stage = Buffer.allocUnsafe(STAGE_BYTES);
    this.staged = 0;
  }

  /** Calls `f` once what is buffered has gone out (at once when nothing is). */
  onDrain(f: () => void): void {
    if (this.socket.writableLength === 0 || this.failure !== null) return f();
    this.drainWaiter = f;
  }

  /** Calls `f` once at most `n` replies are due (at once when so already, or on failure). */
  whenPendingAtMost(n: number, f: () => void): void {
    if (this.outstanding <= n || this.failure !== null) return f();
    this.belowWaiter = { n, f };
  }

  /** Resolves once every reply due has come (or the stream failed). */
  settled(): Promise<void> {
    if ((this.outstanding === 0 && this.connected) || this.failure !== null) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private onData(d: Buffer): void {
    this.replies.feed(d);
    for (let r = this.replies.next(); r !== null; r = this.replies.next()) {
      this.outstanding--;
      if (r.type === 0x2d && this.failure === null) this.fail(`${this.addr} answered: ${r.line.toString('latin1')}`);
    }
    const below = this.belowWaiter;
    if (below !== null && this.outstanding <= below.n) {
      this.belowWaiter = null;
      below.f();
    }
    if (this.outstanding === 0) this.wake();
  }

  private fail(why: string): void {
    if (this.failure === null) this.failure = why;
    this.wake();
    const w = this.drainWaiter;
    this.drainWaiter = null;
    w?.();
    const below = this.belowWaiter;
    this.belowWaiter = null;
    below?.f();
  }

  private wake(): void {
    if (this.outstanding > 0 && this.failure === null) return;
    if (!this.connected && this.failure === null) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  close(): void {
    this.failure ??= 'closed';
    this.socket.destroy();
    this.wake();
  }
}
