// A connection from this node to another, on the event loop: commands go out
// as they are handed over (pipelined, never waited for one by one), replies
// come back in order and are only counted, the first error kept. What a
// slot migration streams its keys over. The sender watches `buffered` and
// waits for 'drain' (onDrain) before it hands over more, so memory held for
// the peer stays bounded whatever the network does.

import net from 'node:net';
import { ReplyReader } from '../protocol/reply-reader.js';
import { commandParts } from '../protocol/command-wire.js';

export class PeerStream {
  private readonly socket: net.Socket;
  private readonly replies = new ReplyReader();
  /** Commands sent whose reply has not come. */
  private outstanding = 0;
  /** The first error reply or the socket's error: the stream is of no more use then. */
  failure: string | null = null;
  private waiters: (() => void)[] = [];
  private drainWaiter: (() => void) | null = null;
  private connected = false;

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

  /**
   * Runs `f` with the socket corked: what it sends goes out in one write
   * (each of a command's pieces written alone is a system call each).
   */
  batch(f: () => void): void {
    this.socket.cork();
    try {
      f();
    } finally {
      this.socket.uncork();
    }
  }

  send(args: readonly Buffer[]): void {
    if (this.failure !== null) return;
    this.outstanding++;
    for (const p of commandParts(args)) this.socket.write(p);
  }

  /** Calls `f` once what is buffered has gone out (at once when nothing is). */
  onDrain(f: () => void): void {
    if (this.socket.writableLength === 0 || this.failure !== null) return f();
    this.drainWaiter = f;
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
    if (this.outstanding === 0) this.wake();
  }

  private fail(why: string): void {
    if (this.failure === null) this.failure = why;
    this.wake();
    const w = this.drainWaiter;
    this.drainWaiter = null;
    w?.();
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
